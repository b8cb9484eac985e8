"""The console shows the project's INFO lines and hides other modules' INFO lines."""
import logging
import os

from smtl_tf import console
from smtl_tf.runs import logger as run_logger


def _record(pathname: str, level: int) -> logging.LogRecord:
  return logging.LogRecord('x', level, pathname, 1, 'message', None, None)


def test_own_info_lines_pass_and_foreign_info_lines_do_not():
  own_info_only = console.OwnInfoOnly()
  assert own_info_only.filter(_record(os.path.abspath(run_logger.__file__), logging.INFO))
  tensorflow_file = os.path.join('site-packages', 'tensorflow', 'functional_saver.py')
  assert not own_info_only.filter(_record(tensorflow_file, logging.INFO))
  assert own_info_only.filter(_record(tensorflow_file, logging.WARNING))


class _Clock:

  def __init__(self):
    self.now = 1000.0

  def time(self):
    return self.now


def test_eta_counts_units_finishing_in_rounds_of_workers(monkeypatch):
  clock = _Clock()
  monkeypatch.setattr(run_logger, 'time', clock)
  meter = run_logger.Meter(logger=None, total=40, done=14, workers=2)
  one_worker = run_logger.Meter(logger=None, total=40, done=14)
  assert meter.eta(14) == '?'
  clock.now += 600  # one round of two 10-minute items: the first of them has finished
  assert meter.eta(15) == run_logger.format_seconds(13 * 600)  # 25 left: 13 rounds
  assert meter.eta(16) == run_logger.format_seconds(12 * 600)  # the round's second one
  assert one_worker.eta(16) == run_logger.format_seconds(24 * 300)  # 2 units in 600 s
