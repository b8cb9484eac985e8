"""Paper-style figures and a markdown table from run directories' results.json.

python -m launch.plot_adaptation --out=results/fig1 DIR [DIR ...]

Each DIR is a run directory or any directory above run directories (e.g.
runs/halfcheetah_vel): every results.json below it is used. One panel per
experiment: mean return over test tasks (all seeds pooled) against real
adaptation samples, with a 95% bootstrap confidence band, one line per algorithm;
an algorithm without updates (the oracle) is a dashed horizontal line. Where the
original code's numbers are known (launch/references.py), they are drawn as their
own markers and rows (--references). Writes <out>.png and <out>.md (returns at each
adaptation iteration, real training samples and wall time per phase per algorithm).
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
from absl import app
from absl import flags

from launch import adaptation_figure
from smtl_tf.runs import results as results_lib

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('out', 'figure', 'Output path without extension (.png and .md are written).')
  flags.DEFINE_bool('references', True, "Draw the original code's numbers where known "
                    '(launch/references.py).')


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('Give at least one run directory (or a directory above run directories).')
  try:
    records = results_lib.load_readable(results_lib.find(argv[1:]))
    adaptation_figure.group(records)  # refuses a seed found twice before anything is written
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  adaptation_figure.plot(records, FLAGS.out, FLAGS.references)
  with open(f'{FLAGS.out}.md', 'w') as f:
    f.write(adaptation_figure.table(records, FLAGS.references) + '\n')
  print(f'Wrote {FLAGS.out}.png and {FLAGS.out}.md')


if __name__ == '__main__':
  define_flags()
  app.run(main)
