"""Generalized advantage estimation on time-major batches."""
import tensorflow as tf


def gae(rewards: tf.Tensor, values: tf.Tensor, next_values: tf.Tensor, dones: tf.Tensor,
        timeouts: tf.Tensor, gamma: float, lam: float) -> tf.Tensor:
  """Advantages [T, n] of lockstep rollouts.

  delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t);
  A_t = delta_t + gamma * lam * (1 - end_t) * A_{t+1}, end_t = done_t or timeout_t.
  A timeout bootstraps from V of its own next state (not of the reset state).

  Args:
    rewards, values, next_values: [T, n] float32; dones, timeouts: [T, n] bool.
  """
  not_done = 1.0 - tf.cast(dones, tf.float32)
  not_end = 1.0 - tf.cast(tf.logical_or(dones, timeouts), tf.float32)
  deltas = rewards + gamma * next_values * not_done - values

  def backward(next_advantage, inputs):
    delta, continues = inputs
    return delta + gamma * lam * continues * next_advantage

  return tf.scan(backward, (deltas, not_end), initializer=tf.zeros_like(deltas[0]), reverse=True)


def advantages_and_returns(value_fn, batch, gamma: float, lam: float):
  """GAE advantages and lambda-returns [T, n] of a time-major batch dict (see gae)."""
  values = value_fn(batch['state'])
  next_values = value_fn(batch['next_state'])
  advantages = gae(batch['reward'], values, next_values, batch['done'], batch['timeout'], gamma, lam)
  return advantages, advantages + values


def flatten_time(tensor: tf.Tensor) -> tf.Tensor:
  """[T, n, ...] -> [T * n, ...]."""
  return tf.reshape(tensor, tf.concat([[-1], tf.shape(tensor)[2:]], axis=0))
