"""Generalized advantage estimation on batches [M, T, n] (member, time, environment)."""
import tensorflow as tf


def gae(rewards: tf.Tensor, values: tf.Tensor, next_values: tf.Tensor, dones: tf.Tensor,
        timeouts: tf.Tensor, gamma: float, lam: float) -> tf.Tensor:
  """Advantages [M, T, n] of lockstep rollouts (M members, T steps, n environments).

  delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t);
  A_t = delta_t + gamma * lam * (1 - end_t) * A_{t+1}, end_t = done_t or timeout_t.
  A timeout bootstraps from V of its own next state (not of the reset state).

  Args:
    rewards, values, next_values: [M, T, n] float32; dones, timeouts: [M, T, n] bool.
  """
  rewards, values, next_values, dones, timeouts = map(
      _time_major, (rewards, values, next_values, dones, timeouts))
  not_done = 1.0 - tf.cast(dones, tf.float32)
  not_end = 1.0 - tf.cast(tf.logical_or(dones, timeouts), tf.float32)
  deltas = rewards + gamma * next_values * not_done - values

  def backward(next_advantage, inputs):
    delta, continues = inputs
    return delta + gamma * lam * continues * next_advantage

  advantages = tf.scan(backward, (deltas, not_end), initializer=tf.zeros_like(deltas[0]),
                       reverse=True)
  return _time_major(advantages)


def _time_major(x: tf.Tensor) -> tf.Tensor:
  """[M, T, n] <-> [T, M, n]."""
  return tf.transpose(x, [1, 0, 2])


def advantages_and_returns(value_fn, batch, gamma: float, lam: float):
  """GAE advantages and lambda-returns [M, T, n] of a batch dict of [M, T, n, ...] (see gae)."""
  values = value_fn(batch['state'])
  next_values = value_fn(batch['next_state'])
  advantages = gae(batch['reward'], values, next_values, batch['done'], batch['timeout'], gamma, lam)
  return advantages, advantages + values


def flatten_time(tensor: tf.Tensor) -> tf.Tensor:
  """[M, T, n, ...] -> [M, T * n, ...]."""
  static = tensor.shape
  merged = tf.reshape(tensor, tf.concat([tf.shape(tensor)[:1], [-1], tf.shape(tensor)[3:]], axis=0))
  steps = None if None in (static[1], static[2]) else static[1] * static[2]
  merged.set_shape([static[0], steps, *static[3:]])
  return merged
