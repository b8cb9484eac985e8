"""Tiny fixed-seed runs of every algorithm, recorded in tests/golden/ (behaviour-preservation).

A restructuring must leave these results unchanged (tests/test_golden.py). The bits of a
floating-point run depend on the machine as well as the code: the CPU's vector instruction sets
(which kernels TensorFlow, Eigen and MuJoCo pick), the cores TensorFlow sums over, the library
versions; chaotic dynamics then amplify a last-bit difference into different returns. So each
recording lives in tests/golden/<machine>/ with the MACHINE.json it was made on, and a run is
compared bit for bit with the recording of its own kind of machine. Record this machine's (or,
where a change alters a random stream or the algorithm on purpose, re-record every machine's
that you can, and say why in the commit):

    PYTHONPATH=. python tests/golden_runs.py
"""
import json
import os
import sys
import tempfile
from typing import Dict, Optional

import gin
import mujoco
import numpy as np
import tensorflow as tf

from smtl_tf import main

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
MACHINE = 'MACHINE.json'
SEED = 3
# Vector instruction sets that decide which floating-point kernels the libraries run.
SIMD = ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni',
        'avx512_bf16', 'avx512_fp16', 'avx_vnni', 'amx_tile', 'amx_bf16')

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


def machine() -> Dict:
  """This machine as far as the bits of a run depend on it."""
  vendor, flags = 'unknown', set()
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        key, _, value = line.partition(':')
        if key.strip() == 'vendor_id':
          vendor = value.strip()
        elif key.strip() == 'flags':
          flags = set(value.split())
          break
  except OSError:
    pass
  return {'vendor': vendor, 'simd': sorted(flags.intersection(SIMD)),
          'cores': len(os.sched_getaffinity(0)), 'tensorflow': tf.__version__,
          'mujoco': mujoco.__version__, 'numpy': np.__version__}


def machine_id(description: Dict) -> str:
  vendor = {'GenuineIntel': 'intel', 'AuthenticAMD': 'amd'}.get(description['vendor'], 'cpu')
  widest = next((s for s in ('amx_tile', 'avx512f', 'avx2', 'avx') if s in description['simd']),
                'base')
  return f'{vendor}-{widest.replace("_tile", "")}-{description["cores"]}cores'


def recording_for(description: Dict) -> Optional[str]:
  """The folder whose MACHINE.json this machine matches (every key it gives), or None."""
  for folder in sorted(os.listdir(GOLDEN_DIR)):
    path = os.path.join(GOLDEN_DIR, folder, MACHINE)
    if os.path.exists(path):
      with open(path) as f:
        if all(description.get(key) == value for key, value in json.load(f).items()):
          return os.path.join(GOLDEN_DIR, folder)
  return None


def recordings():
  """Every recording folder."""
  return [os.path.join(GOLDEN_DIR, folder) for folder in sorted(os.listdir(GOLDEN_DIR))
          if os.path.exists(os.path.join(GOLDEN_DIR, folder, MACHINE))]


def recorded(name: str, folder: str) -> Dict:
  with open(os.path.join(folder, f'{name}.json')) as f:
    return json.load(f)


def shape(value):
  """The record's keys and strings, with every number and list replaced by its kind: what a
  machine of another kind must reproduce (how many episodes end early, or which candidate
  tasks are kept, can change with the bits)."""
  if isinstance(value, dict):
    return {key: shape(item) for key, item in value.items()}
  if isinstance(value, list):
    return 'list'
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    return value
  return 'number'


if __name__ == '__main__':
  here = machine()
  out = recording_for(here) or os.path.join(GOLDEN_DIR, machine_id(here))
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, MACHINE), 'w') as f:
    json.dump(here, f, indent=1, sort_keys=True)
    f.write('\n')
  for run_name in (sys.argv[1:] or RUNS):
    with open(os.path.join(out, f'{run_name}.json'), 'w') as f:
      json.dump(run(run_name), f, indent=1, sort_keys=True)
      f.write('\n')
    print('recorded', run_name, 'in', out, flush=True)
