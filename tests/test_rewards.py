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


def _random_transitions(env, rng, n):
  rows = {'obs': [], 'action': [], 'next_obs': [], 'reward': [], 'done': []}
  obs, _ = env.reset(seed=int(rng.integers(1 << 30)))
  for _ in range(n):
    action = rng.uniform(-1.3, 1.3, env.action_space.shape)  # also exercises clipping
    next_obs, reward, done, _, _ = env.step(action)
    for key, value in zip(rows, (obs, action, next_obs, reward, done)):
      rows[key].append(value)
    obs = env.reset()[0] if done else next_obs
  return {key: np.asarray(value) for key, value in rows.items()}


@pytest.mark.parametrize('family,dynamics,keep_xy', CASES)
def test_tf_reward_matches_real_env(family, dynamics, keep_xy):
  rng = np.random.default_rng(0)
  spec = envs.get_family(family)
  task = spec.sample(rng, 1)[0]
  env = envs.make_env(family, task=task, dynamics=dynamics, keep_xy=keep_xy)
  data = _random_transitions(env, rng, N_STEPS)
  reward_fn = spec.reward_fn(keep_xy)

  @tf.function
  def batched(obs, action, next_obs, task):
    return reward_fn(obs, action, next_obs, task[None, :], tnp)

  rewards, dones = batched(tf.constant(data['obs'], tf.float32),
                           tf.constant(data['action'], tf.float32),
                           tf.constant(data['next_obs'], tf.float32), tf.constant(task, tf.float32))
  assert np.max(np.abs(rewards.numpy() - data['reward'])) < 1e-4
  np.testing.assert_array_equal(dones.numpy(), data['done'])
  if spec.body == 'humanoid':
    assert data['done'].any(), 'random actions should make the humanoid fall'


@pytest.mark.parametrize('xp', [np, tnp])
def test_ant_termination_outside_height_range(xp):
  reward_fn = envs.get_family('ant_vel').reward_fn()
  next_obs = np.zeros((4, 44), np.float32)
  next_obs[:, 2] = [0.1, 0.2, 0.9, 1.05]
  next_obs[3, 5] = np.nan if xp is np else 0.0
  _, done = reward_fn(next_obs, np.zeros((4, 8), np.float32), next_obs,
                      np.ones((1, 1), np.float32), xp)
  np.testing.assert_array_equal(np.asarray(done), [True, False, False, True])
