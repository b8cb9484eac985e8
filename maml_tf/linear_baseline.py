"""maml_rl's linear feature baseline, refit per task, batched over tasks.

Features of a state at time step t of its episode (rllab LinearFeatureBaseline):
  [clip(s, -10, 10), clip(s, -10, 10)^2, u, u^2, u^3, 1] with u = t / 100.
Each task's coefficients solve the ridge-regularized least-squares problem
  min_c |F c - R|^2 + reg |c|^2  on that task's (features, discounted returns);
if the solution is not finite the regularizer grows x10 (up to 5 times), as rllab does.
"""
import tensorflow as tf


def features(states: tf.Tensor, time_steps: tf.Tensor) -> tf.Tensor:
  """states [..., d], time_steps [...] (int) -> features [..., 2 d + 4]."""
  clipped = tf.clip_by_value(states, -10.0, 10.0)
  u = tf.cast(time_steps, states.dtype)[..., None] / 100.0
  return tf.concat([clipped, tf.square(clipped), u, u**2, u**3, tf.ones_like(u)], axis=-1)


def fit(feature_rows: tf.Tensor, returns: tf.Tensor, mask: tf.Tensor,
        reg_coeff: float = 1e-5) -> tf.Tensor:
  """Per-task ridge regression.

  Args:
    feature_rows: [tasks, N, F] features of every sample of each task.
    returns: [tasks, N] discounted returns-to-go.
    mask: [tasks, N] 1 for real samples, 0 for padding.
    reg_coeff: initial ridge coefficient.

  Returns:
    coefficients [tasks, F].
  """
  weighted = feature_rows * mask[..., None]
  gram = tf.linalg.matmul(weighted, feature_rows, transpose_a=True)           # [tasks, F, F]
  target = tf.linalg.matvec(weighted, returns, transpose_a=True)             # [tasks, F]
  eye = tf.eye(tf.shape(gram)[-1], dtype=gram.dtype)
  coefficients = tf.zeros_like(target)
  solved = tf.zeros(tf.shape(target)[:1], tf.bool)
  for attempt in range(5):
    candidate = tf.linalg.solve(gram + reg_coeff * 10.0**attempt * eye, target[..., None])[..., 0]
    finite = tf.reduce_all(tf.math.is_finite(candidate), axis=-1)
    take = tf.logical_and(finite, tf.logical_not(solved))
    coefficients = tf.where(take[:, None], candidate, coefficients)
    solved = tf.logical_or(solved, finite)
  return coefficients


def predict(coefficients: tf.Tensor, feature_rows: tf.Tensor) -> tf.Tensor:
  """coefficients [tasks, F], feature_rows [tasks, N, F] -> baseline values [tasks, N]."""
  return tf.linalg.matvec(feature_rows, coefficients)
