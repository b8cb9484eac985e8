"""Model-free TRPO on the real environment (SLBO's 'MF' baseline; the oracle builds on it)."""
from typing import Dict, Sequence

import gin
import numpy as np
import tensorflow as tf

from smtl_tf.slbo import gae as gae_lib
from smtl_tf import seeding
from smtl_tf.slbo.model_trainer import check_finite
from smtl_tf.slbo.normalizer import Normalizer
from smtl_tf.slbo.policy import GaussianPolicy
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.slbo.trpo import TRPO
from smtl_tf.slbo.value_function import ValueFunction


@gin.configurable
class RealTRPOAgent(tf.Module):
  """Each iteration: n_trpo real samples with the policy, GAE, one TRPO update.

  The state normalizer is updated with every batch before the update.

  The agent keeps no runner: iteration and evaluate act on the runner they are given.

  Args:
    runner: a RealRunner of the task family (sets the observation and action sizes; not kept).
    seed: the run's seed; the agent draws from the streams (seed, *stream, name) of
      smtl_tf.seeding: 'init' (weights and the policy's sampling key), 'value_minibatches'.
    stream: the agent's name among the run's streams.
    n_trpo: real samples per update.
    gamma, gae_lambda: 0.99, 0.95.
  """

  def __init__(self, runner: RealRunner, seed: int, n_trpo: int = 4000, gamma: float = 0.99,
               gae_lambda: float = 0.95, stream: Sequence = ('agent',)):
    super().__init__(name='real_trpo_agent')
    env = runner.env
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    self.n_trpo, self.gamma, self.gae_lambda = n_trpo, gamma, gae_lambda
    self.generators = {name: seeding.numpy_stream(seed, *stream, name)
                       for name in ('init', 'value_minibatches')}
    init = self.generators['init']
    self.state_normalizer = Normalizer(obs_dim, name='state')
    self.policy = GaussianPolicy(obs_dim, act_dim, self.state_normalizer, init,
                                 int(init.integers(2**63)))
    self.value_fn = ValueFunction(obs_dim, self.state_normalizer, init)
    self.trpo = TRPO(self.policy, self.value_fn)

  @tf.function
  def _update(self, batch, vf_permutations):
    advantages, returns = gae_lib.advantages_and_returns(self.value_fn, batch, self.gamma,
                                                         self.gae_lambda)
    flat = gae_lib.flatten_time
    return self.trpo.update(flat(batch['state']), flat(batch['action']), flat(advantages),
                            flat(returns), vf_permutations)

  def iteration(self, runner: RealRunner) -> Dict[str, float]:
    """One TRPO update on n_trpo fresh samples of the runner's environments."""
    batch, returns = runner.collect(self.policy.numpy_sampler(), self.n_trpo, None, 'collect')
    self.state_normalizer.update(batch['state'].reshape(1, -1, batch['state'].shape[-1]))
    tensors = {key: tf.constant(value[None], tf.float32 if value.dtype != bool else tf.bool)
               for key, value in batch.items()}  # one member
    order = self.generators['value_minibatches']
    permutations = np.stack([order.permutation(self.n_trpo) for _ in range(self.trpo.vf_epochs)])
    stats = self._update(tensors, permutations[None].astype(np.int32))
    values = check_finite({k: tf.cast(v, tf.float32) for k, v in stats.items()}, 'TRPO')
    values['collect_return'] = float(np.mean(returns)) if len(returns) else float('nan')
    return values

  def evaluate(self, runner: RealRunner, n_episodes: int, purpose: str = 'evaluate') -> float:
    """Mean return of fresh real episodes of the current (stochastic) policy."""
    return float(np.mean(runner.evaluate(self.policy.numpy_sampler(), n_episodes, purpose)))
