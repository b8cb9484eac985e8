"""MAML and the oracle end to end: learning on point navigation, sample accounting, resume."""
import json
import os

import gin
import numpy as np
import pytest

from maml_tf import sampler as sampler_lib
from smtl_tf import main

POINT_MAML = ['run_maml.meta_batch = 10', 'run_maml.n_episodes = 10', 'run_maml.n_adapt = 1',
              'run_maml.eval_episodes = 10', 'test_tasks.n_test_tasks = 10']


def _parse(gin_files, bindings):
  gin.clear_config()
  main.parse_gin(gin_files, bindings)


def _run(root, gin_file, bindings, seed=0):
  _parse([gin_file], bindings)
  return main.train_eval(root_dir=str(root), seed=seed)


def test_maml_one_step_adaptation_beats_pre_update_and_random_init(tmp_path):
  trained = _run(tmp_path / 'a', 'gin/maml/point_nav.gin', POINT_MAML + ['run_maml.n_iterations = 12'])
  untrained = _run(tmp_path / 'b', 'gin/maml/point_nav.gin', POINT_MAML + ['run_maml.n_iterations = 0'])
  pre, adapted = (row['mean'] for row in trained['summary'])
  random_adapted = untrained['summary'][1]['mean']
  # Returns are minus summed distances over 100 steps; a random policy scores about -70.
  assert adapted > pre + 5.0, trained['summary']
  assert adapted > random_adapted + 10.0, (trained['summary'], untrained['summary'])
  # Episodes end at the goal, so every batch is whole episodes until each task has its budget
  # of 10 x 100 samples: budget <= samples < budget + horizon per task.
  batches = 12 * 2 * 10   # meta-iterations x (pre + post) x tasks
  assert batches * 1000 <= trained['train_real_samples'] < batches * 1100
  for record in trained['test_tasks'] + untrained['test_tasks']:
    assert 1000 <= record['adapt_samples'][1] < 1100, record
  assert trained['adapt_real_samples'] == sum(t['adapt_samples'][1] for t in trained['test_tasks'])
  assert untrained['train_real_samples'] == 0


def test_oracle_beats_a_task_blind_policy(tmp_path):
  bindings = ['run_oracle.n_iterations = 30', 'RealTRPOAgent.n_trpo = 1000', 'run_oracle.n_envs = 10',
              'run_oracle.eval_episodes = 5', 'test_tasks.n_test_tasks = 10']
  oracle = _run(tmp_path, 'gin/oracle/point_nav.gin', bindings)
  blind = _run(tmp_path, 'gin/oracle/point_nav.gin', bindings + ['train_eval.algorithm = "task_blind"'])
  assert (oracle['algorithm'], blind['algorithm']) == ('oracle', 'task_blind')
  assert oracle['summary'][0]['mean'] > blind['summary'][0]['mean'] + 10.0
  assert oracle['summary'][0]['ci_low'] > blind['summary'][0]['ci_high']
  assert oracle['train_real_samples'] == 30 * 1000


def _crash_on_call(monkeypatch, method, n):
  """Makes the n-th call of MultiTaskSampler.<method> (from now on) raise KeyboardInterrupt."""
  original = getattr(sampler_lib.MultiTaskSampler, method)
  calls = {'n': 0}

  def crashing(self, *args, **kwargs):
    calls['n'] += 1
    if calls['n'] == n:
      raise KeyboardInterrupt(f'simulated crash in {method}')
    return original(self, *args, **kwargs)

  monkeypatch.setattr(sampler_lib.MultiTaskSampler, method, crashing)
  return lambda: monkeypatch.setattr(sampler_lib.MultiTaskSampler, method, original)


def test_tiny_maml_counts_every_real_step_and_resumes_identically(tmp_path, monkeypatch):
  tiny = ['gin/maml/halfcheetah_vel.gin', 'gin/tiny.gin']

  def run(root):
    _parse(tiny, ['run_maml.n_iterations = 3', 'run_maml.n_adapt = 2',
                  'run_maml.adapt_budget = 40'])
    return main.train_eval(root_dir=str(root), seed=5)

  reference = run(tmp_path / 'reference')
  # HalfCheetah never terminates: 3 iterations x (pre + post) x 2 tasks x 2 episodes x 20 steps.
  assert reference['train_real_samples'] == 3 * 2 * 2 * 2 * 20
  assert reference['eval_real_samples'] == 3 * 2 * 2 * 20
  assert [t['adapt_samples'] for t in reference['test_tasks']] == [[0, 40, 80], [0, 40, 80]]
  assert reference['adapt_real_samples'] == 2 * 80

  # Killed in meta-training (the post-update collection of meta-iteration 2), then in
  # evaluation (measuring the returns after one adaptation step), then run to the end.
  for method, n in (('collect', 4), ('episode_returns', 2)):
    restore = _crash_on_call(monkeypatch, method, n)
    with pytest.raises(KeyboardInterrupt):
      run(tmp_path / 'resumed')
    restore()
  resumed = run(tmp_path / 'resumed')
  for key in ('train_log', 'test_tasks', 'summary', 'train_real_samples', 'eval_real_samples',
              'adapt_real_samples'):
    assert resumed[key] == reference[key], key
  with open(tmp_path / 'resumed' / 'halfcheetah_vel' / 'maml' / 'seed_5' / 'results.json') as f:
    written = json.load(f)
  assert written['algorithm'] == 'maml'
  assert written['test_tasks'] == reference['test_tasks']
  assert written['adapt_real_samples'] == reference['adapt_real_samples']


def test_resume_with_different_tasks_is_refused(tmp_path):
  _parse(['gin/maml/halfcheetah_vel.gin', 'gin/tiny.gin'], [])
  main.train_eval(root_dir=str(tmp_path), seed=0)
  _parse(['gin/maml/halfcheetah_vel.gin', 'gin/tiny.gin'], ['test_tasks.test_seed = 7'])
  with pytest.raises(RuntimeError, match='different run'):
    main.train_eval(root_dir=str(tmp_path), seed=0)


def test_tiny_oracle_writes_the_shared_schema(tmp_path):
  _parse(['gin/oracle/halfcheetah_pos2neg.gin', 'gin/tiny.gin'], [])
  record = main.train_eval(root_dir=str(tmp_path), seed=0)
  assert record['test_family'] == 'halfcheetah_vel_neg'
  assert all(t['task'][0] <= 0 for t in record['test_tasks'])
  assert all(len(t['returns']) == 1 and t['adapt_samples'] == [0] for t in record['test_tasks'])
  assert os.path.exists(tmp_path / 'halfcheetah_pos2neg' / 'oracle' / 'seed_0' / 'operative_config.gin')
  assert np.isfinite(record['summary'][0]['mean'])


def test_an_unknown_evaluation_protocol_is_refused_by_name():
  from maml_tf import maml as maml_lib
  with pytest.raises(ValueError, match="run_maml.eval_protocol = 'maml_rl'"):
    maml_lib.MAML(family='point_nav', seed=0, eval_protocol='maml_rl')
