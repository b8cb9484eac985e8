"""Running normalizer: merging batches equals numpy statistics of their concatenation."""
import numpy as np
import tensorflow as tf

from smtl_tf.slbo.normalizer import Normalizer


def test_merge_equals_numpy_on_concatenation():
  rng = np.random.default_rng(0)
  batches = [rng.normal(3.0, 2.0, (n, 4)) * [1, 10, 0.1, 1] for n in (7, 100, 1, 33)]
  normalizer = Normalizer(4, n_members=2)
  for batch in batches:
    normalizer.update(np.stack([batch, 2.0 * batch + 1.0]))  # member 1 sees other numbers
  everything = np.concatenate(batches)
  for member, data in enumerate((everything, 2.0 * everything + 1.0)):
    np.testing.assert_allclose(normalizer.mean.numpy()[member], data.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(normalizer.std.numpy()[member], data.std(0), rtol=1e-5)
  np.testing.assert_array_equal(normalizer.count.numpy(), [len(everything)] * 2)


def test_normalize_and_inverse_round_trip():
  normalizer = Normalizer(2)
  normalizer.update(np.array([[[0.0, 10.0], [2.0, 30.0]]]))
  x = tf.constant([[[1.0, 20.0], [3.0, 40.0]]])
  np.testing.assert_allclose(normalizer(x).numpy(), [[[0.0, 0.0], [2.0, 2.0]]], atol=1e-6)
  np.testing.assert_allclose(normalizer.inverse(normalizer(x)).numpy(), x.numpy(), rtol=1e-6)


def test_non_finite_samples_are_refused():
  normalizer = Normalizer(2)
  try:
    normalizer.update(np.array([[0.0, np.nan]]))
  except FloatingPointError as error:
    assert 'state' in str(error) or 'normalizer' in str(error)
  else:
    raise AssertionError('NaN samples must raise')
