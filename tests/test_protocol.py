"""The shared test tasks: drawn from the family by default, or given explicitly."""
import ast

import gin
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf.runs import config as config_lib
from smtl_tf.runs import protocol


def test_default_tasks_are_the_seeded_draw_of_the_family():
  drawn = protocol.test_tasks('halfcheetah_vel', 5, 1234)
  expected = envs.get_family('halfcheetah_vel').sample(np.random.default_rng(1234), 5)
  np.testing.assert_array_equal(drawn, expected)


def test_explicit_tasks_are_used_in_their_order():
  tasks = protocol.test_tasks('halfcheetah_vel', tasks=[1.5, 0.25, 2.0])
  np.testing.assert_array_equal(tasks, [[1.5], [0.25], [2.0]])
  two_d = protocol.test_tasks('ant_vel2d', tasks=[[1.0, -2.0], [0.0, 3.0]])
  assert two_d.shape == (2, 2)


@pytest.mark.parametrize('tasks,match', [
    ([0.5, 2.5], r'test_tasks\.tasks\[1\] = 2\.5.*halfcheetah_vel'),
    ([[0.5, 1.0]], r'test_tasks\.tasks\[0\].*1-dimensional'),
    ([], 'empty'),
])
def test_explicit_tasks_outside_the_family_are_refused_by_index(tasks, match):
  with pytest.raises(ValueError, match=match):
    protocol.test_tasks('halfcheetah_vel', tasks=tasks)


def test_a_long_task_list_reads_back_from_the_operative_configuration():
  tasks = [round(0.05 * i, 2) for i in range(40)]
  gin.clear_config()
  try:
    gin.bind_parameter('test_tasks.tasks', tasks)
    protocol.test_tasks('halfcheetah_vel')
    operative = gin.operative_config_str()
  finally:
    gin.clear_config()
  read_back = config_lib.parse_bindings(operative)['test_tasks.tasks']
  assert ast.literal_eval(read_back) == tasks
  assert '\\' not in read_back
  one_line_each = ''.join(f'{key} = {value}\n'
                          for key, value in config_lib.parse_bindings(operative).items())
  assert config_lib.differences(operative, one_line_each) == {}


def test_a_single_number_is_refused_with_the_expected_form():
  with pytest.raises(ValueError, match=r'give a list of tasks'):
    protocol.test_tasks('halfcheetah_vel', tasks=1.5)
