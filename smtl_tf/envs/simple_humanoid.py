"""rllab's simple humanoid, built in Python with MuJoCo's `MjSpec` API.

The robot is a free-floating torso (capsules and a head sphere) carrying a pelvis
and two upper arms; the pelvis carries two legs (thigh, shin, a sphere foot).
It has 10 hinge joints, each driven by a motor of gear 1: per leg a hip about x
(`*_hip1`), a hip about y (`*_hip3`) and a knee; per arm two shoulder joints.
The abdomen, ankles and elbows of the full humanoid are left out.

Every number here (sizes, positions, explicit inertials, joint ranges, springs,
damping, armature, contact parameters, options, control ranges) comes from
rllab's simple_humanoid model description (`vendor/mujoco_models/simple_humanoid.xml`,
read by `rllab/envs/mujoco/simple_humanoid_env.py`; nlandolfi/rllab's maml branch
uses the same file). Names of bodies, geoms and joints are rllab's; its motors
have no names, so neither do ours (they are listed in rllab's order).

rllab's file has no `init_qpos` numeric and no keyframe: an episode starts from
qpos0 (torso at height 1.4, upright, every hinge at 0) plus rllab's reset noise,
so no numeric is added here.

Where MuJoCo 1.31's XML has no modern counterpart:
  * A contact's margin is now the sum of its geoms' margins, not their max, so
    each geom gets half of rllab's 0.1 (every contact is floor vs body, and
    the pair threshold stays 0.1).
  * `<size njmax nstack>` are memory sizes; MuJoCo 4 sizes its arena itself.
  * Contacts and limits use MuJoCo 4's default solver parameters (solref,
    solimp) and solver (Newton, pyramidal cone); rllab's file sets none.
  * Textures, materials and the skybox are visual only and are left out;
    the floor keeps its colour.
  * The light's `directional="true"` becomes `type=mjLIGHT_DIRECTIONAL`; its
    spotlight `cutoff` and `exponent` do not apply to it and are dropped.
  * Joint `stiffness` and `damping` are MuJoCo 4 coefficient arrays; rllab's
    linear values go in the first entry.
"""
from typing import Sequence

import mujoco

TIMESTEP = 0.01
LEG_CTRL_LIMIT = 100.0
ARM_CTRL_LIMIT = 20.0
TORSO_HEIGHT = 1.4
FOOT_RADIUS = 0.075
# rllab's geom margin is 0.1 on every geom. MuJoCo 1.31 took the max of two geoms' margins
# for a contact, MuJoCo >= 3.5 sums them; every contact here is body geom vs floor, so half
# of it on each geom gives the old 0.1 threshold.
RLLAB_GEOM_MARGIN = 0.1
GEOM_MARGIN = RLLAB_GEOM_MARGIN / 2
JOINT_MARGIN = 0.01
QUAT_X_90 = (0.707107, 0.707107, 0.0, 0.0)  # Turns a capsule's axis from z to y.
RIGHT, LEFT = -1.0, 1.0  # Sign of the body's y coordinate; the model is mirror symmetric.

LEG_JOINTS = ('right_hip1', 'right_hip3', 'right_knee', 'left_hip1', 'left_hip3', 'left_knee')
ARM_JOINTS = ('right_shoulder1', 'right_shoulder2', 'left_shoulder1', 'left_shoulder2')
# Motor order of rllab's <actuator> section.
ACTUATED_JOINTS = LEG_JOINTS + ARM_JOINTS


def build_spec() -> mujoco.MjSpec:
  """Builds the simple humanoid.

  Returns:
    An uncompiled spec: world, floor, light, the robot and its 10 motors.
  """
  spec = mujoco.MjSpec()
  spec.modelname = 'simple_humanoid'
  _set_compiler_and_options(spec)
  _set_defaults(spec)
  _add_floor(spec)
  _add_light(spec)
  torso = _add_torso(spec)
  pelvis = _add_pelvis(torso)
  for side in (RIGHT, LEFT):
    _add_leg(pelvis, side)
  for side in (RIGHT, LEFT):
    _add_arm(torso, side)
  _add_motors(spec)
  return spec


def _set_compiler_and_options(spec: mujoco.MjSpec) -> None:
  """`<compiler angle="radian">`, `<size nuser_geom="1">`, `<option timestep integrator>`."""
  spec.compiler.degree = False
  spec.nuser_geom = 1
  spec.option.timestep = TIMESTEP
  spec.option.integrator = mujoco.mjtIntegrator.mjINT_RK4


def _set_defaults(spec: mujoco.MjSpec) -> None:
  """rllab's <default>: limited, damped joints with armature; geoms touch only the floor."""
  joint = spec.default.joint
  joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
  joint.armature = 1.0
  joint.damping = [1.0, 0.0, 0.0]
  geom = spec.default.geom
  geom.condim = 3
  geom.conaffinity = 0
  geom.margin = GEOM_MARGIN
  geom.friction = [1.0, 0.5, 0.5]
  geom.rgba = [0.8, 0.6, 0.4, 1.0]


def _add_floor(spec: mujoco.MjSpec) -> None:
  spec.worldbody.add_geom(
      name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[40.0, 40.0, 40.0],
      conaffinity=1, condim=3, rgba=[0.8, 0.9, 0.8, 1.0])


def _add_light(spec: mujoco.MjSpec) -> None:
  spec.worldbody.add_light(
      type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, pos=[0.0, 0.0, 1.3],
      dir=[0.0, 0.0, -1.3], diffuse=[1.0, 1.0, 1.0], specular=[0.1, 0.1, 0.1])


def _add_torso(spec: mujoco.MjSpec) -> mujoco.MjsBody:
  """The free-floating torso with chest, head and upper waist."""
  torso = spec.worldbody.add_body(name='torso', pos=[0.0, 0.0, TORSO_HEIGHT])
  _set_inertial(torso, mass=8.32208, pos=(0.0, 0.0, 0.0403624),
                diaginertia=(0.159056, 0.147471, 0.0330627))
  # rllab's root joint overrides the joint defaults: no limit, armature or damping.
  torso.add_joint(name='root', type=mujoco.mjtJoint.mjJNT_FREE, armature=0.0,
                  damping=[0.0, 0.0, 0.0], limited=mujoco.mjtLimited.mjLIMITED_FALSE,
                  margin=JOINT_MARGIN)
  _add_capsule(torso, 'torso1', radius=0.07, half_length=0.07, quat=QUAT_X_90)
  _add_sphere(torso, 'head', radius=0.09, pos=(0.0, 0.0, 0.19))
  _add_capsule(torso, 'uwaist', radius=0.06, half_length=0.06, pos=(0.0, 0.0, -0.12),
               quat=QUAT_X_90)
  return torso


def _add_pelvis(torso: mujoco.MjsBody) -> mujoco.MjsBody:
  """The pelvis, welded to the torso (rllab comments out the abdomen joints)."""
  pelvis = torso.add_body(name='pelvis', pos=[0.0, 0.0, -0.425],
                          quat=[0.999998, 0.0, -0.002, 0.0])
  _set_inertial(pelvis, mass=7.88854, pos=(-0.0148387, 0.0, 0.0387097),
                quat=(0.997805, 0.0, 0.0662273, 0.0),
                diaginertia=(0.0795697, 0.0619562, 0.0449816))
  _add_capsule(pelvis, 'lwaist', radius=0.06, half_length=0.06, pos=(0.0, 0.0, 0.15),
               quat=QUAT_X_90)
  _add_capsule(pelvis, 'butt', radius=0.09, half_length=0.07, pos=(-0.02, 0.0, 0.0),
               quat=QUAT_X_90)
  return pelvis


def _add_leg(pelvis: mujoco.MjsBody, side: float) -> None:
  """Thigh (two hip hinges), shin (knee) and a foot sphere without a joint."""
  prefix = _side_name(side)
  thigh_axis_quat = (0.999892, -0.0147011 * side, 0.0, 0.0)
  thigh = pelvis.add_body(name=f'{prefix}_thigh', pos=[0.0, 0.1 * side, -0.04])
  _set_inertial(thigh, mass=5.37761, pos=(0.0, -0.005 * side, -0.17), quat=thigh_axis_quat,
                diaginertia=(0.0792387, 0.0792387, 0.0113602))
  _add_hinge(thigh, f'{prefix}_hip1', axis=(-side, 0.0, 0.0), joint_range=(-0.15, 0.0872665),
             stiffness=10.0)
  _add_hinge(thigh, f'{prefix}_hip3', axis=(0.0, 1.0, 0.0), joint_range=(-1.91986, 0.174533),
             stiffness=20.0)
  _add_capsule(thigh, f'{prefix}_thigh1', radius=0.065, half_length=0.170074,
               pos=(0.0, -0.005 * side, -0.17), quat=thigh_axis_quat)

  shin = thigh.add_body(name=f'{prefix}_shin', pos=[0.0, -0.01 * side, -0.403])
  _set_inertial(shin, mass=3.10016, pos=(0.0, 0.0, -0.181),
                diaginertia=(0.045501, 0.045501, 0.00372174))
  _add_hinge(shin, f'{prefix}_knee', axis=(0.0, -1.0, 0.0), joint_range=(-1.3, -0.0349066),
             stiffness=0.0, pos=(0.0, 0.0, 0.05))
  _add_capsule(shin, f'{prefix}_shin1', radius=0.049, half_length=0.181, pos=(0.0, 0.0, -0.181))

  # No <inertial>: MuJoCo infers the foot's mass from the sphere (density 1000).
  foot = shin.add_body(name=f'{prefix}_foot', pos=[0.0, 0.0, -0.45])
  _add_sphere(foot, f'{prefix}_foot', radius=FOOT_RADIUS, pos=(0.0, 0.0, 0.1))


def _add_arm(torso: mujoco.MjsBody, side: float) -> None:
  """An upper arm with two shoulder hinges (rllab comments out the lower arm)."""
  prefix = _side_name(side)
  arm_axis_quat = (0.888074, 0.325058 * side, -0.325058, 0.0)
  arm_center = (0.08, 0.08 * side, -0.08)
  arm = torso.add_body(name=f'{prefix}_upper_arm', pos=[0.0, 0.17 * side, 0.06])
  _set_inertial(arm, mass=1.59406, pos=arm_center, quat=arm_axis_quat,
                diaginertia=(0.0139972, 0.0139972, 0.00127525))
  _add_hinge(arm, f'{prefix}_shoulder1', axis=(0.0, 0.707107 * side, 0.707107),
             joint_range=(-1.0472, 0.785398), stiffness=1.0)
  _add_hinge(arm, f'{prefix}_shoulder2', axis=(0.816497, -0.408248 * side, 0.408248),
             joint_range=(-0.785398, 0.785398), stiffness=1.0)
  _add_capsule(arm, f'{prefix}_uarm1', radius=0.04, half_length=0.2, pos=arm_center,
               quat=arm_axis_quat)


def _add_motors(spec: mujoco.MjSpec) -> None:
  """One unnamed gear-1 motor per hinge, in rllab's order."""
  for joint_name in ACTUATED_JOINTS:
    limit = LEG_CTRL_LIMIT if joint_name in LEG_JOINTS else ARM_CTRL_LIMIT
    spec.add_actuator(
        trntype=mujoco.mjtTrn.mjTRN_JOINT, target=joint_name, gear=[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ctrllimited=mujoco.mjtLimited.mjLIMITED_TRUE, ctrlrange=[-limit, limit])


def _side_name(side: float) -> str:
  return 'right' if side == RIGHT else 'left'


def _set_inertial(body: mujoco.MjsBody, mass: float, pos: Sequence[float],
                  diaginertia: Sequence[float],
                  quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0)) -> None:
  """An explicit <inertial>: the body's geoms then do not contribute mass."""
  body.explicitinertial = True
  body.mass = mass
  body.ipos = list(pos)
  body.iquat = list(quat)
  body.inertia = list(diaginertia)


def _add_hinge(body: mujoco.MjsBody, name: str, axis: Sequence[float],
               joint_range: Sequence[float], stiffness: float,
               pos: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
  """A limited hinge with a spring towards 0 (damping and armature from the defaults)."""
  body.add_joint(name=name, type=mujoco.mjtJoint.mjJNT_HINGE, pos=list(pos), axis=list(axis),
                 range=list(joint_range), stiffness=[stiffness, 0.0, 0.0], margin=JOINT_MARGIN)


def _add_capsule(body: mujoco.MjsBody, name: str, radius: float, half_length: float,
                 pos: Sequence[float] = (0.0, 0.0, 0.0),
                 quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0)) -> None:
  _add_geom(body, name, mujoco.mjtGeom.mjGEOM_CAPSULE, [radius, half_length, 0.0], pos, quat)


def _add_sphere(body: mujoco.MjsBody, name: str, radius: float, pos: Sequence[float]) -> None:
  _add_geom(body, name, mujoco.mjtGeom.mjGEOM_SPHERE, [radius, 0.0, 0.0], pos)


def _add_geom(body: mujoco.MjsBody, name: str, geom_type: mujoco.mjtGeom, size: Sequence[float],
              pos: Sequence[float], quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0)) -> None:
  """A body geom with rllab's `user="0"`."""
  body.add_geom(name=name, type=geom_type, size=list(size), pos=list(pos), quat=list(quat),
                userdata=[0.0])

