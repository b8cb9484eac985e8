"""MuJoCo bodies (HalfCheetah, Ant, Humanoid) on gymnasium's bundled XML assets.

A body knows its XML, its control step, how to read an observation from `MjData`,
its reward constants and its termination height range. Rewards themselves live in
`rewards.py` so the real and the virtual environment share one definition.

Observation layout (as SLBO): qpos, qvel, [Ant: torso rotation matrix, 9],
torso subtree centre of mass (3), torso subtree linear velocity (3). The
velocity the rewards read is therefore always the last three entries. The
torso quantities are MuJoCo sensors added to the model at compile time, so an
observation is (qpos, qvel, sensordata) and a batch of states stepped by
`mujoco.rollout` is observed without touching one MjData per environment.
Sensors are evaluated in the forward pass at the start of a step, exactly the
values the MjData fields hold after `mj_step` (what gym and SLBO read).
"""
import dataclasses
import os
import re
from typing import Optional, Tuple

import gymnasium
import mujoco
import numpy as np

ASSET_DIR = os.path.join(os.path.dirname(gymnasium.__file__), 'envs', 'mujoco', 'assets')


@dataclasses.dataclass(frozen=True)
class Body:
  """Static description of one robot.

  Attributes:
    name: short name used in family names ('halfcheetah', 'ant', 'humanoid').
    xml: file name inside gymnasium's MuJoCo asset folder.
    timestep: MuJoCo integrator timestep (s) we set on the model.
    frame_skip: integrator steps per control step; control dt = timestep * frame_skip.
    goal_bonus: constant added to each -|v - g| goal term (rllab task envs).
    alive_bonus: constant added every step.
    ctrl_coef: coefficient of |a|^2 (a = policy action clipped to [-1, 1]).
    lateral_coef: coefficient of |v_yz|^2 (Humanoid's velocity-deviation cost).
    z_range: (low, high) torso height outside which an episode ends; None: never.
    with_torso_xmat: whether the observation includes the torso rotation matrix.
  """
  name: str
  xml: str
  timestep: float
  frame_skip: int
  goal_bonus: float
  alive_bonus: float
  ctrl_coef: float
  lateral_coef: float
  z_range: Optional[Tuple[float, float]]
  with_torso_xmat: bool

  @property
  def dt(self) -> float:
    return self.timestep * self.frame_skip


BODIES = {
    'halfcheetah': Body('halfcheetah', 'half_cheetah.xml', timestep=0.01, frame_skip=1,
                        goal_bonus=0.0, alive_bonus=0.0, ctrl_coef=0.05, lateral_coef=0.0,
                        z_range=None, with_torso_xmat=False),
    'ant': Body('ant', 'ant.xml', timestep=0.01, frame_skip=2,
                goal_bonus=1.0, alive_bonus=0.05, ctrl_coef=0.005, lateral_coef=0.0,
                z_range=(0.2, 1.0), with_torso_xmat=True),
    'humanoid': Body('humanoid', 'humanoid.xml', timestep=0.005, frame_skip=2,
                     goal_bonus=0.8, alive_bonus=0.2, ctrl_coef=5e-4, lateral_coef=5e-3,
                     z_range=(0.8, 2.0), with_torso_xmat=False),
}

RESET_QPOS_NOISE = 0.01  # rllab: qpos + N(0, 0.01^2), qvel + N(0, 0.1^2).
RESET_QVEL_NOISE = 0.1

# Dynamics shifts of paper Sec. 5.3, applied to the compiled MuJoCo model.
DYNAMICS = ('default', 'low_friction', 'crippled')
CRIPPLED_JOINTS = ('hip_4', 'ankle_4')


def get_body(name: str) -> Body:
  if name not in BODIES:
    raise ValueError(f'Unknown body {name!r}; choose one of {sorted(BODIES)}.')
  return BODIES[name]


def load_model(body: Body, dynamics: str = 'default') -> Tuple[mujoco.MjModel, np.ndarray]:
  """Compiles the body's model with its timestep and the requested dynamics shift.

  Returns:
    (model, action_mask) where action_mask [nu] is 0 for disabled actuators.
  """
  if dynamics not in DYNAMICS:
    raise ValueError(f'Unknown dynamics {dynamics!r}; choose one of {DYNAMICS}.')
  if dynamics != 'default' and body.name != 'ant':
    raise ValueError(f'Dynamics shift {dynamics!r} is defined for the ant only, not {body.name!r}.')
  model = _compile(os.path.join(ASSET_DIR, body.xml), body)
  model.opt.timestep = body.timestep
  action_mask = np.ones(model.nu)
  if dynamics == 'low_friction':
    model.geom_friction[:] *= 0.5
  elif dynamics == 'crippled':
    for joint_name in CRIPPLED_JOINTS:
      joint_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, joint_name)
      actuators = np.flatnonzero(model.actuator_trnid[:, 0] == joint_id)
      action_mask[actuators] = 0.0
  return model, action_mask


def _sensors(body: Body) -> str:
  """MJCF of the torso sensors of the observation (see the module docstring)."""
  axes = [f'<frame{axis}axis objtype="body" objname="torso"/>' for axis in 'xyz']
  torso = ['<subtreecom body="torso"/>', '<subtreelinvel body="torso"/>']
  return '<sensor>' + ''.join((axes if body.with_torso_xmat else []) + torso) + '</sensor>'


def _compile(path: str, body: Body) -> mujoco.MjModel:
  """Compiles an XML with the body's sensors; a `settotalmass` attribute (deprecated in
  MuJoCo 4) is applied after compiling (masses are identical)."""
  with open(path) as f:
    xml = f.read()
  head, tail = xml.rsplit('</mujoco>', 1)
  xml = head + _sensors(body) + '</mujoco>' + tail
  match = re.search(r'\s*settotalmass="([^"]+)"', xml)
  if match is None:
    return mujoco.MjModel.from_xml_string(xml)
  model = mujoco.MjModel.from_xml_string(xml.replace(match.group(0), ''))
  mujoco.mj_setTotalmass(model, float(match.group(1)))
  mujoco.mj_setConst(model, mujoco.MjData(model))
  return model


def reset_data(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
  """rllab's reset: the model's initial state plus qpos noise N(0, 0.01^2), qvel noise N(0, 0.1^2)."""
  mujoco.mj_resetData(model, data)
  data.qpos[:] += rng.normal(size=model.nq) * RESET_QPOS_NOISE
  data.qvel[:] += rng.normal(size=model.nv) * RESET_QVEL_NOISE


def control(model: mujoco.MjModel, action_mask: np.ndarray, actions: np.ndarray) -> np.ndarray:
  """Actuator controls [..., nu] of policy actions [..., nu]: clipped to [-1, 1], disabled
  actuators zeroed, then scaled to each actuator's control range."""
  low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
  applied = np.clip(actions, -1.0, 1.0) * action_mask
  return low + (applied + 1.0) * 0.5 * (high - low)


def observation_size(body: Body, model: mujoco.MjModel) -> int:
  return model.nq + model.nv + (9 if body.with_torso_xmat else 0) + 6


def kept_indices(body: Body, model: mujoco.MjModel, keep_xy: bool) -> np.ndarray:
  """Observation entries kept; keep_xy=False drops the absolute x (and y) of the root and CoM."""
  size = observation_size(body, model)
  if keep_xy:
    return np.arange(size)
  n_xy = 1 if body.name == 'halfcheetah' else 2
  com_start = size - 6
  dropped = list(range(n_xy)) + list(range(com_start, com_start + n_xy))
  return np.setdiff1d(np.arange(size), dropped)


# The frame-axis sensors give the torso rotation matrix by columns; the observation has it by rows.
_XMAT_ROWS = np.array([3 * column + row for row in range(3) for column in range(3)])


def observation(body: Body, qpos: np.ndarray, qvel: np.ndarray, sensordata: np.ndarray) -> np.ndarray:
  """Observations [..., obs_dim] float64 from qpos [..., nq], qvel [..., nv], sensordata [..., ns]."""
  if body.with_torso_xmat:
    sensordata = np.concatenate([sensordata[..., _XMAT_ROWS], sensordata[..., 9:]], axis=-1)
  return np.concatenate([qpos, qvel, sensordata], axis=-1)


def read_observation(body: Body, data: mujoco.MjData) -> np.ndarray:
  """Observation [obs_dim] float64 of one MjData after mj_forward or mj_step."""
  return observation(body, data.qpos, data.qvel, data.sensordata)
