"""Gaussian MLP policy with a state-independent log-std (tensorflow-probability)."""
from typing import Dict, Sequence

import gin
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from smtl_tf.slbo import networks
from smtl_tf import seeding
from smtl_tf.slbo.normalizer import Normalizer

tfd = tfp.distributions


def limited_entropy(loc: tf.Tensor, scale: tf.Tensor, limit: float = 2.0) -> tf.Tensor:
  """SLBO's entropy surrogate of a Normal, restricted to actions in [-limit, limit].

  It keeps the entropy bonus from rewarding probability mass far outside the
  action range. loc, scale: [..., act_dim] -> [..., act_dim].
  """
  hi = (limit - loc) / scale / np.sqrt(2.0)
  lo = (-limit - loc) / scale / np.sqrt(2.0)
  return (0.5 * (tf.math.log(scale) + np.log(2 * np.pi) / 2) * (tf.math.erf(hi) - tf.math.erf(lo))
          + 0.5 * (tf.exp(-hi * hi) * hi - tf.exp(-lo * lo) * lo))


@gin.configurable
class GaussianPolicy(tf.Module):
  """pi(a|s) = N(MLP(normalize(s)), exp(log_std)), independent across action dims.

  One policy per member of the state normalizer (leading axis M of every parameter
  and input; M = 1 for a single task).

  Args:
    obs_dim, act_dim: sizes.
    state_normalizer: the shared state normalizer (its n_members sets M).
    rng: numpy generator for the initial weights.
    sampler_key: Philox key of the action-sampling generator (counter starts at 0).
    hidden_sizes: paper 32, 32.
    activation: 'tanh' (SLBO) or 'relu'.
    init_std: initial action std (log-std init log(init_std)).
  """

  def __init__(self, obs_dim: int, act_dim: int, state_normalizer: Normalizer,
               rng: np.random.Generator, sampler_key: int, hidden_sizes: Sequence[int] = (32, 32),
               activation: str = 'tanh', init_std: float = 1.0):
    super().__init__(name='policy')
    self.state_normalizer = state_normalizer
    self.n_members = state_normalizer.n_members
    self.net = networks.MLP((obs_dim, *hidden_sizes, act_dim), activation, rng,
                            networks.normc(1.0), networks.normc(0.01), self.n_members,
                            name='policy_mlp')
    self.init_std = init_std
    self.log_std = tf.Variable(tf.fill([self.n_members, act_dim], float(np.log(init_std))),
                               name='log_std')
    self.sampler = tf.random.Generator.from_state(seeding.philox_from_key(sampler_key), 'philox')

  def reinitialize(self, rng: np.random.Generator, sampler_key: int) -> None:
    """A fresh policy in place: new weights, initial log-std, reseeded sampler."""
    self.net.reinitialize(rng)
    self.log_std.assign(tf.fill(self.log_std.shape, float(np.log(self.init_std))))
    self.sampler.reset(seeding.philox_from_key(sampler_key))

  @property
  def mean_variables(self):
    """The mean network's parameters: variables_to_train without the trailing log-std."""
    return list(self.net.trainable_variables)

  @property
  def variables_to_train(self):
    return [*self.mean_variables, self.log_std]

  def mean(self, states: tf.Tensor) -> tf.Tensor:
    """states [M, ..., obs_dim] -> action means [M, ..., act_dim]."""
    return self.net(self.state_normalizer(states))

  def mean_and_std(self, states: tf.Tensor):
    """states [M, ..., obs_dim] -> (mean [M, ..., act_dim], std [M, 1, ..., 1, act_dim])."""
    mean = self.mean(states)
    return mean, networks.per_member(tf.exp(self.log_std), mean)

  def distribution(self, states: tf.Tensor) -> tfd.Normal:
    mean, std = self.mean_and_std(states)
    return tfd.Normal(mean, std * tf.ones_like(mean))

  def sample(self, states: tf.Tensor) -> tf.Tensor:
    """Stochastic actions [M, ..., act_dim]."""
    mean, std = self.mean_and_std(states)
    return mean + std * self.sampler.normal(tf.shape(mean))

  def numpy_sampler(self) -> 'NumpySampler':
    """The current policy as a numpy sampler for the real runner (see NumpySampler)."""
    return NumpySampler(self)


def mean_snapshot(policy: GaussianPolicy, member: int = 0) -> Dict:
  """Member `member`'s mean network as numpy arrays, for saved_policy.SavedPolicy: layers
  [(kernel [fan_in, fan_out], bias [fan_out])], activation, obs_mean and obs_scale [obs_dim].
  Reads the variables only (no random stream moves)."""
  net, normalizer = policy.net, policy.state_normalizer
  layers = [(w.numpy()[member], b.numpy()[member, 0]) for w, b in zip(net.kernels, net.biases)]
  return {'layers': layers, 'activation': net.activation_name,
          'obs_mean': normalizer.mean.numpy()[member],
          'obs_scale': np.maximum(normalizer.std.numpy()[member], normalizer.eps)}


class NumpySampler:
  """A frozen copy of a GaussianPolicy that samples actions in numpy.

  The real runner calls the policy once per environment step on a few rows; a
  TensorFlow dispatch costs ~0.3 ms there, several times the physics of 20 HalfCheetahs,
  while these small matmuls take microseconds. The weights and normalizer are copied
  when the sampler is made (the policy does not change during a collection); the
  Gaussian noise comes from a numpy generator seeded by one draw of the policy's own
  sampler, so runs stay reproducible from the policy's seed.
  """

  def __init__(self, policy: GaussianPolicy):
    net = policy.net
    self.layers = [(w.numpy(), b.numpy()) for w, b in zip(net.kernels, net.biases)]
    self.activation = np.tanh if net._activation is tf.math.tanh else (lambda x: np.maximum(x, 0))
    normalizer = policy.state_normalizer
    self.n_members = policy.n_members
    self.mean = normalizer.mean.numpy()[:, None]
    self.scale = np.maximum(normalizer.std.numpy(), normalizer.eps)[:, None]
    self.std = np.exp(policy.log_std.numpy())[:, None]
    self.rng = np.random.default_rng(policy.sampler.uniform_full_int([2], tf.int64).numpy().view(np.uint64))

  def _mean_and_std(self, states: np.ndarray):
    x = np.asarray(states, np.float32).reshape(self.n_members, -1, states.shape[-1])
    x = (x - self.mean) / self.scale
    for i, (w, b) in enumerate(self.layers):
      x = x @ w + b
      if i < len(self.layers) - 1:
        x = self.activation(x)
    return x, self.std

  def mean_action(self, states: np.ndarray) -> np.ndarray:
    """states [M * n, obs_dim] (member-major rows) -> policy means [M * n, act_dim] float32."""
    return self._mean_and_std(states)[0].reshape(len(states), -1)

  def __call__(self, states: np.ndarray) -> np.ndarray:
    """Sampled actions [M * n, act_dim] float32 for states [M * n, obs_dim] (member-major)."""
    mean, std = self._mean_and_std(states)
    actions = mean + std * self.rng.standard_normal(mean.shape)
    return actions.astype(np.float32).reshape(len(states), -1)
