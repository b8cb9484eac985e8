"""State-value function V(s): an MLP on normalized states, fit by Adam regression."""
from typing import Sequence

import gin
import numpy as np
import tensorflow as tf

from smtl_tf.slbo import networks
from smtl_tf.slbo.normalizer import Normalizer


@gin.configurable
class ValueFunction(tf.Module):
  """V(s) = MLP(normalize(s)), one per member of the state normalizer.

  Args:
    obs_dim: state size.
    state_normalizer: the shared state normalizer.
    rng: numpy generator for the initial weights.
    hidden_sizes: SLBO 64, 64 (tanh).
  """

  def __init__(self, obs_dim: int, state_normalizer: Normalizer, rng: np.random.Generator,
               hidden_sizes: Sequence[int] = (64, 64)):
    super().__init__(name='value_function')
    self.state_normalizer = state_normalizer
    self.n_members = state_normalizer.n_members
    self.net = networks.MLP((obs_dim, *hidden_sizes, 1), 'tanh', rng, networks.normc(1.0),
                            networks.normc(1.0), self.n_members, name='value_mlp')

  @property
  def variables_to_train(self):
    return self.net.trainable_variables

  def __call__(self, states: tf.Tensor) -> tf.Tensor:
    """states [M, ..., obs_dim] -> values [M, ...]."""
    return tf.squeeze(self.net(self.state_normalizer(states)), -1)
