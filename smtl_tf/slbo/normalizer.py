"""Running mean/std normalizers with the exact parallel (Chan et al.) update."""
import numpy as np
import tensorflow as tf

from smtl_tf.slbo.networks import per_member


class Normalizer(tf.Module):
  """Per-dimension Gaussian normalizers of vectors of size `dim`, one per member.

  The statistics are merged exactly: after updates with batches B1..Bm the mean
  and (population) std of member k equal numpy's over the concatenation of Bi[k].
  """

  def __init__(self, dim: int, n_members: int = 1, eps: float = 1e-8, name: str = 'normalizer'):
    super().__init__(name=name)
    self.eps = eps
    self.n_members = n_members
    self.mean = tf.Variable(tf.zeros([n_members, dim]), trainable=False, name='mean')
    self.std = tf.Variable(tf.ones([n_members, dim]), trainable=False, name='std')
    self.count = tf.Variable(tf.zeros([n_members], tf.float64), trainable=False, name='count')

  def update(self, samples: np.ndarray) -> None:
    """Merges a batch of samples [M, n, dim] into each member's statistics."""
    samples = np.asarray(samples, dtype=np.float64).reshape(self.n_members, -1, self.mean.shape[1])
    if not np.all(np.isfinite(samples)):
      raise FloatingPointError(f'{self.name}: refusing to update with non-finite samples.')
    old_mean = self.mean.numpy().astype(np.float64)
    old_var = np.square(self.std.numpy().astype(np.float64))
    old_n = self.count.numpy()[:, None]
    m = samples.shape[1]
    new_n = old_n + m
    delta = samples.mean(axis=1) - old_mean
    new_mean = old_mean + delta * m / new_n
    new_var = (old_var * old_n + samples.var(axis=1) * m + np.square(delta) * old_n * m / new_n) / new_n
    self.mean.assign(new_mean.astype(np.float32))
    self.std.assign(np.sqrt(new_var).astype(np.float32))
    self.count.assign(new_n[:, 0])

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    """Normalizes x [M, ..., dim]."""
    return (x - per_member(self.mean, x)) / per_member(tf.maximum(self.std, self.eps), x)

  def inverse(self, x: tf.Tensor) -> tf.Tensor:
    """Maps normalized x [M, ..., dim] back to the original scale."""
    return x * per_member(self.std, x) + per_member(self.mean, x)


class Normalizers(tf.Module):
  """The three normalizers SLBO keeps: states, actions and state deltas (per member)."""

  def __init__(self, obs_dim: int, act_dim: int, n_members: int = 1):
    super().__init__(name='normalizers')
    self.state = Normalizer(obs_dim, n_members, name='state')
    self.action = Normalizer(act_dim, n_members, name='action')
    self.diff = Normalizer(obs_dim, n_members, name='diff')

  def update(self, states: np.ndarray, actions: np.ndarray, next_states: np.ndarray) -> None:
    """Updates all three from real transitions ([M, n, obs_dim], [M, n, act_dim], [M, n, obs_dim])."""
    self.state.update(states)
    self.action.update(actions)
    self.diff.update(np.asarray(next_states) - np.asarray(states))
