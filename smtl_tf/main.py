"""Entry point: python -m smtl_tf.main --gin_file=gin/<experiment>.gin [--gin_bindings=...].

Run-length and placement are flags; every hyperparameter is a gin binding.
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import errno
import os
from typing import Optional

import gin
import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

from smtl_tf import algorithms
from smtl_tf import console
from smtl_tf.runs import directory
from smtl_tf.runs import fan_out
from smtl_tf.runs import skeleton

flags.DEFINE_multi_string('gin_file', [], 'Gin files, applied in order.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings overriding the files, e.g. '
                          '"run_slbo.n_stages = 5".')
flags.DEFINE_string('root_dir', 'runs', 'Root of run directories: '
                    '<root_dir>/<experiment>/<algorithm>/seed_<seed>/.')
flags.DEFINE_integer('seed', 0, 'Seeds task sampling, initialization and environment resets.')
flags.DEFINE_string('trained_run', None, 'A finished run of the same algorithm, seed and training '
                    'settings (e.g. runs/halfcheetah_vel/smtl/seed_0): skip training and evaluate '
                    'its trained state on this experiment\'s test tasks (shift experiments).')
flags.DEFINE_integer('eval_workers', 1, lower_bound=1,
                     help='Worker processes for the test tasks of SMTL\'s evaluation (each adapts '
                     'whole test tasks from the trained state). 1: in this process.')
flags.DEFINE_integer('eval_threads', None, lower_bound=1,
                     help='TensorFlow intra-op threads per evaluation worker (default: the cores '
                     'shared out among local workers, 1 on Ray). With as many threads as one '
                     'process uses (all cores) the results are bit-identical to it; with fewer, '
                     'sums round differently, and the adaptation can amplify that into '
                     'visibly different returns.')
flags.DEFINE_string('ray_address', None, 'Run the evaluation workers as Ray actors on this '
                    'cluster (\'auto\', host:port, or \'local\'); the run directory must be on a '
                    'file system all nodes share.')
FLAGS = flags.FLAGS

SINGLE_TASK, ALGORITHMS = algorithms.SINGLE_TASK, algorithms.ALGORITHMS


@gin.configurable(denylist=['workers'])
def train_eval(root_dir: str, seed: int, experiment: str = gin.REQUIRED,
               algorithm: str = gin.REQUIRED, family: str = gin.REQUIRED, task=None,
               label: str = None, trained_run: Optional[str] = None,
               workers: Optional[skeleton.Workers] = None):
  """Runs (or resumes) one algorithm on one experiment in its run directory.

  Args:
    root_dir, seed, trained_run: from the flags (trained_run: multi-task algorithms only; see
      the README's shift experiments).
    workers: where the evaluation's test tasks run (flags --eval_workers, --eval_threads,
      --ray_address; default: in this process).
    experiment: experiment name (the run directory's second level).
    algorithm: one of ALGORITHMS.
    family: (training) task family name (smtl_tf.envs.FAMILIES).
    task: task parameter, for the single-task algorithms only.
    label: the run directory's third level when it is not the algorithm's name (variants of
      one algorithm, e.g. 'smtl_true' for active task selection with the true rating).

  Returns:
    The results record written to results.json.
  """
  algorithms.check_name(algorithm)  # before its run directory is made
  if trained_run and algorithm in SINGLE_TASK:
    raise ValueError(f'--trained_run applies to the multi-task algorithms, not {algorithm!r}.')
  if workers is not None and workers.parallel and algorithm != 'smtl':
    raise ValueError(f'--eval_workers and --ray_address spread SMTL\'s test tasks; {algorithm!r} '
                     f'evaluates in one process (MAML adapts all test tasks in one batch).')
  run_dir = directory.run_directory(root_dir, experiment, label or algorithm, seed)
  logging.info('Run directory: %s', run_dir)
  with directory.exclusive(run_dir):
    built = algorithms.build(seed, experiment, algorithm, family, task)
    try:
      return skeleton.run(built, run_dir, trained_run, workers)
    except (OSError, tf.errors.OpError) as error:
      if getattr(error, 'errno', None) == errno.ENOSPC or 'No space left on device' in str(error):
        raise DiskFull(disk_full_message(error, run_dir)) from error
      raise


class DiskFull(OSError):
  """The disk holding a run directory is full."""


def disk_full_message(error: Exception, run_dir: str) -> str:
  """One line for a full disk: where, and that rerunning the command resumes the run."""
  filename = getattr(error, 'filename', None)
  where = os.path.dirname(filename) if filename else run_dir
  return (f'No space left on the device holding {where}. Free space there and rerun the same '
          f'command: the run resumes from its last complete checkpoint.')


REPO_ROOT = algorithms.REPO_ROOT


class ConfigError(ValueError):
  """A gin file or binding that cannot be used."""


def parse_gin(gin_files, gin_bindings) -> None:
  """Parses gin files and bindings, rejecting unknown names with a clear error."""
  gin.add_config_file_search_path(REPO_ROOT)
  for path in gin_files:
    if not os.path.exists(path) and not os.path.exists(os.path.join(REPO_ROOT, path)):
      if os.path.isfile(os.path.join(REPO_ROOT, 'gin', 'base', 'slbo.gin')):  # a checkout
        raise ConfigError(f'Gin file {path!r} does not exist; experiments live in '
                          f'{REPO_ROOT}/gin/.')
      raise ConfigError(f'Gin file {path!r} does not exist here ({os.getcwd()}). The '
                        f'experiments are the gin/ folder of the smtl-tf repository, which an '
                        f'installed package does not carry: run from a checkout, or give the '
                        f'path of your own gin file.')
  try:
    gin.parse_config_files_and_bindings(gin_files, gin_bindings, skip_unknown=False)
  except (ValueError, KeyError, SyntaxError, IOError) as error:
    raise ConfigError(f'Invalid gin configuration: {error}\nCheck the name against the '
                      f'configurables in smtl_tf/ and maml_tf/ (a previous run\'s operative_config.gin '
                      f'lists them all with their values).') from error


def main(argv):
  del argv
  console.quiet(FLAGS.verbosity)
  try:
    parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  except ConfigError as error:
    raise app.UsageError(str(error)) from error
  workers = skeleton.Workers(FLAGS.eval_workers, FLAGS.eval_threads, FLAGS.ray_address)
  if workers.parallel:
    fan_out.share_gpus()
  try:
    train_eval(root_dir=FLAGS.root_dir, seed=FLAGS.seed, trained_run=FLAGS.trained_run,
               workers=workers)
  except DiskFull as error:  # gin appends the configurable's name on further lines
    raise SystemExit(str(error).splitlines()[0]) from None


if __name__ == '__main__':
  app.run(main)
