"""MAML's linear feature baseline against numpy least squares."""
import numpy as np
import tensorflow as tf

from maml_tf import linear_baseline


def test_features_match_the_rllab_definition():
  states = np.array([[[0.5, -20.0]]], np.float32)
  rows = linear_baseline.features(tf.constant(states), tf.constant([[50]])).numpy()[0, 0]
  np.testing.assert_allclose(rows, [0.5, -10.0, 0.25, 100.0, 0.5, 0.25, 0.125, 1.0], rtol=1e-6)


def test_fit_matches_least_squares_per_task_and_ignores_padding():
  rng = np.random.default_rng(0)
  tasks, n, f = 3, 60, 5
  rows = rng.normal(size=(tasks, n, f))
  returns = rng.normal(size=(tasks, n))
  mask = np.ones((tasks, n))
  mask[1, 40:] = 0.0  # task 1 has only 40 real samples
  returns[1, 40:] = 1e6  # padding must not matter
  coefficients = linear_baseline.fit(tf.constant(rows), tf.constant(returns), tf.constant(mask),
                                     reg_coeff=0.0).numpy()
  for task, count in ((0, n), (1, 40), (2, n)):
    expected, *_ = np.linalg.lstsq(rows[task, :count], returns[task, :count], rcond=None)
    np.testing.assert_allclose(coefficients[task], expected, rtol=1e-6, atol=1e-8)
  predicted = linear_baseline.predict(tf.constant(coefficients), tf.constant(rows)).numpy()
  np.testing.assert_allclose(predicted[0], rows[0] @ coefficients[0], rtol=1e-10)


def test_singular_problem_still_gives_finite_coefficients():
  rows = np.zeros((1, 10, 3))
  coefficients = linear_baseline.fit(tf.constant(rows), tf.constant(np.ones((1, 10))),
                                     tf.constant(np.ones((1, 10))), reg_coeff=1e-5).numpy()
  assert np.all(np.isfinite(coefficients))
