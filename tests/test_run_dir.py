"""End-to-end main runs on tiny configs: run directory, resume, corrupt checkpoints."""
import errno
import glob
import json
import os
import subprocess
import sys

import gin
import pytest
from absl import flags
from tensorboard.backend.event_processing import event_accumulator

from smtl_tf import main
from smtl_tf import single_task
from smtl_tf.runs import config as config_lib
from smtl_tf.runs import directory as run_dir_lib

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

  again = _run(tmp_path, 'slbo_halfcheetah_vel1.gin')  # a finished run: results rewritten
  assert again['curve'] == on_disk['curve']


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
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  assert str(checkpoints) in str(error.value)


def test_resuming_with_other_settings_is_refused_and_keeps_the_saved_config(tmp_path):
  _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  config = tmp_path / 'halfcheetah_vel1_single' / 'slbo' / 'seed_0' / 'operative_config.gin'
  saved = config.read_text()
  with pytest.raises(run_dir_lib.CheckpointError,
                     match=r'different run \(DynamicsModel.hidden_sizes: \(32, 32\) there, '
                           r'\(16, 16\) now; run_slbo.n_stages: 2 there, 3 now\)'):
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin',
         ['run_slbo.n_stages = 3', 'DynamicsModel.hidden_sizes = (16, 16)'])
  assert config.read_text() == saved


def test_same_seed_gives_identical_runs_and_resume_matches_uninterrupted(tmp_path, monkeypatch):
  straight = _run(tmp_path / 'a', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  again = _run(tmp_path / 'b', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert again['curve'] == straight['curve']
  original = single_task.SingleTaskSLBO.stage

  def crash_in_stage_3(self, progress):
    if progress.unit == 2:
      raise KeyboardInterrupt('simulated crash')
    return original(self, progress)

  monkeypatch.setattr(single_task.SingleTaskSLBO, 'stage', crash_in_stage_3)
  with pytest.raises(KeyboardInterrupt):
    _run(tmp_path / 'c', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  monkeypatch.setattr(single_task.SingleTaskSLBO, 'stage', original)
  resumed = _run(tmp_path / 'c', 'slbo_halfcheetah_vel1.gin', ['run_slbo.n_stages = 3'])
  assert resumed['curve'] == straight['curve']


def _checkpoints(root):
  return root / 'halfcheetah_vel1_single' / 'slbo' / 'seed_0' / 'checkpoints'


def test_a_binding_added_later_reads_as_the_behaviour_before_it():
  older = "MAMLLearner.max_kl = 0.01\n"
  newer = "MAMLLearner.max_kl = 0.01\nMAMLLearner.hessian_vector_product = 'exact'\n"
  assert config_lib.differences(older, newer) == {}
  other = "MAMLLearner.max_kl = 0.01\nMAMLLearner.hessian_vector_product = 'maml_rl_finite_difference'\n"
  assert config_lib.differences(older, other) == {
      'MAMLLearner.hessian_vector_product': ("'exact'", "'maml_rl_finite_difference'")}
  assert config_lib.differences(older, "MAMLLearner.max_kl = 0.02\n") == {
      'MAMLLearner.max_kl': ('0.01', '0.02')}


def test_checkpoints_without_latest_pointer_are_kept_with_a_clear_error(tmp_path):
  _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  checkpoints = _checkpoints(tmp_path)
  (checkpoints / 'LATEST').unlink()
  kept = sorted(os.listdir(checkpoints))
  with pytest.raises(run_dir_lib.CheckpointError, match='no LATEST pointer'):
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  assert sorted(os.listdir(checkpoints)) == kept


def test_an_empty_progress_record_gives_the_checkpoint_error(tmp_path):
  _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  checkpoints = _checkpoints(tmp_path)
  latest = checkpoints / (checkpoints / 'LATEST').read_text().strip()
  (latest / 'progress.json').write_text('{}')
  with pytest.raises(run_dir_lib.CheckpointError, match='no progress record') as error:
    _run(tmp_path, 'slbo_halfcheetah_vel1.gin')
  assert str(checkpoints) in str(error.value)


def test_a_full_disk_gives_one_line_naming_the_directory(tmp_path, monkeypatch):
  def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, 'No space left on device', str(tmp_path / 'x' / 'progress.json'))

  monkeypatch.setattr(run_dir_lib, 'write_json', full)
  gin.clear_config()
  flags.FLAGS.unparse_flags()
  flags.FLAGS(['main', f'--gin_file={os.path.join(main.REPO_ROOT, "gin", "slbo_halfcheetah_vel1.gin")}',
               f'--gin_file={TINY[0]}', f'--root_dir={tmp_path}'])
  try:
    with pytest.raises(SystemExit) as exit_info:
      main.main([])
  finally:
    flags.FLAGS.unparse_flags()
  message = str(exit_info.value)
  assert message.startswith('No space left on the device holding ' + str(tmp_path / 'x'))
  assert '\n' not in message and 'rerun the same command' in message


def test_a_second_process_on_a_run_directory_is_stopped_naming_the_holder(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, '-c', 'import sys, time; from smtl_tf.runs import directory\n'
       'with directory.exclusive(sys.argv[1]):\n  print("locked", flush=True); time.sleep(60)',
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
