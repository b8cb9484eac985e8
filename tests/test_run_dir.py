"""End-to-end main runs on tiny configs: run directory, resume, corrupt checkpoints."""
import glob
import json
import os
import subprocess
import sys

import gin
import pytest
from tensorboard.backend.event_processing import event_accumulator

from smtl_tf import main
from smtl_tf import run_dir as run_dir_lib

TINY = [os.path.join(main.REPO_ROOT, 'gin', 'tiny.gin')]


def _run(root, experiment_file, bindings=()):
  gin.clear_config()
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', experiment_file)] + TINY, list(bindings))
  return main.train_eval(root_dir=str(root), seed=0)


def _tags(run_dir):
  tags = set()
  for path in glob.glob(os.path.join(run_dir, 'events.out.tfevents.*')):
    accumulator = event_accumulator.EventAccumulator(path)
    accumulator.Reload()
    tags.update(accumulator.Tags()['tensors'])
  return tags


def test_slbo_run_writes_its_run_directory_and_resumes(tmp_path):
  results = _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  run_dir = tmp_path / 'halfcheetah_vel1_single' / 'slbo' / 'seed_0'
  assert (run_dir / 'operative_config.gin').read_text().count('SLBOAgent.n_model = 5') == 1
  assert (run_dir / 'checkpoints' / 'LATEST').exists()
  on_disk = json.loads((run_dir / 'results.json').read_text())
  assert on_disk == results
  assert [point['stage'] for point in on_disk['curve']] == [0, 1, 2]
  assert on_disk['train_real_samples'] == 2 * 400
  assert {'eval/real_return', 'train/virtual_return', 'train/model_loss', 'train/policy_kl',
          'train/policy_entropy', 'train/real_samples'} <= _tags(str(run_dir))

  resumed = _run(tmp_path, 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert [point['stage'] for point in resumed['curve']] == [0, 1, 2, 3]
  assert resumed['train_real_samples'] == 3 * 400
  assert resumed['curve'][:3] == on_disk['curve']


def test_trpo_run_writes_results(tmp_path):
  results = _run(tmp_path, 'trpo_halfcheetah_vel1.gin')
  assert results['algorithm'] == 'trpo'
  assert results['train_real_samples'] == 2 * 400
  assert [point['iteration'] for point in results['curve']] == [0, 1, 2]


def test_corrupt_checkpoint_gives_a_clear_error(tmp_path):
  _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  checkpoints = tmp_path / 'halfcheetah_vel1_single' / 'slbo' / 'seed_0' / 'checkpoints'
  latest = checkpoints / (checkpoints / 'LATEST').read_text().strip()
  (latest / 'variables.index').write_bytes(b'not a checkpoint')
  with pytest.raises(run_dir_lib.CheckpointError, match='corrupt') as error:
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert str(checkpoints) in str(error.value)


def test_mismatched_checkpoint_gives_a_clear_error(tmp_path):
  _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  with pytest.raises(run_dir_lib.CheckpointError, match='different configuration'):
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin',
         ['run_slbo.n_stages = 3', 'DynamicsModel.hidden_sizes = (16, 16)'])


def test_same_seed_gives_identical_runs_and_resume_matches_uninterrupted(tmp_path):
  straight = _run(tmp_path / 'a', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  again = _run(tmp_path / 'b', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert again['curve'] == straight['curve']
  _run(tmp_path / 'c', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 1'])
  resumed = _run(tmp_path / 'c', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert resumed['curve'] == straight['curve']


def test_a_second_process_on_a_run_directory_is_stopped_naming_the_holder(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, '-c', 'import sys, time; from smtl_tf import run_dir\n'
       'with run_dir.exclusive(sys.argv[1]):\n  print("locked", flush=True); time.sleep(60)',
       str(tmp_path)], cwd=main.REPO_ROOT, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'locked'
    with pytest.raises(run_dir_lib.RunDirectoryBusy, match=f'pid {holder.pid} on'):
      with run_dir_lib.exclusive(str(tmp_path)):
        pass
  finally:
    holder.kill()
    holder.wait()
  with run_dir_lib.exclusive(str(tmp_path)):  # released when the holder died
    pass
