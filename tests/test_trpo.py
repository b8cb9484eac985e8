"""TRPO kernels: conjugate gradient, exact Fisher-vector products, KL bound, GAE."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from smtl_tf.slbo import gae
from smtl_tf.slbo.normalizer import Normalizer
from smtl_tf.slbo.policy import GaussianPolicy
from smtl_tf.slbo.trpo import TRPO, conjugate_gradient, flatten, flatten_members
from smtl_tf.slbo.value_function import ValueFunction

tfd = tfp.distributions


def test_conjugate_gradient_solves_small_spd_system():
  rng = np.random.default_rng(0)
  m = rng.normal(size=(8, 8))
  a = m @ m.T + 8 * np.eye(8)
  b = rng.normal(size=8)
  # Two members: a different system each, solved side by side.
  matrices = tf.constant(np.stack([a, a + 4 * np.eye(8)]), tf.float32)
  rhs = np.stack([b, -2 * b])
  x = conjugate_gradient(lambda v: tf.linalg.matvec(matrices, v), tf.constant(rhs, tf.float32), 10)
  np.testing.assert_allclose(x.numpy()[0], np.linalg.solve(a, b), rtol=1e-3, atol=1e-4)
  np.testing.assert_allclose(x.numpy()[1], np.linalg.solve(a + 4 * np.eye(8), -2 * b), rtol=1e-3,
                             atol=1e-4)


def _tiny_policy(seed=0, obs_dim=3, act_dim=2, n_members=1):
  rng = np.random.default_rng(seed)
  normalizer = Normalizer(obs_dim, n_members)
  policy = GaussianPolicy(obs_dim, act_dim, normalizer, rng, seed, hidden_sizes=(4,),
                          init_std=0.7)
  # Move the output layer away from its tiny init so every parameter matters.
  policy.net.kernels[-1].assign(rng.normal(size=policy.net.kernels[-1].shape).astype(np.float32))
  return policy, ValueFunction(obs_dim, normalizer, rng, hidden_sizes=(8,))


def test_fisher_vector_product_equals_explicit_fisher_matrix():
  policy, value_fn = _tiny_policy()
  trpo = TRPO(policy, value_fn, cg_damping=0.0)
  states = tf.constant(np.random.default_rng(1).normal(size=(1, 7, 3)), tf.float32)
  variables = policy.variables_to_train
  # For a diagonal Gaussian, F = mean_s J(s)^T diag(1/sigma^2, 2) J(s), where J is the
  # Jacobian of (mean(s), log_std) with respect to the parameters.
  with tf.GradientTape(persistent=True) as tape:
    mean, _ = policy.mean_and_std(states)
    outputs = tf.concat([mean[0], tf.tile(policy.log_std, [7, 1])], axis=1)  # [7, 4]
  jacobians = tape.jacobian(outputs, variables, experimental_use_pfor=False)
  jacobian = tf.concat([tf.reshape(j, [7, 4, -1]) for j in jacobians], axis=2).numpy()
  std = np.exp(policy.log_std.numpy()[0])
  metric = np.diag(np.concatenate([1 / std**2, [2.0, 2.0]]))
  fisher = np.mean([j.T @ metric @ j for j in jacobian], axis=0)
  vector = np.random.default_rng(2).normal(size=fisher.shape[0]).astype(np.float32)
  product = trpo.fisher_vector_product(states, tf.constant(vector[None])).numpy()[0]
  np.testing.assert_allclose(product, fisher @ vector, rtol=1e-4, atol=1e-5)


def test_fisher_vector_product_equals_double_backprop_of_the_kl():
  # SLBO's definition: the Hessian-vector product of the mean KL(old || new) at new = old.
  policy, value_fn = _tiny_policy(n_members=2)
  trpo = TRPO(policy, value_fn, cg_damping=0.1)
  states = tf.constant(np.random.default_rng(1).normal(size=(2, 9, 3)), tf.float32)
  variables = policy.variables_to_train
  vector = tf.constant(np.random.default_rng(2).normal(
      size=(2, sum(v.shape[1:].num_elements() for v in variables))), tf.float32)
  old_mean, old_std = (tf.stop_gradient(t) for t in policy.mean_and_std(states))
  with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
      mean, std = policy.mean_and_std(states)
      kl = tf.reduce_sum(tf.reduce_mean(tf.reduce_sum(
          tfd.kl_divergence(tfd.Normal(old_mean, old_std), tfd.Normal(mean, std)), -1), -1))
    grad_dot_vector = tf.reduce_sum(flatten_members(inner.gradient(kl, variables)) * vector)
  hessian_vector = flatten_members(outer.gradient(grad_dot_vector, variables)) + 0.1 * vector
  np.testing.assert_allclose(trpo.fisher_vector_product(states, vector).numpy(),
                             hessian_vector.numpy(), rtol=1e-4, atol=1e-5)


def test_accepted_trpo_step_keeps_kl_within_bound():
  policy, value_fn = _tiny_policy(seed=3)
  trpo = TRPO(policy, value_fn, max_kl=0.01)
  rng = np.random.default_rng(4)
  n = 256
  states = tf.constant(rng.normal(size=(1, n, 3)), tf.float32)
  actions = policy.sample(states)
  advantages = tf.constant(rng.normal(size=(1, n)) + actions.numpy()[..., 0], tf.float32)
  old_mean, old_std = policy.mean_and_std(states)
  old_params = flatten(policy.variables_to_train).numpy()
  permutations = np.stack([rng.permutation(n) for _ in range(5)])[None].astype(np.int32)
  stats = trpo.update(states, actions, advantages, advantages, permutations)
  assert bool(stats['accepted'][0])
  new_mean, new_std = policy.mean_and_std(states)
  normal = tfp.distributions.Normal
  kl = tf.reduce_mean(tf.reduce_sum(normal(old_mean, old_std).kl_divergence(normal(new_mean, new_std)), -1))
  assert 0.0 < float(kl) <= 1.5 * 0.01
  assert float(kl) == pytest.approx(float(stats['kl'][0]), rel=1e-4)
  assert not np.allclose(flatten(policy.variables_to_train).numpy(), old_params)


def test_gae_matches_hand_example():
  # gamma 0.9, lambda 0.8; a timeout at t=1 bootstraps from V(s'_1) but stops the trace;
  # the episode ends (done) at t=2, so V(s'_2) is not used.
  rewards = tf.constant([[[1.0], [1.0], [1.0]]])  # [M=1, T=3, n=1]
  values = tf.constant([[[0.5], [0.5], [0.5]]])
  next_values = tf.constant([[[0.5], [0.5], [2.0]]])
  dones = tf.constant([[[False], [False], [True]]])
  timeouts = tf.constant([[[False], [True], [False]]])
  advantages = gae.gae(rewards, values, next_values, dones, timeouts, 0.9, 0.8).numpy()[0, :, 0]
  np.testing.assert_allclose(advantages, [0.95 + 0.72 * 0.95, 0.95, 0.5], rtol=1e-6)


def test_batched_trpo_update_equals_updating_each_member_alone():
  n_members, n = 3, 256
  batched_policy, batched_value = _tiny_policy(seed=3, n_members=n_members)
  trpo = TRPO(batched_policy, batched_value, max_kl=0.01)
  rng = np.random.default_rng(7)
  # Different weights, data and advantages per member.
  for variable in [*batched_policy.variables_to_train, *batched_value.variables_to_train]:
    variable.assign(variable + rng.normal(size=variable.shape).astype(np.float32) * 0.3)
  states = rng.normal(size=(n_members, n, 3)).astype(np.float32)
  actions = batched_policy.sample(tf.constant(states)).numpy()
  advantages = (rng.normal(size=(n_members, n)) + actions[..., 0]).astype(np.float32)
  returns = rng.normal(size=(n_members, n)).astype(np.float32)
  permutations = np.stack([[rng.permutation(n) for _ in range(5)] for _ in range(n_members)])
  singles = []
  for m in range(n_members):
    policy, value_fn = _tiny_policy(seed=3)
    for own, stacked in zip([*policy.variables_to_train, *value_fn.variables_to_train],
                            [*batched_policy.variables_to_train, *batched_value.variables_to_train]):
      own.assign(stacked[m:m + 1])
    singles.append((policy, value_fn, TRPO(policy, value_fn, max_kl=0.01)))
  stats = trpo.update(states, actions, advantages, returns, permutations.astype(np.int32))
  assert stats['accepted'].numpy().all()
  for m, (policy, value_fn, alone) in enumerate(singles):
    own = alone.update(states[m:m + 1], actions[m:m + 1], advantages[m:m + 1], returns[m:m + 1],
                       permutations[m:m + 1].astype(np.int32))
    for key in ('kl', 'improvement', 'vf_loss', 'entropy'):
      np.testing.assert_allclose(stats[key][m], own[key][0], rtol=1e-2, atol=1e-5)
    assert int(stats['line_search_steps'][m]) == int(own['line_search_steps'][0])
    for stacked, variable in zip([*batched_policy.variables_to_train, *batched_value.variables_to_train],
                                 [*policy.variables_to_train, *value_fn.variables_to_train]):
      # CG and 310 Adam steps amplify the rounding differences of batched vs plain matmuls.
      np.testing.assert_allclose(stacked[m:m + 1].numpy(), variable.numpy(), rtol=1e-2, atol=1e-3)


def _update_inputs(policy, seed=4, n=128, n_members=1):
  rng = np.random.default_rng(seed)
  states = tf.constant(rng.normal(size=(n_members, n, 3)), tf.float32)
  actions = policy.sample(states)
  advantages = tf.constant(rng.normal(size=(n_members, n)), tf.float32)
  permutations = np.stack([[rng.permutation(n) for _ in range(5)]
                           for _ in range(n_members)]).astype(np.int32)
  return states, actions, advantages, advantages, permutations


def test_value_fit_adam_has_tf1_epsilon_and_resets_to_a_fresh_state():
  policy, value_fn = _tiny_policy(seed=3)
  trpo = TRPO(policy, value_fn, vf_learning_rate=2e-3)
  optimizer = trpo.vf_optimizer
  assert optimizer.epsilon == 1e-8
  trpo.update(*_update_inputs(policy))
  assert int(optimizer.iterations) == 5 * (128 // 64)
  state = [v for v in optimizer.variables if v is not optimizer.learning_rate]
  assert all(np.any(v.numpy() != 0) for v in state)
  weights = [v.numpy() for v in value_fn.variables]
  trpo.reset_value_fit_optimizer()
  assert all(np.all(v.numpy() == 0) for v in state)
  assert float(optimizer.learning_rate) == pytest.approx(2e-3)
  for variable, value in zip(value_fn.variables, weights):
    np.testing.assert_array_equal(variable.numpy(), value)


def test_entropy_coefficient_assigned_after_tracing_changes_the_update():
  inputs = _update_inputs(_tiny_policy(seed=3)[0])

  def second_step(ent_coef: float, assigned: float) -> np.ndarray:
    """The policy after an update with `assigned`, made after a first (tracing) update."""
    policy, value_fn = _tiny_policy(seed=3)
    trpo = TRPO(policy, value_fn, ent_coef=ent_coef)
    trpo.update(*inputs)
    for own, initial in zip(policy.variables_to_train, _tiny_policy(seed=3)[0].variables_to_train):
      own.assign(initial)
    trpo.ent_coef.assign(assigned)
    trpo.update(*inputs)
    return flatten(policy.variables_to_train).numpy()

  switched_off = second_step(0.5, 0.0)
  np.testing.assert_allclose(switched_off, second_step(0.0, 0.0), rtol=1e-5, atol=1e-6)
  assert not np.allclose(switched_off, second_step(0.5, 0.5), rtol=1e-3, atol=1e-4)
