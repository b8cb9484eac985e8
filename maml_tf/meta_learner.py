"""MAML-TRPO (Finn et al. 2017) as maml_rl runs it, with exact second-order products.

Inner step, per task t (all policy parameters, log-std included):
  theta'_t = theta - alpha * grad_theta L_t(theta),  L_t = -mean_(s,a) [log pi_theta(a|s) A_t]
on the task's pre-update episodes. Meta-update: TRPO on theta for the post-update
surrogate  mean_t mean_(s,a in task t) [pi_theta'_t(a|s) / pi_old'_t(a|s) A_t]  under the
constraint  mean_(t, s) KL(pi_old'_t(.|s) || pi_theta'_t(.|s)) <= max_kl, both on post-update
episodes, with every derivative taken through the inner step. As in maml_rl's maml_npo.py,
the surrogate averages per-task means (tf.reduce_mean over tasks of each task's mean) while
the KL is pooled over every post-update sample of every task (tf.reduce_mean of the
concatenated per-sample KLs), so tasks with more samples weigh more in the constraint.

The KL's Hessian at the old parameters is exactly J^T F J, where J = d theta' / d theta
and F the Fisher matrix of the post-update policies (the KL's gradient in theta'
vanishes there), so a Hessian-vector product is one forward-mode pass through the
inner step (J v), one Fisher product, and one reverse pass (J^T u). No finite
differences and no third derivatives are needed. maml_rl's own product, symmetric finite
differences of the KL's gradient over a step of 1/|theta| (a secant, not the Hessian at theta),
is kept as an option (hessian_vector_product='maml_rl_finite_difference') to measure what the
difference does.

Data dicts hold obs [T, N, d], actions [T, N, a], advantages and mask [T, N]
(see maml_tf/advantages.py); T = tasks in the meta-batch.
"""
from typing import Dict, List

import gin
import tensorflow as tf

from maml_tf import functional_policy as fp
from maml_tf.advantages import masked_mean
from smtl_tf import seeding
from smtl_tf.slbo.trpo import conjugate_gradient


@gin.configurable
class MAMLLearner(tf.Module):
  """Meta-parameters theta and the compiled inner step and TRPO meta-update.

  Args:
    obs_dim, act_dim: sizes.
    seed: the run's seed: the initial weights draw from stream (seed, 'init'), the action
      sampler from (seed, 'policy_sampling') (smtl_tf.seeding).
    hidden_sizes: policy MLP (paper/maml_rl 100, 100, ReLU).
    init_std: initial action std.
    inner_lr: alpha of the inner policy-gradient step during meta-training (0.1).
    max_kl: TRPO KL bound (0.01).
    n_cg_iters: conjugate-gradient iterations (10).
    cg_damping: added to the Hessian (rllab's reg_coeff 1e-5).
    backtrack_ratio, n_backtracks: line search (rllab 0.8, 15).
    hessian_vector_product: 'exact' (J^T F J v) or 'maml_rl_finite_difference' (maml_rl's
      FiniteDifferenceHvp as its ConjugateGradientOptimizer builds it: base_eps 1, so
      (g(theta + e v) - g(theta - e v)) / 2e with e = 1 / (|theta| + 1e-8), g the KL's gradient).
  """
  HESSIAN_VECTOR_PRODUCTS = ('exact', 'maml_rl_finite_difference')

  def __init__(self, obs_dim: int, act_dim: int, seed: int, hidden_sizes=(100, 100),
               init_std: float = 1.0, inner_lr: float = 0.1, max_kl: float = 0.01,
               n_cg_iters: int = 10, cg_damping: float = 1e-5, backtrack_ratio: float = 0.8,
               n_backtracks: int = 15, hessian_vector_product: str = 'exact'):
    super().__init__(name='maml_learner')
    if hessian_vector_product not in self.HESSIAN_VECTOR_PRODUCTS:
      raise ValueError(f'MAMLLearner.hessian_vector_product = {hessian_vector_product!r} is not '
                       f'one of {self.HESSIAN_VECTOR_PRODUCTS}.')
    self.hessian_vector_product = hessian_vector_product
    rng = seeding.numpy_stream(seed, 'init')
    self.params = [tf.Variable(value, name=f'theta_{i}') for i, value in
                   enumerate(fp.init_params(rng, obs_dim, act_dim, hidden_sizes, init_std))]
    self.generator = tf.random.Generator.from_state(
        seeding.philox_state(seed, 'policy_sampling'), 'philox')
    self.inner_lr, self.max_kl, self.n_cg_iters = inner_lr, max_kl, n_cg_iters
    self.cg_damping, self.backtrack_ratio, self.n_backtracks = cg_damping, backtrack_ratio, n_backtracks

  # --- the inner step -------------------------------------------------------------------------

  @staticmethod
  def inner_loss(params: fp.Params, data: Dict[str, tf.Tensor]) -> tf.Tensor:
    """Per-task policy-gradient losses [T] for batched params."""
    log_prob = fp.log_prob(params, data['obs'], data['actions'])
    return -masked_mean(log_prob * data['advantages'], data['mask'])

  def adapt(self, params: fp.Params, data: Dict[str, tf.Tensor], lr) -> fp.Params:
    """One policy-gradient step per task: batched params -> batched fast weights.

    Differentiable in params (the outer tapes see through the inner gradient).
    """
    with tf.GradientTape() as tape:
      tape.watch(params)
      total = tf.reduce_sum(self.inner_loss(params, data))   # task t's loss depends on params[t] only
    grads = tape.gradient(total, params)
    return [p - lr * g for p, g in zip(params, grads)]

  def _adapt_shared(self, theta: List[tf.Tensor], pre: Dict[str, tf.Tensor]) -> fp.Params:
    return self.adapt(fp.tile(theta, pre['obs'].shape[0]), pre, self.inner_lr)

  @tf.function
  def adapted_params(self, params: fp.Params, data: Dict[str, tf.Tensor], lr) -> fp.Params:
    """Compiled adapt(): fast weights for sampling and test-time adaptation."""
    return self.adapt(params, data, lr)

  def shared_params(self, n_tasks: int) -> fp.Params:
    """theta for each of n_tasks tasks (the pre-update policies)."""
    return fp.tile([tf.convert_to_tensor(p) for p in self.params], n_tasks)

  @tf.function
  def act(self, params: fp.Params, obs: tf.Tensor) -> tf.Tensor:
    """Stochastic actions [T, M, a] for obs [T, M, d] under per-task params."""
    return fp.sample(params, obs, self.generator)

  # --- the meta-objective ---------------------------------------------------------------------

  @staticmethod
  def surrogate(adapted: fp.Params, post: Dict[str, tf.Tensor], old_log_prob) -> tf.Tensor:
    """mean_t mean [ratio * A]: the post-update policies' importance-weighted advantage."""
    ratio = tf.exp(fp.log_prob(adapted, post['obs'], post['actions']) - old_log_prob)
    return tf.reduce_mean(masked_mean(ratio * post['advantages'], post['mask']))

  @staticmethod
  def mean_kl(adapted: fp.Params, post: Dict[str, tf.Tensor], old_mean, old_log_std) -> tf.Tensor:
    """KL(pi_old'_t || pi_adapted_t) averaged over all real post-update samples of all tasks.

    sum_(t, i) mask[t, i] KL[t, i] / sum_(t, i) mask[t, i] (maml_npo: reduce_mean(concat(kls))).
    """
    mean, log_std = fp.mean_and_log_std(adapted, post['obs'])
    kl = fp.gaussian_kl(old_mean, old_log_std, mean, log_std)
    mask = post['mask']
    return tf.reduce_sum(kl * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

  def meta_gradient(self, theta, pre, post, old_log_prob) -> tf.Tensor:
    """d surrogate / d theta through the inner step, flat [P]."""
    with tf.GradientTape() as tape:
      tape.watch(theta)
      value = self.surrogate(self._adapt_shared(theta, pre), post, old_log_prob)
    return fp.flatten(tape.gradient(value, theta))

  def kl_hessian_vector_product(self, theta, pre, post, vector: tf.Tensor) -> tf.Tensor:
    """(H + damping I) v, H = Hessian in theta of mean_kl at theta (= J^T F J). [P] -> [P]."""
    tangents = fp.unflatten(vector, theta)
    with tf.GradientTape() as tape:   # one pass through the inner step serves J v and J^T u
      tape.watch(theta)
      with tf.autodiff.ForwardAccumulator(theta, tangents) as accumulator:
        adapted = self._adapt_shared(theta, pre)
    jv = [accumulator.jvp(a) for a in adapted]
    fast = [tf.stop_gradient(a) for a in adapted]
    old_mean, old_log_std = fp.mean_and_log_std(fast, post['obs'])
    with tf.GradientTape() as outer:
      outer.watch(fast)
      with tf.GradientTape() as inner:
        inner.watch(fast)
        kl = self.mean_kl(fast, post, old_mean, old_log_std)
      grads = inner.gradient(kl, fast)
      grad_dot_jv = tf.add_n([tf.reduce_sum(g * t) for g, t in zip(grads, jv)])
    fisher_jv = outer.gradient(grad_dot_jv, fast)
    jt_fisher_jv = tape.gradient(adapted, theta, output_gradients=fisher_jv)
    return fp.flatten(jt_fisher_jv) + self.cg_damping * vector

  def kl_gradient(self, flat: tf.Tensor, theta, pre, post, old_mean, old_log_std) -> tf.Tensor:
    """d mean_kl / d theta at the flat parameters [P], through the inner step."""
    with tf.GradientTape() as tape:
      tape.watch(flat)
      kl = self.mean_kl(self._adapt_shared(fp.unflatten(flat, theta), pre), post, old_mean,
                        old_log_std)
    return tape.gradient(kl, flat)

  def finite_difference_product(self, theta, pre, post, old_mean, old_log_std,
                                vector: tf.Tensor) -> tf.Tensor:
    """maml_rl's (H + damping I) v: a symmetric secant of the KL's gradient. [P] -> [P]."""
    flat = fp.flatten(theta)
    eps = 1.0 / (tf.norm(flat) + 1e-8)
    plus = self.kl_gradient(flat + eps * vector, theta, pre, post, old_mean, old_log_std)
    minus = self.kl_gradient(flat - eps * vector, theta, pre, post, old_mean, old_log_std)
    return (plus - minus) / (2.0 * eps) + self.cg_damping * vector

  @tf.function
  def meta_update(self, pre: Dict[str, tf.Tensor], post: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """One TRPO step on theta (pre: inner-step data, post: data of the adapted policies).

    Returns scalars: surrogate_before, surrogate_after, kl, backtracks, accepted.
    """
    theta = [tf.convert_to_tensor(p) for p in self.params]
    old_adapted = self._adapt_shared(theta, pre)
    old_mean, old_log_std = fp.mean_and_log_std(old_adapted, post['obs'])
    old_log_prob = fp.gaussian_log_prob(old_mean, old_log_std, post['actions'])
    gain_before = self.surrogate(old_adapted, post, old_log_prob)
    gradient = self.meta_gradient(theta, pre, post, old_log_prob)
    if self.hessian_vector_product == 'exact':
      product = lambda v: self.kl_hessian_vector_product(theta, pre, post, v)
    else:
      product = lambda v: self.finite_difference_product(theta, pre, post, old_mean, old_log_std, v)
    direction = conjugate_gradient(  # one member: vectors [1, P]
        lambda v: product(v[0])[None], gradient[None], self.n_cg_iters)[0]
    curvature = tf.tensordot(direction, product(direction), 1)
    full_step = tf.sqrt(2.0 * self.max_kl / (curvature + 1e-8)) * direction
    old_flat = fp.flatten(theta)

    def evaluate(flat):
      adapted = self._adapt_shared(fp.unflatten(flat, theta), pre)
      return (self.surrogate(adapted, post, old_log_prob),
              self.mean_kl(adapted, post, old_mean, old_log_std))

    def cond(i, accepted, gain, kl):
      return tf.logical_and(i < self.n_backtracks, tf.logical_not(accepted))

    def body(i, accepted, gain, kl):
      gain, kl = evaluate(old_flat + self.backtrack_ratio ** tf.cast(i, tf.float32) * full_step)
      accepted = tf.reduce_all([tf.math.is_finite(gain), tf.math.is_finite(kl),
                                gain > gain_before, kl <= self.max_kl])
      return i + 1, accepted, gain, kl

    n_tried, accepted, gain, kl = tf.while_loop(
        cond, body, (tf.constant(0), tf.constant(False), gain_before, tf.constant(0.0)))
    step = self.backtrack_ratio ** tf.cast(n_tried - 1, tf.float32) * full_step
    new_flat = tf.where(accepted, old_flat + step, old_flat)
    for variable, value in zip(self.params, fp.unflatten(new_flat, theta)):
      variable.assign(value)
    return {'surrogate_before': gain_before,
            'surrogate_after': tf.where(accepted, gain, gain_before),
            'kl': tf.where(accepted, kl, 0.0), 'backtracks': n_tried,
            'accepted': accepted}
