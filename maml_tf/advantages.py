"""From sampled episodes to per-task normalized advantages (rllab/maml_rl process_samples).

gamma = 0.99, GAE lambda = 1: the advantage is the discounted return-to-go minus the
task's linear feature baseline, fit on the same episodes first; advantages are then
normalized per task over its real (unmasked) steps.
"""
from typing import Dict

import tensorflow as tf

from maml_tf import linear_baseline


def discounted_returns(rewards: tf.Tensor, gamma: float) -> tf.Tensor:
  """rewards [..., H] (0 after an episode ends) -> returns-to-go [..., H]."""
  horizon = rewards.shape[-1]
  steps = tf.range(horizon, dtype=tf.float32)
  offsets = steps[None, :] - steps[:, None]                     # [t, j] = j - t
  discount = tf.where(offsets >= 0, tf.pow(gamma, tf.maximum(offsets, 0.0)), 0.0)
  return tf.linalg.matvec(discount, rewards)


def masked_mean(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  """Per-task mean over the last axis: values, mask [T, N] -> [T]."""
  return tf.reduce_sum(values * mask, -1) / tf.maximum(tf.reduce_sum(mask, -1), 1.0)


def normalize_per_task(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  """(values - mean_t) / (std_t + 1e-8) over each task's real steps; values, mask [T, N]."""
  mean = masked_mean(values, mask)[:, None]
  std = tf.sqrt(masked_mean(tf.square(values - mean), mask))[:, None]
  return (values - mean) / (std + 1e-8) * mask


def process(batch: Dict[str, tf.Tensor], gamma: float) -> Dict[str, tf.Tensor]:
  """Episodes of T tasks -> flat per-task training data.

  Args:
    batch: obs [T, M, H, d], actions [T, M, H, a], rewards and mask [T, M, H].
    gamma: discount.

  Returns:
    obs [T, N, d], actions [T, N, a], advantages [T, N] (normalized per task, 0 where masked),
    mask [T, N], with N = M * H.
  """
  obs, rewards, mask = batch['obs'], batch['rewards'], batch['mask']
  n_tasks, n_episodes, horizon = obs.shape[0], obs.shape[1], obs.shape[2]
  returns = discounted_returns(rewards * mask, gamma)
  time_steps = tf.broadcast_to(tf.range(horizon), tf.shape(mask))
  rows = [n_tasks, n_episodes * horizon]
  # rllab solves the baseline in float64; its normal equations are badly conditioned in float32.
  feature_rows = tf.reshape(linear_baseline.features(tf.cast(obs, tf.float64), time_steps),
                            [*rows, -1])
  flat_returns, flat_mask = tf.reshape(returns, rows), tf.reshape(mask, rows)
  coefficients = linear_baseline.fit(feature_rows, tf.cast(flat_returns, tf.float64),
                                     tf.cast(flat_mask, tf.float64))
  baseline = tf.cast(linear_baseline.predict(coefficients, feature_rows), tf.float32)
  advantages = flat_returns - baseline
  return {'obs': tf.reshape(obs, [*rows, obs.shape[-1]]),
          'actions': tf.reshape(batch['actions'], [*rows, batch['actions'].shape[-1]]),
          'advantages': normalize_per_task(advantages, flat_mask), 'mask': flat_mask}
