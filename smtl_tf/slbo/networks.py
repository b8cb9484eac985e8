"""A small multi-layer perceptron as a tf.Module, with SLBO's initializers."""
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf


def normc(std: float) -> Callable[[np.random.Generator, Sequence[int]], np.ndarray]:
  """Column-normalized Gaussian init: each output unit's weights have norm `std`."""
  def init(rng, shape):
    w = rng.standard_normal(shape)
    return w * std / np.sqrt(np.square(w).sum(axis=0, keepdims=True))
  return init


def truncated_normal(std: float) -> Callable[[np.random.Generator, Sequence[int]], np.ndarray]:
  """Gaussian init truncated at two standard deviations."""
  def init(rng, shape):
    w = rng.standard_normal(shape)
    bad = np.abs(w) > 2
    while bad.any():
      w[bad] = rng.standard_normal(bad.sum())
      bad = np.abs(w) > 2
    return w * std
  return init


ACTIVATIONS = {'relu': tf.nn.relu, 'tanh': tf.math.tanh}


class MLP(tf.Module):
  """n_members independent fully connected networks evaluated as one batched computation.

  Every parameter has a leading member axis; member m maps x[m] with its own weights
  (a batched matmul), so the networks of many tasks cost one op per layer. All members
  start from the same draw of the initializers (tasks adapt from one initialization).
  The last layer is linear.

  Args:
    sizes: layer widths including input and output, e.g. (obs_dim, 32, 32, act_dim).
    activation: 'relu' or 'tanh' for hidden layers.
    rng: numpy generator for the initial weights (biases start at zero).
    hidden_init, output_init: weight initializers (see normc, truncated_normal).
    n_members: number of networks M.
  """

  def __init__(self, sizes: Sequence[int], activation: str, rng: np.random.Generator,
               hidden_init, output_init, n_members: int = 1, name: str = 'mlp'):
    super().__init__(name=name)
    if activation not in ACTIVATIONS:
      raise ValueError(f'Unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}.')
    self.activation_name = activation
    self._activation = ACTIVATIONS[activation]
    self.n_members = n_members
    n_layers = len(sizes) - 1
    self._inits = [output_init if i == n_layers - 1 else hidden_init for i in range(n_layers)]
    self.kernels = [tf.Variable(self._draw(init, rng, (fan_in, fan_out)), name=f'w{i}')
                    for i, (init, fan_in, fan_out) in enumerate(zip(self._inits, sizes[:-1], sizes[1:]))]
    self.biases = [tf.Variable(tf.zeros([n_members, 1, fan_out]), name=f'b{i}')
                   for i, fan_out in enumerate(sizes[1:])]

  def _draw(self, init, rng: np.random.Generator, shape) -> np.ndarray:
    """One draw of init [fan_in, fan_out], repeated for every member: [M, fan_in, fan_out]."""
    return np.repeat(init(rng, shape).astype(np.float32)[None], self.n_members, axis=0)

  def reinitialize(self, rng: np.random.Generator) -> None:
    """Draws fresh initial weights in place (compiled functions stay valid)."""
    for init, kernel, bias in zip(self._inits, self.kernels, self.biases):
      kernel.assign(self._draw(init, rng, kernel.shape[1:]))
      bias.assign(tf.zeros_like(bias))

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    """x [M, ..., sizes[0]] -> [M, ..., sizes[-1]]."""
    shape = tf.shape(x)
    single = self.n_members == 1  # a plain matmul is faster than a batch of one on CPU
    x = tf.reshape(x, [-1, x.shape[-1]] if single else [self.n_members, -1, x.shape[-1]])
    last = len(self.kernels) - 1
    for i, (w, b) in enumerate(zip(self.kernels, self.biases)):
      x = tf.matmul(x, w[0]) + b[0] if single else tf.matmul(x, w) + b
      if i < last:
        x = self._activation(x)
    return tf.reshape(x, tf.concat([shape[:-1], [x.shape[-1]]], axis=0))


def per_member(parameter: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
  """Reshapes parameter [M, d] to broadcast against like [M, ..., d]: [M, 1, ..., 1, d]."""
  ones = tf.ones([tf.rank(like) - 2], tf.int32)
  return tf.reshape(parameter, tf.concat([tf.shape(parameter)[:1], ones, tf.shape(parameter)[1:]], 0))
