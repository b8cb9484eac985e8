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
  """Fully connected network; the last layer is linear.

  Args:
    sizes: layer widths including input and output, e.g. (obs_dim, 32, 32, act_dim).
    activation: 'relu' or 'tanh' for hidden layers.
    rng: numpy generator for the initial weights (biases start at zero).
    hidden_init, output_init: weight initializers (see normc, truncated_normal).
  """

  def __init__(self, sizes: Sequence[int], activation: str, rng: np.random.Generator,
               hidden_init, output_init, name: str = 'mlp'):
    super().__init__(name=name)
    if activation not in ACTIVATIONS:
      raise ValueError(f'Unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}.')
    self._activation = ACTIVATIONS[activation]
    n_layers = len(sizes) - 1
    self._inits = [output_init if i == n_layers - 1 else hidden_init for i in range(n_layers)]
    self.kernels = [tf.Variable(init(rng, (fan_in, fan_out)).astype(np.float32), name=f'w{i}')
                    for i, (init, fan_in, fan_out) in enumerate(zip(self._inits, sizes[:-1], sizes[1:]))]
    self.biases = [tf.Variable(tf.zeros([fan_out]), name=f'b{i}') for i, fan_out in enumerate(sizes[1:])]

  def reinitialize(self, rng: np.random.Generator) -> None:
    """Draws fresh initial weights in place (compiled functions stay valid)."""
    for init, kernel, bias in zip(self._inits, self.kernels, self.biases):
      kernel.assign(init(rng, kernel.shape).astype(np.float32))
      bias.assign(tf.zeros_like(bias))

  def __call__(self, x: tf.Tensor) -> tf.Tensor:
    """x [..., sizes[0]] -> [..., sizes[-1]]."""
    last = len(self.kernels) - 1
    for i, (w, b) in enumerate(zip(self.kernels, self.biases)):
      x = tf.matmul(x, w) + b
      if i < last:
        x = self._activation(x)
    return x
