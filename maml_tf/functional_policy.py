"""maml_rl's Gaussian MLP policy as pure functions of a parameter list.

MAML needs one set of weights per task (the fast weights after the inner step),
so the policy is a function of tensors rather than a module holding variables.
Parameters are [W_0, b_0, ..., W_L, b_L, log_std]; a "batched" parameter list has
a leading task axis T on every entry and is applied to inputs [T, N, obs_dim].
"""
from typing import List, Sequence

import numpy as np
import tensorflow as tf

from smtl_tf.slbo.trpo import flatten  # noqa: F401  (unbatched params -> one vector [P])

Params = List[tf.Tensor]
LOG_MIN_STD = float(np.log(1e-6))


def init_params(rng: np.random.Generator, obs_dim: int, act_dim: int,
                hidden_sizes: Sequence[int] = (100, 100), init_std: float = 1.0) -> List[np.ndarray]:
  """rllab's initialization: Xavier-uniform kernels, zero biases, log_std = log(init_std)."""
  sizes = (obs_dim, *hidden_sizes, act_dim)
  params = []
  for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    params.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
    params.append(np.zeros(fan_out, np.float32))
  params.append(np.full(act_dim, np.log(init_std), np.float32))
  return params


def tile(params: Params, n_tasks: int) -> Params:
  """Shared parameters -> the same parameters for each of n_tasks tasks (leading axis T)."""
  return [tf.broadcast_to(p, [n_tasks, *p.shape]) for p in params]


def mean_and_log_std(params: Params, obs: tf.Tensor):
  """Batched params, obs [T, N, obs_dim] -> (mean [T, N, act_dim], log_std [T, 1, act_dim]).

  The std is floored at MIN_STD, as maml_rl's policy does.
  """
  x = obs
  layers = (len(params) - 1) // 2
  for i in range(layers):
    x = tf.matmul(x, params[2 * i]) + params[2 * i + 1][:, None, :]
    if i < layers - 1:
      x = tf.nn.relu(x)
  return x, tf.maximum(params[-1][:, None, :], LOG_MIN_STD)


def log_prob(params: Params, obs: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
  """log pi(actions | obs) [T, N] for obs [T, N, obs_dim], actions [T, N, act_dim]."""
  mean, log_std = mean_and_log_std(params, obs)
  return gaussian_log_prob(mean, log_std, actions)


def gaussian_log_prob(mean: tf.Tensor, log_std: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
  """Diagonal-Gaussian log density summed over the last axis."""
  z = (actions - mean) * tf.exp(-log_std)
  return tf.reduce_sum(-0.5 * tf.square(z) - log_std - 0.5 * np.log(2 * np.pi), axis=-1)


def gaussian_kl(old_mean, old_log_std, mean, log_std) -> tf.Tensor:
  """KL(old || new) of diagonal Gaussians, summed over the last axis."""
  old_var, var = tf.exp(2 * old_log_std), tf.exp(2 * log_std)
  return tf.reduce_sum(log_std - old_log_std + (old_var + tf.square(old_mean - mean)) / (2 * var)
                       - 0.5, axis=-1)


def sample(params: Params, obs: tf.Tensor, generator: tf.random.Generator) -> tf.Tensor:
  """Stochastic actions [T, N, act_dim] for obs [T, N, obs_dim]."""
  mean, log_std = mean_and_log_std(params, obs)
  return mean + tf.exp(log_std) * generator.normal(tf.shape(mean))


def unflatten(flat: tf.Tensor, like: Sequence[tf.Tensor]) -> Params:
  """Inverse of flatten (smtl_tf.slbo.trpo), shaped like `like`."""
  out, offset = [], 0
  for p in like:
    size = p.shape.num_elements()
    out.append(tf.reshape(flat[offset:offset + size], p.shape))
    offset += size
  return out
