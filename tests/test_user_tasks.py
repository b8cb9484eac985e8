"""A family, body and objective defined outside smtl_tf (tests/user_tasks.py) work everywhere a
built-in one does, and the reward check catches rewards that differ between numpy and TF."""
import json
import os
import shutil
import subprocess
import sys

import gymnasium
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf import main

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)
import user_tasks  # noqa: E402  pylint: disable=g-import-not-at-top,wrong-import-position

SMTL_GIN = """import user_tasks
include 'gin/base/slbo.gin'
include 'gin/base/smtl.gin'
include 'gin/tiny.gin'
train_eval.experiment = 'walker_speed'
train_eval.family = 'walker_speed'
"""
MAML_GIN = """import user_tasks
include 'gin/base/maml.gin'
include 'gin/tiny.gin'
train_eval.experiment = 'walker_speed'
train_eval.family = 'walker_speed'
"""


def _command(module, *arguments, cwd):
  """Runs `python -m module` in the user's directory cwd, with the project importable as if
  installed (PYTHONPATH) and the user's module next to their gin files."""
  env = dict(os.environ, PYTHONPATH=main.REPO_ROOT)
  return subprocess.run([sys.executable, '-m', module, *arguments], cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=900)


def test_a_users_family_runs_end_to_end_through_the_command_line(tmp_path):
  shutil.copy(os.path.join(TESTS, 'user_tasks.py'), tmp_path / 'user_tasks.py')
  (tmp_path / 'walker.gin').write_text(SMTL_GIN)
  (tmp_path / 'walker_maml.gin').write_text(MAML_GIN)

  smtl = _command('smtl_tf.main', '--gin_file=walker.gin', '--root_dir=runs', cwd=tmp_path)
  assert smtl.returncode == 0, smtl.stderr[-3000:]
  assert 'SMTL on walker_speed' in smtl.stdout
  run_dir = tmp_path / 'runs' / 'walker_speed' / 'smtl' / 'seed_0'
  results = json.loads((run_dir / 'results.json').read_text())
  assert results['family'] == 'walker_speed' and len(results['test_tasks']) == 2
  for task in results['test_tasks']:
    assert 0.5 <= task['task'][0] <= 1.5 and np.isfinite(task['returns']).all()
  assert (run_dir / 'operative_config.gin').read_text().startswith('import user_tasks')

  adapted = _command('smtl_tf.adapt', f'--run_dir={run_dir}', '--task=1.2', cwd=tmp_path)
  assert adapted.returncode == 0, adapted.stderr[-3000:]
  assert 'zero-shot' in adapted.stdout
  outside = _command('smtl_tf.adapt', f'--run_dir={run_dir}', '--task=3.0', cwd=tmp_path)
  assert outside.returncode != 0 and "family 'walker_speed' ([0.5, 1.5])" in outside.stderr

  maml = _command('maml_tf.main', '--gin_file=walker_maml.gin', '--root_dir=runs', cwd=tmp_path)
  assert maml.returncode == 0, maml.stderr[-3000:]
  assert (tmp_path / 'runs' / 'walker_speed' / 'maml' / 'seed_0' / 'results.json').exists()

  plotted = _command('launch.plot_adaptation', '--out=figure', 'runs/walker_speed', cwd=tmp_path)
  assert plotted.returncode == 0, plotted.stderr[-3000:]
  assert (tmp_path / 'figure.png').stat().st_size > 0


def test_a_users_family_is_a_gymnasium_environment_with_its_reward():
  env = gymnasium.make('smtl/WalkerSpeed-v0', task=1.0)
  obs, _ = env.reset(seed=0)
  assert obs.shape == (18 + 6,)  # qpos 9, qvel 9, torso CoM and its velocity
  _, reward, terminated, _, _ = env.step(np.zeros(6))
  # The user's reward: -|qvel[0] - 1| + alive bonus 1, no control cost for zero actions.
  root_velocity = env.unwrapped.data.qvel[0]
  assert reward == pytest.approx(1.0 - abs(root_velocity - 1.0)) and not terminated
  with pytest.raises(envs.TaskOutOfRangeError, match='walker_speed'):
    gymnasium.make('smtl/WalkerSpeed-v0', task=2.0)


@pytest.mark.parametrize('keep_xy', [True, False])
def test_the_users_reward_is_the_same_in_numpy_and_tensorflow(keep_xy):
  checked = envs.check_reward('walker_speed', 1000, keep_xy=keep_xy)
  assert checked.max_reward_difference < 1e-4
  assert checked.n_done > 0, 'random actions should make the walker fall'


def _register_objective_family(name, goal_term):
  envs.register_objective(envs.Objective(name, goal_term))
  return envs.register_family(envs.TaskFamily(name, 'user_walker', name, (0.5,), (1.5,))).name


def test_the_check_catches_a_reward_that_differs_in_tensorflow():
  def speed_squared_in_numpy_only(state, task, goal_bonus, xp):
    error = state.qvel(0) - task[..., 0]
    return -(xp.square(error) if xp is np else xp.abs(error)) + goal_bonus

  family = _register_objective_family('inconsistent_speed', speed_squared_in_numpy_only)
  with pytest.raises(envs.RewardMismatch, match="family 'inconsistent_speed' differs"):
    envs.check_reward(family, 500)


def test_the_check_catches_a_reward_that_reads_raw_columns_dropped_by_keep_xy():
  def raw_first_column(state, task, goal_bonus, xp):
    return -xp.abs(state.array[..., 0] - task[..., 0])  # the root's x only when keep_xy=True

  family = _register_objective_family('raw_column', raw_first_column)
  envs.check_reward(family, 300, keep_xy=True)
  with pytest.raises(envs.RewardMismatch, match='keep_xy=False'):
    envs.check_reward(family, 300, keep_xy=False)


def test_the_check_catches_a_reward_written_with_numpy_instead_of_xp():
  def numpy_abs(state, task, goal_bonus, xp):
    return -np.abs(state.qvel(0) - task[..., 0])

  family = _register_objective_family('numpy_speed', numpy_abs)
  with pytest.raises(envs.RewardMismatch, match='fails under TensorFlow'):
    envs.check_reward(family, 300)


def test_reading_a_part_that_keep_xy_drops_names_it():
  with pytest.raises(envs.DroppedStateError, match=r'qpos\[0\]'):
    user_tasks.WALKER.state_index(keep_xy=False).column(0, 'qpos[0]')


def test_registration_errors_name_the_problem():
  with pytest.raises(ValueError, match="body named 'user_walker' is already registered"):
    envs.register_body(envs.Body('user_walker', lambda: envs.xml_spec('hopper.xml')))
  assert envs.register_body(user_tasks.WALKER) is user_tasks.WALKER  # a re-import is fine
  with pytest.raises(ValueError, match="Unknown body 'no_such_body'"):
    envs.register_family(envs.TaskFamily('orphan', 'no_such_body', 'velocity', (0.0,), (1.0,)))
  with pytest.raises(ValueError, match="Unknown objective 'no_such_objective'"):
    envs.register_family(envs.TaskFamily('orphan', 'user_walker', 'no_such_objective', (0.0,),
                                         (1.0,)))
  with pytest.raises(ValueError, match='low <= high'):
    envs.register_family(envs.TaskFamily('orphan', 'user_walker', 'velocity', (1.0,), (0.0,)))
  with pytest.raises(FileNotFoundError, match='no_such_model.xml'):
    envs.xml_spec('no_such_model.xml')
  with pytest.raises(ValueError, match="'user_torso'"):
    envs.register_body(envs.Body('torsoless', lambda: envs.xml_spec('walker2d.xml'),
                                 torso='user_torso'))
  assert 'orphan' not in envs.FAMILIES and 'torsoless' not in envs.BODIES
