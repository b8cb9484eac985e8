"""The run directory <root>/<experiment>/<algorithm>/seed_<n>/: its lock, atomic writes and
checkpoints."""
import contextlib
import fcntl
import json
import os
import socket
import time
from typing import Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

OPERATIVE_CONFIG = 'operative_config.gin'
RESULTS = 'results.json'


def run_directory(root_dir: str, experiment: str, algorithm: str, seed: int) -> str:
  path = os.path.join(root_dir, experiment, algorithm, f'seed_{seed}')
  os.makedirs(path, exist_ok=True)
  return path


class RunDirectoryBusy(RuntimeError):
  """Another process holds the run directory."""


@contextlib.contextmanager
def exclusive(run_dir: str):
  """Holds the run directory's lock (`<run_dir>/.lock`) for the duration of the block.

  A second process on the same run directory would repeat or mix the first one's work; it
  stops here with RunDirectoryBusy naming the holder. The operating system drops the lock
  when the holder exits, even on SIGKILL.
  """
  path = os.path.join(run_dir, '.lock')
  handle = open(path, 'a+')
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      handle.seek(0)
      holder = handle.read().strip() or 'unknown process'
      raise RunDirectoryBusy(
          f'{run_dir} is in use by another run ({holder}). Wait for it to finish or stop it; '
          f'a second process on one run directory would repeat or mix its work.') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'pid {os.getpid()} on {socket.gethostname()} since '
                 f'{time.strftime("%Y-%m-%d %H:%M:%S")}')
    handle.flush()
    yield
  finally:
    handle.close()


def write_atomic(path: str, text: str) -> None:
  tmp = f'{path}.tmp{os.getpid()}'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def write_json(path: str, payload: Dict) -> None:
  write_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + '\n')


class CheckpointError(RuntimeError):
  """A checkpoint exists but cannot be read or does not match the run."""


class RunCheckpoint:
  """Atomic save/restore of TF variables, numpy arrays and a JSON record.

  Each save writes `<name>/ckpt-<n>/` completely, then points `<name>/LATEST` at it with an
  atomic rename, then removes older ones. A crash mid-save leaves the previous checkpoint
  intact. Nothing is created on disk before the first save.

  Args:
    run_dir: the run directory.
    name: the checkpoint directory's name inside it.
    fresh_start: what a user does to start over when this checkpoint cannot be used (named
      in the errors).
    **trackables: TF objects saved and restored.
  """

  def __init__(self, run_dir: str, name: str = 'checkpoints', fresh_start: Optional[str] = None,
               **trackables):
    self.directory = os.path.join(run_dir, name)
    self.fresh_start = fresh_start or (f'Delete {self.directory} to start this run again, or '
                                       f'use another --root_dir.')
    self.checkpoint = tf.train.Checkpoint(**trackables)

  def _latest(self) -> Optional[str]:
    pointer = os.path.join(self.directory, 'LATEST')
    if not os.path.exists(pointer):
      return None
    with open(pointer) as f:
      return os.path.join(self.directory, f.read().strip())

  def exists(self) -> bool:
    """Whether there is a checkpoint to resume from.

    Raises:
      CheckpointError: checkpoint files without the LATEST pointer (starting over would
        delete them).
    """
    if self._latest() is not None:
      return True
    if os.path.isdir(self.directory) and any(
        name.startswith('ckpt-') for name in os.listdir(self.directory)):
      raise CheckpointError(
          f'{self.directory} holds checkpoints but no LATEST pointer, so which one is complete '
          f'is unknown. Write the name of the newest complete ckpt-<n> into '
          f'{os.path.join(self.directory, "LATEST")} to resume from it; or {self.fresh_start}')
    return False

  def save(self, record: Dict, arrays: Dict[str, np.ndarray]) -> None:
    os.makedirs(self.directory, exist_ok=True)
    latest = self._latest()
    index = 0 if latest is None else int(os.path.basename(latest).split('-')[1]) + 1
    name = f'ckpt-{index}'
    path = os.path.join(self.directory, name)
    os.makedirs(path, exist_ok=True)
    self.checkpoint.write(os.path.join(path, 'variables'))
    np.savez(os.path.join(path, 'arrays.npz'), **arrays)
    write_json(os.path.join(path, 'progress.json'), record)
    write_atomic(os.path.join(self.directory, 'LATEST'), name)
    for old in os.listdir(self.directory):
      if old.startswith('ckpt-') and old != name:
        _remove_tree(os.path.join(self.directory, old))

  def restore(self) -> Optional[Tuple[Dict, Dict[str, np.ndarray]]]:
    """Returns (record, arrays) of the latest checkpoint, or None if there is none; the
    trackables are restored in place."""
    if not self.exists():
      return None
    latest = self._latest()
    try:
      with open(os.path.join(latest, 'progress.json')) as f:
        record = json.load(f)
      with np.load(os.path.join(latest, 'arrays.npz')) as data:
        arrays = {key: data[key] for key in data.files}
      self.checkpoint.read(os.path.join(latest, 'variables')).assert_consumed()
    except Exception as error:  # pylint: disable=broad-except
      raise self.error(f'is corrupt or was written by a different configuration '
                       f'({type(error).__name__}: {error})') from error
    return record, arrays

  def read_record(self) -> Dict:
    """The latest checkpoint's JSON record (progress, streams, counters); nothing is restored."""
    if not self.exists():
      raise CheckpointError(f'{self.directory} holds no checkpoint. {self.fresh_start}')
    try:
      with open(os.path.join(self._latest(), 'progress.json')) as f:
        return json.load(f)
    except (OSError, ValueError) as error:
      raise self.error(f'is unreadable ({error})') from error

  def error(self, problem: str) -> CheckpointError:
    """A CheckpointError naming the latest checkpoint, the problem and the way out."""
    return CheckpointError(f'The checkpoint {self._latest() or self.directory} {problem}. '
                           f'{self.fresh_start}')


def _remove_tree(path: str) -> None:
  for name in os.listdir(path):
    os.remove(os.path.join(path, name))
  os.rmdir(path)
