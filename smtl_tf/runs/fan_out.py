"""An evaluation phase of independent items (SMTL's test tasks) spread over worker processes.

    driver (skeleton.run, holds the run directory's lock)
      -> pending items: those without <run_dir>/items/<phase>_<index>.json
      -> workers (local processes, or Ray actors on a cluster), each:
           rebuilds the algorithm from operative_config.gin, then per item:
           Phase.run_item(index) from the trained state -> records, runners' step counts
           -> written atomically to items/<phase>_<index>.json
      -> as each item finishes, the driver records the run's working time in
         items/<phase>_wall_seconds.json (a resumed phase counts the killed processes' time)
      -> merge in item order into progress.test_records and the runners' counters

Item files are kept only for the trained state they started from (`claim_items`): after a
retraining in the same run directory, earlier items are moved aside.

An item's random streams depend only on (seed, item index) and every item starts from the
trained state, so the merged records are the sequential run's. A killed worker or driver
loses at most the items in progress: rerunning the same command adapts only the missing ones.
The item files are the fan-out's checkpoint; the phase's sequential progress is not used
(a run switched to workers mid-phase adapts its test tasks again, with the same result).
"""
import ast
import concurrent.futures
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple

from absl import logging

from smtl_tf.runs import directory

ITEMS = 'items'

_worker = None  # the algorithm built in this worker process (Worker)


def item_path(run_dir: str, phase: str, index: int) -> str:
  return os.path.join(run_dir, ITEMS, f'{phase}_{index:03d}.json')


def read_item(run_dir: str, phase: str, index: int) -> Optional[Dict]:
  """A finished item's {'records', 'steps'}, or None if it is missing or unreadable."""
  path = item_path(run_dir, phase, index)
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      item = json.load(f)
  except (OSError, ValueError):
    logging.warning('%s is unreadable; its item is adapted again.', path)
    return None
  return item if isinstance(item, dict) and {'records', 'steps'} <= set(item) else None


def wall_path(run_dir: str, phase: str) -> str:
  return os.path.join(run_dir, ITEMS, f'{phase}_wall_seconds.json')


def write_wall_seconds(run_dir: str, phase: str, trained_state: str, seconds: float) -> None:
  """Records the run's working time as of an item's end, for the items of this trained state."""
  directory.write_json(wall_path(run_dir, phase),
                       {'trained_state': trained_state, 'wall_seconds': seconds})


def read_wall_seconds(run_dir: str, phase: str, trained_state: str) -> Optional[float]:
  """The working time recorded when the phase's last item from this trained state finished, or
  None if there is no such record (none yet, unreadable, or of another training)."""
  try:
    with open(wall_path(run_dir, phase)) as f:
      record = json.load(f)
  except (OSError, ValueError):
    return None
  if not isinstance(record, dict) or record.get('trained_state') != trained_state:
    return None
  seconds = record.get('wall_seconds')
  return float(seconds) if isinstance(seconds, (int, float)) else None


def share_gpus() -> None:
  """Lets the processes of a run (driver and local workers) share a GPU: each takes memory as it
  needs it instead of all of it. Call before TensorFlow places anything on a device."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top (a worker process imports it late)
  for gpu in tf.config.list_physical_devices('GPU'):
    tf.config.experimental.set_memory_growth(gpu, True)


class Worker:
  """One worker's copy of the run: the algorithm rebuilt from the run directory's operative
  configuration, adapting items of one phase from the trained state.

  Args:
    run_dir: the run directory (read; item files and saved policies are written).
    phase: the phase's name.
    threads: TensorFlow intra-op threads (inter-op: 1).
  """

  def __init__(self, run_dir: str, phase: str, threads: int):
    import gin  # pylint: disable=g-import-not-at-top (a worker process starts here)
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from smtl_tf import algorithms  # pylint: disable=g-import-not-at-top
    from smtl_tf.runs import config as config_lib  # pylint: disable=g-import-not-at-top
    from smtl_tf.runs import skeleton  # pylint: disable=g-import-not-at-top
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    share_gpus()
    match = re.search(r'seed_(\d+)$', os.path.normpath(run_dir))
    if match is None:
      raise ValueError(f'{run_dir} does not end in seed_<n>.')
    text = config_lib.read(run_dir)
    spec = {name: ast.literal_eval(value) for name, value in config_lib.parse_bindings(text).items()
            if name.startswith('train_eval.')}
    gin.clear_config()
    gin.add_config_file_search_path(algorithms.REPO_ROOT)
    # train_eval is main.py's, which a worker does not import (its flags are the driver's).
    gin.parse_config(text, skip_unknown=['train_eval'])
    self.algorithm = algorithms.build(
        int(match.group(1)), spec.get('train_eval.experiment'), spec.get('train_eval.algorithm'),
        spec.get('train_eval.family'), spec.get('train_eval.task'))
    self.run_dir, self.phase = run_dir, phase
    self.run = skeleton.Run(self.algorithm, run_dir, muted=True)
    phases = {phase.name: phase for phase in self.algorithm.phases(self.run)}
    self.run_item = phases[phase].run_item

  def __call__(self, index: int) -> Tuple[int, Dict]:
    """Adapts item `index`, writes its file and returns (index, item): the driver need not read
    the file back (on a network file system a file another node just wrote may not be visible
    yet to the driver's client)."""
    runners = self.algorithm.runners()
    before = {name: dict(runner.steps) for name, runner in runners.items()}
    records = self.run_item(index)
    steps = {name: {purpose: count - before[name].get(purpose, 0)
                    for purpose, count in runner.steps.items()}
             for name, runner in runners.items()}
    item = {'records': records, 'steps': steps}
    os.makedirs(os.path.join(self.run_dir, ITEMS), exist_ok=True)
    directory.write_json(item_path(self.run_dir, self.phase, index), item)
    return index, item


def _exit_with_parent() -> None:
  """Ends this worker process when its driver is gone (killed alone, not with its group)."""
  multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
  os._exit(1)  # pylint: disable=protected-access


def _start_worker(run_dir: str, phase: str, threads: int) -> None:
  """A local worker process: Ctrl-C is the driver's to handle; a failure to build the run is
  kept and raised with the first item, so the driver reports it."""
  global _worker
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  threading.Thread(target=_exit_with_parent, daemon=True).start()
  try:
    _worker = Worker(run_dir, phase, threads)
  except Exception as error:  # pylint: disable=broad-except (reported through _run_item)
    _worker = error


def _run_item(index: int) -> Tuple[int, Dict]:
  if isinstance(_worker, Exception):
    raise _worker
  return _worker(index)


def default_threads(workers: int) -> int:
  """Intra-op threads per local worker: the cores this process may use shared out, at least 1."""
  return max(1, len(os.sched_getaffinity(0)) // workers)


def run_local(run_dir: str, phase: str, pending: Sequence[int], workers: int, threads: int,
              on_done) -> None:
  """Items over `workers` local processes (spawned: no TensorFlow state is inherited)."""
  context = multiprocessing.get_context('spawn')
  with concurrent.futures.ProcessPoolExecutor(
      max_workers=workers, mp_context=context, initializer=_start_worker,
      initargs=(run_dir, phase, threads)) as pool:
    futures = [pool.submit(_run_item, index) for index in pending]
    try:
      for future in concurrent.futures.as_completed(futures):
        on_done(*future.result())
    except BaseException as error:  # an item failed, a worker died, or Ctrl-C: stop them all
      for process in list(getattr(pool, '_processes', {}).values()):
        process.terminate()
      pool.shutdown(wait=False, cancel_futures=True)
      if isinstance(error, concurrent.futures.process.BrokenProcessPool):
        raise RuntimeError(
            f'A worker process died while adapting test tasks of {run_dir}. The finished ones '
            f'are kept ({os.path.join(run_dir, ITEMS)}); rerun the same command to adapt the '
            f'rest.') from error
      raise


def workers_that_fit(workers: int, threads: int, cluster_cpus: int) -> int:
  """How many of `workers` actors of `threads` CPUs each a cluster of `cluster_cpus` CPUs runs
  at once (Ray would queue the others with nothing to do); at least one must fit."""
  fitting = cluster_cpus // threads
  if fitting < 1:
    raise RuntimeError(f'The Ray cluster has {cluster_cpus} CPUs, fewer than one worker of '
                       f'{threads} threads needs; give --eval_threads a smaller number.')
  if workers > fitting:
    logging.warning('The Ray cluster has CPUs for %d workers of %d threads; starting %d, not %d.',
                    fitting, threads, fitting, workers)
  return min(workers, fitting)


def run_ray(run_dir: str, phase: str, pending: Sequence[int], workers: int, threads: int,
            address: str, on_done) -> None:
  """Items over `workers` Ray actors of `threads` CPUs each. The run directory must be on a
  file system every node reads and writes (the trained state, item files, policies)."""
  import ray  # pylint: disable=g-import-not-at-top (the cluster extra)
  from ray.util import actor_pool  # pylint: disable=g-import-not-at-top
  if address == 'local':
    ray.init(num_cpus=workers * threads, include_dashboard=False, log_to_driver=False)
  else:
    ray.init(address=address, log_to_driver=False)
  try:
    workers = workers_that_fit(workers, threads, int(ray.cluster_resources().get('CPU', 0)))
    actor = ray.remote(num_cpus=threads)(Worker)
    pool = actor_pool.ActorPool([actor.remote(run_dir, phase, threads) for _ in range(workers)])
    for index, item in pool.map_unordered(lambda worker, i: worker.__call__.remote(i), pending):
      on_done(index, item)
  finally:
    ray.shutdown()


def claim_items(run_dir: str, trained_state: str) -> None:
  """Keeps items/ only if its items start from this trained state (an identifier of the
  trained checkpoint); items of an earlier training of this run directory are moved aside."""
  folder = os.path.join(run_dir, ITEMS)
  marker = os.path.join(folder, 'TRAINED')
  if os.path.isdir(folder):
    try:
      with open(marker) as f:
        same = f.read() == trained_state
    except OSError:
      same = False
    if not same:
      stale = f'{folder}.stale-{time.time_ns()}'
      os.replace(folder, stale)
      logging.warning('%s held test tasks of an earlier training; moved to %s.', folder, stale)
  os.makedirs(folder, exist_ok=True)
  directory.write_atomic(marker, trained_state)


def run_phase(run_dir: str, phase: str, n_items: int, workers: int, threads: Optional[int],
              ray_address: Optional[str], on_start, on_done, trained_state: str) -> List[Dict]:
  """Adapts every item not yet on disk, then returns all items ({'records', 'steps'}) in order.

  on_start(n_finished) is called once the items of an earlier training are moved aside, with
  the count of items already finished; on_done(index, item) in the driver as each item finishes
  (progress lines); trained_state identifies the trained checkpoint the items start from
  (claim_items).
  """
  claim_items(run_dir, trained_state)
  threads = threads or (1 if ray_address else default_threads(workers))
  pending = [i for i in range(n_items) if read_item(run_dir, phase, i) is None]
  on_start(n_items - len(pending))
  logging.info('%d of %d test-task items to adapt over %d workers (%d threads each)%s.',
               len(pending), n_items, workers, threads,
               f' on Ray ({ray_address})' if ray_address else '')
  adapted = {}

  def done(index: int, item: Dict) -> None:
    adapted[index] = item
    on_done(index, item)

  if pending and ray_address:
    run_ray(run_dir, phase, pending, workers, threads, ray_address, done)
  elif pending:
    run_local(run_dir, phase, pending, workers, threads, done)
  items = [adapted[i] if i in adapted else read_item(run_dir, phase, i) for i in range(n_items)]
  missing = [i for i, item in enumerate(items) if item is None]
  if missing:
    raise RuntimeError(f'Items {missing} of {run_dir} did not finish; rerun the same command.')
  return items
