"""A forward/backward run's returns split by direction (a reading aid).

On `halfcheetah_fwdbwd` a test task is a direction: +1 (run forward) or -1 (run backward). This
prints, per direction and adaptation iteration, the number of test tasks, their mean return, its
sd and the median, then the mean over all tasks, and that mean re-weighted to the original SMTL
code's 40 evaluation directions (`HCFB` in its `eval.py`: 24 forward, 16 backward), i.e. what
our per-direction means would average to on their mix. A re-weighting, not a run. Last, the lowest
return of each direction at each iteration, to show single tasks that failed.

    python results/paper/direction_split.py results/paper/halfcheetah_fwdbwd/smtl/results.json
"""
import json
import sys
from typing import Dict

import numpy as np

# The original SMTL code's forward/backward evaluation jobs: 24 forward and 16 backward (data).
AUTHORS_DIRECTIONS = {1.0: 24, -1.0: 16}
DIRECTION_NAMES = {1.0: 'forward', -1.0: 'backward'}
LABEL_WIDTH, VALUE_WIDTH = 42, 10


def split(results: dict) -> Dict[float, np.ndarray]:
  """Per direction (+1.0, -1.0), its test tasks' returns [n_tasks_of_direction, n_iterations]."""
  directions = np.array([task['task'][0] for task in results['test_tasks']])  # [n_tasks]
  returns = np.array([task['returns'] for task in results['test_tasks']])  # [n_tasks, n_iter]
  unknown = sorted(set(directions.tolist()) - set(DIRECTION_NAMES))
  if unknown:
    raise ValueError(f'{len(unknown)} test tasks (e.g. {unknown[0]}) are not directions '
                     '(+1 or -1): give the results.json of a halfcheetah_fwdbwd run')
  return {d: returns[directions == d] for d in DIRECTION_NAMES if np.any(directions == d)}


def reweighted_mean(by_direction: Dict[float, np.ndarray],
                    counts: Dict[float, int] = AUTHORS_DIRECTIONS) -> np.ndarray:
  """The per-direction means averaged with weights `counts` [n_iterations]."""
  total = sum(counts[d] for d in by_direction)
  return sum(counts[d] * by_direction[d].mean(axis=0) for d in by_direction) / total


def _row(label: str, values) -> str:
  return f'{label:<{LABEL_WIDTH}}' + ''.join(f'{v:>{VALUE_WIDTH}.1f}' for v in values)


def main(paths):
  if not paths:
    sys.exit(__doc__)
  for path in paths:
    with open(path) as f:
      results = json.load(f)
    by_direction = split(results)
    everything = np.concatenate(list(by_direction.values()))
    print(path)
    print(' ' * LABEL_WIDTH
          + ''.join(f'{"iter " + str(i):>{VALUE_WIDTH}}' for i in range(everything.shape[1])))
    for direction, returns in by_direction.items():
      name = f'{DIRECTION_NAMES[direction]} ({len(returns)} tasks)'
      print(_row(f'{name} mean', returns.mean(axis=0)))
      print(_row(f'{name} sd', returns.std(axis=0, ddof=1)))
      print(_row(f'{name} median', np.median(returns, axis=0)))
    print(_row(f'all ({len(everything)} tasks) mean', everything.mean(axis=0)))
    counts = ' / '.join(f'{AUTHORS_DIRECTIONS[d]} {DIRECTION_NAMES[d]}' for d in by_direction)
    print(_row(f're-weighted to {counts}', reweighted_mean(by_direction)))
    for direction, returns in by_direction.items():
      print(_row(f'{DIRECTION_NAMES[direction]} lowest task', returns.min(axis=0)))


if __name__ == '__main__':
  main(sys.argv[1:])
