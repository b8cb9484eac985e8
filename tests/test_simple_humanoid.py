"""The MjSpec build of rllab's simple humanoid against rllab's model description.

Expected numbers are read off rllab's `vendor/mujoco_models/simple_humanoid.xml`.
"""
import math

import mujoco
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf.envs import simple_humanoid

HINGE_JOINTS = ('right_hip1', 'right_hip3', 'right_knee', 'left_hip1', 'left_hip3', 'left_knee',
                'right_shoulder1', 'right_shoulder2', 'left_shoulder1', 'left_shoulder2')
LEG_JOINTS = HINGE_JOINTS[:6]
BODIES = ('world', 'torso', 'pelvis', 'right_thigh', 'right_shin', 'right_foot', 'left_thigh',
          'left_shin', 'left_foot', 'right_upper_arm', 'left_upper_arm')
# The explicit <inertial> masses (torso, pelvis, 2 x thigh, shin, upper arm) plus two foot
# spheres without <inertial>, whose mass MuJoCo infers at density 1000:
# 8.32208 + 7.88854 + 2 * (5.37761 + 3.10016 + 1.59406) + 2 * 1000 * 4/3 * pi * 0.075^3.
FOOT_MASS = 1000.0 * 4.0 / 3.0 * math.pi * 0.075 ** 3  # 1.767146 kg
RLLAB_TOTAL_MASS = 39.888572  # kg
RESET_QPOS_NOISE = 0.01  # rllab's reset: qpos0 + N(0, 0.01^2), qvel N(0, 0.1^2).
RESET_QVEL_NOISE = 0.1
Z_RANGE = (0.8, 2.0)  # rllab's termination: done when torso z < 0.8 or z > 2.0.
EPISODE_SEEDS = range(5)
# With frame_skip 1 (dt 0.01) and uniform random controls, seeds 0-4 last 138, 123, 124, 139
# and 146 steps (mean 134.0; seeds 0-9: mean 134.0, range 103-161); the humanoid falls.
RANDOM_EPISODE_LENGTH_RANGE = (80, 200)


@pytest.fixture(scope='module')
def model():
  return simple_humanoid.build_spec().compile()


def _joint_id(model, name):
  return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)


def _dof(model, name):
  return model.jnt_dofadr[_joint_id(model, name)]


def _reset(model, data, rng):
  """rllab's reset_mujoco: qpos0 (no init_qpos numeric) plus Gaussian noise."""
  mujoco.mj_resetData(model, data)
  data.qpos[:] = model.qpos0 + RESET_QPOS_NOISE * rng.standard_normal(model.nq)
  data.qvel[:] = RESET_QVEL_NOISE * rng.standard_normal(model.nv)
  mujoco.mj_forward(model, data)


def _random_controls(model, rng):
  low, high = model.actuator_ctrlrange.T
  return rng.uniform(low, high)


def test_build_spec_returns_an_uncompiled_spec():
  spec = simple_humanoid.build_spec()
  assert isinstance(spec, mujoco.MjSpec)
  assert spec.body('torso') is not None


def test_compiled_sizes(model):
  assert (model.nq, model.nv, model.nu) == (17, 16, 10)
  assert model.nbody == len(BODIES)
  assert tuple(model.body(i).name for i in range(model.nbody)) == BODIES


def test_torso_carries_the_free_joint(model):
  root = _joint_id(model, 'root')
  assert model.jnt_type[root] == mujoco.mjtJoint.mjJNT_FREE
  assert model.body(model.jnt_bodyid[root]).name == 'torso'
  assert model.jnt_qposadr[root] == 0


def test_hinge_joint_names(model):
  hinges = [model.joint(i).name for i in range(model.njnt)
            if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
  assert tuple(hinges) == HINGE_JOINTS


def test_motors_have_gear_one_and_rllab_ctrlranges(model):
  driven = [model.joint(j).name for j in model.actuator_trnid[:, 0]]
  assert tuple(driven) == HINGE_JOINTS
  assert np.all(model.actuator_trntype == mujoco.mjtTrn.mjTRN_JOINT)
  np.testing.assert_array_equal(model.actuator_gear[:, 0], 1.0)
  np.testing.assert_array_equal(model.actuator_gear[:, 1:], 0.0)
  np.testing.assert_array_equal(model.actuator_gainprm[:, 0], 1.0)
  assert np.all(model.actuator_biastype == mujoco.mjtBias.mjBIAS_NONE)
  assert np.all(model.actuator_ctrllimited)
  limits = [100.0 if name in LEG_JOINTS else 20.0 for name in driven]
  np.testing.assert_array_equal(model.actuator_ctrlrange[:, 0], -np.array(limits))
  np.testing.assert_array_equal(model.actuator_ctrlrange[:, 1], limits)


def test_options(model):
  assert model.opt.timestep == pytest.approx(0.01)
  assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4


@pytest.mark.parametrize('name, stiffness', [
    ('right_hip1', 10.0), ('left_hip3', 20.0), ('right_knee', 0.0), ('left_shoulder2', 1.0)])
def test_joint_springs_damping_armature(model, name, stiffness):
  assert model.jnt_stiffness[_joint_id(model, name)] == pytest.approx(stiffness)
  assert model.dof_damping[_dof(model, name)] == pytest.approx(1.0)
  assert model.dof_armature[_dof(model, name)] == pytest.approx(1.0)
  assert model.jnt_limited[_joint_id(model, name)]
  assert model.jnt_margin[_joint_id(model, name)] == pytest.approx(0.01)


def test_root_has_no_damping_armature_or_limit(model):
  root_dofs = slice(_dof(model, 'root'), _dof(model, 'root') + 6)
  np.testing.assert_array_equal(model.dof_damping[root_dofs], 0.0)
  np.testing.assert_array_equal(model.dof_armature[root_dofs], 0.0)
  assert not model.jnt_limited[_joint_id(model, 'root')]


@pytest.mark.parametrize('name, low, high', [
    ('right_hip1', -0.15, 0.0872665), ('left_hip3', -1.91986, 0.174533),
    ('left_knee', -1.3, -0.0349066), ('right_shoulder1', -1.0472, 0.785398)])
def test_joint_ranges_in_radians(model, name, low, high):
  np.testing.assert_allclose(model.jnt_range[_joint_id(model, name)], [low, high])


def test_total_mass(model):
  assert model.body('right_foot').mass[0] == pytest.approx(FOOT_MASS)
  assert model.body('pelvis').mass[0] == pytest.approx(7.88854)
  assert model.body_subtreemass[0] == pytest.approx(RLLAB_TOTAL_MASS, abs=1e-5)


def test_contacts_are_floor_versus_body_with_rllab_margin(model):
  floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, 'floor')
  foot = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, 'left_foot')
  assert model.geom_conaffinity[floor] == 1
  assert np.all(np.delete(model.geom_conaffinity, floor) == 0)
  assert np.all(model.geom_condim == 3)
  np.testing.assert_allclose(model.geom_friction, np.tile([1.0, 0.5, 0.5], (model.ngeom, 1)))
  # MuJoCo sums the two margins: the floor-body threshold is rllab's 0.1.
  assert model.geom_margin[floor] + model.geom_margin[foot] == pytest.approx(0.1)


def test_reset_pose_is_qpos0_with_torso_at_1_4(model):
  spec = simple_humanoid.build_spec()
  assert 'init_qpos' not in [numeric.name for numeric in spec.numerics]
  np.testing.assert_allclose(model.qpos0[:7], [0.0, 0.0, 1.4, 1.0, 0.0, 0.0, 0.0])
  np.testing.assert_array_equal(model.qpos0[7:], 0.0)
  data = mujoco.MjData(model)
  mujoco.mj_forward(model, data)
  assert data.ncon == 0  # The feet start 0.107 above the floor, just outside the margin.


def test_random_rollout_stays_finite(model):
  rng = np.random.default_rng(0)
  data = mujoco.MjData(model)
  _reset(model, data, rng)
  for _ in range(200):
    data.ctrl[:] = _random_controls(model, rng)
    mujoco.mj_step(model, data)
    assert np.all(np.isfinite(data.qpos)) and np.all(np.isfinite(data.qvel))
  assert data.time == pytest.approx(2.0)


def test_random_policy_falls_within_rllab_episode_lengths(model):
  data = mujoco.MjData(model)
  lengths = []
  for seed in EPISODE_SEEDS:
    rng = np.random.default_rng(seed)
    _reset(model, data, rng)
    for step in range(1, 1001):
      data.ctrl[:] = _random_controls(model, rng)
      mujoco.mj_step(model, data)
      if not Z_RANGE[0] <= data.qpos[2] <= Z_RANGE[1]:
        break
    lengths.append(step)
  low, high = RANDOM_EPISODE_LENGTH_RANGE
  assert low <= np.mean(lengths) <= high, lengths


def test_random_policy_return_is_plausible():
  """Per step: at most the constant bonuses (0.8 + 0.2); a random policy barely moves, so the
  goal term costs about |g| per step: its mean reward lies within 1 of zero."""
  env = envs.make_env('humanoid_vel', task=0.75)
  env.np_random = np.random.default_rng(0)
  rng = np.random.default_rng(1)
  rewards = []
  for _ in range(5):
    env.reset()
    done = False
    while not done and len(rewards) < 10_000:
      _, reward, done, _, _ = env.step(rng.uniform(-1, 1, env.action_space.shape))
      rewards.append(reward)
  assert max(rewards) <= 1.0
  assert -1.0 < np.mean(rewards) < 1.0, np.mean(rewards)
