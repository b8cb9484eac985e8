"""The k-step prediction loss (paper Eq. 4, as SLBO computes it) and its Adam trainer."""
from typing import Callable, Dict

import gin
import numpy as np
import tensorflow as tf

gin.external_configurable(tf.keras.optimizers.Adam, module='tf.keras.optimizers')


def multi_step_loss(model_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor], diff_std: tf.Tensor,
                    states: tf.Tensor, actions: tf.Tensor, next_states: tf.Tensor,
                    masks: tf.Tensor) -> tf.Tensor:
  """Mean over the batch of the k-step loss.

  The model is rolled out from the true state for k steps. Step i compares the
  predicted delta (model(s_hat_i, a_i) - s_hat_i) with the true delta
  (s_{i+1} - s_i), divided by the diff normalizer's std, and takes the RMS over
  state dimensions; the k per-step errors are averaged. After a step whose
  transition ended an episode or a collection batch (mask 0) the rollout
  restarts from the true next state, so no prediction is carried across.

  Args:
    model_fn: (states [B, d], actions [B, a]) -> next states [B, d].
    diff_std: [d] std of state deltas.
    states, next_states: [k, B, d]; actions: [k, B, a]; masks: [k, B] (1 = episode continues).

  Returns:
    Scalar loss.
  """
  k = states.shape[0]
  scale = tf.maximum(diff_std, 1e-6)
  current = states[0]
  per_step = []
  for i in range(k):
    predicted = model_fn(current, actions[i])
    error = ((predicted - current) - (next_states[i] - states[i])) / scale
    per_step.append(tf.sqrt(tf.reduce_mean(tf.square(error), axis=-1)))
    if i < k - 1:
      current = states[i + 1] + masks[i][:, None] * (predicted - states[i + 1])
  return tf.reduce_mean(tf.add_n(per_step) / k)


@gin.configurable
class ModelTrainer(tf.Module):
  """Runs blocks of Adam steps on the k-step loss as one compiled call.

  Args:
    model: a DynamicsModel.
    learning_rate: Adam learning rate (paper 1e-3).
    weight_decay: coefficient of sum(w^2)/2 over all model parameters (SLBO 1e-5).
    max_grad_norm: global-norm gradient clip (SLBO 2.0).
    jit_compile: compile the block of Adam steps with XLA (measured ~1.5x faster on CPU).
  """

  def __init__(self, model, learning_rate: float = 1e-3, weight_decay: float = 1e-5,
               max_grad_norm: float = 2.0, jit_compile: bool = True):
    super().__init__(name='model_trainer')
    self.model = model
    self.weight_decay = weight_decay
    self.max_grad_norm = max_grad_norm
    self.optimizer = tf.keras.optimizers.Adam(learning_rate)
    self.optimizer.build(model.variables_to_train)
    self.train = tf.function(self._train, jit_compile=jit_compile)

  def loss(self, states, actions, next_states, masks) -> tf.Tensor:
    return multi_step_loss(self.model, self.model.normalizers.diff.std, states, actions,
                           next_states, masks)

  def _train(self, states, actions, next_states, masks) -> Dict[str, tf.Tensor]:
    """One Adam step per leading index.

    Args:
      states, next_states: [n_steps, k, B, d]; actions: [n_steps, k, B, a]; masks: [n_steps, k, B].

    Returns:
      {'loss': mean k-step loss over the steps, 'grad_norm': mean pre-clip gradient norm}.
    """
    variables = self.model.variables_to_train
    n_steps = tf.shape(states)[0]
    total_loss = tf.constant(0.0)
    total_norm = tf.constant(0.0)
    for step in tf.range(n_steps):
      with tf.GradientTape() as tape:
        loss = self.loss(states[step], actions[step], next_states[step], masks[step])
        regularizer = self.weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in variables])
        objective = loss + regularizer
      grads = tape.gradient(objective, variables)
      clipped, norm = tf.clip_by_global_norm(grads, self.max_grad_norm)
      self.optimizer.apply_gradients(zip(clipped, variables))
      total_loss += loss
      total_norm += norm
    n = tf.cast(n_steps, tf.float32)
    return {'loss': total_loss / n, 'grad_norm': total_norm / n}

  @tf.function
  def evaluate(self, states, actions, next_states, masks) -> tf.Tensor:
    """k-step loss of one batch ([k, B, ...]) without updating."""
    return self.loss(states, actions, next_states, masks)


def check_finite(stats: Dict[str, tf.Tensor], what: str) -> Dict[str, float]:
  """Converts stats to floats, raising a clear error on NaN/inf (training diverged)."""
  values = {key: float(value) for key, value in stats.items()}
  bad = {key: value for key, value in values.items() if not np.isfinite(value)}
  if bad:
    raise FloatingPointError(
        f'{what} produced non-finite values {bad}. Training diverged: lower the learning rate '
        f'or check the data (the run directory keeps the last good checkpoint).')
  return values
