"""A gymnasium environment for one task of a task family on a MuJoCo body."""
from typing import Optional

import gymnasium
import mujoco
import numpy as np

from smtl_tf.envs import bodies
from smtl_tf.envs import families
from smtl_tf.envs import observations
from smtl_tf.envs import rendering


class TaskEnv(gymnasium.Env):
  """One MuJoCo body with the reward of one task of a family.

  Actions are in [-1, 1]^nu (clipped, then scaled to the actuators' control
  range). After the physics steps of a control step, a forward pass on the new state
  gives the observation, the reward and the termination (as mujoco-py's `forward()`
  after stepping did in the original code). Every physics step and forward pass starts
  the constraint solver cold (zero warm start), so this reference and the batched
  VectorEnv produce identical transitions. Episodes have no time limit here;
  gymnasium.make adds the 200-step TimeLimit and the project's runners count the
  horizon themselves.

  Args:
    family: task family name, e.g. 'halfcheetah_vel' (see families.FAMILIES).
    task: task parameter (scalar or [task_dim]); default: the middle of the space
      (or +1 for forward/backward).
    dynamics: 'default', or for the ant 'low_friction' / 'crippled' (paper Sec. 5.3).
    keep_xy: keep absolute x/y positions (root qpos and torso CoM) in the observation.
    allow_out_of_range: accept a task outside the family's space (distribution shift).
    observation: observation layout, 'slbo' or 'rllab' (see envs/observations.py).
    render_mode: None, or 'rgb_array' for render() to return frames [height, width, 3]
      uint8 (headless; see envs/rendering.py for the OpenGL backend).
    width, height: frame size in pixels.
  """
  metadata = {'render_modes': ['rgb_array']}

  def __init__(self, family: str, task=None, dynamics: str = 'default', keep_xy: bool = True,
               allow_out_of_range: bool = False, observation: str = 'slbo',
               render_mode: Optional[str] = None, width: int = 480, height: int = 360):
    self.family = families.get_family(family)
    self.body = bodies.get_body(self.family.body)
    self.dynamics = dynamics
    self.keep_xy = keep_xy
    self.allow_out_of_range = allow_out_of_range
    self.model, self._action_mask = bodies.load_model(self.body, dynamics)
    self.data = mujoco.MjData(self.model)
    self.layout = observations.Layout(self.body, self.model, observation, keep_xy)
    self.state_reward_fn = self.family.reward_fn(keep_xy=True)  # on the full 'slbo' reward state
    self.reward_fn = self.family.observation_reward_fn(observation, keep_xy)
    self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (self.model.nu,), np.float32)
    self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self.layout.size,), np.float64)
    self.set_task(self.family.default_task() if task is None else task)
    self._reward_state = None
    if render_mode not in (None, *self.metadata['render_modes']):
      raise ValueError(f'Unknown render_mode {render_mode!r}; choose None or \'rgb_array\'.')
    self.render_mode, self._frame_size, self._renderer = render_mode, (width, height), None
    self.metadata = {**self.metadata, 'render_fps': int(round(1.0 / self.dt))}

  @property
  def dt(self) -> float:
    return self.body.dt

  def set_task(self, task) -> None:
    """Sets the task parameter (validated against the family's space)."""
    self.task = self.family.validate(task, self.allow_out_of_range)

  def _observe(self):
    """(reward state [full_size], observation [obs_dim]) of the current state, after a
    forward pass on it."""
    snapshot = observations.forward(self.model, self.data, self.layout.needs_contact_forces)
    reward_state = self.layout.reward_state(snapshot)
    return reward_state[0], self.layout(snapshot, reward_state)[0]

  def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
    super().reset(seed=seed)
    if options and 'task' in options:
      self.set_task(options['task'])
    bodies.reset_data(self.model, self.data, self.np_random)
    self._reward_state, obs = self._observe()
    return obs, {}

  def render(self):
    """The current state as an RGB frame [height, width, 3] uint8 (render_mode='rgb_array')."""
    if self.render_mode != 'rgb_array':
      raise ValueError("Make the environment with render_mode='rgb_array' to render it.")
    if self._renderer is None:
      self._renderer = rendering.FrameRenderer(self.model, self.body.torso, *self._frame_size)
    return self._renderer(self.data)

  def close(self):
    if self._renderer is not None:
      self._renderer.close()
      self._renderer = None

  def step(self, action):
    if self._reward_state is None:
      raise RuntimeError('Call reset() before step().')
    action = np.asarray(action, dtype=np.float64).reshape(self.action_space.shape)
    self.data.ctrl[:] = bodies.control(self.model, self._action_mask, action)
    self.data.qacc_warmstart[:] = 0.0  # a cold solver start, as mujoco.rollout (VectorEnv) does
    mujoco.mj_step(self.model, self.data, nstep=self.body.frame_skip)
    reward_state, obs = self._observe()
    reward, done = self.state_reward_fn(self._reward_state, action, reward_state, self.task, np)
    self._reward_state = reward_state
    return obs, float(reward), bool(done), False, {}
