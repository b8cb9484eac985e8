"""Running mean/std normalizers with the exact parallel (Chan et al.) update."""
import numpy as np
import tensorflow as tf


class Normalizer(tf.Module):
  """Per-dimension Gaussian normalizer of vectors of size `dim`.

  The statistics are merged exactly: after updates with batches B1..Bm the mean
  and (population) std equal numpy's over their concatenation.
  """

  def __init__(self, dim: int, eps: float = 1e-8, name: str = 'normalizer'):
    super().__init__(name=name)
    self.eps = eps
    self.mean = tf.Variable(tf.zeros([dim]), trainable=False, name='mean')
    self.std = tf.Variable(tf.ones([dim]), trainable=False, name='std')
    self.count = tf.Variable(0.0, dtype=tf.float64, trainable=False, name='count')

  def update(self, samples: np.ndarray) -> None:
    """Merges a batch of samples [n, dim] into the statistics."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, self.mean.shape[0])
    if not np.all(np.isfinite(samples)):
      raise FloatingPointError(f'{self.name}: refusing to update with non-finite samples.')
    old_mean = self.mean.numpy().astype(np.float64)
    old_var = np.square(self.std.numpy().astype(np.float64))
    old_n = float(self.count.numpy())
    m = samples.shape[0]
    new_n = old_n + m
    delta = samples.mean(axis=0) - old_mean
    new_mean = old_mean + delta * m / new_n
    new_var = (old_var * old_n + samples.var(axis=0) * m + np.square(delta) * old_n * m / new_n) / new_n
    self.mean.assign(new_mean.astype(np.float32))
    self.std.assign(np.sqrt(new_var).astype(np.float32))
    self.count.assign(new_n)

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    """Normalizes x [..., dim]."""
    return (x - self.mean) / tf.maximum(self.std, self.eps)

  def inverse(self, x: tf.Tensor) -> tf.Tensor:
    """Maps normalized x [..., dim] back to the original scale."""
    return x * self.std + self.mean


class Normalizers(tf.Module):
  """The three normalizers SLBO keeps: states, actions and state deltas."""

  def __init__(self, obs_dim: int, act_dim: int):
    super().__init__(name='normalizers')
    self.state = Normalizer(obs_dim, name='state')
    self.action = Normalizer(act_dim, name='action')
    self.diff = Normalizer(obs_dim, name='diff')

  def update(self, states: np.ndarray, actions: np.ndarray, next_states: np.ndarray) -> None:
    """Updates all three from real transitions ([n, obs_dim], [n, act_dim], [n, obs_dim])."""
    self.state.update(states)
    self.action.update(actions)
    self.diff.update(np.asarray(next_states) - np.asarray(states))
