"""Lockstep real runner: exact sample accounting, batch layout, exploration noise."""
import numpy as np
import tensorflow as tf

from smtl_tf.envs.real_runner import OUNoise, RealRunner


def _zero_policy(states):
  return tf.zeros([tf.shape(states)[0], 6])


def test_collect_returns_exactly_the_requested_samples_time_major():
  runner = RealRunner('halfcheetah_vel', 4, seed=0, horizon=50)
  noise = OUNoise((4, 6), np.random.default_rng(0))
  batch, returns = runner.collect(_zero_policy, 400, noise, 'collect')
  assert batch['state'].shape == (100, 4, 24) and batch['action'].shape == (100, 4, 6)
  assert runner.steps['collect'] == 400 and runner.total_steps == 400
  assert batch['timeout'][49].all() and batch['timeout'][99].all() and batch['timeout'].sum() == 8
  assert len(returns) == 8  # two 50-step episodes per environment
  np.testing.assert_array_equal(batch['state'][1:50], batch['next_state'][:49])
  assert np.abs(batch['action']).max() > 0  # the noise reached the actions


def test_evaluate_runs_exactly_the_requested_episodes():
  runner = RealRunner('halfcheetah_vel', 5, seed=0, horizon=30)
  returns = runner.evaluate(_zero_policy, 3)
  assert returns.shape == (3,)
  assert runner.steps['evaluate'] == 3 * 30  # HalfCheetah never terminates early
  returns = runner.evaluate(_zero_policy, 7)
  assert returns.shape == (7,) and runner.steps['evaluate'] == 10 * 30


def test_evaluate_counts_episodes_that_end_early():
  # The humanoid collapses without torque and its episodes end before the horizon: each
  # is a return, and the loop ends (it once kept only the episodes alive at the end).
  runner = RealRunner('humanoid_vel', 4, seed=0, horizon=200)
  returns = runner.evaluate(lambda states: tf.zeros([tf.shape(states)[0], 10]), 6)
  assert returns.shape == (6,) and np.all(np.isfinite(returns))
  assert runner.steps['evaluate'] < 4 * 200, 'these episodes should end early'


def test_ou_noise_is_mean_reverting_with_the_stationary_variance():
  noise = OUNoise((2000, 1), np.random.default_rng(0), theta=0.15, sigma=0.3)
  for _ in range(200):
    sample = noise()
  stationary_std = 0.3 / np.sqrt(1 - (1 - 0.15) ** 2)
  assert abs(sample.mean()) < 0.05
  assert abs(sample.std() - stationary_std) < 0.05


def _policy(seed=3):
  from smtl_tf.slbo.normalizer import Normalizer
  from smtl_tf.slbo.policy import GaussianPolicy
  normalizer = Normalizer(5)
  normalizer.update(np.random.default_rng(1).normal(2.0, 3.0, (1, 100, 5)))
  policy = GaussianPolicy(5, 2, normalizer, np.random.default_rng(0), seed)
  policy.log_std.assign([[-1.0, 0.5]])
  return policy


def test_numpy_sampler_is_the_policy_in_numpy():
  policy = _policy()
  states = np.random.default_rng(2).normal(size=(4000, 5)).astype(np.float32)
  sampler = policy.numpy_sampler()
  mean, std = policy.mean_and_std(tf.constant(states[None]))
  mean, std = mean.numpy()[0], std.numpy()[0, 0]
  np.testing.assert_allclose(sampler.mean_action(states), mean, rtol=1e-5, atol=1e-6)
  actions = sampler(states)
  assert actions.shape == (4000, 2) and actions.dtype == np.float32
  np.testing.assert_allclose((actions - mean).std(axis=0), std, rtol=0.05)
  # Reproducible from the policy's seed; a second sampler continues the stream.
  np.testing.assert_array_equal(_policy().numpy_sampler()(states), actions)
  assert not np.array_equal(policy.numpy_sampler()(states), actions)
