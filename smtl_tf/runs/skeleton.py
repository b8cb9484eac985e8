"""The resumable run every algorithm runs in; an algorithm supplies its phases and nothing else.

    run(algorithm, run_dir, experiment)
      checks the operative configuration against a checkpoint's (or a trained run's),
      restores the checkpoint, then runs each phase unit by unit:
        algorithm phase -> unit -> progress record -> checkpoint (every save_every units)
      and at the end of training saves the trained state (checkpoints_trained/), which the
      evaluation of other test families starts from (--trained_run).
      Finally writes results.json, its TensorBoard summary, and prints the table.

A checkpoint holds the algorithm's TF objects (trackables), its arrays (e.g. the dataset), its
numpy streams and runners' counters (state.py), and the progress record (RunProgress).
"""
import abc
import dataclasses
import hashlib
import json
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import gin
import numpy as np
import tensorflow as tf
from absl import logging

from smtl_tf.runs import config as config_lib
from smtl_tf.runs import directory
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import state as state_lib
from smtl_tf.runs.directory import CheckpointError, RunCheckpoint
from smtl_tf.runs.logger import RunLogger, tagged

TRAINED = 'checkpoints_trained'
DONE = 'done'


@dataclasses.dataclass
class RunProgress:
  """Where a run stands; saved with every checkpoint.

  phase: the phase in progress (DONE when all are finished).
  unit: units of that phase finished.
  train_log: one entry per training unit (SMTL task, meta-iteration, TRPO update, stage).
  test_records: one per test task (protocol.test_record).
  extra: the algorithm's own resumable bookkeeping (JSON values).
  wall_seconds: working time of this run, summed over resumptions.
  train_wall_seconds: working time of training (None before it ends).
  trained_from: the run whose training this run evaluates (--trained_run), if any.
  """
  phase: str
  unit: int = 0
  train_log: List[Dict] = dataclasses.field(default_factory=list)
  test_records: List[Dict] = dataclasses.field(default_factory=list)
  extra: Dict[str, Any] = dataclasses.field(default_factory=dict)
  wall_seconds: float = 0.0
  train_wall_seconds: Optional[float] = None
  trained_from: Optional[str] = None

  @classmethod
  def from_record(cls, record: Dict, checkpoint: RunCheckpoint) -> 'RunProgress':
    saved = record.get('progress') if isinstance(record, dict) else None
    names = {field.name for field in dataclasses.fields(cls)}
    if not isinstance(saved, dict) or 'phase' not in saved or not set(saved) <= names:
      raise checkpoint.error('holds no progress record this version can read (progress.json '
                             'is damaged or from an older version)')
    return cls(**saved)


@dataclasses.dataclass
class Report:
  """One console line (and its TensorBoard scalars {tag: value} at `step`) after a unit."""
  text: str
  step: int = 0
  scalars: Dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Phase:
  """A resumable loop: `run_unit(progress)` does unit number progress.unit (the skeleton
  then counts it) and may return a Report.

  n_units: the size shown by the progress meter.
  finished: whether the phase is over (default: n_units units done).
  meter_units: units shown as done (default: progress.unit).
  save_every: checkpoint after every this many units (and at the end of the phase).
  ends_training: the trained state is saved when this phase ends.
  n_items, run_item: an evaluation phase made of n_items independent items (test tasks or
    batched groups), each starting from the trained state with streams of its own index:
    run_item(index) adapts one and returns its test records. Such a phase can be spread
    over worker processes (fan_out.py); the records equal the sequential run's.
  """
  name: str
  run_unit: Callable[['RunProgress'], Optional[Report]]
  n_units: int
  finished: Optional[Callable[['RunProgress'], bool]] = None
  meter_units: Optional[Callable[['RunProgress'], int]] = None
  save_every: int = 1
  ends_training: bool = False
  n_items: Optional[int] = None
  run_item: Optional[Callable[[int], List[Dict]]] = None

  def is_finished(self, progress: RunProgress) -> bool:
    return self.finished(progress) if self.finished else progress.unit >= self.n_units

  def units_done(self, progress: RunProgress) -> int:
    return self.meter_units(progress) if self.meter_units else progress.unit


class Algorithm(abc.ABC):
  """What an algorithm supplies to the run skeleton."""

  # Runners used only in evaluation: they start fresh when another run's training is
  # evaluated (--trained_run), as they were when that training ended.
  evaluation_runners: Sequence[str] = ('test',)

  @abc.abstractmethod
  def trackables(self) -> Dict[str, tf.Module]:
    """TF objects of the checkpoint."""

  @abc.abstractmethod
  def generators(self) -> Dict[str, np.random.Generator]:
    """Every numpy stream, by name (read at each save: streams may be replaced)."""

  @abc.abstractmethod
  def runners(self) -> Mapping:
    """Real-environment runners by name (their step counters and reset streams)."""

  def arrays(self) -> Dict[str, np.ndarray]:
    """Arrays of the checkpoint besides the trackables (e.g. the dataset)."""
    return {}

  def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
    """Inverse of arrays()."""

  @abc.abstractmethod
  def phases(self, run: 'Run') -> List[Phase]:
    """The phases in order."""

  @abc.abstractmethod
  def results(self, progress: RunProgress) -> Dict:
    """The results record of a finished run (smtl_tf/runs/results.py)."""

  def format_results(self, record: Dict) -> str:
    return results_lib.format_table(record)


class Run:
  """The run directory of one algorithm: logger, checkpoints, wall time.

  Args:
    algorithm: the algorithm (its TF objects are tracked by the checkpoints).
    run_dir: the run directory (created, and locked by the caller).
    muted: write no TensorBoard events (a fan-out worker; its driver logs).
  """

  def __init__(self, algorithm: Algorithm, run_dir: str, muted: bool = False):
    self.algorithm, self.run_dir = algorithm, run_dir
    self.logger = RunLogger(run_dir, muted)
    trackables = algorithm.trackables()
    self.checkpoint = RunCheckpoint(run_dir, **trackables)
    checkpoints = os.path.join(run_dir, 'checkpoints')
    self.trained = RunCheckpoint(
        run_dir, name=TRAINED, fresh_start=f'Delete {checkpoints} and {os.path.join(run_dir, TRAINED)} '
        f'to train this run again, or use another --root_dir.', **trackables)
    self._wall_before, self._started = 0.0, time.time()

  def wall_seconds(self) -> float:
    """Working time of the run: before the last restore plus since then."""
    return self._wall_before + time.time() - self._started

  def catch_up(self, wall_seconds: Optional[float]) -> None:
    """Takes the working time before this process from `wall_seconds` (recorded after the
    restored checkpoint, e.g. by a killed fan-out's driver) when it is ahead of the checkpoint's."""
    if wall_seconds is not None:
      self._wall_before = max(self._wall_before, wall_seconds)

  def save(self, progress: RunProgress, trained: bool = False) -> None:
    """Checkpoints progress, the TF objects, arrays, streams and counters."""
    progress.wall_seconds = self.wall_seconds()
    algorithm = self.algorithm
    record = {'progress': dataclasses.asdict(progress),
              **state_lib.capture(algorithm.generators(), algorithm.runners())}
    (self.trained if trained else self.checkpoint).save(record, algorithm.arrays())

  def _restore(self, checkpoint: RunCheckpoint, fresh_runners: Sequence[str] = ()) -> RunProgress:
    record, arrays = checkpoint.restore()
    progress = RunProgress.from_record(record, checkpoint)
    runners = {name: runner for name, runner in self.algorithm.runners().items()
               if name not in fresh_runners}
    state_lib.restore(record, self.algorithm.generators(), runners)
    self.algorithm.load_arrays(arrays)
    return progress

  def load_trained_state(self) -> None:
    """TF objects and arrays of the end of training, for a test task to start from; numpy
    streams and step counters keep running."""
    if not self.trained.exists():
      raise CheckpointError(f'{self.trained.directory} holds no trained state. '
                            f'{self.trained.fresh_start}')
    _, arrays = self.trained.restore()
    self.algorithm.load_arrays(arrays)

  def start(self, first_phase: str, evaluation_phase: Optional[str],
            trained_run: Optional[str]) -> RunProgress:
    """Resumes the checkpoint, or starts evaluating trained_run's training, or starts anew;
    writes the operative configuration once it is checked."""
    ours = gin.operative_config_str()
    if trained_run and os.path.realpath(trained_run) == os.path.realpath(self.run_dir):
      raise ValueError(f'--trained_run={trained_run} is this run\'s own directory: evaluating it '
                       f'here would overwrite its results and trained state. Give another '
                       f'--root_dir (or experiment) for the evaluation.')
    if self.checkpoint.exists():
      config_lib.check_resume(self.run_dir, ours)
      progress = self._restore(self.checkpoint)
      self._wall_before = progress.wall_seconds
      logging.info('Resuming %s: phase %s, unit %d.', self.run_dir, progress.phase, progress.unit)
    elif trained_run:
      progress = self._start_from(trained_run, ours, evaluation_phase)
    else:
      progress = RunProgress(phase=first_phase)
    config_lib.write(self.run_dir, ours)
    return progress

  def _start_from(self, trained_run: str, ours: str, evaluation_phase: Optional[str]) -> RunProgress:
    """This run evaluates trained_run's end of training (same training settings and seed):
    the state is restored, saved as this run's trained state and first checkpoint."""
    if evaluation_phase is None:
      raise ValueError('--trained_run applies to the multi-task algorithms only.')
    config_lib.check_same_training(trained_run, ours, self.run_dir)
    theirs = RunCheckpoint(trained_run, name=TRAINED, **self.algorithm.trackables())
    if not theirs.exists():
      raise ValueError(f'{trained_run} has no finished training ({theirs.directory} holds no '
                       f'checkpoint): let its training finish first (rerun its command).')
    progress = self._restore(theirs, fresh_runners=self.algorithm.evaluation_runners)
    progress = dataclasses.replace(progress, phase=evaluation_phase, unit=0, test_records=[],
                                   wall_seconds=0.0, trained_from=os.path.abspath(trained_run))
    self.save(progress, trained=True)
    self.save(progress)
    return progress


@dataclasses.dataclass
class Workers:
  """Where the items of an evaluation phase run (fan_out.py).

  count: worker processes (1: in this process, unit by unit).
  threads: TensorFlow intra-op threads per worker (None: the cores shared out).
  ray_address: a Ray cluster ('auto', 'host:port', or 'local' for a one-machine cluster);
    None: local processes.
  """
  count: int = 1
  threads: Optional[int] = None
  ray_address: Optional[str] = None

  @property
  def parallel(self) -> bool:
    return self.count > 1 or self.ray_address is not None


def _run_items(run: Run, phase: Phase, progress: RunProgress, workers: Workers) -> None:
  """The phase's items over worker processes, merged into progress and the runners' counters
  (those of the end of training plus every item's), as if run unit by unit here. The working
  time is recorded as each item finishes, so a resumed phase counts the killed processes' time."""
  from smtl_tf.runs import fan_out  # pylint: disable=g-import-not-at-top
  trained = run.trained.read_record()
  # The items start from this trained state with these settings (a retraining or another
  # configuration in the same directory does not reuse them).
  identity = hashlib.sha256((json.dumps(trained, sort_keys=True)
                             + (config_lib.read(run.run_dir) or '')).encode()).hexdigest()
  run.catch_up(fan_out.read_wall_seconds(run.run_dir, phase.name, identity))
  run.save(progress)  # the driver's state before the workers start
  meter, finished = None, []

  def on_start(done_before: int) -> None:
    nonlocal meter
    meter = run.logger.meter(phase.n_items, done_before, workers.count)
    finished.extend([None] * done_before)

  def on_done(index: int, item: Dict) -> None:
    fan_out.write_wall_seconds(run.run_dir, phase.name, identity, run.wall_seconds())
    finished.append(index)
    run.logger.test_records(index * len(item['records']), item['records'])
    means = np.mean([record['returns'] for record in item['records']], axis=0)
    meter.line(len(finished), f'adapted test item {index + 1}/{phase.n_items} in a worker',
               index, tagged({f'mean_return_iter_{k}': value for k, value in enumerate(means)}))

  items = fan_out.run_phase(run.run_dir, phase.name, phase.n_items, workers.count,
                            workers.threads, workers.ray_address, on_start, on_done, identity)
  counters = trained['runners']
  for name, runner in run.algorithm.runners().items():
    runner.steps.clear()
    runner.steps.update(counters.get(name, {}).get('steps', {}))
    for item in items:
      for purpose, count in item['steps'].get(name, {}).items():
        runner.steps[purpose] += count
  progress.test_records = [record for item in items for record in item['records']]
  progress.unit = phase.n_units


def run(algorithm: Algorithm, run_dir: str, trained_run: Optional[str] = None,
        workers: Optional[Workers] = None) -> Dict:
  """Runs (or resumes) the algorithm's phases in run_dir; writes and returns results.json."""
  workers = workers or Workers()
  os.makedirs(run_dir, exist_ok=True)
  skeleton = Run(algorithm, run_dir)
  phases = algorithm.phases(skeleton)
  names = [phase.name for phase in phases] + [DONE]
  ends_training = [i for i, phase in enumerate(phases) if phase.ends_training]
  evaluation_phase = names[ends_training[0] + 1] if ends_training else None
  progress = skeleton.start(names[0], evaluation_phase, trained_run)
  if progress.phase not in names:
    raise skeleton.checkpoint.error(f'is in phase {progress.phase!r}, which '
                                    f'{type(algorithm).__name__} does not have')
  for i, phase in enumerate(phases):
    if names.index(progress.phase) > i:
      continue
    if phase.run_item is not None and workers.parallel:
      _run_items(skeleton, phase, progress, workers)
    meter = skeleton.logger.meter(phase.n_units, phase.units_done(progress))
    while not phase.is_finished(progress):
      report = phase.run_unit(progress)
      progress.unit += 1
      if report is not None:
        meter.line(phase.units_done(progress), report.text, report.step, report.scalars)
      if progress.unit % phase.save_every == 0 and not phase.is_finished(progress):
        skeleton.save(progress)
    progress.phase, progress.unit = names[i + 1], 0
    if phase.ends_training:
      progress.train_wall_seconds = skeleton.wall_seconds()
      skeleton.save(progress, trained=True)
    skeleton.save(progress)
  record = algorithm.results(progress)
  record['wall_seconds'] = skeleton.wall_seconds()
  if ends_training:
    record.update(train_wall_seconds=progress.train_wall_seconds,
                  trained_from=progress.trained_from)
  if 'summary' in record:  # the multi-task schema (results.py)
    results_lib.write(run_dir, record)
    results_lib.log_summary(skeleton.logger, record)
  else:  # a single-task learning curve
    directory.write_json(os.path.join(run_dir, directory.RESULTS), record)
  print(algorithm.format_results(record))
  return record
