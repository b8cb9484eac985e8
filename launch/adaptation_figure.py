"""Paper-style adaptation panels and their markdown table, from results.json records.

One panel per experiment: mean return over test tasks (all seeds pooled) against real
adaptation samples, with a 95% bootstrap confidence band, one line per algorithm; an
algorithm without updates (the oracle) is a dashed horizontal line. Where the original
code's numbers are known (launch/references.py), they are drawn as their own markers and
rows. The command line is launch/plot_adaptation.py.
"""
import collections
import math
import os
from typing import Dict, List, Sequence

import matplotlib
import numpy as np
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from launch import references as references_lib  # noqa: E402
from smtl_tf.runs import results as results_lib  # noqa: E402
from smtl_tf.runs.logger import format_seconds  # noqa: E402
from smtl_tf.statistics import bootstrap_mean_ci  # noqa: E402

COLOURS = {'smtl': 'tab:blue', 'maml': 'tab:red', 'oracle': 'tab:green',
           'task_blind': 'tab:gray', 'random': 'black'}


def pooled_tasks(records: List[Dict]) -> List[Dict]:
  """The test-task records of all records (seeds) of one algorithm, in one list."""
  return [task for record in records for task in record['test_tasks']]


def pool(records: List[Dict]) -> List[Dict]:
  """Summary rows over the test tasks of all records (seeds) of one algorithm."""
  return results_lib.summarize(pooled_tasks(records))


def group(records: List[Dict]) -> Dict[str, Dict[str, List[Dict]]]:
  """{experiment: {algorithm: records}}.

  Raises:
    ValueError: when two records are the same experiment, algorithm and seed (e.g. a run and a
      re-evaluation of its training found below one directory): pooled, that seed would count twice.
  """
  grouped = collections.defaultdict(lambda: collections.defaultdict(list))
  for record in records:
    experiment = record['experiment'] or record['family']
    runs = grouped[experiment][record['algorithm']]
    if any(run['seed'] == record['seed'] for run in runs):
      raise ValueError(
          f"Two results for {record['algorithm']} seed {record['seed']} on {experiment}: pooled, "
          'that seed would count twice. Give the run directories to draw one by one rather than '
          'a directory above a run and, e.g., a re-evaluation of its training.')
    runs.append(record)
  return grouped


def _step_samples(by_algorithm: Dict[str, List[Dict]]) -> List[int]:
  """Adaptation samples after 0, 1, ... iterations in our runs (the x of the references)."""
  for runs in by_algorithm.values():
    summary = pool(runs)
    if len(summary) > 1:
      return [row['adapt_samples'] for row in summary]
  return []


def _plot_references(axis, experiment: str, x: List[int]) -> None:
  for reference in references_lib.for_experiment(experiment):
    colour = COLOURS.get(reference.algorithm)
    if len(reference.returns) == 1:
      axis.axhline(reference.returns[0], color=colour, linestyle=':', linewidth=1.5,
                   label=f'{reference.label}, reported')
    elif len(x) >= len(reference.returns):
      axis.plot(x[:len(reference.returns)], reference.returns, color=colour, linestyle=':',
                marker='x', markersize=7, label=f'{reference.label}, reported')


def plot(records: List[Dict], out: str, with_references: bool = True) -> None:
  grouped = group(records)
  n = len(grouped)
  columns = min(n, 3)
  rows = math.ceil(n / columns)
  figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 4.6 * rows), squeeze=False)
  for axis, (experiment, by_algorithm) in zip(axes.ravel(), sorted(grouped.items())):
    x_max = max(row['adapt_samples'] for runs in by_algorithm.values() for row in pool(runs))
    for algorithm, runs in sorted(by_algorithm.items()):
      summary = pool(runs)
      label = f'{algorithm} ({len(runs)} seed{"s" if len(runs) > 1 else ""})'
      if len(summary) == 1:
        row = summary[0]
        axis.axhline(row['mean'], color=COLOURS.get(algorithm), linestyle='--',
                     label=f'{label}, no update')
        axis.axhspan(row['ci_low'], row['ci_high'], color=COLOURS.get(algorithm), alpha=0.12)
        continue
      x = [row['adapt_samples'] for row in summary]
      axis.plot(x, [row['mean'] for row in summary], marker='o', color=COLOURS.get(algorithm),
                label=label)
      axis.fill_between(x, [row['ci_low'] for row in summary], [row['ci_high'] for row in summary],
                        color=COLOURS.get(algorithm), alpha=0.2)
    if with_references:
      _plot_references(axis, experiment, _step_samples(by_algorithm))
    axis.set_xlim(-0.03 * max(x_max, 1), 1.03 * max(x_max, 1))
    axis.set_title(experiment)
    axis.set_xlabel('real adaptation samples')
    axis.set_ylabel('average return')
    axis.grid(alpha=0.3)
    # below the axes: reference markers sit at any height and a legend inside would hide some
    axis.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.2), ncol=2)
  for axis in axes.ravel()[n:]:
    axis.axis('off')
  figure.tight_layout()
  os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
  figure.savefig(f'{out}.png', dpi=120, bbox_inches='tight')  # the legend below the axes included


def table(records: List[Dict], with_references: bool = True) -> str:
  lines, sources = [], {}
  for experiment, by_algorithm in sorted(group(records).items()):
    known = references_lib.for_experiment(experiment) if with_references else ()
    n_iterations = max([len(pool(runs)) for runs in by_algorithm.values()]
                       + [len(reference.returns) for reference in known])
    header = ' | '.join(f'iter {k}' for k in range(n_iterations))
    lines += [f'### {experiment}', '',
              f'| algorithm | seeds | test tasks | {header} | real training samples '
              f'| training wall time | evaluation wall time |',
              '|---' * (n_iterations + 6) + '|']
    for algorithm, runs in sorted(by_algorithm.items()):
      cells = [f"{row['mean']:.1f} [{row['ci_low']:.1f}, {row['ci_high']:.1f}]" for row in pool(runs)]
      train = sum(r['train_real_samples'] for r in runs) / len(runs)
      n_tasks = len(runs[0]['test_tasks'])
      adapts = len(cells) > 1
      name = algorithm if adapts else f'{algorithm} (no update)'
      cells += [''] * (n_iterations - len(cells))
      lines.append(f"| {name} | {len(runs)} | {n_tasks} | {' | '.join(cells)} | {train:,.0f} "
                   f"| {_mean_hours(runs, 'train_wall_seconds')} "
                   f"| {_mean_hours(runs, evaluation_seconds)} |")
      lines.append(_sd_row(algorithm, task_spread(runs), n_iterations))
      if adapts:
        lines.append(_gain_row(algorithm, adaptation_gain(runs), n_iterations))
    for reference in known:
      mark = sources.setdefault(reference.source, len(sources) + 1)
      cells = [f'{value:.1f}' for value in reference.returns]
      cells += [''] * (n_iterations - len(cells))
      lines.append(f"| {reference.label} [{mark}] | | 40 | {' | '.join(cells)} | | | |")
      if reference.spread is not None:
        lines.append(_sd_row(reference.label, reference.spread, n_iterations))
    lines.append('')
  lines.append('Mean return over test tasks (seeds pooled) with a 95% bootstrap confidence '
               'interval; iteration k follows k rounds of real adaptation samples; '
               'the sd rows give the spread of the per-task returns (seeds pooled; population '
               'sd), to compare with reference plots whose bars are +-1 sd over tasks (a '
               "reference's sd row: those bars' half-lengths, measured on its plot); the gain "
               'rows give the mean over test tasks of the return after k iterations less the '
               'return of the same task before adaptation, with a paired 95% bootstrap '
               'confidence interval and the number of tasks whose return rose. Samples and '
               'wall times are means over seeds (wall time: this machine, one job at a time; '
               'evaluation: total minus training, or the whole run where it evaluated another '
               'run\'s training).')
  for source, mark in sources.items():
    lines += ['', f'[{mark}] {source}.']
  return '\n'.join(lines)


def _sd_row(label: str, spread: Sequence[float], n_iterations: int) -> str:
  """The table row '<label>: sd over test tasks' with one sd per adaptation iteration
  (spread: [<= n_iterations])."""
  return _iteration_row(f'{label}: sd over test tasks', [f'{value:.1f}' for value in spread],
                        n_iterations)


def _gain_row(label: str, gains: Sequence[Dict], n_iterations: int) -> str:
  """The table row '<label>: gain over iteration 0' (gains: adaptation_gain's rows, from
  iteration 1)."""
  cells = [''] + [f"{row['mean']:+.1f} [{row['ci_low']:+.1f}, {row['ci_high']:+.1f}]; "
                  f"{row['n_up']}/{row['n']} up" for row in gains]
  return _iteration_row(f'{label}: gain over iteration 0', cells, n_iterations)


def _iteration_row(label: str, cells: Sequence[str], n_iterations: int) -> str:
  """A table row with one cell per adaptation iteration (cells: [<= n_iterations]) and the
  seeds, tasks, samples and wall-time columns left empty."""
  cells = list(cells) + [''] * (n_iterations - len(cells))
  return f"| {label} | | | {' | '.join(cells)} | | | |"


def adaptation_gain(runs: List[Dict]) -> List[Dict]:
  """Per adaptation iteration k >= 1, the per-task gain return_k - return_0 over the test tasks
  of all runs (seeds) pooled, each task paired with itself before adaptation.

  Returns:
    [{'iteration', 'mean', 'ci_low', 'ci_high', 'n', 'n_up'}] for k = 1 .. the fewest
    iterations any task has, less one; 'n_up' counts tasks whose return rose.
  """
  returns = _task_returns(runs)
  rows = []
  for k in range(1, returns.shape[1]):
    gains = returns[:, k] - returns[:, 0]
    rows.append({'iteration': k, **bootstrap_mean_ci(gains), 'n_up': int(np.sum(gains > 0))})
  return rows


def task_spread(runs: List[Dict]) -> List[float]:
  """Population standard deviation of the per-task return at each adaptation iteration, over
  the test tasks of all runs (seeds) pooled."""
  return [float(sd) for sd in np.std(_task_returns(runs), axis=0)]


def _task_returns(runs: List[Dict]) -> np.ndarray:
  """[tasks, iterations] per-task returns of all runs (seeds) pooled, up to the fewest iterations
  any task has."""
  returns = [task['returns'] for task in pooled_tasks(runs)]
  n_iterations = min(len(task_returns) for task_returns in returns)
  return np.array([r[:n_iterations] for r in returns], dtype=np.float64)


def evaluation_seconds(run: Dict):
  """The run's evaluation wall time: all of it when it evaluated another run's training
  (--trained_run: its train_wall_seconds are that run's), else total minus training; None if
  not recorded."""
  if 'wall_seconds' not in run:
    return None
  if run.get('trained_from'):
    return run['wall_seconds']
  if 'train_wall_seconds' not in run:
    return None
  return run['wall_seconds'] - run['train_wall_seconds']


def _mean_hours(runs: List[Dict], key) -> str:
  """Mean over runs of run[key], or of key(run) where key is a function, as h:mm:ss."""
  values = [key(r) if callable(key) else r.get(key) for r in runs]
  values = [value for value in values if value is not None]
  if not values:
    return 'n/a'
  return format_seconds(sum(values) / len(values))
