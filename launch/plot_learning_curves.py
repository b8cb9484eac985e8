"""Plots real return against real training samples for single-task runs.

python -m launch.plot_learning_curves --out=results/curve.png RUN_DIR_OR_RESULTS_JSON [...]

Each input is a run directory (or its results.json) written by smtl_tf.main with
algorithm 'slbo' or 'trpo'. Runs of the same algorithm are drawn in one colour.
"""
import json
import os

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from absl import app  # noqa: E402
from absl import flags  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('out', 'learning_curves.png', 'Output PNG path.')
  flags.DEFINE_string('title', None, 'Figure title (default: family and task).')
  flags.DEFINE_bool('log_x', True, 'Logarithmic sample axis (SLBO and TRPO differ by orders of magnitude).')


def load_results(path: str) -> dict:
  if os.path.isdir(path):
    path = os.path.join(path, 'results.json')
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path} not found: pass a run directory that finished, or its results.json.')
  with open(path) as f:
    return json.load(f)


def plot(results_list, out: str, title: str = None, log_x: bool = True) -> None:
  figure, axis = plt.subplots(figsize=(6.4, 4.2))
  colours = {'slbo': 'tab:blue', 'trpo': 'tab:orange'}
  for results in results_list:
    curve = results['curve']
    samples = [point['real_samples'] for point in curve]
    label = f"{results['algorithm'].upper()} (seed {results['seed']})"
    axis.plot(samples, [point['real_return'] for point in curve], marker='o', markersize=3,
              color=colours.get(results['algorithm']), label=label)
  first = results_list[0]
  axis.set_title(title or f"{first['family']}, task {first['task']}")
  axis.set_xlabel('real environment samples (training)')
  axis.set_ylabel('average real return (H = 200)')
  if log_x:  # linear up to one collection batch, logarithmic beyond; keeps 0 samples on the axis.
    axis.set_xscale('symlog', linthresh=4000)
  axis.grid(alpha=0.3)
  axis.legend()
  figure.tight_layout()
  os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
  figure.savefig(out, dpi=120)


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('Give at least one run directory or results.json.')
  plot([load_results(path) for path in argv[1:]], FLAGS.out, FLAGS.title, FLAGS.log_x)
  print(f'Wrote {FLAGS.out}')


if __name__ == '__main__':
  define_flags()
  app.run(main)
