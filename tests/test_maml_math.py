"""MAML's numerical kernels against slow, obviously-correct versions on tiny cases."""
import numpy as np
import pytest
import tensorflow as tf

from maml_tf import advantages
from maml_tf import functional_policy as fp
from maml_tf.meta_learner import MAMLLearner

T, N, OBS, ACT = 3, 7, 2, 2


def _data(rng, n_tasks=T):
  return {'obs': tf.constant(rng.normal(size=(n_tasks, N, OBS)), tf.float32),
          'actions': tf.constant(rng.normal(size=(n_tasks, N, ACT)), tf.float32),
          'advantages': tf.constant(rng.normal(size=(n_tasks, N)), tf.float32),
          'mask': tf.constant(np.r_[np.ones(N - 2), 0, 1][None].repeat(n_tasks, 0), tf.float32)}


@pytest.fixture
def learner():
  return MAMLLearner(OBS, ACT, seed=3, hidden_sizes=(4,), init_std=0.7, inner_lr=0.3)


def _slow_log_prob(params, obs, actions):
  """One task, unbatched, written out by hand: log pi(a_i | s_i) [N]."""
  hidden = tf.nn.relu(tf.matmul(obs, params[0]) + params[1])
  mean = tf.matmul(hidden, params[2]) + params[3]
  std = tf.exp(params[4])
  return tf.reduce_sum(-0.5 * ((actions - mean) / std) ** 2 - tf.math.log(std)
                       - 0.5 * np.log(2 * np.pi), axis=-1)


def _slow_loss(params, obs, actions, adv, mask):
  """-sum_i mask_i log pi(a_i|s_i) adv_i / sum mask."""
  log_prob = _slow_log_prob(params, obs, actions)
  return -tf.reduce_sum(log_prob * adv * mask) / tf.reduce_sum(mask)


def _slow_adapt(theta, data, t, lr):
  with tf.GradientTape() as tape:
    tape.watch(theta)
    loss = _slow_loss(theta, data['obs'][t], data['actions'][t], data['advantages'][t],
                      data['mask'][t])
  return [p - lr * g for p, g in zip(theta, tape.gradient(loss, theta))]


def test_inner_step_matches_a_per_task_loop(learner):
  data = _data(np.random.default_rng(0))
  theta = [tf.convert_to_tensor(p) for p in learner.params]
  batched = learner.adapted_params(fp.tile(theta, T), data, tf.constant(0.3))
  for t in range(T):
    for fast, slow in zip(batched, _slow_adapt(theta, data, t, 0.3)):
      np.testing.assert_allclose(fast[t].numpy(), slow.numpy(), rtol=1e-5, atol=1e-6)


def test_meta_gradient_matches_nested_tapes_task_by_task(learner):
  rng = np.random.default_rng(1)
  pre, post = _data(rng), _data(rng)
  theta = [tf.convert_to_tensor(p) for p in learner.params]
  old = learner.adapted_params(fp.tile(theta, T), pre, tf.constant(0.3))
  old_log_prob = fp.log_prob(old, post['obs'], post['actions'])
  compiled = tf.function(learner.meta_gradient)(theta, pre, post, old_log_prob)

  with tf.GradientTape() as tape:
    tape.watch(theta)
    total = 0.0
    for t in range(T):
      fast = _slow_adapt(theta, pre, t, 0.3)
      ratios = tf.exp(_slow_log_prob(fast, post['obs'][t], post['actions'][t]) - old_log_prob[t])
      weights = post['advantages'][t] * post['mask'][t]
      total += tf.reduce_sum(ratios * weights) / tf.reduce_sum(post['mask'][t]) / T
  slow = fp.flatten(tape.gradient(total, theta))
  np.testing.assert_allclose(compiled.numpy(), slow.numpy(), rtol=1e-4, atol=1e-6)


def test_kl_hessian_vector_product_matches_the_explicit_hessian(learner):
  rng = np.random.default_rng(2)
  pre, post = _data(rng), _data(rng)
  theta = [tf.convert_to_tensor(p) for p in learner.params]
  flat = fp.flatten(theta)
  old = learner.adapted_params(fp.tile(theta, T), pre, tf.constant(learner.inner_lr))
  old_mean, old_log_std = fp.mean_and_log_std(old, post['obs'])

  def kl_of(vector):
    params = fp.unflatten(vector, theta)
    return learner.mean_kl(learner.adapt(fp.tile(params, T), pre, learner.inner_lr), post,
                           old_mean, old_log_std)

  with tf.GradientTape() as outer:
    outer.watch(flat)
    with tf.GradientTape() as inner:
      inner.watch(flat)
      kl = kl_of(flat)
    grad = inner.gradient(kl, flat)
  hessian = outer.jacobian(grad, flat).numpy()
  assert np.allclose(hessian, hessian.T, atol=1e-5)
  hvp = tf.function(learner.kl_hessian_vector_product)
  for _ in range(3):
    v = rng.normal(size=flat.shape[0]).astype(np.float32)
    product = hvp(theta, pre, post, tf.constant(v)).numpy() - learner.cg_damping * v
    np.testing.assert_allclose(product, hessian @ v, rtol=1e-3, atol=1e-5)


def test_maml_rl_finite_differences_approach_the_exact_product_for_short_vectors(learner):
  rng = np.random.default_rng(5)
  pre, post = _data(rng), _data(rng)
  theta = [tf.convert_to_tensor(p) for p in learner.params]
  old = learner.adapted_params(fp.tile(theta, T), pre, tf.constant(learner.inner_lr))
  old_mean, old_log_std = fp.mean_and_log_std(old, post['obs'])
  exact = tf.function(learner.kl_hessian_vector_product)
  secant = tf.function(learner.finite_difference_product)
  short = tf.constant(1e-2 * rng.normal(size=fp.flatten(theta).shape[0]), tf.float32)
  np.testing.assert_allclose(secant(theta, pre, post, old_mean, old_log_std, short).numpy(),
                             exact(theta, pre, post, short).numpy(), rtol=0.05, atol=1e-5)
  # A vector as long as theta: the step is |v| / |theta| = 1 and the secant is not the Hessian.
  long = short * (tf.norm(fp.flatten(theta)) / tf.norm(short))
  far = secant(theta, pre, post, old_mean, old_log_std, long).numpy()
  assert not np.allclose(far, exact(theta, pre, post, long).numpy(), rtol=0.05)


def test_meta_update_with_maml_rl_finite_differences_keeps_theta_finite():
  """On this tiny net |theta| is 2.4 and the meta-gradient's norm 13, so the secant's steps leave
  the region where the KL is finite: the step must be rejected, not written (maml_rl: rejected)."""
  learner = MAMLLearner(OBS, ACT, seed=3, hidden_sizes=(4,), init_std=0.7, inner_lr=0.3,
                        hessian_vector_product='maml_rl_finite_difference')
  rng = np.random.default_rng(6)
  for _ in range(3):
    before = fp.flatten(learner.params).numpy()
    stats = learner.meta_update(_data(rng), _data(rng))
    after = fp.flatten(learner.params).numpy()
    assert np.all(np.isfinite(after))
    if bool(stats['accepted']):
      assert float(stats['kl']) <= learner.max_kl + 1e-6
    else:
      np.testing.assert_array_equal(before, after)
  assert learner.meta_update.experimental_get_tracing_count() == 1
  with pytest.raises(ValueError, match='hessian_vector_product'):
    MAMLLearner(OBS, ACT, seed=3, hessian_vector_product='perlmutter')


def test_meta_update_respects_the_kl_bound_and_traces_once(learner):
  rng = np.random.default_rng(4)
  for _ in range(3):
    pre, post = _data(rng), _data(rng)
    before = fp.flatten(learner.params).numpy()
    stats = learner.meta_update(pre, post)
    if bool(stats['accepted']):
      assert float(stats['kl']) <= learner.max_kl + 1e-6
      assert float(stats['surrogate_after']) > float(stats['surrogate_before'])
      assert not np.allclose(before, fp.flatten(learner.params).numpy())
    else:
      np.testing.assert_array_equal(before, fp.flatten(learner.params).numpy())
  assert learner.meta_update.experimental_get_tracing_count() == 1


def test_per_task_normalization():
  rng = np.random.default_rng(5)
  values = tf.constant(rng.normal(size=(2, 5)), tf.float32)
  mask = tf.constant([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], tf.float32)
  normalized = advantages.normalize_per_task(values, mask).numpy()
  for t, n in ((0, 3), (1, 5)):
    kept = values.numpy()[t, :n]
    np.testing.assert_allclose(normalized[t, :n], (kept - kept.mean()) / (kept.std() + 1e-8),
                               rtol=1e-4, atol=1e-5)
    assert np.all(normalized[t, n:] == 0)


def test_kl_is_pooled_over_all_post_update_samples():
  """maml_npo: reduce_mean(concat(per-sample KLs of all tasks)), not a mean of task means.

  A linear policy with zero weights: task 0's mean moves by 1 (KL 1/2 per sample, 3 real
  samples), task 1's by 2 (KL 2, 1 real sample): pooled (3 * 0.5 + 2) / 4 = 0.875
  (the mean of task means would be 1.25).
  """
  n_tasks, n, obs_dim = 2, 4, 3
  post = {'obs': tf.ones((n_tasks, n, obs_dim)),
          'mask': tf.constant([[1, 1, 1, 0], [0, 1, 0, 0]], tf.float32)}
  weights = tf.zeros((n_tasks, obs_dim, 1))
  adapted = [weights, tf.constant([[1.0], [2.0]]), tf.zeros((n_tasks, 1))]
  old_mean, old_log_std = tf.zeros((n_tasks, n, 1)), tf.zeros((n_tasks, 1, 1))
  kl = MAMLLearner.mean_kl(adapted, post, old_mean, old_log_std)
  np.testing.assert_allclose(kl.numpy(), 0.875, rtol=1e-6)
