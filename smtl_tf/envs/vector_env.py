"""n environments of one task family stepped as one batch: the runners' fast path.

`TaskEnv` (one MjData, gymnasium API) is the reference. `VectorEnv` gives the same
transitions for a whole batch at once: the physics of every environment advances in
one `mujoco.rollout` call (C loop, no Python per environment), observations come
from the batched qpos, qvel and sensor arrays, and rewards from the family's
TaskReward on [n, ...] arrays. Each environment keeps its own task and reset
generator, seeded like `TaskEnv.reset(seed=seed + i)`, so a VectorEnv reproduces n
TaskEnvs bit for bit (tests/test_vector_env.py).
"""
from typing import Optional, Sequence

import gymnasium
import mujoco
import numpy as np
from mujoco import rollout

from smtl_tf.envs import bodies
from smtl_tf.envs import families
from smtl_tf.envs import point

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS.value


class VectorEnv:
  """n environments of `family`; environment i has task tasks[i] and reset generator rngs[i].

  Args:
    family: task family name.
    n_envs: number of environments.
    seed: environment i draws its reset noise from np.random.default_rng(seed + i).
    dynamics, keep_xy, allow_out_of_range: as for TaskEnv.
  """

  def __init__(self, family: str, n_envs: int, seed: int, dynamics: str = 'default',
               keep_xy: bool = True, allow_out_of_range: bool = False):
    self.family = families.get_family(family)
    self.n_envs = n_envs
    self.allow_out_of_range = allow_out_of_range
    self.reward_fn = self.family.reward_fn(keep_xy)
    self.rngs = [np.random.default_rng(seed + i) for i in range(n_envs)]
    self._physics = (_PointPhysics(dynamics, keep_xy) if self.family.body == 'point'
                     else _MujocoPhysics(self.family.body, dynamics, keep_xy))
    self.obs_dim, self.act_dim = self._physics.obs_dim, self._physics.act_dim
    self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float64)
    self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (self.act_dim,), np.float32)
    self.tasks = np.repeat(self.family.default_task()[None], n_envs, axis=0)
    self._states = np.repeat(self._physics.initial_state(None)[None], n_envs, axis=0)
    self._obs = np.zeros((n_envs, self.obs_dim))

  @property
  def task(self) -> np.ndarray:
    """The task of environment 0 [task_dim] (all of them, after set_task)."""
    return self.tasks[0]

  @property
  def dt(self) -> float:
    return self._physics.dt

  def set_task(self, task) -> None:
    """The same task for every environment (validated against the family's space)."""
    self.tasks[:] = self.family.validate(task, self.allow_out_of_range)

  def set_tasks(self, tasks: Sequence) -> None:
    """tasks [n_envs, task_dim], one per environment."""
    if len(tasks) != self.n_envs:
      raise ValueError(f'Expected {self.n_envs} tasks, got {len(tasks)}.')
    self.tasks[:] = [self.family.validate(task, self.allow_out_of_range) for task in tasks]

  def reset(self, indices: Optional[np.ndarray] = None) -> np.ndarray:
    """Starts fresh episodes in the given environments (default all).

    Returns:
      Their observations [len(indices), obs_dim] float64.
    """
    indices = np.arange(self.n_envs) if indices is None else np.asarray(indices)
    for i in indices:
      self._states[i] = self._physics.initial_state(self.rngs[i])
    self._obs[indices] = self._physics.observe(self._states[indices])
    return self._obs[indices].copy()

  def reset_states(self, n: int, env_index: int = 0) -> np.ndarray:
    """n reset observations [n, obs_dim] float32 drawn with one environment's generator.

    No environment's state changes (virtual rollouts start from these).
    """
    rng = self.rngs[env_index]
    states = np.stack([self._physics.initial_state(rng) for _ in range(n)])
    return self._physics.observe(states).astype(np.float32)

  def step(self, actions: np.ndarray, indices: Optional[np.ndarray] = None):
    """One control step of the given environments (default all).

    Args:
      actions: [len(indices), act_dim] policy actions (clipped to [-1, 1] before scaling).
      indices: environments to step; the others are left alone.

    Returns:
      (observations [m, obs_dim] float64, rewards [m] float64, dones [m] bool).
    """
    indices = np.arange(self.n_envs) if indices is None else np.asarray(indices)
    actions = np.asarray(actions, np.float64).reshape(len(indices), self.act_dim)
    states, obs = self._physics.advance(self._states[indices], actions)
    rewards, dones = self.reward_fn(self._obs[indices], actions, obs, self.tasks[indices], np)
    self._states[indices] = states
    self._obs[indices] = obs
    return obs.copy(), np.asarray(rewards, np.float64), np.asarray(dones, bool)

  def rng_states(self):
    """JSON-serializable states of the reset generators."""
    return [rng.bit_generator.state for rng in self.rngs]

  def set_rng_states(self, states) -> None:
    if len(states) != self.n_envs:
      raise ValueError(f'Checkpoint has {len(states)} environment generators, expected {self.n_envs}.')
    for rng, state in zip(self.rngs, states):
      rng.bit_generator.state = state


class _MujocoPhysics:
  """Batched MuJoCo physics of one body: full-physics state vectors in, observations out."""

  def __init__(self, body_name: str, dynamics: str, keep_xy: bool):
    self.body = bodies.get_body(body_name)
    self.model, self.action_mask = bodies.load_model(self.body, dynamics)
    self.data = mujoco.MjData(self.model)
    self.dt = self.body.dt
    self.act_dim = self.model.nu
    self.kept = bodies.kept_indices(self.body, self.model, keep_xy)
    self.obs_dim = len(self.kept)
    qpos_start = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_TIME.value)
    self._qpos = slice(qpos_start, qpos_start + self.model.nq)
    self._qvel = slice(self._qpos.stop, self._qpos.stop + self.model.nv)
    self._rollout = rollout.Rollout(nthread=0)
    self._models = []

  def initial_state(self, rng: Optional[np.random.Generator]) -> np.ndarray:
    """A reset state [nstate]: qpos0 and zero velocity, plus TaskEnv's noise if rng is given."""
    if rng is None:
      mujoco.mj_resetData(self.model, self.data)
    else:
      bodies.reset_data(self.model, self.data, rng)
    state = np.empty(mujoco.mj_stateSize(self.model, STATE_SPEC))
    mujoco.mj_getState(self.model, self.data, state, STATE_SPEC)
    return state

  def observe(self, states: np.ndarray) -> np.ndarray:
    """Observations [m, obs_dim] of states [m, nstate] (one mj_forward each; resets only)."""
    obs = []
    for state in states:
      mujoco.mj_setState(self.model, self.data, state, STATE_SPEC)
      mujoco.mj_forward(self.model, self.data)
      obs.append(bodies.read_observation(self.body, self.data))
    return np.asarray(obs).reshape(len(states), -1)[:, self.kept]

  def advance(self, states: np.ndarray, actions: np.ndarray):
    """frame_skip physics steps of every state with its action, in one rollout call.

    Args:
      states: [m, nstate]; actions: [m, nu] in [-1, 1] (clipped here).

    Returns:
      (states [m, nstate], observations [m, obs_dim]).
    """
    m = len(states)
    if len(self._models) < m:
      self._models = [self.model] * m
    ctrl = bodies.control(self.model, self.action_mask, actions)
    control = np.repeat(ctrl[:, None, :], self.body.frame_skip, axis=1)
    trajectory = np.empty((m, self.body.frame_skip, states.shape[1]))
    sensordata = np.empty((m, self.body.frame_skip, self.model.nsensordata))
    self._rollout.rollout(self._models[:m], [self.data], np.ascontiguousarray(states), control,
                          nstep=self.body.frame_skip, skip_checks=True, state=trajectory,
                          sensordata=sensordata)
    states = trajectory[:, -1]
    obs = bodies.observation(self.body, states[:, self._qpos], states[:, self._qvel],
                             sensordata[:, -1])
    return states, obs[:, self.kept]


class _PointPhysics:
  """The point body (state = position) in numpy."""

  def __init__(self, dynamics: str, keep_xy: bool):
    if dynamics != 'default' or not keep_xy:
      raise ValueError(f'Unknown dynamics {dynamics!r} for the point body (only "default", '
                       f'with keep_xy=True).')
    self.dt, self.obs_dim, self.act_dim = 1.0, 2, 2

  def initial_state(self, rng) -> np.ndarray:
    del rng
    return np.zeros(2)

  def observe(self, states: np.ndarray) -> np.ndarray:
    return states.copy()

  def advance(self, states: np.ndarray, actions: np.ndarray):
    states = states + point.STEP_SCALE * np.clip(actions, -1.0, 1.0)
    return states, states.copy()
