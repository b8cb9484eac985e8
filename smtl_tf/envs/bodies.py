"""MuJoCo bodies (HalfCheetah, Ant, simple Humanoid) as the original code's (rllab's) robots.

A body knows how to build its model (an `mujoco.MjSpec`), its physics options and
control step, its reset pose, its reward constants and its termination height
range. Rewards live in `rewards.py` and observation layouts in `observations.py`.

- HalfCheetah: gymnasium's half_cheetah.xml, whose physics equals rllab's (Euler,
  0.01 s, one physics step per control step).
- Ant: gymnasium's ant.xml edited to rllab's ant: timestep 0.02 s with RK4, one
  physics step per control step, contact softness solref (0.02, 1) and solimp
  (0.8, 0.8, 0.01) on every geom, reset around the XML's `init_qpos` numeric (torso
  z 0.55, ankles at +-1 rad). gymnasium's gear 150 with control range +-1 equals
  rllab's gear 1 with range +-150 once actions are scaled to the range.
- Humanoid: rllab's simple humanoid (10 hinge motors), built in `simple_humanoid.py`.

Every model gets MuJoCo sensors for the torso quantities the observations read
(rotation-matrix axes, subtree centre of mass, subtree linear velocity), so a batch
of states stepped by `mujoco.rollout` is observed without one MjData per environment.
"""
import dataclasses
import functools
import os
import re
from typing import Any, Callable, Optional, Tuple

import gymnasium
import mujoco
import numpy as np

from smtl_tf.envs import rewards
from smtl_tf.envs import simple_humanoid
from smtl_tf.envs.state import StateIndex

ASSET_DIR = os.path.join(os.path.dirname(gymnasium.__file__), 'envs', 'mujoco', 'assets')
EULER, RK4 = mujoco.mjtIntegrator.mjINT_EULER, mujoco.mjtIntegrator.mjINT_RK4


@dataclasses.dataclass(frozen=True)
class Body:
  """Static description of one robot.

  Attributes:
    name: short name used in family names ('halfcheetah', 'ant', 'humanoid').
    build_spec: returns the uncompiled model (sensors and options are added by load_model);
      e.g. `lambda: xml_spec('hopper.xml')` for a model file.
    timestep: MuJoCo integrator timestep (s); None keeps the model's.
    integrator: MuJoCo integrator (EULER or RK4); None keeps the model's.
    frame_skip: integrator steps per control step; control dt = timestep * frame_skip.
    goal_bonus: constant added to each -|v - g| goal term (rllab task envs).
    alive_bonus: constant added every step.
    ctrl_coef: coefficient of |a|^2 (a = policy action clipped to [-1, 1]).
    lateral_coef: coefficient of |v_yz|^2 (Humanoid's velocity-deviation cost).
    z_range: (low, high) root height outside which an episode ends; None: never.
    with_torso_xmat: whether SLBO's observation includes the torso rotation matrix.
    rllab_drops_root_x: rllab's observation leaves out qpos[0] (HalfCheetah).
    rllab_contact_forces: rllab's observation includes cfrc_ext clipped to [-1, 1].
    total_mass: rescale the compiled model to this total mass (None: as built).
    torso: the model body whose subtree centre of mass (and rotation) observations and
      rewards read.
    terminates: optional (state: state.State, xp) -> [...] bool, further conditions that end
      an episode (e.g. a hopper's torso angle), written against the array namespace xp.
  """
  name: str
  build_spec: Callable[[], mujoco.MjSpec]
  timestep: Optional[float] = None
  integrator: Optional[int] = None
  frame_skip: int = 1
  goal_bonus: float = 0.0
  alive_bonus: float = 0.0
  ctrl_coef: float = 0.0
  lateral_coef: float = 0.0
  z_range: Optional[Tuple[float, float]] = None
  with_torso_xmat: bool = False
  rllab_drops_root_x: bool = False
  rllab_contact_forces: bool = False
  total_mass: Optional[float] = None
  torso: str = 'torso'
  terminates: Optional[Callable[..., Any]] = None

  def __post_init__(self):
    if self.z_range is not None:  # a hashable pair (model_dimensions is cached per body)
      low, high = (float(value) for value in self.z_range)
      object.__setattr__(self, 'z_range', (low, high))

  @property
  def dt(self) -> float:
    """Control step (s)."""
    timestep = self.timestep if self.timestep is not None else model_dimensions(self).timestep
    return timestep * self.frame_skip

  def costs(self) -> rewards.BodyCosts:
    """The body's part of every reward and termination."""
    return rewards.BodyCosts(self.goal_bonus, self.alive_bonus, self.ctrl_coef,
                             self.lateral_coef, self.z_range, self.terminates)

  def state_index(self, keep_xy: bool = True) -> StateIndex:
    """Where the parts of this body's reward state lie (see state.py)."""
    dims = model_dimensions(self)
    return StateIndex(dims.nq, dims.nv, dims.n_xy, self.with_torso_xmat, True, keep_xy)


@dataclasses.dataclass(frozen=True)
class ModelDimensions:
  """What the compiled model says about a body: sizes, root kind, control timestep."""
  nq: int
  nv: int
  nu: int
  n_xy: int
  has_height: bool
  timestep: float


@functools.lru_cache(maxsize=None)
def model_dimensions(body: 'Body') -> ModelDimensions:
  """The compiled model's sizes, root kind and timestep (compiled once per body)."""
  model, _ = load_model(body)
  return ModelDimensions(model.nq, model.nv, model.nu, root_xy_count(model),
                         has_root_height(model), model.opt.timestep)


def root_xy_count(model: mujoco.MjModel) -> int:
  """The absolute horizontal coordinates at the start of qpos: 2 for a free root joint (x, y);
  for a planar root, its leading slides along x, then y (HalfCheetah, Hopper, Walker2d: 1;
  Swimmer: 2); 0 for a fixed base."""
  if model.njnt and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
    return 2
  count = 0
  for axis in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]):
    if (count < model.njnt and model.jnt_type[count] == mujoco.mjtJoint.mjJNT_SLIDE
        and np.allclose(model.jnt_axis[count], axis)):
      count += 1
  return count


def has_root_height(model: mujoco.MjModel) -> bool:
  """Whether qpos[root_xy_count] is the root's height: a free joint's z, or a slide along z."""
  n_xy = root_xy_count(model)
  if model.njnt and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
    return True
  return (n_xy < model.njnt and model.jnt_type[n_xy] == mujoco.mjtJoint.mjJNT_SLIDE
          and np.allclose(model.jnt_axis[n_xy], [0.0, 0.0, 1.0]))


def xml_spec(path: str) -> mujoco.MjSpec:
  """The spec of a MuJoCo XML model: a path, or the name of one of gymnasium's assets
  ('hopper.xml', 'walker2d.xml', ...). The deprecated `settotalmass` compiler attribute is
  removed (see Body.total_mass)."""
  full = path if os.path.exists(path) else os.path.join(ASSET_DIR, path)
  if not os.path.exists(full):
    raise FileNotFoundError(f'MuJoCo model {path!r} not found, neither as a path nor among '
                            f'gymnasium\'s assets ({ASSET_DIR}).')
  with open(full) as f:
    xml = f.read()
  spec = mujoco.MjSpec.from_string(re.sub(r'\s*settotalmass="[^"]+"', '', xml))
  spec.modelfiledir = os.path.dirname(os.path.abspath(full))  # meshes next to the file
  return spec


def gymnasium_spec(xml_name: str) -> mujoco.MjSpec:
  """One of gymnasium's MuJoCo assets (see xml_spec)."""
  return xml_spec(os.path.join(ASSET_DIR, xml_name))


def rllab_ant_spec() -> mujoco.MjSpec:
  """gymnasium's ant.xml with rllab's contact softness on every geom (its XML default)."""
  spec = gymnasium_spec('ant.xml')
  for geom in spec.geoms:
    geom.solref = [0.02, 1.0]
    geom.solimp = [0.8, 0.8, 0.01, 0.5, 2.0]  # MuJoCo 1.x's 3-number solimp, default midpoint/power
  return spec


BODIES = {
    'halfcheetah': Body('halfcheetah', lambda: gymnasium_spec('half_cheetah.xml'),
                        timestep=0.01, integrator=EULER, frame_skip=1,
                        goal_bonus=0.0, alive_bonus=0.0, ctrl_coef=0.05, lateral_coef=0.0,
                        z_range=None, with_torso_xmat=False, rllab_drops_root_x=True,
                        rllab_contact_forces=False, total_mass=14.0),  # the XML's settotalmass
    'ant': Body('ant', rllab_ant_spec, timestep=0.02, integrator=RK4, frame_skip=1,
                goal_bonus=1.0, alive_bonus=0.05, ctrl_coef=0.005, lateral_coef=0.0,
                z_range=(0.2, 1.0), with_torso_xmat=True, rllab_drops_root_x=False,
                rllab_contact_forces=True),
    'humanoid': Body('humanoid', simple_humanoid.build_spec, timestep=simple_humanoid.TIMESTEP,
                     integrator=RK4, frame_skip=1, goal_bonus=0.8, alive_bonus=0.2, ctrl_coef=5e-4,
                     lateral_coef=5e-3, z_range=(0.8, 2.0), with_torso_xmat=False,
                     rllab_drops_root_x=False, rllab_contact_forces=True),
}

RESET_QPOS_NOISE = 0.01  # rllab: init_qpos + N(0, 0.01^2), init_qvel (0) + N(0, 0.1^2).
RESET_QVEL_NOISE = 0.1

# Dynamics shifts of paper Sec. 5.3, applied to the compiled MuJoCo model.
DYNAMICS = ('default', 'low_friction', 'crippled')
CRIPPLED_JOINTS = ('hip_4', 'ankle_4')


def get_body(name: str) -> Body:
  if name not in BODIES:
    raise ValueError(f'Unknown body {name!r}; choose one of {sorted(BODIES)}, or register your '
                     f'own with smtl_tf.envs.register_body.')
  return BODIES[name]


def register_body(body: Body) -> Body:
  """Makes a body usable by name in task families; returns it.

  The model is compiled once here, so a missing file, an unknown torso body or a bad
  setting fails now, naming the body. Registering a name again is allowed only with an
  equal body (the same builder and termination objects).
  """
  if not isinstance(body, Body):
    raise TypeError(f'register_body takes a bodies.Body, got {body!r}.')
  if not body.name.isidentifier() or body.name == 'point':
    raise ValueError(f'Body name {body.name!r} must be a Python identifier other than "point".')
  known = BODIES.get(body.name)
  if known is not None:
    if known != body:
      raise ValueError(f'A body named {body.name!r} is already registered; pick another name.')
    return known
  if body.frame_skip < 1:
    raise ValueError(f'Body {body.name!r}: frame_skip must be at least 1, got {body.frame_skip}.')
  try:
    dims = model_dimensions(body)
  except (ValueError, FileNotFoundError, TypeError) as error:
    raise ValueError(f'Body {body.name!r} does not compile: {error}. Check its model and that '
                     f'it has a body named {body.torso!r} (Body.torso).') from error
  if not dims.nu:
    raise ValueError(f'Body {body.name!r} has no actuators to control.')
  if body.z_range is not None and not dims.has_height:
    raise ValueError(f'Body {body.name!r} has a z_range but no root height to read: its root '
                     f'needs a free joint, or slides along x (and y) followed by one along z.')
  BODIES[body.name] = body
  return body


def load_model(body: Body, dynamics: str = 'default') -> Tuple[mujoco.MjModel, np.ndarray]:
  """Compiles the body's model with its options, sensors and the requested dynamics shift.

  Returns:
    (model, action_mask) where action_mask [nu] is 0 for disabled actuators.
  """
  if dynamics not in DYNAMICS:
    raise ValueError(f'Unknown dynamics {dynamics!r}; choose one of {DYNAMICS}.')
  if dynamics != 'default' and body.name != 'ant':
    raise ValueError(f'Dynamics shift {dynamics!r} is defined for the ant only, not {body.name!r}.')
  spec = body.build_spec()
  if body.timestep is not None:
    spec.option.timestep = body.timestep
  if body.integrator is not None:
    spec.option.integrator = body.integrator
  _add_torso_sensors(spec, body)
  model = spec.compile()
  if body.total_mass is not None:
    mujoco.mj_setTotalmass(model, body.total_mass)
    mujoco.mj_setConst(model, mujoco.MjData(model))
  action_mask = np.ones(model.nu)
  if dynamics == 'low_friction':
    model.geom_friction[:] *= 0.5
  elif dynamics == 'crippled':
    for joint_name in CRIPPLED_JOINTS:
      joint_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, joint_name)
      actuators = np.flatnonzero(model.actuator_trnid[:, 0] == joint_id)
      action_mask[actuators] = 0.0
  return model, action_mask


def _add_torso_sensors(spec: mujoco.MjSpec, body: Body) -> None:
  """Sensors, in this order: [torso x, y, z axes (with_torso_xmat)], torso subtree CoM,
  torso subtree linear velocity (see observations.Snapshot)."""
  kinds = [mujoco.mjtSensor.mjSENS_FRAMEXAXIS, mujoco.mjtSensor.mjSENS_FRAMEYAXIS,
           mujoco.mjtSensor.mjSENS_FRAMEZAXIS] if body.with_torso_xmat else []
  kinds += [mujoco.mjtSensor.mjSENS_SUBTREECOM, mujoco.mjtSensor.mjSENS_SUBTREELINVEL]
  for kind in kinds:
    spec.add_sensor(type=kind, objtype=mujoco.mjtObj.mjOBJ_BODY, objname=body.torso)


def reset_qpos(model: mujoco.MjModel) -> np.ndarray:
  """The pose episodes start around [nq]: the model's `init_qpos` numeric if it has one (as
  rllab's MujocoEnv), else qpos0."""
  numeric = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_NUMERIC, 'init_qpos')
  if numeric < 0:
    return model.qpos0.copy()
  start, size = model.numeric_adr[numeric], model.numeric_size[numeric]
  if size != model.nq:
    raise ValueError(f'init_qpos has {size} numbers, the model has nq = {model.nq}.')
  return model.numeric_data[start:start + size].copy()


def reset_data(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
  """rllab's reset: reset_qpos + noise N(0, 0.01^2), zero velocity + noise N(0, 0.1^2)."""
  mujoco.mj_resetData(model, data)
  data.qpos[:] = reset_qpos(model) + rng.normal(size=model.nq) * RESET_QPOS_NOISE
  data.qvel[:] += rng.normal(size=model.nv) * RESET_QVEL_NOISE


def control(model: mujoco.MjModel, action_mask: np.ndarray, actions: np.ndarray) -> np.ndarray:
  """Actuator controls [..., nu] of policy actions [..., nu]: clipped to [-1, 1], disabled
  actuators zeroed, then scaled to each actuator's control range."""
  low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
  applied = np.clip(actions, -1.0, 1.0) * action_mask
  return low + (applied + 1.0) * 0.5 * (high - low)
