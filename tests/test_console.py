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
