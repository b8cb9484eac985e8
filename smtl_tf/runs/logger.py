"""One logger per run: a single TensorBoard writer and the console's progress lines.

TensorBoard tags are defined here once (TAGS); every algorithm logs through them, so runs of
different algorithms share tag names.
"""
import time
from typing import Dict, Mapping, Optional

import tensorflow as tf
from absl import logging

# Statistic name -> TensorBoard tag.
TAGS = {
    # training, x = real training samples (SMTL tasks, MAML meta-iterations, TRPO updates)
    'collect_return': 'train/collect_return',
    'pre_update_return': 'train/pre_update_return',
    'virtual_return': 'train/virtual_return',
    'model_loss': 'train/model_loss',
    'kl': 'train/policy_kl',
    'entropy': 'train/policy_entropy',
    'real_samples': 'train/real_samples',
    'eval_samples': 'train/eval_samples',
    'task_index': 'train/task_index',
    # active task selection, x = candidate index
    'rating': 'select/rating',
    'skipped': 'select/skipped',
    'threshold': 'select/threshold',
    # evaluation
    'real_return': 'eval/real_return',
    'adapt_samples': 'eval/adapt_samples',
    'mean_return_all_tasks': 'eval/mean_return_all_tasks',
    'mean_return': 'eval/mean_return',
    'ci_low': 'eval/ci_low',
    'ci_high': 'eval/ci_high',
}


def tag(name: str) -> str:
  """The TensorBoard tag of a statistic; return_iter_<k> and mean_return_iter_<k> (the return
  after k adaptation iterations) are tags of their own."""
  if name.startswith(('return_iter_', 'mean_return_iter_')):
    return f'eval/{name}'
  if name not in TAGS:
    raise KeyError(f'No TensorBoard tag for {name!r}: add it to smtl_tf/runs/logger.TAGS.')
  return TAGS[name]


def tagged(stats: Mapping[str, float], names=None) -> Dict[str, float]:
  """{tag: value} of the named statistics (default: all of them)."""
  return {tag(name): float(stats[name]) for name in (names or stats)}


def format_seconds(seconds: float) -> str:
  seconds = int(seconds)
  return f'{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class RunLogger:
  """TensorBoard scalars and console lines of one run (one event file per process)."""

  def __init__(self, run_dir: str, muted: bool = False):
    self.run_dir, self.muted = run_dir, muted
    self._writer = None

  @property
  def writer(self):
    if self._writer is None:  # created on first use: a refused run writes no event file
      self._writer = tf.summary.create_file_writer(self.run_dir)
    return self._writer

  def scalars(self, step: int, scalars: Dict[str, float]) -> None:
    """TensorBoard scalars {tag: value} at step `step`, no console line (none when muted:
    a worker process, whose driver logs its results)."""
    if self.muted:
      return
    with self.writer.as_default():
      for name, value in scalars.items():
        tf.summary.scalar(name, value, step=step)
    self.writer.flush()

  def test_records(self, first: int, records) -> None:
    """Each test record's return and adaptation samples per iteration, at step = its test
    task's index (first, first + 1, ...)."""
    for offset, record in enumerate(records):
      for k, (value, samples) in enumerate(zip(record['returns'], record['adapt_samples'])):
        self.scalars(first + offset, tagged({f'return_iter_{k}': value, 'adapt_samples': samples}))

  def meter(self, total: int, done: int = 0, workers: int = 1) -> 'Meter':
    """Progress of a phase of `total` units, `done` of them finished before this process,
    `workers` of them running at a time."""
    return Meter(self, total, done, workers)


class Meter:
  """Console lines '[done/total] text | scalars | elapsed, ETA' of one phase."""

  def __init__(self, logger: RunLogger, total: int, done: int, workers: int = 1):
    self.logger, self.total, self.start_done = logger, total, done
    self.workers = max(1, workers)
    self.start = time.time()

  def eta(self, done: int) -> str:
    """Time left, with units finishing in rounds of `workers` (each unit of a round taking about
    as long as the others): elapsed / rounds finished * rounds left."""
    finished = done - self.start_done
    if finished <= 0:
      return '?'
    rounds_finished = -(-finished // self.workers)
    rounds_left = -(-(self.total - done) // self.workers)
    return format_seconds((time.time() - self.start) / rounds_finished * rounds_left)

  def line(self, done: int, text: str, step: Optional[int] = None,
           scalars: Optional[Dict[str, float]] = None) -> None:
    """Writes scalars {tag: value} at TensorBoard step `step` and one console line."""
    scalars = scalars or {}
    if scalars:
      self.logger.scalars(step, scalars)
    shown = ', '.join(f'{name.split("/")[-1]}={value:.4g}' for name, value in scalars.items())
    logging.info('[%d/%d] %s | %s | elapsed %s, ETA %s', done, self.total, text, shown,
                 format_seconds(time.time() - self.start), self.eta(done))
