"""Flags and the run step shared by the launch commands (side_by_side, active_selection)."""
import sys
from typing import Sequence

from absl import flags
from absl import logging

from launch import jobs as jobs_lib

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the flags every launch command shares; called by each command only when it is the
  program, so that importing a launcher (a test, another launcher) defines no flags."""
  flags.DEFINE_list('seeds', ['0'], 'Seeds, one run per configuration and seed.')
  flags.DEFINE_multi_string('overlay', [], 'Gin files applied after the experiment files '
                            '(e.g. gin/quick.gin).')
  flags.DEFINE_multi_string('gin_bindings', [], 'Bindings passed to every job.')
  flags.DEFINE_string('root_dir', 'runs', 'Root of the run directories.')
  flags.DEFINE_integer('max_parallel', 1, 'Local processes at a time (a 2-core machine fits one '
                       'heavy job).')
  flags.DEFINE_string('ray_address', None, "Ray cluster address ('auto', 'host:port', or "
                      "'local' for a private local cluster). Unset: local processes.")
  flags.DEFINE_float('cpus_per_job', 2.0, 'CPUs Ray reserves for each job.')


def seeds() -> Sequence[int]:
  return [int(seed) for seed in FLAGS.seeds]


def run_jobs(jobs: Sequence[jobs_lib.Job], where: str) -> None:
  """Runs the jobs locally or on Ray; prints what finished; exits 1 if any failed."""
  logging.info('%d jobs: %s', len(jobs), ', '.join(job.name for job in jobs))
  if FLAGS.ray_address:
    codes = jobs_lib.run_ray(jobs, FLAGS.ray_address, FLAGS.cpus_per_job)
  else:
    codes = jobs_lib.run_local(jobs, FLAGS.max_parallel)
  failed = [job for job, code in zip(jobs, codes) if code != 0]
  print(f'{len(jobs) - len(failed)}/{len(jobs)} runs finished in {where}.')
  if failed:
    print('Failed (rerun the same command to resume them):\n' +
          '\n'.join(f'  {job.name}: {job.log_path}' for job in failed))
    sys.exit(1)
