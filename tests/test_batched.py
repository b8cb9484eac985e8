"""Members (tasks) batched into one computation give what each member gives alone."""
import numpy as np
import tensorflow as tf

from smtl_tf import envs
from smtl_tf import seeding
from smtl_tf.slbo.dynamics_model import DynamicsModel
from smtl_tf.slbo.normalizer import Normalizers
from smtl_tf.slbo.policy import GaussianPolicy
from smtl_tf.slbo.virtual_env import VirtualEnv

OBS, ACT = 18, 6  # halfcheetah


def _virtual_env(n_members):
  normalizers = Normalizers(OBS, ACT, n_members)
  model = DynamicsModel(OBS, ACT, normalizers, np.random.default_rng(0), hidden_sizes=(32, 32),
                        init_std=0.05)
  policy = GaussianPolicy(OBS, ACT, normalizers.state, np.random.default_rng(1), sampler_key=2)
  policy.log_std.assign(tf.fill(policy.log_std.shape, -30.0))  # deterministic actions
  reward_fn = envs.get_family('halfcheetah_vel').reward_fn(True)
  return VirtualEnv(model, policy, reward_fn, seeding.philox_state(3, "virtual_env"), horizon=50), model, policy, normalizers


def test_batched_virtual_rollout_equals_each_member_alone():
  n_members, rng = 3, np.random.default_rng(4)
  batched, model, policy, normalizers = _virtual_env(n_members)
  for variable in [*model.variables_to_train, *policy.variables_to_train[:-1]]:
    variable.assign(variable + rng.normal(0, 0.05, variable.shape).astype(np.float32))
  normalizers.update(*(rng.normal(size=(n_members, 100, d)) for d in (OBS, ACT, OBS)))
  initial = rng.normal(size=(n_members, 4, OBS)).astype(np.float32)
  pool = rng.normal(size=(n_members, 10, OBS)).astype(np.float32)
  tasks = np.array([[0.5], [1.0], [1.7]], np.float32)
  together = batched.rollout(initial, pool, tasks)
  assert together['reward'].shape == (n_members, 50, 4)
  for m in range(n_members):
    alone_env, alone_model, alone_policy, alone_normalizers = _virtual_env(1)
    for module, source in ((alone_model, model), (alone_policy, policy), (alone_normalizers, normalizers)):
      for own, stacked in zip(module.variables, source.variables):
        own.assign(stacked[m:m + 1] if stacked.shape.rank else stacked)
    alone = alone_env.rollout(initial[m:m + 1], pool[m:m + 1], tasks[m:m + 1])
    for key in ('state', 'action', 'reward'):
      np.testing.assert_allclose(together[key][m].numpy(), alone[key][0].numpy(), rtol=1e-4,
                                 atol=1e-4)
