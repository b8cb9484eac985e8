"""results.json: the schema every algorithm (SMTL, MAML, oracle) writes.

{
  "experiment": str, "algorithm": str, "seed": int, "family": str, "test_family": str,
  "train_real_samples": int,          # real steps spent on training
  "eval_real_samples": int,           # real steps spent only on measuring returns
  "adapt_real_samples": int,          # real steps spent adapting to all test tasks
  "test_tasks": [                     # one per test task, in the fixed test-task order
    {"task": [float], "returns": [float] (after 0..n adaptation iterations),
     "adapt_samples": [int] (cumulative real samples at each iteration), ...}],
  "wall_seconds": float,              # working time of the run (training + evaluation)
  "summary": [{"iteration": k, "adapt_samples": int, "mean": float, "ci_low": float,
               "ci_high": float, "n": int}],   # 95% bootstrap CI over test tasks
  ...                                 # algorithm-specific extras
}
"""
import json
import os
from typing import Dict, List, Optional

from absl import logging

from smtl_tf.runs import directory
from smtl_tf.runs.logger import RunLogger, tagged
from smtl_tf.statistics import bootstrap_mean_ci

REQUIRED = ('experiment', 'algorithm', 'seed', 'train_real_samples', 'test_tasks', 'summary')


def summarize(test_records: List[Dict]) -> List[Dict]:
  """Mean and 95% bootstrap CI of the return at each adaptation iteration."""
  if not test_records:
    return []
  n_iterations = min(len(record['returns']) for record in test_records)
  summary = []
  for k in range(n_iterations):
    stats = bootstrap_mean_ci([record['returns'][k] for record in test_records])
    summary.append({'iteration': k, 'adapt_samples': test_records[0]['adapt_samples'][k], **stats})
  return summary


def make_results(experiment: str, algorithm: str, seed: int, family: str, test_family: str,
                 train_real_samples: int, eval_real_samples: int, test_records: List[Dict],
                 extra: Optional[Dict] = None) -> Dict:
  adapt = sum(record['adapt_samples'][-1] for record in test_records)
  return {'experiment': experiment, 'algorithm': algorithm, 'seed': seed, 'family': family,
          'test_family': test_family, 'train_real_samples': int(train_real_samples),
          'eval_real_samples': int(eval_real_samples), 'adapt_real_samples': int(adapt),
          'test_tasks': test_records, 'summary': summarize(test_records), **(extra or {})}


def validate(record: Dict) -> None:
  """Raises ValueError naming what is missing or inconsistent."""
  missing = [key for key in REQUIRED if key not in record]
  if missing:
    raise ValueError(f'results.json lacks {missing}.')
  for i, task in enumerate(record['test_tasks']):
    if len(task['returns']) != len(task['adapt_samples']):
      raise ValueError(f'test task {i}: {len(task["returns"])} returns but '
                       f'{len(task["adapt_samples"])} sample counts.')


def write(run_dir: str, record: Dict) -> None:
  validate(record)
  directory.write_json(os.path.join(run_dir, directory.RESULTS), record)


def log_summary(logger: RunLogger, record: Dict) -> None:
  """TensorBoard curves of the summary, identical tags for every algorithm.

  eval/mean_return, eval/ci_low, eval/ci_high at step = real adaptation samples per task.
  """
  for row in record['summary']:
    logger.scalars(row['adapt_samples'], tagged({'mean_return': row['mean'],
                                                 'ci_low': row['ci_low'],
                                                 'ci_high': row['ci_high']}))


def find(paths: List[str]) -> List[str]:
  """results.json files at or below each path; raises naming a path with none."""
  found = []
  for path in paths:
    if os.path.isfile(path):
      found.append(path)
      continue
    below = sorted(os.path.join(root, 'results.json') for root, _, files in os.walk(path)
                   if 'results.json' in files)
    if not below:
      raise ValueError(f'No results.json at or below {path!r}: has the run finished?')
    found += below
  return found


class UnreadableResults(ValueError):
  """A results.json that cannot be read or lacks what the schema requires."""


def load(path: str) -> Dict:
  """The record of a results.json file (or of a run directory's).

  Raises:
    UnreadableResults: naming the file, when it is missing, not JSON or not a results record.
  """
  if os.path.isdir(path):
    path = os.path.join(path, directory.RESULTS)
  try:
    with open(path) as f:
      record = json.load(f)
    if not isinstance(record, dict):
      raise ValueError('not a JSON object')
    validate(record)
  except (OSError, ValueError, KeyError, TypeError) as error:
    raise UnreadableResults(f'{path} cannot be read as a results record '
                            f'({type(error).__name__}: {error}).') from error
  return record


def load_readable(paths: List[str]) -> List[Dict]:
  """The records of the readable files among `paths`, warning with the name of each one
  that cannot be read.

  Raises:
    UnreadableResults: when none of them can be read.
  """
  records, problems = [], []
  for path in paths:
    try:
      records.append(load(path))
    except UnreadableResults as error:
      problems.append(str(error))
      logging.warning('Skipping %s', error)
  if not records:
    raise UnreadableResults('No readable results: ' + ' '.join(problems))
  return records


def format_table(record: Dict, max_task_rows: int = 10) -> str:
  """Mean return (95% CI) per adaptation iteration, for the terminal."""
  lines = [f"{record['algorithm'].upper()} on {record['experiment'] or record['family']} "
           f"(seed {record['seed']}): {len(record['test_tasks'])} test tasks, "
           f"{record['train_real_samples']} real training samples",
           f'{"iteration":>9s} {"adapt samples":>14s} {"mean return":>12s} {"95% CI":>22s}']
  for row in record['summary']:
    lines.append(f"{row['iteration']:>9d} {row['adapt_samples']:>14d} {row['mean']:>12.1f} "
                 f"[{row['ci_low']:>9.1f}, {row['ci_high']:>9.1f}]")
  tasks = record['test_tasks']
  if tasks and 'random_policy_return' in tasks[0] and len(tasks) <= max_task_rows:
    lines.append('')
    lines.append(f'{"test task":>12s} {"random policy":>14s} {"zero-shot":>10s} '
                 f'{"(after warm-up on the model: 0 real samples)"}')
    for task in tasks:
      name = ', '.join(f'{value:.2f}' for value in task['task'])
      lines.append(f"{name:>12s} {task['random_policy_return']:>14.1f} {task['returns'][0]:>10.1f}")
    random_mean = sum(t['random_policy_return'] for t in tasks) / len(tasks)
    zero_mean = sum(t['returns'][0] for t in tasks) / len(tasks)
    lines.append(f"{'mean':>12s} {random_mean:>14.1f} {zero_mean:>10.1f}")
  return '\n'.join(lines)
