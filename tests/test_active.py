"""Active task selection: the quantile rule, the ratings' sample costs, a tiny active run."""
import gin
import numpy as np
import pytest

from smtl_tf import active
from smtl_tf import main
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.slbo.agent import SLBOAgent


@pytest.mark.parametrize('history,min_seen,q,window,expected', [
    ([], 1, 0.5, None, None),                       # nothing seen yet
    ([3.0, 1.0], 3, 0.5, None, None),               # fewer than L
    ([3.0, 1.0, 2.0], 3, 0.5, None, 2.0),           # the median
    ([1.0, 2.0, 3.0, 4.0], 2, 0.5, None, 2.5),      # linear interpolation
    ([5.0, 1.0, 3.0], 1, 0.0, None, 1.0),           # q = 0: the minimum
    ([5.0, 1.0, 3.0], 1, 1.0, None, 5.0),           # q = 1: the maximum
    ([9.0, 1.0, 3.0], 1, 1.0, 2, 3.0),              # only the last two
    ([2.0, 2.0, 2.0], 2, 0.5, None, 2.0),           # ties
])
def test_skip_threshold_hand_examples(history, min_seen, q, window, expected):
  assert active.skip_threshold(history, min_seen, q, window) == expected


def test_decisions_skip_strictly_below_the_threshold():
  selector = active.TaskSelector(rating='true', min_seen=3, quantile=0.5)
  history = [2.0, 2.0, 2.0]
  assert not selector.decide(2.0, history)['skipped']      # a tie is kept
  assert selector.decide(1.999, history)['skipped']
  assert not selector.decide(-5.0, history[:2])['skipped']  # fewer than L seen: always kept
  assert not active.TaskSelector('true', 1, 0.0).decide(1.0, [1.0, 3.0])['skipped']
  assert active.TaskSelector('true', 1, 1.0).decide(2.9, [1.0, 3.0])['skipped']
  with pytest.raises(FloatingPointError, match='rating'):
    selector.decide(float('nan'), history)


@pytest.mark.parametrize('kwargs,message', [({'rating': 'hardest'}, 'Unknown rating'),
                                            ({'quantile': 1.5}, 'quantile'),
                                            ({'min_seen': 0}, 'min_seen')])
def test_bad_selector_settings_are_refused(kwargs, message):
  with pytest.raises(ValueError, match=message):
    active.TaskSelector(**kwargs)


@pytest.fixture
def trained_agent():
  gin.parse_config_files_and_bindings(['gin/base/slbo.gin', 'gin/tiny.gin'],
                                      ['SLBOAgent.n_shadow_models = 2'])
  runner = RealRunner('halfcheetah_vel', n_envs=2, seed=0, horizon=20)
  agent = SLBOAgent(runner, seed=0, n_trpo=40)
  agent.set_task(runner, 1.0)
  agent.collect(runner, 80)
  agent.train_model(5)
  agent.train_shadow_models(5)
  return agent, runner


def test_true_rating_counts_its_real_samples_and_keeps_them_out_of_the_dataset(trained_agent):
  trained_agent, runner = trained_agent
  size = len(trained_agent.dataset)
  collected = runner.steps['collect']
  rated = trained_agent.rate(runner, 'true', n_real_episodes=3)
  assert runner.steps['rating'] == 3 * 20
  assert runner.steps['collect'] == collected
  assert len(trained_agent.dataset) == size
  assert rated['rating'] == pytest.approx(rated['virtual_return'] - rated['real_return'])


def test_estimated_rating_takes_no_real_step(trained_agent):
  trained_agent, runner = trained_agent
  before = dict(runner.steps)
  rated = trained_agent.rate(runner, 'estimated', n_real_episodes=3)
  assert dict(runner.steps) == before
  assert np.isfinite(rated['rating']) and rated['rating'] >= 0.0
  assert len(rated['shadow_returns']) == 2


def test_tiny_active_run_writes_its_decisions(tmp_path):
  main.parse_gin(['gin/ant_vel2d_active.gin', 'gin/active/tasks_5.gin',
                  'gin/active/rating_true.gin', 'gin/tiny.gin'],
                 ['TaskSelector.min_seen = 1', 'TaskSelector.quantile = 0.9',
                  'TaskSelector.n_rating_episodes = 2'])
  record = main.train_eval(root_dir=str(tmp_path), seed=0)
  selection = record['selection']
  kept, candidates = len(record['train_log']), selection['candidates']
  assert (tmp_path / 'ant_vel2d_active_5' / 'smtl_true' / 'seed_0' / 'results.json').exists()
  assert kept == 3 or candidates == 3 * 4            # tiny.gin: 3 tasks, 4 candidates per task
  log = selection['log']
  assert len(log) == candidates - 1                  # the first candidate has no model: unrated
  assert sum(entry['skipped'] for entry in log) == candidates - kept
  assert log[0]['threshold'] is None and not log[0]['skipped']
  for entry in log[1:]:
    assert entry['skipped'] == (entry['rating'] < entry['threshold'])
  assert selection['rating_real_samples'] == sum(e['rating_real_samples'] for e in log) > 0
  collect = sum(1 for _ in record['train_log']) * 400  # tiny.gin: 400 samples per task
  assert record['train_real_samples'] == collect + selection['rating_real_samples']
