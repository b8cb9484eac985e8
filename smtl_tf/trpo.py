"""TRPO (Schulman et al. 2015) as SLBO runs it, compiled into one tf.function.

One `update` call normalizes advantages, computes the surrogate gradient, solves
F x = g by conjugate gradient with exact Fisher-vector products (double
backprop through the KL), backtracks along x under the KL bound, then fits the
value function.
"""
from typing import Callable, Dict, Sequence

import gin
import tensorflow as tf
import tensorflow_probability as tfp

from smtl_tf.policy import limited_entropy

tfd = tfp.distributions


def flatten(tensors: Sequence[tf.Tensor]) -> tf.Tensor:
  """Concatenates tensors into one vector [P]."""
  return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)


def assign_flat(variables: Sequence[tf.Variable], flat: tf.Tensor) -> None:
  """Writes the vector flat [P] back into the variables (inverse of flatten)."""
  offset = 0
  for v in variables:
    size = v.shape.num_elements()
    v.assign(tf.reshape(flat[offset:offset + size], v.shape))
    offset += size


def conjugate_gradient(matvec: Callable[[tf.Tensor], tf.Tensor], b: tf.Tensor, n_iters: int,
                       residual_tol: float = 1e-10) -> tf.Tensor:
  """Approximately solves A x = b for symmetric positive-definite A; b, x: [P]."""
  def cond(i, x, r, p, r_dot_r):
    return tf.logical_and(i < n_iters, r_dot_r >= residual_tol)

  def body(i, x, r, p, r_dot_r):
    z = matvec(p)
    alpha = r_dot_r / tf.tensordot(p, z, 1)
    x = x + alpha * p
    r = r - alpha * z
    new_r_dot_r = tf.tensordot(r, r, 1)
    p = r + (new_r_dot_r / r_dot_r) * p
    return i + 1, x, r, p, new_r_dot_r

  _, x, _, _, _ = tf.while_loop(
      cond, body, (tf.constant(0), tf.zeros_like(b), b, b, tf.tensordot(b, b, 1)))
  return x


@gin.configurable
class TRPO(tf.Module):
  """Trust-region policy update plus value-function regression.

  Args:
    policy: a GaussianPolicy.
    value_fn: a ValueFunction.
    max_kl: KL bound (0.01).
    n_cg_iters: conjugate-gradient iterations (10).
    cg_damping: damping added to the Fisher matrix (0.1).
    ent_coef: coefficient of SLBO's limited entropy bonus (0.005).
    n_line_search: backtracking halvings (10).
    kl_tolerance: a step is accepted with KL <= kl_tolerance * max_kl (1.5).
    vf_learning_rate, vf_epochs, vf_batch_size: value-function Adam fit (1e-3, 5, 64).
  """

  def __init__(self, policy, value_fn, max_kl: float = 0.01, n_cg_iters: int = 10,
               cg_damping: float = 0.1, ent_coef: float = 0.005, n_line_search: int = 10,
               kl_tolerance: float = 1.5, vf_learning_rate: float = 1e-3, vf_epochs: int = 5,
               vf_batch_size: int = 64):
    super().__init__(name='trpo')
    self.policy = policy
    self.value_fn = value_fn
    self.max_kl = max_kl
    self.n_cg_iters = n_cg_iters
    self.cg_damping = cg_damping
    self.ent_coef = ent_coef
    self.n_line_search = n_line_search
    self.kl_tolerance = kl_tolerance
    self.vf_epochs = vf_epochs
    self.vf_batch_size = vf_batch_size
    self.vf_optimizer = tf.keras.optimizers.Adam(vf_learning_rate)
    self.vf_optimizer.build(value_fn.variables_to_train)

  def _gain_and_kl(self, states, actions, advantages, old_mean, old_std, old_log_prob):
    """Surrogate gain (ratio-weighted advantage + entropy bonus) and mean KL(old || new)."""
    mean, std = self.policy.mean_and_std(states)
    new = tfd.Normal(mean, std)
    log_prob = tf.reduce_sum(new.log_prob(actions), axis=-1)
    ratio = tf.exp(log_prob - old_log_prob)
    entropy = tf.reduce_mean(tf.reduce_sum(limited_entropy(mean, std * tf.ones_like(mean)), -1))
    gain = tf.reduce_mean(ratio * advantages) + self.ent_coef * entropy
    kl = tf.reduce_mean(tf.reduce_sum(
        tfd.kl_divergence(tfd.Normal(old_mean, old_std), new), axis=-1))
    return gain, kl

  def fisher_vector_product(self, states, vector):
    """(F + damping I) v at the current policy; F = Hessian of mean KL(pi_old || pi). [P] -> [P]."""
    variables = self.policy.variables_to_train
    old_mean, old_std = self.policy.mean_and_std(states)
    old = tfd.Normal(tf.stop_gradient(old_mean), tf.stop_gradient(old_std))
    with tf.GradientTape() as outer:
      with tf.GradientTape() as inner:
        mean, std = self.policy.mean_and_std(states)
        kl = tf.reduce_mean(tf.reduce_sum(tfd.kl_divergence(old, tfd.Normal(mean, std)), -1))
      grad = flatten(inner.gradient(kl, variables))
      grad_dot_v = tf.tensordot(grad, vector, 1)
    return flatten(outer.gradient(grad_dot_v, variables)) + self.cg_damping * vector

  def _policy_step(self, states, actions, advantages):
    variables = self.policy.variables_to_train
    old_mean, old_std = self.policy.mean_and_std(states)
    old_mean, old_std = tf.stop_gradient(old_mean), tf.stop_gradient(old_std)
    old_log_prob = tf.reduce_sum(tfd.Normal(old_mean, old_std).log_prob(actions), -1)
    with tf.GradientTape() as tape:
      old_gain, _ = self._gain_and_kl(states, actions, advantages, old_mean, old_std, old_log_prob)
    grad = flatten(tape.gradient(old_gain, variables))

    def no_step():
      return tf.constant(0.0), tf.constant(0.0), tf.constant(0), tf.constant(False)

    def step():
      direction = conjugate_gradient(lambda v: self.fisher_vector_product(states, v), grad,
                                     self.n_cg_iters)
      shs = tf.tensordot(direction, self.fisher_vector_product(states, direction), 1)
      step_size = tf.sqrt(2.0 * self.max_kl / shs)
      old_params = flatten(variables)

      def cond(i, accepted, kl, improvement):
        return tf.logical_and(i < self.n_line_search, tf.logical_not(accepted))

      def body(i, accepted, kl, improvement):
        scale = step_size * tf.pow(0.5, tf.cast(i, tf.float32))
        assign_flat(variables, old_params + scale * direction)
        gain, kl = self._gain_and_kl(states, actions, advantages, old_mean, old_std, old_log_prob)
        improvement = gain - old_gain
        accepted = tf.reduce_all([tf.math.is_finite(gain), tf.math.is_finite(kl),
                                  kl <= self.kl_tolerance * self.max_kl, improvement >= 0.0])
        return i + 1, accepted, kl, improvement

      n_tried, accepted, kl, improvement = tf.while_loop(
          cond, body, (tf.constant(0), tf.constant(False), tf.constant(0.0), tf.constant(0.0)))
      def restore():
        assign_flat(variables, old_params)
        return tf.constant(0.0), tf.constant(0.0)

      kl, improvement = tf.cond(accepted, lambda: (kl, improvement), restore)
      return kl, improvement, n_tried, accepted

    is_zero = tf.reduce_all(tf.abs(grad) <= 1e-8)
    return tf.cond(is_zero, no_step, step)

  def _fit_value_function(self, states, returns, permutations):
    variables = self.value_fn.variables_to_train
    n_batches = tf.shape(permutations)[1] // self.vf_batch_size
    for epoch in tf.range(tf.shape(permutations)[0]):
      for b in tf.range(n_batches):
        index = permutations[epoch, b * self.vf_batch_size:(b + 1) * self.vf_batch_size]
        with tf.GradientTape() as tape:
          loss = tf.reduce_mean(tf.square(self.value_fn(tf.gather(states, index))
                                          - tf.gather(returns, index)))
        grads = tape.gradient(loss, variables)
        self.vf_optimizer.apply_gradients(zip(grads, variables))
    return tf.reduce_mean(tf.square(self.value_fn(states) - returns))

  @tf.function
  def update(self, states, actions, advantages, returns, vf_permutations) -> Dict[str, tf.Tensor]:
    """One TRPO iteration on a batch.

    Args:
      states: [N, obs_dim]; actions: [N, act_dim]; advantages, returns: [N] (GAE, unnormalized).
      vf_permutations: [vf_epochs, N] int32 shuffles for the value-function minibatches.

    Returns:
      Scalars: kl, improvement, line_search_steps, accepted, entropy, policy_std, vf_loss.
    """
    advantages = (advantages - tf.reduce_mean(advantages)) / tf.maximum(
        tf.math.reduce_std(advantages), 1e-8)
    kl, improvement, n_tried, accepted = self._policy_step(states, actions, advantages)
    vf_loss = self._fit_value_function(states, returns, vf_permutations)
    mean, std = self.policy.mean_and_std(states)
    entropy = tf.reduce_mean(tf.reduce_sum(tfd.Normal(mean, std).entropy(), -1))
    return {'kl': kl, 'improvement': improvement, 'line_search_steps': n_tried,
            'accepted': accepted, 'entropy': entropy, 'policy_std': tf.reduce_mean(std),
            'vf_loss': vf_loss}
