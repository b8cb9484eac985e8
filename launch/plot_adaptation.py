"""Paper-style figures and a markdown table from run directories' results.json.

python -m launch.plot_adaptation --out=results/fig1 RUN_DIR [RUN_DIR ...]

One panel per experiment: mean return over test tasks (all seeds pooled) against
real adaptation samples, with a 95% bootstrap confidence band, one line per
algorithm. Writes <out>.png and <out>.md (returns at each adaptation iteration and
real training samples per algorithm).
"""
import collections
import math
import os
from typing import Dict, List

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from smtl_tf import results as results_lib  # noqa: E402

flags.DEFINE_string('out', 'figure', 'Output path without extension (.png and .md are written).')
FLAGS = flags.FLAGS

COLOURS = {'smtl': 'tab:blue', 'maml': 'tab:red', 'oracle': 'tab:green'}


def pool(records: List[Dict]) -> List[Dict]:
  """Summary rows over the test tasks of all records (seeds) of one algorithm."""
  return results_lib.summarize([task for record in records for task in record['test_tasks']])


def group(records: List[Dict]) -> Dict[str, Dict[str, List[Dict]]]:
  grouped = collections.defaultdict(lambda: collections.defaultdict(list))
  for record in records:
    grouped[record['experiment'] or record['family']][record['algorithm']].append(record)
  return grouped


def plot(records: List[Dict], out: str) -> None:
  grouped = group(records)
  n = len(grouped)
  columns = min(n, 3)
  rows = math.ceil(n / columns)
  figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
  for axis, (experiment, by_algorithm) in zip(axes.ravel(), sorted(grouped.items())):
    for algorithm, runs in sorted(by_algorithm.items()):
      summary = pool(runs)
      x = [row['adapt_samples'] for row in summary]
      axis.plot(x, [row['mean'] for row in summary], marker='o', color=COLOURS.get(algorithm),
                label=f'{algorithm} ({len(runs)} seed{"s" if len(runs) > 1 else ""})')
      axis.fill_between(x, [row['ci_low'] for row in summary], [row['ci_high'] for row in summary],
                        color=COLOURS.get(algorithm), alpha=0.2)
    axis.set_title(experiment)
    axis.set_xlabel('real adaptation samples')
    axis.set_ylabel('average return')
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
  for axis in axes.ravel()[n:]:
    axis.axis('off')
  figure.tight_layout()
  os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
  figure.savefig(f'{out}.png', dpi=120)


def table(records: List[Dict]) -> str:
  lines = []
  for experiment, by_algorithm in sorted(group(records).items()):
    n_iterations = max(len(pool(runs)) for runs in by_algorithm.values())
    header = ' | '.join(f'iter {k}' for k in range(n_iterations))
    lines += [f'### {experiment}', '',
              f'| algorithm | seeds | test tasks | {header} | real training samples |',
              '|---' * (n_iterations + 4) + '|']
    for algorithm, runs in sorted(by_algorithm.items()):
      cells = [f"{row['mean']:.1f} [{row['ci_low']:.1f}, {row['ci_high']:.1f}]" for row in pool(runs)]
      cells += [''] * (n_iterations - len(cells))
      train = sum(r['train_real_samples'] for r in runs) / len(runs)
      n_tasks = len(runs[0]['test_tasks'])
      lines.append(f"| {algorithm} | {len(runs)} | {n_tasks} | {' | '.join(cells)} | {train:,.0f} |")
    lines.append('')
  lines.append('Mean return over test tasks with a 95% bootstrap confidence interval; iteration k '
               'follows k rounds of real adaptation samples.')
  return '\n'.join(lines)


def main(argv):
  if len(argv) < 2:
    raise app.UsageError('Give at least one run directory.')
  records = [results_lib.load(path) for path in argv[1:]]
  plot(records, FLAGS.out)
  with open(f'{FLAGS.out}.md', 'w') as f:
    f.write(table(records) + '\n')
  print(f'Wrote {FLAGS.out}.png and {FLAGS.out}.md')


if __name__ == '__main__':
  app.run(main)
