"""The learned dynamics model: an MLP predicting the normalized state delta."""
from typing import Sequence

import gin
import numpy as np
import tensorflow as tf

from smtl_tf.slbo import networks
from smtl_tf.slbo.normalizer import Normalizers


@gin.configurable
class DynamicsModel(tf.Module):
  """s' = s + denormalize_diff(MLP([normalize_state(s), clip(a, -1, 1)])).

  The predicted state is clipped to +-100 in normalized units, as in SLBO, which
  keeps long virtual rollouts finite. One model per member of the normalizers (a task's
  own copy during batched adaptation).

  Args:
    obs_dim, act_dim: sizes of states and actions.
    normalizers: shared state/action/diff normalizers.
    rng: numpy generator for initial weights.
    hidden_sizes: hidden widths (paper: 500, 500).
    init_std: std of the truncated-normal init of every layer (near zero).
  """

  def __init__(self, obs_dim: int, act_dim: int, normalizers: Normalizers, rng: np.random.Generator,
               hidden_sizes: Sequence[int] = (500, 500), init_std: float = 1e-5):
    super().__init__(name='dynamics_model')
    self.normalizers = normalizers
    init = networks.truncated_normal(init_std)
    self.n_members = normalizers.state.n_members
    self.net = networks.MLP((obs_dim + act_dim, *hidden_sizes, obs_dim), 'relu', rng, init, init,
                            self.n_members, name='model_mlp')

  @property
  def variables_to_train(self):
    return self.net.trainable_variables

  def __call__(self, states: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """states [M, ..., obs_dim], actions [M, ..., act_dim] -> next states [M, ..., obs_dim]."""
    state_norm = self.normalizers.state
    inputs = tf.concat([state_norm(states), tf.clip_by_value(actions, -1.0, 1.0)], axis=-1)
    next_states = states + self.normalizers.diff.inverse(self.net(inputs))
    return state_norm.inverse(tf.clip_by_value(state_norm(next_states), -100.0, 100.0))
