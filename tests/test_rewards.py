"""The TF reward/termination reproduces the real environment's, for every env x family x shift."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from smtl_tf import envs

CASES = [(name, 'default', True) for name in sorted(envs.FAMILIES)]
CASES += [(name, shift, True) for name in sorted(envs.FAMILIES) if name.startswith('ant')
          for shift in ('low_friction', 'crippled')]
CASES += [(name, 'default', False) for name in ('halfcheetah_vel', 'ant_vel2d', 'humanoid_fwdbwd')]
N_STEPS = 2000


@pytest.mark.parametrize('family,dynamics,keep_xy', CASES)
def test_tf_reward_matches_real_env(family, dynamics, keep_xy):
  checked = envs.check_reward(family, N_STEPS, seed=0, dynamics=dynamics, keep_xy=keep_xy)
  assert checked.n_transitions == N_STEPS and checked.max_reward_difference < 1e-4
  if envs.get_family(family).body == 'humanoid':
    assert checked.n_done > 0, 'random actions should make the humanoid fall'


@pytest.mark.parametrize('xp', [np, tnp])
def test_ant_termination_outside_height_range(xp):
  reward_fn = envs.get_family('ant_vel').reward_fn()
  next_obs = np.zeros((4, 44), np.float32)
  next_obs[:, 2] = [0.1, 0.2, 0.9, 1.05]
  next_obs[3, 5] = np.nan if xp is np else 0.0
  _, done = reward_fn(next_obs, np.zeros((4, 8), np.float32), next_obs,
                      np.ones((1, 1), np.float32), xp)
  np.testing.assert_array_equal(np.asarray(done), [True, False, False, True])


@pytest.mark.parametrize('xp', [np, tnp])
def test_point_navigation_ends_within_001_of_the_goal_per_coordinate(xp):
  # maml_rl's PointEnvRandGoal: done = abs(x - g_x) < 0.01 and abs(y - g_y) < 0.01.
  reward_fn = envs.get_family('point_nav').reward_fn()
  goal = np.array([[0.3, -0.2]], np.float32)
  offsets = np.array([[0.0, 0.0], [0.009, -0.009], [0.0095, 0.0095],  # 0.0134 apart: still done
                      [0.011, 0.0], [0.0, -0.0101], [0.2, 0.2]], np.float32)
  next_obs = goal + offsets
  reward, done = reward_fn(next_obs, np.zeros_like(offsets), next_obs, goal, xp)
  np.testing.assert_array_equal(np.asarray(done), [True, True, True, False, False, False])
  np.testing.assert_allclose(np.asarray(reward), -np.linalg.norm(offsets, axis=1), rtol=1e-5,
                             atol=1e-6)


def test_point_env_episode_ends_on_reaching_the_goal_and_tf_agrees():
  goal = np.array([0.25, -0.15])
  env = envs.make_env('point_nav', task=goal)
  obs, _ = env.reset(seed=0)
  rows = []
  for _ in range(10):
    action = np.clip((goal - obs) / 0.1, -1.0, 1.0)  # straight at the goal, 0.1 per step at most
    next_obs, reward, done, truncated, _ = env.step(action)
    rows.append((obs, action, next_obs, reward, done))
    obs = next_obs
    if done:
      break
  assert done and not truncated and len(rows) == 3
  obs, action, next_obs, reward, done = (np.asarray(column) for column in zip(*rows))
  tf_reward, tf_done = envs.get_family('point_nav').reward_fn()(
      tf.constant(obs, tf.float32), tf.constant(action, tf.float32),
      tf.constant(next_obs, tf.float32), tf.constant(goal[None], tf.float32), tnp)
  np.testing.assert_array_equal(tf_done.numpy(), done)
  np.testing.assert_allclose(tf_reward.numpy(), reward, rtol=1e-5, atol=1e-6)
