"""Figure 3: active minus non-active return, per regime and rating, with 95% bootstrap CIs.

python -m launch.plot_active --out=results/figure3 runs/

Pairs every active SMTL run (selection rating 'true' or 'estimated') with the non-active
run ('none') of the same experiment (regime) and seed; both are evaluated on the same
test tasks, so each test task gives one difference of returns. Differences are pooled
over seeds; the interval is a 95% bootstrap CI of their mean. Writes <out>.png (bars at
--iteration) and <out>.md (every adaptation iteration, plus tasks kept, candidates and
real samples).
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import collections
import os
from typing import Dict, List, Tuple

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from smtl_tf.runs import results as results_lib  # noqa: E402
from smtl_tf.statistics import bootstrap_mean_ci  # noqa: E402

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('out', 'figure3', 'Output path without extension (.png and .md).')
  flags.DEFINE_integer('iteration', -1, 'Adaptation iteration shown in the figure (-1: last).')

RATINGS = ('true', 'estimated')


def paired_differences(records: List[Dict]) -> Dict[Tuple[str, str], Dict]:
  """(experiment, rating) -> {'diffs': [iterations][pairs], 'active': [...], 'baseline': [...]}."""
  runs = collections.defaultdict(dict)
  for record in records:
    selection = record.get('selection')
    if selection is None:
      continue
    runs[(record['experiment'], selection['rating'])][record['seed']] = record
  paired = {}
  for (experiment, rating), by_seed in sorted(runs.items()):
    if rating == 'none':
      continue
    baseline = runs.get((experiment, 'none'), {})
    seeds = sorted(set(by_seed) & set(baseline))
    if not seeds:
      continue
    n_iterations = min(len(r['summary']) for r in [*by_seed.values(), *baseline.values()])
    diffs = [[] for _ in range(n_iterations)]
    for seed in seeds:
      active_tasks, base_tasks = by_seed[seed]['test_tasks'], baseline[seed]['test_tasks']
      if [t['task'] for t in active_tasks] != [t['task'] for t in base_tasks]:
        raise ValueError(f'{experiment} seed {seed}: active and non-active runs were evaluated '
                         f'on different test tasks.')
      for k in range(n_iterations):
        diffs[k] += [a['returns'][k] - b['returns'][k] for a, b in zip(active_tasks, base_tasks)]
    paired[(experiment, rating)] = {'diffs': diffs, 'active': [by_seed[s] for s in seeds],
                                    'baseline': [baseline[s] for s in seeds]}
  return paired


def plot(paired: Dict, iteration: int, out: str) -> None:
  experiments = sorted({experiment for experiment, _ in paired},
                       key=lambda name: (len(name), name))
  figure, axis = plt.subplots(figsize=(1.8 + 1.6 * len(experiments), 3.6))
  width = 0.38
  for offset, rating, colour in ((-width / 2, 'estimated', 'tab:orange'),
                                 (width / 2, 'true', 'tab:purple')):
    xs, means, errors = [], [], [[], []]
    for x, experiment in enumerate(experiments):
      if (experiment, rating) not in paired:
        continue
      stats = bootstrap_mean_ci(paired[(experiment, rating)]['diffs'][iteration])
      xs.append(x + offset)
      means.append(stats['mean'])
      errors[0].append(stats['mean'] - stats['ci_low'])
      errors[1].append(stats['ci_high'] - stats['mean'])
    axis.bar(xs, means, width, yerr=errors, capsize=4, color=colour, label=f'{rating} rating')
  axis.axhline(0.0, color='black', linewidth=0.8)
  axis.set_xticks(range(len(experiments)))
  axis.set_xticklabels(experiments, fontsize=8)
  axis.set_ylabel('return difference\n(active - non-active)')
  axis.set_title(f'Active task selection, adaptation iteration {iteration}'
                 if iteration >= 0 else 'Active task selection, last adaptation iteration')
  axis.grid(alpha=0.3, axis='y')
  axis.legend(fontsize=8)
  figure.tight_layout()
  os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
  figure.savefig(f'{out}.png', dpi=120)


def table(paired: Dict) -> str:
  n_iterations = max(len(entry['diffs']) for entry in paired.values())
  header = ' | '.join(f'diff iter {k}' for k in range(n_iterations))
  lines = [f'| regime | rating | seeds | {header} | tasks kept / candidates (active) '
           f'| real training samples: active / non-active | of which rating |',
           '|---' * (n_iterations + 6) + '|']
  for (experiment, rating), entry in sorted(paired.items()):
    cells = []
    for diffs in entry['diffs']:
      stats = bootstrap_mean_ci(diffs)
      cells.append(f"{stats['mean']:+.1f} [{stats['ci_low']:+.1f}, {stats['ci_high']:+.1f}]")
    cells += [''] * (n_iterations - len(cells))
    active, baseline = entry['active'], entry['baseline']
    kept = np.mean([len(r['train_log']) for r in active])
    candidates = np.mean([r['selection']['candidates'] for r in active])
    samples = np.mean([r['train_real_samples'] for r in active])
    base_samples = np.mean([r['train_real_samples'] for r in baseline])
    rating_samples = np.mean([r['selection']['rating_real_samples'] for r in active])
    lines.append(f"| {experiment} | {rating} | {len(active)} | {' | '.join(cells)} "
                 f"| {kept:.0f} / {candidates:.0f} | {samples:,.0f} / {base_samples:,.0f} "
                 f"| {rating_samples:,.0f} |")
  lines += ['', 'Mean over (seed, test task) pairs of the active run\'s return minus the '
            'non-active run\'s, with a 95% bootstrap confidence interval.']
  return '\n'.join(lines)


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('Give the directories holding the runs (e.g. runs/).')
  try:
    records = results_lib.load_readable(results_lib.find(argv[1:]))
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  paired = paired_differences(records)
  if not paired:
    raise app.UsageError('No active run with a non-active partner (same experiment and seed) '
                         'was found.')
  plot(paired, FLAGS.iteration, FLAGS.out)
  with open(f'{FLAGS.out}.md', 'w') as f:
    f.write(table(paired) + '\n')
  print(table(paired))
  print(f'Wrote {FLAGS.out}.png and {FLAGS.out}.md')


if __name__ == '__main__':
  define_flags()
  app.run(main)
