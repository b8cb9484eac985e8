"""launch.eval_throughput measures the three evaluation modes on one trained state (tiny sizes:
what is checked is the plumbing and the determinism between modes, not the figures)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or shutil.which('taskset') is None,
                    reason='needs 2 cores and taskset')
def test_three_modes_on_one_trained_state(tmp_path):
  out = tmp_path / 'throughput'
  done = subprocess.run(
      [sys.executable, '-m', 'launch.eval_throughput', '--gin_file=gin/halfcheetah_vel.gin',
       '--gin_file=gin/tiny.gin', '--test_tasks=2', '--iterations=1', f'--out={out}'],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
  assert done.returncode == 0, done.stderr[-3000:]
  with open(f'{out}.json') as f:
    record = json.load(f)
  cores = len(os.sched_getaffinity(0))
  assert [row['mode'] for row in record['rows']] == [
      f'one process, {cores} threads', '1 worker on 1 core, 1 thread',
      '2 workers, 1 thread each']
  for row in record['rows']:  # 2 test tasks, returns after 0 and 1 adaptation iterations (tiny)
    assert [len(returns) for returns in row['returns']] == [2, 2]
    assert row['wall_seconds'] > 0
  assert record['rows'][0]['speedup'] == 1.0
  # One thread in a process pinned to one core and in each worker: the same sums, the same order.
  assert record['one_thread_modes_identical']
  with open(f'{out}.md') as f:
    assert '| 1 worker on 1 core, 1 thread | `taskset -c' in f.read()


def test_one_test_task_cannot_compare_workers(tmp_path):
  done = subprocess.run(
      [sys.executable, '-m', 'launch.eval_throughput', '--test_tasks=1', f'--out={tmp_path}/x'],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode != 0
  assert '--test_tasks=1' in done.stderr
  assert not os.path.exists(f'{tmp_path}/x.json')
