"""Adapts a trained SMTL run to one task: python -m smtl_tf.adapt --run_dir=... --task=1.3

Rebuilds the run from its operative_config.gin with the same builder as training, loads its
trained state (checkpoints_trained/), warms up a fresh policy on the learned model (zero real
samples) and prints its return next to a randomly initialized policy's; --n_adapt adds SLBO
stages. The run directory is only read.
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import os
import re

import gin
import numpy as np
from absl import app
from absl import flags

from smtl_tf import main as main_lib  # registers every configurable
from smtl_tf import smtl
from smtl_tf.runs import config as config_lib
from smtl_tf.runs import skeleton

flags.DEFINE_string('run_dir', None, 'A finished (or at least trained) SMTL run directory.')
flags.DEFINE_list('task', None, 'Task parameter, e.g. 1.3 or 1.0,-2.0.')
flags.DEFINE_integer('n_adapt', 0, 'SLBO stages after the warm-up.')
flags.DEFINE_integer('eval_episodes', None, 'Episodes per return (default: the run\'s value).')
flags.DEFINE_bool('allow_out_of_range', False, 'Accept a task outside the test family\'s space.')
FLAGS = flags.FLAGS


def adapt_one(run_dir: str, task, n_adapt: int = 0, eval_episodes=None,
              allow_out_of_range: bool = False) -> dict:
  """Returns {'task', 'random_policy_return', 'returns', 'adapt_samples'} for one task."""
  text = config_lib.read(run_dir)
  if text is None:
    raise FileNotFoundError(f'{run_dir} has no operative_config.gin: --run_dir must be an SMTL '
                            f'run directory.')
  algorithm = config_lib.parse_bindings(text).get('train_eval.algorithm', '').strip('\'"')
  if algorithm != 'smtl':
    raise ValueError(f'{run_dir} is a run of {algorithm or "an unknown algorithm"}, not SMTL: '
                     f'smtl_tf.adapt adapts the learned model of an SMTL run.')
  match = re.search(r'seed_(\d+)$', os.path.normpath(run_dir))
  if match is None:
    raise ValueError(f'{run_dir} does not end in seed_<n>.')
  gin.clear_config()
  gin.add_config_file_search_path(main_lib.REPO_ROOT)
  gin.parse_config(text)
  built = smtl.SMTL(family=gin.query_parameter('train_eval.family'), seed=int(match.group(1)))
  built.test_runner.env.allow_out_of_range = allow_out_of_range
  built.eval_episodes = eval_episodes or built.eval_episodes
  built.phases(skeleton.Run(built, run_dir))  # reads checkpoints_trained/, writes nothing
  built.restore_trained_state()
  tasks = np.asarray(task, dtype=np.float64).reshape(1, -1)
  # A group of one with the streams of test task 0 (smtl_tf/seeding.py).
  records = built.start_group(built.agent, built.test_runner, tasks, 'test_task', 0)
  for _ in range(n_adapt):
    built.adaptation_stage(built.agent, built.test_runner, records)
  return records[0]


def main(argv):
  del argv
  if not FLAGS.run_dir or not FLAGS.task:
    raise app.UsageError('Give --run_dir and --task.')
  result = adapt_one(FLAGS.run_dir, [float(value) for value in FLAGS.task], FLAGS.n_adapt,
                     FLAGS.eval_episodes, FLAGS.allow_out_of_range)
  print(f"task {result['task']}: random policy {result['random_policy_return']:.1f}, "
        f"zero-shot (warm-up, 0 real samples) {result['returns'][0]:.1f}")
  for samples, value in zip(result['adapt_samples'][1:], result['returns'][1:]):
    print(f'  after {samples} adaptation samples: {value:.1f}')


if __name__ == '__main__':
  app.run(main)
