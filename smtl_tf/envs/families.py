"""Task families of the paper (Sec. 5 and 5.3): parameter spaces, sampling, validation.

A family is a body, an objective and a parameter space: a box [low, high]^k for
goal velocities, or the set {-1, +1} for forward/backward. Families are looked up
by name (`get_family`); `register_family` adds one (built-in or a user's) and
registers it with gymnasium as `smtl/<CamelName>-v0`.
"""
import dataclasses
from typing import Optional, Sequence, Tuple

import gymnasium
import numpy as np

from smtl_tf.envs import bodies
from smtl_tf.envs import rewards
from smtl_tf.envs.state import StateIndex

HORIZON = 200  # steps per episode (gymnasium.make adds the TimeLimit)


class TaskOutOfRangeError(ValueError):
  """A task parameter lies outside its family's parameter space."""


@dataclasses.dataclass(frozen=True)
class TaskFamily:
  """A distribution p(psi) over tasks sharing one body.

  Attributes:
    name: e.g. 'halfcheetah_vel'.
    body: body name (see bodies.BODIES).
    objective: one of rewards.OBJECTIVES.
    low, high: bounds of the box parameter space (one entry per task dimension).
    choices: for discrete families, the allowed values (sampled uniformly).
  """
  name: str
  body: str
  objective: str
  low: Tuple[float, ...]
  high: Tuple[float, ...]
  choices: Optional[Tuple[float, ...]] = None

  @property
  def task_dim(self) -> int:
    return len(self.low)

  @property
  def env_id(self) -> str:
    words = {'halfcheetah': 'HalfCheetah', 'fwdbwd': 'FwdBwd', 'vel2d': 'Vel2D', 'nav': 'Nav'}
    camel = ''.join(words.get(part, part.capitalize()) for part in self.name.split('_'))
    return f'smtl/{camel}-v0'

  def describe_space(self) -> str:
    if self.choices is not None:
      return f'one of {list(self.choices)}'
    if self.task_dim == 1:
      return f'[{self.low[0]}, {self.high[0]}]'
    return ' x '.join(f'[{lo}, {hi}]' for lo, hi in zip(self.low, self.high))

  def default_task(self) -> np.ndarray:
    """The task an environment starts with: +1 for forward/backward, else the middle of the box."""
    if self.choices:
      task = (1.0,) if 1.0 in self.choices else self.choices[-1:]
    else:
      task = np.add(self.low, self.high) / 2
    return np.asarray(task, np.float64).reshape(self.task_dim)

  def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
    """n tasks [n, task_dim] float64 drawn uniformly from the parameter space."""
    if self.choices is not None:
      return rng.choice(np.asarray(self.choices), size=(n, 1))
    return rng.uniform(self.low, self.high, size=(n, self.task_dim))

  def contains(self, task: np.ndarray) -> bool:
    task = np.asarray(task, dtype=np.float64).reshape(-1)
    if task.shape != (self.task_dim,) or not np.all(np.isfinite(task)):
      return False
    if self.choices is not None:
      return bool(np.isin(task, self.choices).all())
    return bool(np.all(task >= self.low) and np.all(task <= self.high))

  def validate(self, task, allow_out_of_range: bool = False) -> np.ndarray:
    """Returns the task as [task_dim] float64, or raises a clear error.

    Args:
      task: a scalar or sequence.
      allow_out_of_range: accept finite values outside the space (used by the
        distribution-shift experiments, e.g. testing a [0, 2] model on [-2, 0]).
    """
    array = np.asarray(task, dtype=np.float64).reshape(-1)
    task = array.tolist() if array.size > 1 else float(array[0]) if array.size else task
    if array.shape != (self.task_dim,):
      raise TaskOutOfRangeError(
          f'Task family {self.name!r} takes a {self.task_dim}-dimensional task parameter, '
          f'got {task!r}.')
    if not np.all(np.isfinite(array)):
      raise TaskOutOfRangeError(f'Task parameter {task!r} for {self.name!r} is not finite.')
    if not allow_out_of_range and not self.contains(array):
      raise TaskOutOfRangeError(
          f'Task parameter {task!r} is outside the space of family {self.name!r} '
          f'({self.describe_space()}). Pick a value inside it, or pass '
          f'allow_out_of_range=True for a deliberate distribution-shift test.')
    return array

  def observation_reward_fn(self, observation: str,
                            keep_xy: bool) -> Optional[rewards.TaskReward]:
    """The reward on an environment's own observations (what a learned model predicts): the
    'slbo' layout's; None for the 'rllab' layout, which lacks the state the reward reads."""
    return self.reward_fn(keep_xy) if observation == 'slbo' or self.body == 'point' else None

  def reward_fn(self, keep_xy: bool = True) -> rewards.TaskReward:
    """The reward and termination on 'slbo' observations with this keep_xy."""
    objective = rewards.get_objective(self.objective)
    if self.body == 'point':
      return rewards.TaskReward(objective, rewards.BodyCosts(),
                                StateIndex(2, 0, 0, False, with_com=False, keep_xy=keep_xy))
    body = bodies.get_body(self.body)
    return rewards.TaskReward(objective, body.costs(), body.state_index(keep_xy))

  def check(self) -> None:
    """Raises a clear error if this family cannot be used (unknown body or objective, or a
    malformed parameter space)."""
    if not self.name.isidentifier():
      raise ValueError(f'Task family name {self.name!r} must be a Python identifier.')
    if self.body != 'point':
      bodies.get_body(self.body)
    rewards.get_objective(self.objective)
    if not self.low or len(self.low) != len(self.high):
      raise ValueError(f'Task family {self.name!r}: low and high must be non-empty tuples of '
                       f'the same length (one entry per task dimension), got {self.low!r} and '
                       f'{self.high!r}.')
    if not np.all(np.isfinite(self.low + self.high)) or np.any(np.greater(self.low, self.high)):
      raise ValueError(f'Task family {self.name!r}: need finite low <= high, got {self.low!r} '
                       f'and {self.high!r}.')
    if self.choices is not None:
      if self.task_dim != 1 or not self.choices:
        raise ValueError(f'Task family {self.name!r}: choices are for one-dimensional tasks.')
      if not all(self.low[0] <= choice <= self.high[0] for choice in self.choices):
        raise ValueError(f'Task family {self.name!r}: every choice must lie in [low, high].')


def _velocity(name, body, low, high):
  return TaskFamily(name, body, 'velocity', (low,), (high,))


def _direction(name, body):
  return TaskFamily(name, body, 'direction', (-1.0,), (1.0,), choices=(-1.0, 1.0))


_ALL: Sequence[TaskFamily] = (
    _velocity('halfcheetah_vel', 'halfcheetah', 0.0, 2.0),
    _velocity('halfcheetah_vel_full', 'halfcheetah', -2.0, 2.0),
    _velocity('halfcheetah_vel_neg', 'halfcheetah', -2.0, 0.0),
    _direction('halfcheetah_fwdbwd', 'halfcheetah'),
    _velocity('ant_vel', 'ant', 0.0, 3.0),
    _velocity('ant_vel_full', 'ant', -3.0, 3.0),
    _velocity('ant_vel_neg', 'ant', -3.0, 0.0),
    TaskFamily('ant_vel2d', 'ant', 'velocity_2d', (-3.0, -3.0), (3.0, 3.0)),
    _direction('ant_fwdbwd', 'ant'),
    _velocity('humanoid_vel', 'humanoid', 0.0, 1.5),
    _velocity('humanoid_vel_full', 'humanoid', -1.5, 1.5),
    _direction('humanoid_fwdbwd', 'humanoid'),
    # maml_rl's 2-D point navigation: cheap, for tests and quick checks of MAML and the oracle.
    TaskFamily('point_nav', 'point', 'goal_2d', (-0.5, -0.5), (0.5, 0.5)),
)
FAMILIES = {}


def register_family(family: TaskFamily) -> TaskFamily:
  """Makes a task family usable everywhere a built-in one is; returns it.

  After this, `train_eval.family` (gin), the test families of the shift experiments,
  `smtl_tf.adapt`, launch and the plots accept its name, and gymnasium makes its
  environment as `family.env_id` (`smtl/<CamelName>-v0`). The family is checked first
  (`TaskFamily.check`). Registering a name again is allowed only with an equal family
  (the same body, objective and space).
  """
  if not isinstance(family, TaskFamily):
    raise TypeError(f'register_family takes a families.TaskFamily, got {family!r}.')
  known = FAMILIES.get(family.name)
  if known is not None:
    if known != family:
      raise ValueError(f'A task family named {family.name!r} is already registered '
                       f'({known}); pick another name.')
    return known
  family.check()
  taken = gymnasium.registry.get(family.env_id)
  if taken is not None and (taken.kwargs or {}).get('family') != family.name:
    raise ValueError(f'Task family {family.name!r} would be gymnasium environment '
                     f'{family.env_id}, which is already another environment; pick another name.')
  FAMILIES[family.name] = family
  if taken is None:
    entry_point = ('smtl_tf.envs.point:PointEnv' if family.body == 'point'
                   else 'smtl_tf.envs.task_env:TaskEnv')
    gymnasium.register(id=family.env_id, entry_point=entry_point,
                       kwargs={'family': family.name}, max_episode_steps=HORIZON)
  return family


for _family in _ALL:
  register_family(_family)


def get_family(name: str) -> TaskFamily:
  if name not in FAMILIES:
    raise ValueError(f'Unknown task family {name!r}; choose one of {sorted(FAMILIES)}, or '
                     f'register your own with smtl_tf.envs.register_family (README: "Your own '
                     f'tasks").')
  return FAMILIES[name]
