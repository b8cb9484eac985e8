"""Adapts a trained SMTL run to one task: python -m smtl_tf.adapt --run_dir=... --task=1.3

Loads the run's operative_config.gin and its trained state (checkpoints_trained/),
warms up a fresh policy on the learned model (zero real samples) and prints its
return next to a randomly initialized policy's; --n_adapt adds SLBO stages. The
run directory is only read.
"""
import os
import re

import gin
import numpy as np
from absl import app
from absl import flags

from smtl_tf import main as main_lib  # registers every configurable
from smtl_tf import smtl

flags.DEFINE_string('run_dir', None, 'A finished (or at least trained) SMTL run directory.')
flags.DEFINE_list('task', None, 'Task parameter, e.g. 1.3 or 1.0,-2.0.')
flags.DEFINE_integer('n_adapt', 0, 'SLBO stages after the warm-up.')
flags.DEFINE_integer('eval_episodes', None, 'Episodes per return (default: the run\'s value).')
flags.DEFINE_bool('allow_out_of_range', False, 'Accept a task outside the test family\'s space.')
FLAGS = flags.FLAGS


def _bound(name: str, default):
  try:
    return gin.query_parameter(name)
  except ValueError:
    return default


def adapt_one(run_dir: str, task, n_adapt: int = 0, eval_episodes=None,
              allow_out_of_range: bool = False) -> dict:
  """Returns {'task', 'random_policy_return', 'returns', 'adapt_samples'} for one task."""
  config = os.path.join(run_dir, 'operative_config.gin')
  if not os.path.exists(config):
    raise FileNotFoundError(f'{config} not found: --run_dir must be an SMTL run directory.')
  match = re.search(r'seed_(\d+)$', os.path.normpath(run_dir))
  if match is None:
    raise ValueError(f'{run_dir} does not end in seed_<n>.')
  gin.clear_config()
  gin.add_config_file_search_path(main_lib.REPO_ROOT)
  gin.parse_config_file(config, skip_unknown=False)
  family = gin.query_parameter('train_eval.family')
  run = smtl.SMTLRun(run_dir, family, _bound('run_smtl.test_family', None) or family,
                     int(match.group(1)), _bound('run_smtl.n_envs', 20),
                     _bound('run_smtl.train_dynamics', 'default'),
                     _bound('run_smtl.test_dynamics', 'default'), _bound('run_smtl.keep_xy', True))
  run.test_runner.env.allow_out_of_range = allow_out_of_range
  episodes = eval_episodes or _bound('run_smtl.eval_episodes', 20)
  n_collect = _bound('run_smtl.n_collect', 4000)
  run.start_test_task(0)  # the trained state, with the streams of test task 0 (seeding.py)
  agent = run.agent
  agent.runner = run.test_runner
  agent.set_task(np.asarray(task, dtype=np.float64))
  record = smtl.start_test_task(agent, _bound('run_smtl.n_warmup', 40), episodes)
  for _ in range(n_adapt):
    smtl.adaptation_stage(agent, record, _bound('run_smtl.n_adapt_inner', 40), n_collect, episodes)
  return record


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
