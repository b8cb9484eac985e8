"""Named random streams: one seed gives every consumer its own stream, and seeds share none."""
import itertools

import numpy as np
import pytest

from maml_tf.sampler import MultiTaskSampler
from smtl_tf import seeding
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.slbo.agent import RESEEDED_STREAMS, SLBOAgent


def _first_draws(rng: np.random.Generator) -> tuple:
  return tuple(rng.standard_normal(4))


def test_streams_differ_by_seed_and_by_name():
  paths = [('train_env', i) for i in range(4)] + [('test_env', i) for i in range(4)] + [
      ('test_task', j, 'env', i) for j in range(3) for i in range(2)] + [
      ('agent', name) for name in ('init', 'policy', 'minibatches', 'ou_noise')] + [
      ('train_tasks',)]
  draws = [_first_draws(seeding.numpy_stream(seed, *path))
           for seed, path in itertools.product(range(4), paths)]
  assert len(set(draws)) == len(draws)
  assert _first_draws(seeding.numpy_stream(3, 'a', 1)) == _first_draws(seeding.numpy_stream(3, 'a', 1))


def test_no_two_seeds_share_a_reset_stream():
  """The old defect: env i of seed s and env i - 1 of seed s + 1 drew identical resets."""
  draws = set()
  for seed in range(3):
    runner = RealRunner('halfcheetah_vel', 3, seed=seed, stream=('train_env',))
    sampler = MultiTaskSampler('halfcheetah_vel', 2, 2, seed=seed, stream=('test_env',))
    for env in (runner.env, sampler.env):
      for rng in env.rngs:
        draws.add(_first_draws(rng))
  assert len(draws) == 3 * (3 + 4)


def test_seeds_must_be_non_negative():
  with pytest.raises(ValueError, match='non-negative'):
    seeding.numpy_stream(-1, 'env')


def test_a_test_tasks_streams_depend_only_on_seed_and_index():
  runner = RealRunner('halfcheetah_vel', 2, seed=4)
  agent = SLBOAgent(runner, seed=4, n_trpo=400)
  untouched = SLBOAgent(runner, seed=4, n_trpo=400)
  for rng in agent.generators.values():  # as if earlier test tasks had drawn from them
    rng.standard_normal(10)
  agent.reseed('test_task', 7)
  untouched.reseed('test_task', 7)
  for name in RESEEDED_STREAMS:
    assert _first_draws(agent.generators[name]) == _first_draws(untouched.generators[name]), name
  assert agent.noise.rng is agent.generators['ou_noise']
  agent.reseed('test_task', 8)
  assert _first_draws(agent.generators['policy']) != _first_draws(
      seeding.numpy_stream(4, 'test_task', 7, 'policy'))


def test_restoring_a_record_leaves_streams_it_does_not_hold_fresh():
  from smtl_tf.runs import state as run_state
  from smtl_tf.runs.directory import CheckpointError
  saved = {'a': seeding.numpy_stream(0, 'a')}
  saved['a'].standard_normal(3)
  record = run_state.capture(saved, {})
  generators = {'a': seeding.numpy_stream(0, 'a'), 'b': seeding.numpy_stream(0, 'b')}
  run_state.restore(record, generators, {})  # 'b' was added later (e.g. test_batch > 1)
  assert _first_draws(generators['a']) == _first_draws(saved['a'])
  assert _first_draws(generators['b']) == _first_draws(seeding.numpy_stream(0, 'b'))
  with pytest.raises(CheckpointError, match='older version'):
    run_state.restore({'rng_state': {}, 'runners': {}}, generators, {})
