"""The run directory shared by every algorithm: <root>/<experiment>/<algorithm>/seed_<n>/."""
import contextlib
import fcntl
import json
import os
import socket
import time
from typing import Dict, Optional

import gin
import numpy as np
import tensorflow as tf
from absl import logging


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


def save_operative_config(run_dir: str) -> None:
  """Writes the gin configuration actually used (after construction)."""
  write_atomic(os.path.join(run_dir, 'operative_config.gin'), gin.operative_config_str())


def write_atomic(path: str, text: str) -> None:
  tmp = f'{path}.tmp'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def write_json(path: str, payload: Dict) -> None:
  write_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + '\n')


class Progress:
  """Log lines and TensorBoard scalars with elapsed time and an ETA.

  Args:
    run_dir: where the TensorBoard events go.
    total: number of units of work (stages, iterations, tasks) in the run.
    done: units already completed (when resuming).
  """

  def __init__(self, run_dir: str, total: int, done: int = 0):
    self.writer = tf.summary.create_file_writer(run_dir)
    self.total = total
    self.start_done = done
    self.start = time.time()

  def eta(self, done: int) -> str:
    elapsed = time.time() - self.start
    finished = done - self.start_done
    if finished <= 0:
      return '?'
    return format_seconds(elapsed / finished * (self.total - done))

  def write_scalars(self, step: int, scalars: Dict[str, float]) -> None:
    """TensorBoard scalars (tag -> value) at step `step`, no log line."""
    with self.writer.as_default():
      for tag, value in scalars.items():
        tf.summary.scalar(tag, value, step=step)
    self.writer.flush()

  def log(self, done: int, phase: str, step: int, scalars: Dict[str, float]) -> None:
    """Writes scalars (tag -> value) at TensorBoard step `step` and one log line."""
    self.write_scalars(step, scalars)
    shown = ', '.join(f'{tag.split("/")[-1]}={value:.4g}' for tag, value in scalars.items())
    logging.info('[%d/%d] %s | %s | elapsed %s, ETA %s', done, self.total, phase, shown,
                 format_seconds(time.time() - self.start), self.eta(done))


def format_seconds(seconds: float) -> str:
  seconds = int(seconds)
  return f'{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class CheckpointError(RuntimeError):
  """A checkpoint exists but cannot be read or does not match the run."""


class RunCheckpoint:
  """Atomic save/restore of TF variables, numpy arrays and a JSON progress record.

  Each save writes `checkpoints/ckpt-<n>/` completely, then points
  `checkpoints/LATEST` at it with an atomic rename, then removes older ones. A
  crash mid-save leaves the previous checkpoint intact. Every progress record
  carries 'wall_seconds': the run's working time so far, summed over resumptions.
  """

  def __init__(self, run_dir: str, name: str = 'checkpoints', **trackables):
    self.directory = os.path.join(run_dir, name)
    os.makedirs(self.directory, exist_ok=True)
    self.checkpoint = tf.train.Checkpoint(**trackables)
    self._wall_before = 0.0
    self._started = time.time()

  def wall_seconds(self) -> float:
    """Working time of the run: before the last restore plus since then."""
    return self._wall_before + time.time() - self._started

  def _latest(self) -> Optional[str]:
    pointer = os.path.join(self.directory, 'LATEST')
    if not os.path.exists(pointer):
      return None
    with open(pointer) as f:
      return os.path.join(self.directory, f.read().strip())

  def save(self, progress: Dict, arrays: Dict[str, np.ndarray]) -> None:
    latest = self._latest()
    index = 0 if latest is None else int(os.path.basename(latest).split('-')[1]) + 1
    name = f'ckpt-{index}'
    path = os.path.join(self.directory, name)
    os.makedirs(path, exist_ok=True)
    self.checkpoint.write(os.path.join(path, 'variables'))
    np.savez(os.path.join(path, 'arrays.npz'), **arrays)
    write_json(os.path.join(path, 'progress.json'),
               {**progress, 'wall_seconds': self.wall_seconds()})
    write_atomic(os.path.join(self.directory, 'LATEST'), name)
    for old in os.listdir(self.directory):
      if old.startswith('ckpt-') and old != name:
        _remove_tree(os.path.join(self.directory, old))

  def restore(self):
    """Returns (progress, arrays) of the latest checkpoint, or None if there is none."""
    latest = self._latest()
    if latest is None:
      return None
    try:
      with open(os.path.join(latest, 'progress.json')) as f:
        progress = json.load(f)
      with np.load(os.path.join(latest, 'arrays.npz')) as data:
        arrays = {key: data[key] for key in data.files}
      self.checkpoint.read(os.path.join(latest, 'variables')).assert_consumed()
    except Exception as error:  # pylint: disable=broad-except
      raise CheckpointError(
          f'The checkpoint {latest} is corrupt or was written by a different configuration '
          f'({type(error).__name__}: {error}). Delete {self.directory} to start this run again, '
          f'or use another --root_dir.') from error
    self._wall_before = progress.get('wall_seconds', 0.0)
    self._started = time.time()
    return progress, arrays


def _remove_tree(path: str) -> None:
  for name in os.listdir(path):
    os.remove(os.path.join(path, name))
  os.rmdir(path)
