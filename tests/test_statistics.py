"""Bootstrap confidence intervals."""
import numpy as np
import pytest

from smtl_tf.statistics import bootstrap_mean_ci


def test_interval_brackets_the_mean_and_shrinks_with_more_tasks():
  rng = np.random.default_rng(0)
  small = bootstrap_mean_ci(rng.normal(10.0, 5.0, 10))
  large = bootstrap_mean_ci(rng.normal(10.0, 5.0, 1000))
  for summary in (small, large):
    assert summary['ci_low'] < summary['mean'] < summary['ci_high']
  assert large['ci_high'] - large['ci_low'] < small['ci_high'] - small['ci_low']


def test_interval_matches_normal_theory_for_many_values():
  values = np.random.default_rng(1).normal(0.0, 1.0, 400)
  summary = bootstrap_mean_ci(values)
  half_width = 1.96 * values.std() / np.sqrt(len(values))
  assert summary['ci_high'] - summary['mean'] == pytest.approx(half_width, rel=0.15)


def test_constant_values_give_a_zero_width_interval_and_bad_input_fails():
  assert bootstrap_mean_ci([3.0, 3.0, 3.0])['ci_low'] == 3.0
  with pytest.raises(ValueError):
    bootstrap_mean_ci([])
  with pytest.raises(ValueError):
    bootstrap_mean_ci([1.0, float('nan')])
