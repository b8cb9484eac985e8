"""Rewards and terminations, written once for numpy and TensorFlow.

A reward is computed against an array namespace `xp`: `numpy` in the real environment
(`TaskEnv`, `VectorEnv`) and `tensorflow.experimental.numpy` in the virtual environment
(batched tensors of predicted states), on the named parts of the state after the step
(`state.State`). Both therefore compute the same numbers; `consistency.check_reward`
checks it on real transitions for any family, built-in or registered.

The reward of a task family is its objective's goal term plus its body's costs
(contact cost removed, paper footnote 4; a = action clipped to [-1, 1]):

    goal_term(state, task) + alive_bonus - ctrl_coef |a|^2 - lateral_coef |v_yz|^2

Built-in objectives (v: torso subtree CoM velocity; g: the task):
  velocity:    -|v_x - g| + goal_bonus
  velocity_2d: sum_{i in x,y} (-|v_i - g_i| + goal_bonus)
  direction:   g * v_x   (g in {-1, +1})
  goal_2d:     -|p_xy - g| (point navigation; the state is the position p)
Register another with `register_objective`.

Termination: a non-finite state; the root height outside the body's z_range; the body's
own `terminates`; the objective's `terminates` (goal_2d: reaching the goal, |p_i - g_i| <
GOAL_TOLERANCE in both coordinates, as maml_rl's PointEnvRandGoal).
"""
import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from smtl_tf.envs.state import State, StateIndex

GOAL_TOLERANCE = 0.01  # maml_rl's PointEnvRandGoal: done when within this of the goal per coordinate


@dataclasses.dataclass(frozen=True)
class Objective:
  """What a task asks of a body, as functions of the state after a step.

  Attributes:
    name: the name families refer to (TaskFamily.objective).
    goal_term: (state: State, task [..., task_dim], goal_bonus: float, xp) -> [...]; the
      task-dependent part of the reward. goal_bonus is the body's constant (Body.goal_bonus).
    terminates: optional (state, task, xp) -> [...] bool; ends an episode (e.g. at a goal).
  """
  name: str
  goal_term: Callable[..., Any]
  terminates: Optional[Callable[..., Any]] = None


@dataclasses.dataclass(frozen=True)
class BodyCosts:
  """The body's part of every reward and termination (see bodies.Body for the meanings)."""
  goal_bonus: float = 0.0
  alive_bonus: float = 0.0
  ctrl_coef: float = 0.0
  lateral_coef: float = 0.0
  z_range: Optional[Tuple[float, float]] = None
  terminates: Optional[Callable[..., Any]] = None


def _velocity(state, task, goal_bonus, xp):
  return -xp.abs(state.com_velocity[..., 0] - task[..., 0]) + goal_bonus


def _velocity_2d(state, task, goal_bonus, xp):
  return xp.sum(-xp.abs(state.com_velocity[..., :2] - task[..., :2]) + goal_bonus, axis=-1)


def _direction(state, task, goal_bonus, xp):
  del goal_bonus
  return task[..., 0] * state.com_velocity[..., 0]


def _goal_distance(state, task, goal_bonus, xp):
  del goal_bonus
  return -xp.sqrt(xp.sum(xp.square(state.position - task[..., :2]), axis=-1))


def _goal_reached(state, task, xp):
  return goal_reached(state.position, task[..., :2], xp)


OBJECTIVES: Dict[str, Objective] = {}


def register_objective(objective: Objective) -> Objective:
  """Makes an objective usable by name in task families; returns it.

  Registering a name again is allowed only with the same objective object.
  """
  if not isinstance(objective, Objective):
    raise TypeError(f'register_objective takes a rewards.Objective, got {objective!r}.')
  if not objective.name.isidentifier():
    raise ValueError(f'Objective name {objective.name!r} must be a Python identifier.')
  if not callable(objective.goal_term):
    raise TypeError(f'Objective {objective.name!r}: goal_term must be callable.')
  known = OBJECTIVES.get(objective.name)
  if known is not None and known != objective:
    raise ValueError(f'An objective named {objective.name!r} is already registered; pick '
                     f'another name.')
  OBJECTIVES[objective.name] = objective
  return objective


def get_objective(name: str) -> Objective:
  """The registered objective of that name, or a clear error."""
  if name not in OBJECTIVES:
    raise ValueError(f'Unknown objective {name!r}; choose one of {sorted(OBJECTIVES)}, or '
                     f'register your own with smtl_tf.envs.register_objective.')
  return OBJECTIVES[name]


for _objective in (Objective('velocity', _velocity), Objective('velocity_2d', _velocity_2d),
                   Objective('direction', _direction),
                   Objective('goal_2d', _goal_distance, terminates=_goal_reached)):
  register_objective(_objective)


@dataclasses.dataclass(frozen=True)
class TaskReward:
  """Reward and termination of one (body, objective, observation layout).

  Attributes:
    objective: the family's objective.
    costs: the body's bonuses, costs and termination.
    index: where the state's parts lie in the observations this reward reads.
  """
  objective: Objective
  costs: BodyCosts
  index: StateIndex

  def __call__(self, obs, action, next_obs, task, xp: Any = np):
    """Reward and done of transitions.

    Args:
      obs: [..., obs_dim] state before the step (unused, kept for the signature).
      action: [..., act_dim] policy action (clipped here to [-1, 1]).
      next_obs: [..., obs_dim] state after the step.
      task: [..., task_dim] task parameter, broadcastable against next_obs[..., :1].
      xp: `numpy` or `tensorflow.experimental.numpy`.

    Returns:
      (reward [...], done [...] bool).
    """
    del obs
    state, costs = State(next_obs, self.index), self.costs
    clipped = xp.clip(action, -1.0, 1.0)
    goal_term = self.objective.goal_term(state, task, costs.goal_bonus, xp)
    reward = goal_term + costs.alive_bonus - costs.ctrl_coef * xp.sum(xp.square(clipped), axis=-1)
    if costs.lateral_coef:
      reward = reward - costs.lateral_coef * xp.sum(xp.square(state.com_velocity[..., 1:3]),
                                                    axis=-1)
    done = xp.logical_not(xp.all(xp.isfinite(next_obs), axis=-1))
    if self.objective.terminates is not None:
      done = xp.logical_or(done, self.objective.terminates(state, task, xp))
    if costs.z_range is not None:
      z = state.height
      low, high = costs.z_range
      done = xp.logical_or(done, xp.logical_or(z < low, z > high))
    if costs.terminates is not None:
      done = xp.logical_or(done, costs.terminates(state, xp))
    return reward, done


def goal_reached(position, goal, xp: Any = np):
  """True where position [..., 2] is within GOAL_TOLERANCE of goal in every coordinate: [...]."""
  return xp.all(xp.abs(position - goal) < GOAL_TOLERANCE, axis=-1)
