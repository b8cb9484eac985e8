"""From sampled episodes to per-task normalized advantages (rllab/maml_rl process_samples).

gamma = 0.99, GAE lambda = 1: the advantage is the discounted return-to-go minus the
task's linear feature baseline, fit on the same episodes first; advantages are then
normalized per task over its real (unmasked) steps.
"""
from typing import Dict

import tensorflow as tf

from maml_tf import linear_baseline


def discounted_returns(rewards: tf.Tensor, time_steps: tf.Tensor, episode_end: tf.Tensor,
                       gamma: float) -> tf.Tensor:
  """Returns-to-go within each episode of packed per-task samples (see maml_tf/sampler.py).

  R_i = sum_{j=i}^{end_i - 1} gamma^(j - i) r_j
      = gamma^(-k_i) (C_i - C_{end_i}),  C_i = sum_{j >= i} gamma^(k_j) r_j,
  k = step within the episode, end_i = one past the last sample of i's episode.
  Computed in float64 (gamma^(-k) reaches ~7 at k = 199 for gamma = 0.99).

  Args:
    rewards: [T, N] (0 on padding).
    time_steps: [T, N] int, step of each sample within its episode.
    episode_end: [T, N] int, one past the last index of the sample's episode (N on padding).
    gamma: discount.

  Returns:
    [T, N] float32 returns-to-go.
  """
  steps = tf.cast(time_steps, tf.float64)
  weighted = tf.pow(tf.constant(gamma, tf.float64), steps) * tf.cast(rewards, tf.float64)
  suffix = tf.cumsum(weighted, axis=-1, reverse=True)
  suffix = tf.concat([suffix, tf.zeros_like(suffix[:, :1])], axis=-1)       # C_N = 0
  after = tf.gather(suffix, episode_end, batch_dims=1)
  returns = (suffix[:, :-1] - after) * tf.pow(tf.constant(gamma, tf.float64), -steps)
  return tf.cast(returns, tf.float32)


def masked_mean(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  """Per-task mean over the last axis: values, mask [T, N] -> [T]."""
  return tf.reduce_sum(values * mask, -1) / tf.maximum(tf.reduce_sum(mask, -1), 1.0)


def normalize_per_task(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  """(values - mean_t) / (std_t + 1e-8) over each task's real steps; values, mask [T, N]."""
  mean = masked_mean(values, mask)[:, None]
  std = tf.sqrt(masked_mean(tf.square(values - mean), mask))[:, None]
  return (values - mean) / (std + 1e-8) * mask


def process(batch: Dict[str, tf.Tensor], gamma: float) -> Dict[str, tf.Tensor]:
  """Packed episodes of T tasks (MultiTaskSampler.collect) -> per-task training data.

  Args:
    batch: obs [T, N, d], actions [T, N, a], rewards and mask [T, N], time_steps and
      episode_end [T, N] int.
    gamma: discount.

  Returns:
    obs [T, N, d], actions [T, N, a], advantages [T, N] (normalized per task, 0 where masked),
    mask [T, N].
  """
  obs, mask, time_steps = batch['obs'], batch['mask'], batch['time_steps']
  returns = discounted_returns(batch['rewards'] * mask, time_steps, batch['episode_end'], gamma)
  # rllab solves the baseline in float64; its normal equations are badly conditioned in float32.
  feature_rows = linear_baseline.features(tf.cast(obs, tf.float64), time_steps)
  coefficients = linear_baseline.fit(feature_rows, tf.cast(returns, tf.float64),
                                     tf.cast(mask, tf.float64))
  baseline = tf.cast(linear_baseline.predict(coefficients, feature_rows), tf.float32)
  return {'obs': obs, 'actions': batch['actions'],
          'advantages': normalize_per_task(returns - baseline, mask), 'mask': mask}
