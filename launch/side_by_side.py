"""Runs one experiment for several algorithms and seeds, side by side.

python -m launch.side_by_side --experiment=halfcheetah_vel --algorithms=smtl,maml,oracle \
    --seeds=0,1,2 [--overlay=gin/quick.gin] [--gin_bindings=...] [--root_dir=runs] \
    [--ray_address=auto]

Each (algorithm, seed) is one process (see launch/jobs.py). On this machine jobs run
as local processes, --max_parallel at a time (default 1: a 2-core machine fits one
heavy job). With --ray_address every job becomes a Ray task of --cpus_per_job CPUs on
that cluster ('local' starts a private one-machine cluster); the repository must be
at the same path on every node (or on shared storage). A failed job is reported with
its log while the others still run; rerunning the same command resumes unfinished
runs from their checkpoints.
Afterwards: python -m launch.plot_adaptation --out=... <root_dir>/<experiment>
"""
import os

from absl import app
from absl import flags

from launch import cli
from launch import jobs as jobs_lib

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The shared launch flags (launch/cli.py) and this command's own."""
  cli.define_flags()
  flags.DEFINE_string('experiment', None, 'Experiment name: gin/<experiment>.gin and '
                      'gin/<algorithm>/<experiment>.gin.')
  flags.DEFINE_list('algorithms', ['smtl', 'maml', 'oracle'],
                    f'Any of {sorted(jobs_lib.ENTRY_POINTS)}.')


def main(argv):
  del argv
  if not FLAGS.experiment:
    raise app.UsageError('--experiment is required (e.g. --experiment=halfcheetah_vel).')
  try:
    jobs = jobs_lib.make_jobs(FLAGS.experiment, FLAGS.algorithms, cli.seeds(), FLAGS.overlay,
                              FLAGS.gin_bindings, FLAGS.root_dir)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  experiment_dir = os.path.join(os.path.abspath(FLAGS.root_dir), FLAGS.experiment)
  cli.run_jobs(jobs, experiment_dir)
  print(f'Figure and table: python -m launch.plot_adaptation --out=<path> {experiment_dir}\n'
        f'TensorBoard: tensorboard --logdir {experiment_dir}')


if __name__ == '__main__':
  define_flags()
  app.run(main)
