"""The evaluation protocol every algorithm shares: the fixed test tasks, which training and
test families may be paired, and the record of one test task."""
from typing import Dict, Optional, Sequence

import gin
import numpy as np

from smtl_tf import envs


def check_compatible(train_family: str, test_family: str) -> None:
  """Train and test families must share the body and the reward's form."""
  train, test = envs.get_family(train_family), envs.get_family(test_family)
  if (train.body, train.objective) != (test.body, test.objective):
    raise ValueError(
        f'Test family {test_family!r} ({test.body}, {test.objective}) does not match training '
        f'family {train_family!r} ({train.body}, {train.objective}); a learned model transfers '
        f'only between tasks of one body and reward form.')


@gin.configurable
def test_tasks(family: str, n_test_tasks: int = 40, test_seed: int = 1234,
               tasks: Optional[Sequence] = None) -> np.ndarray:
  """The fixed test tasks [n, task_dim], identical for every algorithm and seed.

  Args:
    family: the test family's name.
    n_test_tasks, test_seed: n_test_tasks tasks drawn uniformly from the family's space with
      numpy's default generator seeded by test_seed.
    tasks: instead, these tasks, in this order ([n] numbers for a one-parameter family, or
      [n, task_dim]), each inside the family's space: e.g. another code's test tasks
      (n_test_tasks and test_seed are then unused).
  """
  space = envs.get_family(family)
  if tasks is None:
    return space.sample(np.random.default_rng(test_seed), n_test_tasks)
  if isinstance(tasks, (str, bytes)) or not hasattr(tasks, '__len__'):
    raise ValueError(f'test_tasks.tasks = {tasks!r}: give a list of tasks, e.g. [0.5, 1.5].')
  if len(tasks) == 0:
    raise ValueError('test_tasks.tasks is empty: give at least one task, or None to draw '
                     'test_tasks.n_test_tasks of them.')
  chosen = []
  for index, task in enumerate(tasks):
    try:
      chosen.append(space.validate(task))
    except ValueError as error:
      raise ValueError(f'test_tasks.tasks[{index}] = {task!r}: {error}') from error
  return np.stack(chosen)


def test_record(task, returns: Sequence[float] = (), adapt_samples: Sequence[int] = (),
                random_policy_return: Optional[float] = None) -> Dict:
  """One test task's entry of results.json: its parameter, the return after 0, 1, ...
  adaptation iterations and the cumulative real adaptation samples at each (and, where
  measured, a freshly initialized policy's return)."""
  record = {'task': np.asarray(task, np.float64).tolist(),
            'returns': [float(value) for value in returns],
            'adapt_samples': [int(count) for count in adapt_samples]}
  if random_policy_return is not None:
    record['random_policy_return'] = float(random_policy_return)
  return record


def append_iteration(record: Dict, value: float, adapt_samples: int) -> None:
  """The return after one more adaptation iteration, at the given cumulative samples."""
  record['returns'].append(float(value))
  record['adapt_samples'].append(int(adapt_samples))
