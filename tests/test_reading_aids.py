"""results/paper's reading aids compute what the results README quotes from them."""
import importlib.util
import os

import numpy as np
import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'results', 'paper')


def _load(name):
  spec = importlib.util.spec_from_file_location(name, os.path.join(SCRIPTS, f'{name}.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _results(tasks_and_returns):
  return {'test_tasks': [{'task': [task], 'returns': returns}
                         for task, returns in tasks_and_returns]}


def test_direction_split_groups_tasks_by_direction_and_reweights_to_the_authors_mix():
  direction_split = _load('direction_split')
  results = _results([(1.0, [10.0, 20.0]), (-1.0, [-30.0, 0.0]), (1.0, [30.0, 40.0])])

  by_direction = direction_split.split(results)

  np.testing.assert_array_equal(by_direction[1.0], [[10.0, 20.0], [30.0, 40.0]])
  np.testing.assert_array_equal(by_direction[-1.0], [[-30.0, 0.0]])
  # Forward means 20 / 30, backward -30 / 0, weighted 24 to 16.
  np.testing.assert_allclose(direction_split.reweighted_mean(by_direction),
                             [(24 * 20.0 - 16 * 30.0) / 40, 24 * 30.0 / 40])


def test_direction_split_refuses_a_run_whose_tasks_are_not_directions():
  direction_split = _load('direction_split')
  with pytest.raises(ValueError, match='not directions.*halfcheetah_fwdbwd'):
    direction_split.split(_results([(1.0, [1.0]), (0.5, [2.0])]))


def test_goal_set_estimate_reads_an_exact_quadratic_at_other_goals():
  goal_set_estimate = _load('goal_set_estimate')
  goals = np.linspace(0.0, 2.0, 9)
  results = _results([(g, [-(g - 1.0) ** 2, 3.0 * g]) for g in goals])

  mean_goal, rows = goal_set_estimate.estimate(results, goals=(0.0, 2.0))

  assert mean_goal == pytest.approx(1.0)
  (mean_0, residual_0, at_goals_0), (mean_1, residual_1, at_goals_1) = rows
  assert (residual_0, residual_1) == (pytest.approx(0.0, abs=1e-9), pytest.approx(0.0, abs=1e-9))
  assert at_goals_0 == pytest.approx(-1.0)  # -(0 - 1)^2 and -(2 - 1)^2
  assert at_goals_1 == pytest.approx(3.0)   # 0 and 6
  assert mean_0 == pytest.approx(np.mean(-(goals - 1.0) ** 2))
