"""Algorithm 1 and the adaptation protocol on tiny configs."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import gin
import numpy as np
import pytest
import tensorflow as tf

from smtl_tf import adapt
from smtl_tf import main
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import directory as run_dir_lib
from smtl_tf import smtl
from smtl_tf.runs import protocol
from smtl_tf.runs import skeleton
from smtl_tf.slbo.agent import SLBOAgent

GIN = os.path.join(main.REPO_ROOT, 'gin')


def _run(root, experiment='halfcheetah_vel', overlay='tiny.gin', bindings=(), seed=0):
  gin.clear_config()
  main.parse_gin([os.path.join(GIN, f'{experiment}.gin'), os.path.join(GIN, overlay)],
                 list(bindings))
  return main.train_eval(root_dir=str(root), seed=seed)


def test_algorithm_1_counts_samples_and_warms_up_all_but_the_first_task(tmp_path):
  record = _run(tmp_path, bindings=['run_smtl.n_tasks = 4', 'run_smtl.n_slbo = 2',
                                    'run_smtl.n_inner = 1'])
  log = record['train_log']
  assert len(log) == 4
  assert [entry['warmed_up'] for entry in log] == [False, True, True, True]
  assert record['train_real_samples'] == 4 * 2 * 400
  assert [entry['real_samples'] for entry in log] == [800, 1600, 2400, 3200]
  assert [entry['dataset_size'] for entry in log] == [800, 1600, 2400, 3200]
  assert len({tuple(entry['task']) for entry in log}) == 4


def test_evaluation_writes_a_valid_results_json(tmp_path):
  record = _run(tmp_path)
  run_dir = tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0'
  on_disk = results_lib.load(str(run_dir))
  assert on_disk == json.loads(json.dumps(record))
  assert on_disk['algorithm'] == 'smtl' and on_disk['experiment'] == 'halfcheetah_vel'
  assert len(on_disk['test_tasks']) == 2
  for task in on_disk['test_tasks']:
    assert task['adapt_samples'] == [0, 400]
    assert len(task['returns']) == 2 and all(np.isfinite(task['returns']))
  assert [row['iteration'] for row in on_disk['summary']] == [0, 1]
  for row in on_disk['summary']:
    assert row['ci_low'] <= row['mean'] <= row['ci_high']
  assert on_disk['adapt_real_samples'] == 2 * 400
  np.testing.assert_allclose([t['task'] for t in on_disk['test_tasks']],
                             protocol.test_tasks('halfcheetah_vel', 2, 1234))


def test_test_tasks_do_not_depend_on_the_seed(tmp_path):
  first = _run(tmp_path, seed=0)
  second = _run(tmp_path, seed=1)
  assert [t['task'] for t in first['test_tasks']] == [t['task'] for t in second['test_tasks']]
  assert first['train_tasks'] != second['train_tasks']


def test_shift_experiments_test_on_their_own_family_and_dynamics(tmp_path):
  record = _run(tmp_path, 'halfcheetah_pos2neg')
  assert all(-2.0 <= t['task'][0] <= 0.0 for t in record['test_tasks'])
  assert all(0.0 <= t[0] <= 2.0 for t in record['train_tasks'])
  with pytest.raises(ValueError, match='does not match'):
    protocol.check_compatible('halfcheetah_vel', 'ant_vel_neg')


def test_killed_run_resumes_to_the_same_counts_and_returns(tmp_path):
  bindings = ['--gin_bindings=run_smtl.n_tasks = 6']
  command = [sys.executable, '-m', 'smtl_tf.main', '--gin_file=gin/halfcheetah_vel.gin',
             '--gin_file=gin/tiny.gin', *bindings]
  killed_root = tmp_path / 'killed'
  progress_file = killed_root / 'halfcheetah_vel' / 'smtl' / 'seed_0' / 'checkpoints' / 'LATEST'
  process = subprocess.Popen(command + [f'--root_dir={killed_root}'], cwd=main.REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while time.time() < deadline and process.poll() is None:
    if progress_file.exists():
      latest = progress_file.parent / progress_file.read_text().strip() / 'progress.json'
      progress = json.loads(latest.read_text())['progress'] if latest.exists() else None
      if progress and (progress['phase'] != 'train' or progress['unit'] >= 2):
        break
    time.sleep(0.02)
  process.send_signal(signal.SIGKILL)
  assert process.wait() == -signal.SIGKILL, 'the run finished before it could be killed'
  subprocess.run(command + [f'--root_dir={killed_root}'], cwd=main.REPO_ROOT, check=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
  subprocess.run(command + [f'--root_dir={tmp_path / "straight"}'], cwd=main.REPO_ROOT,
                 check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
  killed = results_lib.load(str(killed_root / 'halfcheetah_vel' / 'smtl' / 'seed_0'))
  straight = results_lib.load(str(tmp_path / 'straight' / 'halfcheetah_vel' / 'smtl' / 'seed_0'))
  assert len(killed['train_log']) == len(straight['train_log']) == 6
  assert killed['train_real_samples'] == straight['train_real_samples'] == 6 * 400
  assert killed['test_tasks'] == straight['test_tasks']


def test_corrupt_progress_record_gives_a_clear_error(tmp_path):
  _run(tmp_path)
  checkpoints = tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0' / 'checkpoints'
  latest = checkpoints / (checkpoints / 'LATEST').read_text().strip()
  (latest / 'progress.json').write_text('{"next_task": ')
  with pytest.raises(run_dir_lib.CheckpointError, match='corrupt'):
    _run(tmp_path)


def test_adapt_command_reuses_a_trained_run(tmp_path):
  _run(tmp_path)
  run_dir = str(tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0')
  before = os.listdir(os.path.join(run_dir, skeleton.TRAINED))
  result = adapt.adapt_one(run_dir, [1.3], n_adapt=1)
  assert result['task'] == [1.3] and result['adapt_samples'] == [0, 400]
  assert np.isfinite(result['returns']).all() and np.isfinite(result['random_policy_return'])
  assert os.listdir(os.path.join(run_dir, skeleton.TRAINED)) == before
  with pytest.raises(ValueError, match='outside'):
    adapt.adapt_one(run_dir, [2.5])


def test_resuming_with_different_tasks_is_refused(tmp_path):
  _run(tmp_path)
  with pytest.raises(run_dir_lib.CheckpointError, match='n_tasks'):
    _run(tmp_path, bindings=['run_smtl.n_tasks = 5'])
  with pytest.raises(run_dir_lib.CheckpointError, match='test_tasks'):
    _run(tmp_path, bindings=['test_tasks.n_test_tasks = 3'])


def test_batched_adaptation_records_every_task_and_counts_its_samples(tmp_path):
  record = _run(tmp_path, bindings=['run_smtl.test_batch = 2', 'test_tasks.n_test_tasks = 4'])
  tasks = record['test_tasks']
  np.testing.assert_allclose([t['task'] for t in tasks], protocol.test_tasks('halfcheetah_vel', 4, 1234))
  for task in tasks:
    assert task['adapt_samples'] == [0, 400]
    assert len(task['returns']) == 2 and all(np.isfinite(task['returns']))
    assert np.isfinite(task['random_policy_return'])
  assert record['adapt_real_samples'] == 4 * 400
  # 4 tasks x (random policy, after warm-up, after one stage) x 2 episodes x 200 steps.
  assert record['eval_real_samples'] >= 4 * 3 * 2 * 200
  with pytest.raises(ValueError, match='must divide'):
    _run(tmp_path / 'bad', bindings=['run_smtl.test_batch = 3', 'test_tasks.n_test_tasks = 4'])


def _adam_state(optimizer):
  """Step counter and moments of an optimizer (every variable but the learning rate)."""
  return [v for v in optimizer.variables if v is not optimizer.learning_rate]


def _optimizers(agent):
  return [agent.model_trainer.optimizer, agent.trpo.vf_optimizer]


def _is_fresh(optimizer) -> bool:
  return all(np.all(v.numpy() == 0) for v in _adam_state(optimizer))


def _weights(agent):
  return [v.numpy() for module in (agent.model, agent.normalizers, agent.value_fn)
          for v in module.variables]


def test_test_tasks_start_from_trained_weights_with_fresh_adam_states(tmp_path):
  # The original's evaluation processes loaded policy, model (with normalizers) and value
  # function from the checkpoint; the Adam slots were not saved and started at zero.
  gin.clear_config()
  main.parse_gin([os.path.join(GIN, 'halfcheetah_vel.gin'), os.path.join(GIN, 'tiny.gin')],
                 ['run_smtl.test_batch = 2'])
  built = smtl.SMTL(family='halfcheetah_vel', seed=0)
  run = skeleton.Run(built, str(tmp_path))
  built.phases(run)
  agent = built.agent
  runner = built.train_runner
  agent.set_task(runner, np.array([1.0]))
  agent.collect(runner, 400)
  agent.virtual_training(runner, 1)
  assert not any(_is_fresh(optimizer) for optimizer in _optimizers(agent))
  trained = _weights(agent)
  run.save(skeleton.RunProgress(phase='adapt'), trained=True)  # with non-zero Adam states
  agent.virtual_training(runner, 1)  # moves weights and moments past the trained state

  members = built.members
  for optimizer in _optimizers(members):  # as a previous group would leave them
    for variable in _adam_state(optimizer):
      variable.assign(tf.ones(variable.shape, variable.dtype))
  members.load_members(agent, own_capacity=400)
  assert all(_is_fresh(optimizer) for optimizer in _optimizers(members))
  for own, copied in zip(_weights(members), _weights(agent)):
    np.testing.assert_array_equal(own, np.repeat(copied, 2, axis=0) if copied.ndim else copied)

  built.restore_trained_state()
  assert all(_is_fresh(optimizer) for optimizer in _optimizers(agent))
  assert int(agent.model_trainer.optimizer.iterations) == 0
  assert int(agent.trpo.vf_optimizer.iterations) == 0
  assert float(agent.model_trainer.optimizer.learning_rate) == pytest.approx(1e-3)
  for restored, expected in zip(_weights(agent), trained):
    np.testing.assert_array_equal(restored, expected)


def test_batched_adaptation_killed_mid_group_resumes_to_the_same_results(tmp_path, monkeypatch):
  bindings = ['run_smtl.test_batch = 2', 'test_tasks.n_test_tasks = 4']
  reference = _run(tmp_path / 'reference', bindings=bindings)
  original = SLBOAgent.collect
  calls = {'adapt': 0}

  def crash_in_second_group(self, runner, n_samples, purpose='collect'):
    if purpose == 'adapt':
      calls['adapt'] += 1
      if calls['adapt'] == 2:  # group 2's first adaptation stage
        raise KeyboardInterrupt('simulated crash')
    return original(self, runner, n_samples, purpose)

  monkeypatch.setattr(SLBOAgent, 'collect', crash_in_second_group)
  with pytest.raises(KeyboardInterrupt):
    _run(tmp_path / 'resumed', bindings=bindings)
  monkeypatch.setattr(SLBOAgent, 'collect', original)
  resumed = _run(tmp_path / 'resumed', bindings=bindings)
  for key in ('train_log', 'test_tasks', 'summary', 'train_real_samples', 'adapt_real_samples',
              'eval_real_samples'):
    assert resumed[key] == reference[key], key


def test_adapt_command_refuses_a_run_of_another_algorithm_and_writes_nothing(tmp_path):
  run_dir = tmp_path / 'halfcheetah_vel' / 'maml' / 'seed_0'
  run_dir.mkdir(parents=True)
  (run_dir / 'operative_config.gin').write_text("train_eval.algorithm = 'maml'\n")
  with pytest.raises(ValueError, match='is a run of maml, not SMTL'):
    adapt.adapt_one(str(run_dir), [1.0])
  assert os.listdir(run_dir) == ['operative_config.gin']


def test_following_the_advice_for_a_corrupt_trained_state_trains_again(tmp_path, monkeypatch):
  original = smtl.SMTL.adaptation_stage

  def crash(self, *args):
    raise KeyboardInterrupt('simulated crash')

  monkeypatch.setattr(smtl.SMTL, 'adaptation_stage', crash)
  with pytest.raises(KeyboardInterrupt):
    _run(tmp_path)
  monkeypatch.setattr(smtl.SMTL, 'adaptation_stage', original)
  run_dir = tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0'
  trained = run_dir / skeleton.TRAINED
  latest = trained / (trained / 'LATEST').read_text().strip()
  (latest / 'variables.index').write_bytes(b'not a checkpoint')
  with pytest.raises(run_dir_lib.CheckpointError, match='corrupt') as error:
    _run(tmp_path)
  advice = str(error.value)
  assert f'Delete {run_dir / "checkpoints"} and {trained} to train this run again' in advice
  for name in ('checkpoints', skeleton.TRAINED):
    shutil.rmtree(run_dir / name)
  record = _run(tmp_path)
  assert len(record['test_tasks']) == 2 and len(record['train_log']) == 3
