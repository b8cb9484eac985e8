"""One reward and termination definition per task family, for numpy and TensorFlow.

`TaskReward.__call__` is written against an array namespace `xp`: `numpy` for the
real environment (one transition at a time) and `tensorflow.experimental.numpy`
for the virtual environment (batched tensors of predicted states). Both therefore
compute the same numbers; `tests/test_rewards.py` checks it on real transitions.

Rewards (contact cost removed, paper footnote 4; a = action clipped to [-1, 1]):
  velocity:    -|v_x - g| + goal_bonus
  velocity_2d: sum_{i in x,y} (-|v_i - g_i| + goal_bonus)
  direction:   psi * v_x
  goal_2d:     -|p_xy - g| (point navigation; the state is the position p)
each plus alive_bonus - ctrl_coef |a|^2 - lateral_coef |v_yz|^2.

Termination: a non-finite state; the torso height outside its range (bodies with z_index);
for goal_2d, reaching the goal: |p_i - g_i| < GOAL_TOLERANCE in both coordinates, as
maml_rl's PointEnvRandGoal.
"""
import dataclasses
from typing import Any, Optional, Tuple

import numpy as np

OBJECTIVES = ('velocity', 'velocity_2d', 'direction', 'goal_2d')
GOAL_TOLERANCE = 0.01  # maml_rl's PointEnvRandGoal: done when within this of the goal per coordinate


@dataclasses.dataclass(frozen=True)
class TaskReward:
  """Reward and termination of one (body, objective, observation layout).

  Attributes:
    objective: one of OBJECTIVES.
    goal_bonus, alive_bonus, ctrl_coef, lateral_coef: the body's constants.
    z_index: index of the torso height in the observation (None: never terminates).
    z_range: (low, high) allowed torso height.
  """
  objective: str
  goal_bonus: float
  alive_bonus: float
  ctrl_coef: float
  lateral_coef: float
  z_index: Optional[int]
  z_range: Optional[Tuple[float, float]]

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
    velocity = next_obs[..., -3:]
    clipped = xp.clip(action, -1.0, 1.0)
    if self.objective == 'goal_2d':
      goal_term = -xp.sqrt(xp.sum(xp.square(next_obs[..., :2] - task[..., :2]), axis=-1))
    elif self.objective == 'velocity':
      goal_term = -xp.abs(velocity[..., 0] - task[..., 0]) + self.goal_bonus
    elif self.objective == 'velocity_2d':
      goal_term = xp.sum(-xp.abs(velocity[..., :2] - task[..., :2]) + self.goal_bonus, axis=-1)
    elif self.objective == 'direction':
      goal_term = task[..., 0] * velocity[..., 0]
    else:
      raise ValueError(f'Unknown objective {self.objective!r}; choose one of {OBJECTIVES}.')
    reward = goal_term + self.alive_bonus - self.ctrl_coef * xp.sum(xp.square(clipped), axis=-1)
    if self.lateral_coef:
      reward = reward - self.lateral_coef * xp.sum(xp.square(velocity[..., 1:3]), axis=-1)
    done = xp.logical_not(xp.all(xp.isfinite(next_obs), axis=-1))
    if self.objective == 'goal_2d':
      done = xp.logical_or(done, goal_reached(next_obs[..., :2], task[..., :2], xp))
    if self.z_index is not None:
      z = next_obs[..., self.z_index]
      low, high = self.z_range
      done = xp.logical_or(done, xp.logical_or(z < low, z > high))
    return reward, done


def goal_reached(position, goal, xp: Any = np):
  """True where position [..., 2] is within GOAL_TOLERANCE of goal in every coordinate: [...]."""
  return xp.all(xp.abs(position - goal) < GOAL_TOLERANCE, axis=-1)
