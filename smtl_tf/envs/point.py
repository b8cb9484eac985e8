"""2-D point navigation (maml_rl's PointEnvRandGoal): a cheap family for tests and quick checks.

The state is the point's position; an action in [-1, 1]^2 moves it by 0.1 * action;
the reward is minus the distance to the goal (the task parameter) after the move.
Episodes start at the origin and end when the point is within 0.01 of the goal in both
coordinates (TaskReward's goal_2d termination).
"""
from typing import Optional

import gymnasium
import numpy as np

from smtl_tf.envs import families
from smtl_tf.envs import rendering

STEP_SCALE = 0.1


class PointEnv(gymnasium.Env):
  """Same interface as TaskEnv (set_task, reset, step, task) without MuJoCo.

  Args:
    family: a family whose body is 'point' (e.g. 'point_nav').
    task: goal [2]; default the middle of the space.
    dynamics: only 'default'.
    keep_xy: must be True (the position is the whole state).
    allow_out_of_range: accept a goal outside the family's space.
    observation: accepted for TaskEnv's signature; the observation is the position.
    render_mode: None, or 'rgb_array' for render() to draw the point and its goal.
    width, height: frame size in pixels.
  """
  metadata = {'render_modes': ['rgb_array'], 'render_fps': 10}

  def __init__(self, family: str = 'point_nav', task=None, dynamics: str = 'default',
               keep_xy: bool = True, allow_out_of_range: bool = False, observation: str = 'slbo',
               render_mode: Optional[str] = None, width: int = 480, height: int = 360):
    del observation
    self.family = families.get_family(family)
    if self.family.body != 'point':
      raise ValueError(f'PointEnv needs a point family, got {family!r}.')
    if dynamics != 'default':
      raise ValueError(f'Unknown dynamics {dynamics!r} for the point body (only "default").')
    if not keep_xy:
      raise ValueError('The point body\'s state is its position: keep_xy must be True.')
    self.allow_out_of_range = allow_out_of_range
    self.reward_fn = self.family.reward_fn(keep_xy)
    self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float64)
    self.set_task(self.family.default_task() if task is None else task)
    self._obs = None
    if render_mode not in (None, 'rgb_array'):
      raise ValueError(f'Unknown render_mode {render_mode!r}; choose None or \'rgb_array\'.')
    self.render_mode, self._frame_size = render_mode, (width, height)

  @property
  def dt(self) -> float:
    return 1.0

  def set_task(self, task) -> None:
    self.task = self.family.validate(task, self.allow_out_of_range)

  def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
    super().reset(seed=seed)
    if options and 'task' in options:
      self.set_task(options['task'])
    self._obs = np.zeros(2)
    return self._obs.copy(), {}

  def render(self):
    """The point (blue) and its goal (red) as an RGB frame [height, width, 3] uint8."""
    if self.render_mode != 'rgb_array':
      raise ValueError("Make the environment with render_mode='rgb_array' to render it.")
    position = np.zeros(2) if self._obs is None else self._obs
    return rendering.point_frame(position, self.task, *self._frame_size)

  def step(self, action):
    if self._obs is None:
      raise RuntimeError('Call reset() before step().')
    action = np.asarray(action, dtype=np.float64).reshape(2)
    obs = self._obs + STEP_SCALE * np.clip(action, -1.0, 1.0)
    reward, done = self.reward_fn(self._obs, action, obs, self.task, np)
    self._obs = obs
    return obs.copy(), float(reward), bool(done), False, {}
