"""Jobs of a side-by-side experiment and the two ways to run them: local processes or Ray.

A job is one (algorithm, seed) run: the algorithm's entry point with its experiment
file (gin/<experiment>.gin for SMTL, gin/<algorithm>/<experiment>.gin for the
baselines) writing <root_dir>/<experiment>/<algorithm>/seed_<n>/, its output in
<root_dir>/<experiment>/logs/<algorithm>_seed_<n>.log.
"""
import dataclasses
import os
import subprocess
import sys
import time
from typing import List, Optional, Sequence

from absl import logging

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY_POINTS = {'smtl': 'smtl_tf.main', 'maml': 'maml_tf.main', 'oracle': 'maml_tf.main',
                'task_blind': 'maml_tf.main'}


@dataclasses.dataclass
class Job:
  """One (algorithm, seed) run: its command line and log file."""
  algorithm: str
  seed: int
  command: List[str]
  log_path: str

  @property
  def name(self) -> str:
    return f'{self.algorithm}/seed_{self.seed}'


def gin_file(experiment: str, algorithm: str) -> str:
  """The experiment's gin file for an algorithm; raises naming the missing file."""
  relative = (os.path.join('gin', f'{experiment}.gin') if algorithm == 'smtl'
              else os.path.join('gin', 'oracle' if algorithm == 'task_blind' else algorithm,
                                f'{experiment}.gin'))
  if not os.path.exists(os.path.join(REPO_ROOT, relative)):
    raise ValueError(f'No {algorithm} configuration for experiment {experiment!r}: '
                     f'{relative} does not exist.')
  return relative


def make_job(algorithm: str, seed: int, gin_files: Sequence[str], bindings: Sequence[str],
             root_dir: str, experiment: str, label: Optional[str] = None) -> Job:
  """One run's command; label names the run directory of a variant (default: algorithm)."""
  root_dir = os.path.abspath(root_dir)
  command = [sys.executable, '-m', ENTRY_POINTS[algorithm], f'--root_dir={root_dir}',
             f'--seed={seed}', *[f'--gin_file={f}' for f in gin_files],
             *[f'--gin_bindings={b}' for b in bindings]]
  log_path = os.path.join(root_dir, experiment, 'logs', f'{label or algorithm}_seed_{seed}.log')
  return Job(label or algorithm, int(seed), command, log_path)


def check_gin_files(paths: Sequence[str]) -> None:
  for path in paths:
    if not os.path.exists(os.path.join(REPO_ROOT, path)) and not os.path.exists(path):
      raise ValueError(f'Gin file {path!r} does not exist.')


def make_jobs(experiment: str, algorithms: Sequence[str], seeds: Sequence[int],
              overlays: Sequence[str], bindings: Sequence[str], root_dir: str) -> List[Job]:
  """The command of every (algorithm, seed) pair, validated before anything runs."""
  unknown = [a for a in algorithms if a not in ENTRY_POINTS]
  if unknown:
    raise ValueError(f'Unknown algorithms {unknown}; choose from {sorted(ENTRY_POINTS)}.')
  check_gin_files(overlays)
  jobs = []
  for algorithm in algorithms:
    files = [gin_file(experiment, algorithm), *overlays]
    extra = ["train_eval.algorithm = 'task_blind'"] if algorithm == 'task_blind' else []
    jobs += [make_job(algorithm, seed, files, [*bindings, *extra], root_dir, experiment)
             for seed in seeds]
  return jobs


def active_selection_jobs(regimes: Sequence[str], ratings: Sequence[str], seeds: Sequence[int],
                          overlays: Sequence[str], bindings: Sequence[str],
                          root_dir: str) -> List[Job]:
  """Figure 3: one SMTL job per (regime, rating, seed); the non-active 'none' always runs.

  Files: gin/ant_vel2d_active.gin, the overlays (e.g. quick.gin), then
  gin/active/tasks_<regime>.gin and gin/active/rating_<rating>.gin, so that the regime's
  n_tasks and the rating win over the overlays.
  """
  jobs = []
  for regime in regimes:
    experiment = f'ant_vel2d_active_{regime}'
    for rating in ['none', *[r for r in ratings if r != 'none']]:
      files = ['gin/ant_vel2d_active.gin', *overlays, f'gin/active/tasks_{regime}.gin',
               f'gin/active/rating_{rating}.gin']
      check_gin_files(files)
      jobs += [make_job('smtl', seed, files, bindings, root_dir, experiment,
                        label=f'smtl_{rating}') for seed in seeds]
  return jobs


def start_job(command: Sequence[str], log_path: str):
  """Starts one job with its output appended to log_path; returns (process, open log)."""
  os.makedirs(os.path.dirname(log_path), exist_ok=True)
  log = open(log_path, 'a')
  log.write(f'$ {" ".join(command)}\n')
  log.flush()
  return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT), log


def run_job(command: Sequence[str], log_path: str) -> int:
  """Runs one job to the end; returns its exit code."""
  process, log = start_job(command, log_path)
  with log:
    return process.wait()


def run_local(jobs: Sequence[Job], max_parallel: int) -> List[int]:
  """Local processes, at most max_parallel at once; exit codes in job order."""
  codes: List[Optional[int]] = [None] * len(jobs)
  running = {}
  pending = list(range(len(jobs)))
  while pending or running:
    while pending and len(running) < max_parallel:
      index = pending.pop(0)
      job = jobs[index]
      running[index] = (*start_job(job.command, job.log_path), time.time())
      logging.info('Started %s (log: %s)', job.name, job.log_path)
    for index, (process, log, start) in list(running.items()):
      if process.poll() is not None:
        log.close()
        codes[index] = process.returncode
        del running[index]
        _report(jobs[index], process.returncode, time.time() - start)
    time.sleep(0.5)
  return codes


def run_ray(jobs: Sequence[Job], address: str, cpus_per_job: float) -> List[int]:
  """One Ray task per job on the cluster at address ('local': a private local cluster)."""
  import ray  # pylint: disable=g-import-not-at-top
  if address == 'local':
    ray.init(num_cpus=max(1, int(cpus_per_job)), include_dashboard=False,
             log_to_driver=False)
  else:
    ray.init(address=address, log_to_driver=False)
  remote = ray.remote(num_cpus=cpus_per_job)(run_job)
  try:
    started = time.time()
    refs = [remote.remote(job.command, job.log_path) for job in jobs]
    codes = ray.get(refs)
    for job, code in zip(jobs, codes):
      _report(job, code, time.time() - started)
    return codes
  finally:
    ray.shutdown()


def _report(job: Job, code: int, seconds: float) -> None:
  if code == 0:
    logging.info('Finished %s in %.0f s.', job.name, seconds)
  else:
    logging.error('%s failed (exit code %d); see %s', job.name, code, job.log_path)
