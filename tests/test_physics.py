"""The real environments are the original's experiment: observation timing, bodies, layouts.

References are built from a fresh MjData with `mj_forward` on the state after the step
and MjData's own fields (not the sensors the environments read), as mujoco-py's
`forward()` after stepping and rllab's `get_current_obs` did.
"""
import mujoco
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf.envs import bodies
from smtl_tf.envs.vector_env import VectorEnv

STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS.value
FAMILIES = ['halfcheetah_vel', 'ant_vel', 'humanoid_vel']


def _fresh_forward(env) -> mujoco.MjData:
  """A new MjData holding env's current state and control, after mj_forward."""
  state = np.empty(mujoco.mj_stateSize(env.model, STATE))
  mujoco.mj_getState(env.model, env.data, state, STATE)
  data = mujoco.MjData(env.model)
  mujoco.mj_setState(env.model, data, state, STATE)
  data.ctrl[:] = env.data.ctrl
  mujoco.mj_forward(env.model, data)
  mujoco.mj_subtreeVel(env.model, data)
  mujoco.mj_rnePostConstraint(env.model, data)
  return data


def _slbo_reference(env, data) -> np.ndarray:
  torso = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, 'torso')
  xmat = [data.xmat[torso]] if env.body.with_torso_xmat else []
  return np.concatenate([data.qpos, data.qvel, *xmat, data.subtree_com[torso],
                         data.subtree_linvel[torso]])


def _rllab_reference(env, data) -> np.ndarray:
  """rllab's get_current_obs of the half_cheetah, ant and simple_humanoid envs."""
  torso = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, 'torso')
  com = data.subtree_com[torso]
  if env.body.name == 'halfcheetah':
    return np.concatenate([data.qpos[1:], data.qvel, com])
  forces = np.clip(data.cfrc_ext, -1.0, 1.0).ravel()
  if env.body.name == 'ant':
    return np.concatenate([data.qpos, data.qvel, forces, data.xmat[torso], com])
  return np.concatenate([data.qpos, data.qvel, forces, com])


@pytest.mark.parametrize('family', FAMILIES)
@pytest.mark.parametrize('observation', ['slbo', 'rllab'])
def test_observations_read_the_state_after_the_step(family, observation):
  reference = _slbo_reference if observation == 'slbo' else _rllab_reference
  env = envs.make_env(family, observation=observation)
  vector = VectorEnv(family, 1, seed=0, observation=observation)
  env.np_random = vector.rngs[0]
  vector.rngs[0] = np.random.Generator(np.random.PCG64())
  vector.rngs[0].bit_generator.state = env.np_random.bit_generator.state
  obs, _ = env.reset()
  np.testing.assert_array_equal(vector.reset()[0], obs)
  np.testing.assert_allclose(obs, reference(env, _fresh_forward(env)), rtol=0, atol=1e-9)
  rng = np.random.default_rng(1)
  for _ in range(40):
    action = rng.uniform(-1, 1, env.action_space.shape)
    obs, reward, done, _, _ = env.step(action)
    vector_obs, vector_reward, vector_done = vector.step(action[None])
    np.testing.assert_allclose(obs, reference(env, _fresh_forward(env)), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(vector_obs[0], obs)
    assert (vector_reward[0], vector_done[0]) == (reward, done)
    if done:
      break


def test_halfcheetah_velocity_reward_reads_the_new_velocity():
  env = envs.make_env('halfcheetah_vel', task=1.0)
  env.reset(seed=0)
  rng = np.random.default_rng(0)
  for _ in range(10):
    action = rng.uniform(-1, 1, 6)
    obs, reward, _, _, _ = env.step(action)
    data = _fresh_forward(env)
    velocity = data.subtree_linvel[mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, 'torso')][0]
    assert obs[-3] == pytest.approx(velocity, abs=1e-12)
    assert reward == pytest.approx(-abs(velocity - 1.0) - 0.05 * np.sum(action ** 2), abs=1e-12)


def test_ant_is_rllabs_ant():
  env = envs.make_env('ant_vel')
  model = env.model
  assert model.opt.timestep == pytest.approx(0.02)
  assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
  assert env.body.frame_skip == 1 and env.dt == pytest.approx(0.02)
  np.testing.assert_allclose(model.geom_solref, np.tile([0.02, 1.0], (model.ngeom, 1)))
  np.testing.assert_allclose(model.geom_solimp[:, :3], np.tile([0.8, 0.8, 0.01], (model.ngeom, 1)))
  init_qpos = bodies.reset_qpos(model)
  assert init_qpos[2] == pytest.approx(0.55)
  ankles = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f'ankle_{i}') for i in range(1, 5)]
  np.testing.assert_allclose(np.abs(init_qpos[model.jnt_qposadr[ankles]]), 1.0)
  poses = np.stack([env.reset(seed=seed)[0][:model.nq] for seed in range(50)])
  np.testing.assert_allclose(poses.mean(axis=0)[2:], init_qpos[2:], atol=0.01)
  hinges = np.flatnonzero(model.jnt_type == mujoco.mjtJoint.mjJNT_HINGE)
  low, high = model.jnt_range[hinges].T
  assert np.all((init_qpos[model.jnt_qposadr[hinges]] >= low) & (init_qpos[model.jnt_qposadr[hinges]] <= high))


def test_ant_does_not_start_with_a_fall():
  env = envs.make_env('ant_vel')
  for seed in range(5):
    env.reset(seed=seed)
    heights = [env.step(np.zeros(8))[0][2] for _ in range(20)]
    assert 0.3 < min(heights) and max(heights) < 0.7


def test_ant_shifts_apply_on_top_of_rllabs_ant():
  low = envs.make_env('ant_fwdbwd', dynamics='low_friction').model
  assert low.opt.timestep == pytest.approx(0.02)
  np.testing.assert_allclose(low.geom_solimp[:, :3], np.tile([0.8, 0.8, 0.01], (low.ngeom, 1)))


def test_simple_humanoid_sizes_and_observations():
  env = envs.make_env('humanoid_vel')
  model = env.model
  assert (model.nq, model.nv, model.nu) == (17, 16, 10)
  assert env.observation_space.shape == (39,)
  assert model.opt.timestep == pytest.approx(0.01) and env.dt == pytest.approx(0.01)
  assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
  rllab = envs.make_env('humanoid_vel', observation='rllab')
  assert rllab.observation_space.shape == (17 + 16 + 6 * model.nbody + 3,)


@pytest.mark.parametrize('family,observation,size', [
    ('halfcheetah_vel', 'rllab', 20), ('ant_vel', 'rllab', 125), ('halfcheetah_vel', 'slbo', 24),
    ('ant_vel', 'slbo', 15 + 14 + 9 + 6)])
def test_layout_sizes(family, observation, size):
  assert VectorEnv(family, 2, seed=0, observation=observation).obs_dim == size


def test_unknown_layout_and_rllab_without_xy_are_refused():
  with pytest.raises(ValueError, match='Unknown observation layout'):
    envs.make_env('ant_vel', observation='gym')
  with pytest.raises(ValueError, match='keep_xy'):
    VectorEnv('ant_vel', 1, seed=0, keep_xy=False, observation='rllab')
