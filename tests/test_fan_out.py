"""The test tasks of an SMTL evaluation spread over worker processes give the sequential run's
results, and a killed run finishes only what is missing."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from smtl_tf import main
from smtl_tf.runs import fan_out

COMMAND = [sys.executable, '-m', 'smtl_tf.main', '--gin_file=gin/halfcheetah_vel.gin',
           '--gin_file=gin/tiny.gin', '--gin_bindings=test_tasks.n_test_tasks = 4']
# A single process's TensorFlow uses every core it may run on; workers with as many threads
# sum in the same order, so their results are bit-identical (fewer: equal up to rounding).
WORKERS = ['--eval_workers=2', f'--eval_threads={len(os.sched_getaffinity(0))}']


def _run(root, *flags, check=True):
  done = subprocess.run(COMMAND + [f'--root_dir={root}', *flags], cwd=main.REPO_ROOT,
                        capture_output=True, text=True, timeout=900)
  if check:
    assert done.returncode == 0, done.stderr[-3000:]
  return done


def _results(root):
  with open(os.path.join(root, 'halfcheetah_vel', 'smtl', 'seed_0', 'results.json')) as f:
    return json.load(f)


@pytest.fixture(scope='module')
def sequential(tmp_path_factory):
  root = tmp_path_factory.mktemp('sequential')
  _run(root)
  return _results(root)


def test_two_workers_give_the_sequential_results(tmp_path, sequential):
  _run(tmp_path, *WORKERS)
  parallel = _results(tmp_path)
  assert parallel['test_tasks'] == sequential['test_tasks']  # every return, bit for bit
  for key in ('summary', 'train_real_samples', 'eval_real_samples', 'adapt_real_samples'):
    assert parallel[key] == sequential[key], key
  run_dir = os.path.join(tmp_path, 'halfcheetah_vel', 'smtl', 'seed_0')
  assert sorted(os.listdir(os.path.join(run_dir, fan_out.ITEMS))) == [  # uppercase first
      'TRAINED'] + [f'adapt_{i:03d}.json' for i in range(4)] + ['adapt_wall_seconds.json']
  assert sorted(os.listdir(os.path.join(run_dir, 'policies'))) == [
      f'test_task_{i:02d}' for i in range(4)]


def test_ray_actors_give_the_sequential_results(tmp_path, sequential):
  _run(tmp_path, '--ray_address=local', *WORKERS)
  assert _results(tmp_path)['test_tasks'] == sequential['test_tasks']


def test_a_killed_run_finishes_only_the_missing_test_tasks(tmp_path, sequential):
  process = subprocess.Popen(COMMAND + [f'--root_dir={tmp_path}', *WORKERS],
                             cwd=main.REPO_ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
  run_dir = os.path.join(tmp_path, 'halfcheetah_vel', 'smtl', 'seed_0')
  items = os.path.join(run_dir, fan_out.ITEMS)
  wall_record = fan_out.wall_path(run_dir, 'adapt')
  deadline = time.time() + 900
  while time.time() < deadline and process.poll() is None:
    if os.path.exists(wall_record):  # written once the driver has a finished item
      break
    time.sleep(0.2)
  assert process.poll() is None, 'the run ended before it could be killed'
  os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers
  process.wait()
  kept = {name: os.path.getmtime(os.path.join(items, name)) for name in os.listdir(items)
          if re.fullmatch(r'adapt_\d{3}\.json', name)}
  assert 1 <= len(kept) < 4
  with open(wall_record) as f:
    wall_before_kill = json.load(f)['wall_seconds']
  with open(os.path.join(run_dir, 'checkpoints', 'LATEST')) as f:
    with open(os.path.join(run_dir, 'checkpoints', f.read().strip(), 'progress.json')) as g:
      checkpointed = json.load(g)['progress']['wall_seconds']
  assert wall_before_kill > checkpointed  # the killed driver's share is not in the checkpoint
  done = _run(tmp_path, *WORKERS)
  assert f'{4 - len(kept)} of 4 test-task items to adapt' in done.stderr
  for name, modified in kept.items():  # finished test tasks are not adapted again
    assert os.path.getmtime(os.path.join(items, name)) == modified
  resumed = _results(tmp_path)
  assert resumed['test_tasks'] == sequential['test_tasks']
  assert resumed['eval_real_samples'] == sequential['eval_real_samples']
  # The resuming process rewrote TRAINED after it started, then adapted the missing items:
  # its own working time is at least the span between, and the killed one's comes on top.
  adapted = [os.path.getmtime(os.path.join(items, name)) for name in os.listdir(items)
             if re.fullmatch(r'adapt_\d{3}\.json', name) and name not in kept]
  resumed_share = max(adapted) - os.path.getmtime(os.path.join(items, 'TRAINED'))
  assert resumed['wall_seconds'] >= wall_before_kill + resumed_share


def test_the_working_time_record_counts_only_for_its_trained_state(tmp_path):
  run_dir = str(tmp_path)
  os.makedirs(os.path.join(run_dir, fan_out.ITEMS))
  assert fan_out.read_wall_seconds(run_dir, 'adapt', 'trained') is None  # none yet
  fan_out.write_wall_seconds(run_dir, 'adapt', 'trained', 125.5)
  assert fan_out.read_wall_seconds(run_dir, 'adapt', 'trained') == 125.5
  assert fan_out.read_wall_seconds(run_dir, 'adapt', 'retrained') is None  # another training
  assert fan_out.read_wall_seconds(run_dir, 'evaluate', 'trained') is None  # another phase
  with open(fan_out.wall_path(run_dir, 'adapt'), 'w') as f:
    f.write('{"trained_state": "trained", "wall_sec')  # cut short
  assert fan_out.read_wall_seconds(run_dir, 'adapt', 'trained') is None


def test_items_of_an_earlier_training_are_moved_aside(tmp_path):
  items = tmp_path / fan_out.ITEMS
  fan_out.claim_items(str(tmp_path), 'training A')
  (items / 'adapt_000.json').write_text('{"records": [], "steps": {}}')
  fan_out.claim_items(str(tmp_path), 'training A')  # the same training: kept
  assert fan_out.read_item(str(tmp_path), 'adapt', 0) is not None
  fan_out.claim_items(str(tmp_path), 'training B')  # retrained: nothing of A is reused
  assert fan_out.read_item(str(tmp_path), 'adapt', 0) is None
  assert (items / 'TRAINED').read_text() == 'training B'
  stale = [name for name in os.listdir(tmp_path) if name.startswith(f'{fan_out.ITEMS}.stale-')]
  assert len(stale) == 1
  assert sorted(os.listdir(tmp_path / stale[0])) == ['TRAINED', 'adapt_000.json']


def test_ray_starts_only_the_workers_its_cpus_run():
  assert fan_out.workers_that_fit(40, 1, 16) == 16
  assert fan_out.workers_that_fit(4, 2, 16) == 4
  assert fan_out.workers_that_fit(40, 4, 18) == 4
  with pytest.raises(RuntimeError, match='--eval_threads'):
    fan_out.workers_that_fit(2, 8, 4)
