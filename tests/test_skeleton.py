"""The run skeleton with a toy algorithm: phases, resumption, trained state, config checks."""
import json
import os

import gin
import numpy as np
import pytest
import tensorflow as tf

from smtl_tf.runs import directory
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import skeleton


class Counter(skeleton.Algorithm):
  """Training adds a random draw to a TF variable per unit; evaluation reads it per test task."""

  def __init__(self, n_train: int = 4, n_test: int = 3, crash_at=None):
    self.total = tf.Variable(0.0)
    self.rng = np.random.default_rng(0)
    self.n_train, self.n_test, self.crash_at = n_train, n_test, crash_at

  def trackables(self):
    return {'total': self.total}

  def generators(self):
    return {'draws': self.rng}

  def runners(self):
    return {}

  def phases(self, run):
    return [skeleton.Phase('train', self.train_unit, self.n_train, save_every=2,
                           ends_training=True),
            skeleton.Phase('evaluate', self.test_unit, self.n_test)]

  def train_unit(self, progress):
    if progress.unit == self.crash_at:
      raise KeyboardInterrupt('simulated crash')
    draw = float(self.rng.standard_normal())
    self.total.assign_add(draw)
    progress.train_log.append({'draw': draw})
    return skeleton.Report(f'unit {progress.unit}', progress.unit, {'train/real_samples': 1.0})

  def test_unit(self, progress):
    value = float(self.total.numpy()) + progress.unit
    progress.test_records.append({'task': [float(progress.unit)], 'returns': [value],
                                  'adapt_samples': [0]})

  def results(self, progress):
    return results_lib.make_results('toy', 'counter', 0, 'f', 'f', len(progress.train_log), 0,
                                    progress.test_records, {'train_log': progress.train_log})


@gin.configurable
def toy_settings(size=1):
  return size


def _comparable(record):
  return {key: value for key, value in record.items() if 'wall' not in key}


def test_an_interrupted_run_resumes_to_the_uninterrupted_results(tmp_path):
  straight = skeleton.run(Counter(), str(tmp_path / 'a'))
  with pytest.raises(KeyboardInterrupt):
    skeleton.run(Counter(crash_at=3), str(tmp_path / 'b'))
  resumed = skeleton.run(Counter(), str(tmp_path / 'b'))
  assert _comparable(resumed) == _comparable(straight)
  assert [record['returns'][0] - record['task'][0] for record in resumed['test_tasks']] == \
      pytest.approx([sum(entry['draw'] for entry in straight['train_log'])] * 3, rel=1e-6)
  on_disk = json.loads((tmp_path / 'b' / 'results.json').read_text())
  assert on_disk == json.loads(json.dumps(resumed))
  assert (tmp_path / 'b' / skeleton.TRAINED / 'LATEST').exists()


def test_a_finished_run_rerun_rewrites_the_same_results(tmp_path):
  first = skeleton.run(Counter(), str(tmp_path))
  again = skeleton.run(Counter(), str(tmp_path))
  assert _comparable(again) == _comparable(first)


def test_another_run_evaluates_the_trained_state_of_this_one(tmp_path):
  trained = tmp_path / 'seed_0'
  skeleton.run(Counter(), str(trained))
  other = tmp_path / 'other' / 'seed_0'
  other.mkdir(parents=True)
  record = skeleton.run(Counter(n_test=2), str(other), trained_run=str(trained))
  assert record['trained_from'] == os.path.abspath(trained)
  assert len(record['train_log']) == 4 and len(record['test_tasks']) == 2


def test_resuming_with_another_configuration_is_refused(tmp_path):
  gin.parse_config('toy_settings.size = 1')
  toy_settings()
  with pytest.raises(KeyboardInterrupt):
    skeleton.run(Counter(crash_at=3), str(tmp_path))
  saved = (tmp_path / 'operative_config.gin').read_text()
  gin.clear_config()
  gin.parse_config('toy_settings.size = 2')
  toy_settings()
  with pytest.raises(directory.CheckpointError, match='toy_settings.size: 1 there, 2 now'):
    skeleton.run(Counter(), str(tmp_path))
  assert (tmp_path / 'operative_config.gin').read_text() == saved


def test_a_phase_the_algorithm_lacks_gives_the_checkpoint_error(tmp_path):
  with pytest.raises(KeyboardInterrupt):
    skeleton.run(Counter(crash_at=3), str(tmp_path))
  checkpoints = tmp_path / 'checkpoints'
  latest = checkpoints / (checkpoints / 'LATEST').read_text().strip()
  record = json.loads((latest / 'progress.json').read_text())
  record['progress']['phase'] = 'meta-train'
  (latest / 'progress.json').write_text(json.dumps(record))
  with pytest.raises(directory.CheckpointError, match="phase 'meta-train'"):
    skeleton.run(Counter(), str(tmp_path))
