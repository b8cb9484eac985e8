"""A quiet console: the project's own log lines, without TensorFlow's internal INFO lines.

TensorFlow logs a line per checkpoint write ("Sharding callback duration ...") and
other INFO lines through Python logging, which absl prints beside the progress lines.
By default only the INFO lines of this project's packages are shown (warnings and
errors of every module always are); absl's `--verbosity=1` shows everything.
"""
import logging
import os

from absl import logging as absl_logging

_PACKAGES = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name)
                  + os.sep for name in ('smtl_tf', 'maml_tf', 'launch'))


class OwnInfoOnly(logging.Filter):
  """Passes warnings and errors, and INFO lines logged from this project's packages."""

  def filter(self, record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.pathname.startswith(_PACKAGES)


def quiet(verbosity: int) -> None:
  """Installs OwnInfoOnly on absl's handler unless verbosity >= 1 (absl's --verbosity)."""
  if verbosity < 1:
    absl_logging.get_absl_handler().addFilter(OwnInfoOnly())
