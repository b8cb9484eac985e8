"""MuJoCo bodies (HalfCheetah, Ant, Humanoid) on gymnasium's bundled XML assets.

A body knows its XML, its control step, how to read an observation from `MjData`,
its reward constants and its termination height range. Rewards themselves live in
`rewards.py` so the real and the virtual environment share one definition.

Observation layout (as SLBO): qpos, qvel, [Ant: torso rotation matrix, 9],
torso subtree centre of mass (3), torso subtree linear velocity (3). The
velocity the rewards read is therefore always the last three entries.
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
  model = _compile(os.path.join(ASSET_DIR, body.xml))
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


def _compile(path: str) -> mujoco.MjModel:
  """Compiles an XML; a `settotalmass` attribute (deprecated in MuJoCo 4) is applied after."""
  with open(path) as f:
    xml = f.read()
  match = re.search(r'\s*settotalmass="([^"]+)"', xml)
  if match is None:
    return mujoco.MjModel.from_xml_path(path)
  model = mujoco.MjModel.from_xml_string(xml.replace(match.group(0), ''))
  mujoco.mj_setTotalmass(model, float(match.group(1)))
  mujoco.mj_setConst(model, mujoco.MjData(model))
  return model


def observation_size(body: Body, model: mujoco.MjModel) -> int:
  return model.nq + model.nv + (9 if body.with_torso_xmat else 0) + 6


def read_observation(body: Body, model: mujoco.MjModel, data: mujoco.MjData, torso_id: int) -> np.ndarray:
  """Observation [obs_dim] float64 of the current state (see module docstring)."""
  mujoco.mj_subtreeVel(model, data)  # subtree_linvel is filled lazily.
  parts = [data.qpos, data.qvel]
  if body.with_torso_xmat:
    parts.append(data.xmat[torso_id])
  parts += [data.subtree_com[torso_id], data.subtree_linvel[torso_id]]
  return np.concatenate(parts)
