"""Tiny fixed-seed runs of every algorithm, recorded in tests/golden/ (behaviour-preservation).

A restructuring must leave these results unchanged (tests/test_golden.py). Where a change
alters a random stream or the algorithm on purpose, re-record and say why in the commit:

    PYTHONPATH=. python tests/golden_runs.py tests/golden
"""
import json
import os
import sys
import tempfile
from typing import Dict

import gin

from smtl_tf import main

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
SEED = 3

# name -> (gin files under gin/, applied before gin/tiny.gin; extra bindings)
RUNS = {
    'smtl': (['halfcheetah_vel.gin'], []),
    'smtl_batched': (['halfcheetah_vel.gin'], ['run_smtl.test_batch = 2']),
    'smtl_ant': (['ant_vel.gin'], []),
    'smtl_active': (['ant_vel2d_active.gin', 'active/tasks_5.gin', 'active/rating_estimated.gin'],
                    ['run_smtl.n_tasks = 3', 'TaskSelector.min_seen = 1']),
    'maml': (['maml/halfcheetah_vel.gin'], []),
    'maml_humanoid': (['maml/humanoid_vel.gin'], []),
    'oracle': (['oracle/halfcheetah_vel.gin'], []),
    'oracle_ant': (['oracle/ant_vel.gin'], []),
    'slbo': (['slbo_halfcheetah_vel1.gin'], []),
    'trpo': (['trpo_halfcheetah_vel1.gin'], []),
}

# Keys whose values depend on the machine or the run's location, not on the algorithm.
VOLATILE = ('wall_seconds', 'train_wall_seconds', 'trained_from')


def comparable(value):
  """The record without wall times and paths (nested dicts and lists)."""
  if isinstance(value, dict):
    return {key: comparable(item) for key, item in value.items() if key not in VOLATILE}
  if isinstance(value, list):
    return [comparable(item) for item in value]
  return value


def run(name: str) -> Dict:
  """Runs RUNS[name] on the tiny config with SEED in a temporary root; returns its record."""
  files, bindings = RUNS[name]
  gin.clear_config()
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', f) for f in files + ['tiny.gin']],
                 bindings)
  with tempfile.TemporaryDirectory() as root:
    record = main.train_eval(root_dir=root, seed=SEED)
  gin.clear_config()
  # A JSON round trip, as the recorded files hold it (tuples become lists).
  return json.loads(json.dumps(comparable(record)))


def recorded(name: str) -> Dict:
  with open(os.path.join(GOLDEN_DIR, f'{name}.json')) as f:
    return json.load(f)


if __name__ == '__main__':
  out = sys.argv[1] if len(sys.argv) > 1 else GOLDEN_DIR
  os.makedirs(out, exist_ok=True)
  for run_name in (sys.argv[2:] or RUNS):
    with open(os.path.join(out, f'{run_name}.json'), 'w') as f:
      json.dump(run(run_name), f, indent=1, sort_keys=True)
      f.write('\n')
    print('recorded', run_name, flush=True)
