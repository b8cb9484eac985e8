"""n environments of one task family stepped as one batch: the runners' fast path.

`TaskEnv` (one MjData, gymnasium API) is the reference. `VectorEnv` gives the same
transitions for a whole batch at once: the physics of every environment advances in
one `mujoco.rollout` call (C loop, no Python per environment), observations come
from the batched qpos, qvel and sensor arrays, and rewards from the family's
TaskReward on [n, ...] arrays. Each environment keeps its own task and reset
generator (stream (seed, *stream, i) of smtl_tf.seeding), so a VectorEnv reproduces n
TaskEnvs given the same generators bit for bit (tests/test_vector_env.py).
"""
import copy
from typing import Optional, Sequence

import gymnasium
import mujoco
import numpy as np
from mujoco import rollout

from smtl_tf import seeding
from smtl_tf.envs import bodies
from smtl_tf.envs import families
from smtl_tf.envs import observations
from smtl_tf.envs import point

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS.value


class VectorEnv:
  """n environments of `family`; environment i has task tasks[i] and reset generator rngs[i].

  Args:
    family: task family name.
    n_envs: number of environments.
    seed: the run's seed.
    stream: the name of these environments' streams: environment i draws its reset
      noise from seeding.numpy_stream(seed, *stream, i).
    dynamics, keep_xy, allow_out_of_range: as for TaskEnv.
    observation: the observation layout, 'slbo' or 'rllab' (see envs/observations.py);
      rewards and terminations are the same for both.
  """

  def __init__(self, family: str, n_envs: int, seed: int, stream: Sequence = ('env',),
               dynamics: str = 'default', keep_xy: bool = True, allow_out_of_range: bool = False,
               observation: str = 'slbo'):
    self.family = families.get_family(family)
    self.n_envs = n_envs
    self.allow_out_of_range = allow_out_of_range
    self.state_reward_fn = self.family.reward_fn(keep_xy=True)  # on the full 'slbo' reward state
    self.reward_fn = self.family.observation_reward_fn(observation, keep_xy)
    self.reseed(seed, *stream)
    self._physics = (_PointPhysics(dynamics, keep_xy, observation) if self.family.body == 'point'
                     else _MujocoPhysics(self.family.body, dynamics, observation, keep_xy))
    self.obs_dim, self.act_dim = self._physics.obs_dim, self._physics.act_dim
    self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float64)
    self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (self.act_dim,), np.float32)
    self.tasks = np.repeat(self.family.default_task()[None], n_envs, axis=0)
    self._states = np.repeat(self._physics.initial_state(None)[None], n_envs, axis=0)
    self._obs = np.zeros((n_envs, self.obs_dim))
    self._reward_states = np.zeros((n_envs, self._physics.reward_state_dim))

  def reseed(self, seed: int, *stream) -> None:
    """Environment i draws its resets from seeding.numpy_stream(seed, *stream, i) from now on."""
    self.rngs = [seeding.numpy_stream(seed, *stream, i) for i in range(self.n_envs)]

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
    self._reward_states[indices], self._obs[indices] = self._physics.observe(self._states[indices])
    return self._obs[indices].copy()

  def reset_states(self, n: int, rng: np.random.Generator) -> np.ndarray:
    """n reset observations [n, obs_dim] float32, drawn with rng as reset() draws them.

    No environment's state or reset stream changes (virtual rollouts start from these).
    """
    states = np.stack([self._physics.initial_state(rng) for _ in range(n)])
    return self._physics.observe(states)[1].astype(np.float32)

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
    states, reward_states, obs = self._physics.advance(self._states[indices], actions)
    rewards, dones = self.state_reward_fn(self._reward_states[indices], actions, reward_states,
                                    self.tasks[indices], np)
    self._states[indices] = states
    self._reward_states[indices] = reward_states
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
  """Batched MuJoCo physics of one body: full-physics state vectors in, observations out.

  A control step is one `mujoco.rollout` call of frame_skip physics steps. The sensors a
  rollout records are those of the forward pass at the start of each physics step, i.e.
  of the state before it; the observation needs the state after the step. A second
  rollout of one step from the new states, on a copy of the model with contacts,
  constraints and forces switched off (none of which the sensors read), records
  exactly the sensors of `mj_forward` on the new states. Layouts with contact forces
  (rllab's Ant and Humanoid) need the constraint solve and `mj_rnePostConstraint`,
  and run one `mj_forward` per environment instead.
  """

  _PROBE_DISABLED = (mujoco.mjtDisableBit.mjDSBL_CONSTRAINT, mujoco.mjtDisableBit.mjDSBL_CONTACT,
                     mujoco.mjtDisableBit.mjDSBL_SPRING, mujoco.mjtDisableBit.mjDSBL_DAMPER,
                     mujoco.mjtDisableBit.mjDSBL_ACTUATION,
                     mujoco.mjtDisableBit.mjDSBL_GRAVITY)

  def __init__(self, body_name: str, dynamics: str, layout: str, keep_xy: bool):
    self.body = bodies.get_body(body_name)
    self.model, self.action_mask = bodies.load_model(self.body, dynamics)
    self.data = mujoco.MjData(self.model)
    self.dt = self.body.dt
    self.act_dim = self.model.nu
    self.layout = observations.Layout(self.body, self.model, layout, keep_xy)
    self.obs_dim = self.layout.size
    self.reward_state_dim = self.layout.full_size
    self._probe = copy.deepcopy(self.model)
    self._probe.opt.integrator = mujoco.mjtIntegrator.mjINT_EULER
    for flag in self._PROBE_DISABLED:
      self._probe.opt.disableflags |= flag.value
    qpos_start = mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_TIME.value)
    self._qpos = slice(qpos_start, qpos_start + self.model.nq)
    self._qvel = slice(self._qpos.stop, self._qpos.stop + self.model.nv)
    self._rollout = rollout.Rollout(nthread=0)  # threads measured slower on 2 cores
    self._models, self._probes = [], []

  def initial_state(self, rng: Optional[np.random.Generator]) -> np.ndarray:
    """A reset state [nstate]: the body's reset pose at rest, plus TaskEnv's noise if rng is given."""
    if rng is None:
      mujoco.mj_resetData(self.model, self.data)
      self.data.qpos[:] = bodies.reset_qpos(self.model)
    else:
      bodies.reset_data(self.model, self.data, rng)
    state = np.empty(mujoco.mj_stateSize(self.model, STATE_SPEC))
    mujoco.mj_getState(self.model, self.data, state, STATE_SPEC)
    return state

  def observe(self, states: np.ndarray, controls: Optional[np.ndarray] = None):
    """(reward states [m, full_size], observations [m, obs_dim]) of states [m, nstate], one
    mj_forward each, with actuator controls [m, nu] (default zero, as after a reset; contact
    forces depend on them)."""
    controls = np.zeros((len(states), self.model.nu)) if controls is None else controls
    snapshots = []
    for state, ctrl in zip(states, controls):
      mujoco.mj_setState(self.model, self.data, state, STATE_SPEC)
      self.data.ctrl[:] = ctrl
      snapshots.append(observations.forward(self.model, self.data,
                                            self.layout.needs_contact_forces))
    forces = (np.concatenate([s.contact_forces for s in snapshots])
              if self.layout.needs_contact_forces else None)
    snapshot = observations.Snapshot(
        *(np.concatenate([getattr(s, f) for s in snapshots]).reshape(len(states), -1)
          for f in ('qpos', 'qvel', 'sensordata')), forces)
    return self._views(snapshot)

  def _views(self, snapshot: observations.Snapshot):
    reward_states = self.layout.reward_state(snapshot)
    return reward_states, self.layout(snapshot, reward_states)

  def advance(self, states: np.ndarray, actions: np.ndarray):
    """frame_skip physics steps of every state with its action, in one rollout call.

    Args:
      states: [m, nstate]; actions: [m, nu] in [-1, 1] (clipped here).

    Returns:
      (states [m, nstate], reward states [m, full_size], observations [m, obs_dim]).
    """
    m = len(states)
    if len(self._models) < m:
      self._models, self._probes = [self.model] * m, [self._probe] * m
    ctrl = bodies.control(self.model, self.action_mask, actions)
    control = np.repeat(ctrl[:, None, :], self.body.frame_skip, axis=1)
    trajectory = np.empty((m, self.body.frame_skip, states.shape[1]))
    self._rollout.rollout(self._models[:m], [self.data], np.ascontiguousarray(states), control,
                          nstep=self.body.frame_skip, skip_checks=True, state=trajectory)
    states = trajectory[:, -1]
    if self.layout.needs_contact_forces:
      return (states, *self.observe(states, ctrl))
    sensordata = np.empty((m, 1, self.model.nsensordata))
    self._rollout.rollout(self._probes[:m], [self.data], states, ctrl[:, None, :], nstep=1,
                          skip_checks=True, sensordata=sensordata)
    snapshot = observations.Snapshot(states[:, self._qpos], states[:, self._qvel],
                                     sensordata[:, 0])
    return (states, *self._views(snapshot))


class _PointPhysics:
  """The point body (state = position) in numpy."""

  def __init__(self, dynamics: str, keep_xy: bool, observation: str):
    if dynamics != 'default' or not keep_xy:
      raise ValueError(f'Unknown dynamics {dynamics!r} for the point body (only "default", '
                       f'with keep_xy=True).')
    if observation not in observations.LAYOUTS:
      raise ValueError(f'Unknown observation layout {observation!r}; choose one of '
                       f'{observations.LAYOUTS}.')
    self.dt, self.obs_dim, self.act_dim, self.reward_state_dim = 1.0, 2, 2, 2

  def initial_state(self, rng) -> np.ndarray:
    del rng
    return np.zeros(2)

  def observe(self, states: np.ndarray):
    return states.copy(), states.copy()

  def advance(self, states: np.ndarray, actions: np.ndarray):
    states = states + point.STEP_SCALE * np.clip(actions, -1.0, 1.0)
    return states, states.copy(), states.copy()
