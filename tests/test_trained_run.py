"""A shift experiment evaluated from another run's training equals a fresh run of it."""
import os
import shutil

import gin
import pytest

from smtl_tf import main
from smtl_tf.runs import results as results_lib

GIN = os.path.join(main.REPO_ROOT, 'gin')
COMPARED = ('test_tasks', 'summary', 'train_real_samples', 'adapt_real_samples',
            'eval_real_samples', 'train_log', 'test_family', 'experiment')


def _run(root, gin_file, bindings=(), seed=0, trained_run=None):
  gin.clear_config()
  main.parse_gin([os.path.join(GIN, gin_file), os.path.join(GIN, 'tiny.gin')], list(bindings))
  return main.train_eval(root_dir=str(root), seed=seed,
                         trained_run=None if trained_run is None else str(trained_run))


@pytest.mark.parametrize('prefix,algorithm', [('', 'smtl'), ('maml/', 'maml'),
                                              ('oracle/', 'oracle')])
def test_pos2neg_from_the_vel_training_equals_a_fresh_pos2neg_run(tmp_path, prefix, algorithm):
  _run(tmp_path / 'shared', f'{prefix}halfcheetah_vel.gin')
  trained = tmp_path / 'shared' / 'halfcheetah_vel' / algorithm / 'seed_0'
  reused = _run(tmp_path / 'shared', f'{prefix}halfcheetah_pos2neg.gin', trained_run=trained)
  fresh = _run(tmp_path / 'fresh', f'{prefix}halfcheetah_pos2neg.gin')
  assert reused['test_family'] == 'halfcheetah_vel_neg'
  assert all(task['task'][0] < 0 for task in reused['test_tasks'])
  for key in COMPARED:
    assert reused[key] == fresh[key], key
  assert reused['trained_from'] == str(trained.resolve()) and fresh['trained_from'] is None
  # The evaluating run has its own directory and trained state; a rerun resumes it.
  own = tmp_path / 'shared' / 'halfcheetah_pos2neg' / algorithm / 'seed_0'
  assert (own / 'checkpoints_trained' / 'LATEST').exists()
  again = _run(tmp_path / 'shared', f'{prefix}halfcheetah_pos2neg.gin', trained_run=trained)
  for key in COMPARED:
    assert again[key] == reused[key], key


def test_a_trained_run_with_other_training_settings_or_seed_is_refused(tmp_path):
  _run(tmp_path, 'halfcheetah_vel.gin')
  trained = tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0'
  with pytest.raises(ValueError, match=r'run_smtl\.n_tasks: 3 there, 2 here'):
    _run(tmp_path / 'other', 'halfcheetah_pos2neg.gin', ['run_smtl.n_tasks = 2'],
         trained_run=trained)
  with pytest.raises(ValueError, match='seed 1'):
    _run(tmp_path / 'other', 'halfcheetah_pos2neg.gin', seed=1, trained_run=trained)
  with pytest.raises(ValueError, match='no operative_config.gin'):
    _run(tmp_path / 'other2', 'halfcheetah_pos2neg.gin', trained_run=tmp_path / 'missing')
  with pytest.raises(ValueError, match='multi-task'):
    _run(tmp_path / 'other3', 'slbo_halfcheetah_vel1.gin', trained_run=trained)


def test_a_run_whose_training_has_not_finished_is_refused(tmp_path):
  _run(tmp_path, 'maml/halfcheetah_vel.gin')
  trained = tmp_path / 'halfcheetah_vel' / 'maml' / 'seed_0'
  shutil.rmtree(trained / 'checkpoints_trained')  # as if meta-training had not ended
  with pytest.raises(ValueError, match='no finished training'):
    _run(tmp_path, 'maml/halfcheetah_pos2neg.gin', trained_run=trained)


def test_a_training_evaluated_on_given_test_tasks(tmp_path):
  _run(tmp_path / 'trained', 'maml/halfcheetah_vel.gin')
  trained = tmp_path / 'trained' / 'halfcheetah_vel' / 'maml' / 'seed_0'
  other = _run(tmp_path / 'other_tasks', 'maml/halfcheetah_vel.gin',
               ['test_tasks.tasks = [0.3, 1.7, 0.9]'], trained_run=trained)
  assert [task['task'] for task in other['test_tasks']] == [[0.3], [1.7], [0.9]]
  before = results_lib.load(str(trained / 'results.json'))
  assert other['train_real_samples'] == before['train_real_samples']
  with pytest.raises(ValueError, match="this run's own directory"):
    _run(tmp_path / 'trained', 'maml/halfcheetah_vel.gin', ['test_tasks.tasks = [0.5]'],
         trained_run=trained)
  assert results_lib.load(str(trained / 'results.json')) == before
  with pytest.raises(ValueError, match=r'test_tasks\.tasks\[0\] = -0\.5'):
    _run(tmp_path / 'refused', 'maml/halfcheetah_vel.gin', ['test_tasks.tasks = [-0.5]'],
         trained_run=trained)
