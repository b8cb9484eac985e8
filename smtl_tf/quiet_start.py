"""Imported first by the command-line entry points: TensorFlow starts without its native lines.

TensorFlow's C++ libraries print start-up lines (CUDA probing, "All log messages before
absl::InitializeLog() ...") straight to file descriptor 2 while they load and when the
first device is listed, before any logging setting applies. Importing this module loads
TensorFlow and lists its devices with descriptor 2 pointed at /dev/null, then restores it.
An exception raised meanwhile still reaches the console (its traceback is printed later);
warnings and native messages of those seconds do not. `--verbosity=1` (or `-v 1`, or higher)
on the command line, or TF_CPP_MIN_LOG_LEVEL=0 in the environment, shows everything.
"""
import contextlib
import os
import sys


def _verbose(argv) -> bool:
  for i, argument in enumerate(argv):
    value = None
    if argument.startswith(('--verbosity=', '-verbosity=', '--v=', '-v=')):
      value = argument.split('=', 1)[1]
    elif argument in ('--verbosity', '-verbosity', '--v', '-v') and i + 1 < len(argv):
      value = argv[i + 1]
    if value is not None:
      try:
        return int(value) >= 1
      except ValueError:
        return False
  return os.environ.get('TF_CPP_MIN_LOG_LEVEL') == '0'


@contextlib.contextmanager
def native_stderr_silenced():
  """Points file descriptor 2 at /dev/null for the block (Python's sys.stderr is flushed)."""
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


def start_tensorflow() -> None:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.config.list_physical_devices()


if _verbose(sys.argv[1:]):
  start_tensorflow()
else:
  with native_stderr_silenced():
    start_tensorflow()
