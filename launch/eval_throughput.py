"""Test-task throughput of an SMTL evaluation: in one process, and over 1 and 2 worker processes.

Trains one small SMTL run at the experiment's network and batch sizes (few training tasks and
VirtualTraining iterations), then evaluates its trained state on the same test tasks with
`--trained_run`, three ways: in one process on every core (TensorFlow's threads over all cores,
the default); one worker on one core (`taskset`, one intra-op thread: the cost of the worker
that N workers on N cores replicate); and one worker per core (`--eval_workers`, one thread
each). Each evaluation is a whole command, so its wall time includes what a user pays:
TensorFlow's start in every worker, tracing, restoring the trained state. That start-up weighs
more at a few iterations than at the paper's 40, so the workers' speedup measured here is a lower
bound for the paper's settings (WORKSPACE.md, "Compute").

    python -m launch.eval_throughput --out=results/bench/eval_throughput

Writes <out>.json (every wall time, the machine) and <out>.md (a table). Run it alone: a
benchmark beside another heavy job measures the other job too.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('out', 'results/bench/eval_throughput', 'Output path without extension.')
  flags.DEFINE_multi_string('gin_file', ['gin/halfcheetah_vel.gin'], 'The experiment measured '
                            '(later files override earlier ones, e.g. gin/tiny.gin to try this).')
  flags.DEFINE_integer('test_tasks', 4, 'Test tasks per evaluation.')
  flags.DEFINE_integer('iterations', 4, 'VirtualTraining iterations of the warm-up and of each '
                       'adaptation stage (paper: 40).')
  flags.DEFINE_integer('train_tasks', 2, 'Training tasks of the measured run (paper: 100).')

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bindings(test_tasks: int):
  return [f'run_smtl.n_tasks = {FLAGS.train_tasks}', f'run_smtl.n_warmup = {FLAGS.iterations}',
          f'run_smtl.n_adapt_inner = {FLAGS.iterations}',
          f'test_tasks.n_test_tasks = {test_tasks}']


def _smtl(root: str, test_tasks: int, *flags_, prefix=()) -> float:
  """Runs smtl_tf.main to completion (after the command prefix, e.g. taskset); its wall time
  in seconds."""
  command = [*prefix, sys.executable, '-m', 'smtl_tf.main',
             *[f'--gin_file={name}' for name in FLAGS.gin_file], f'--root_dir={root}',
             *[f'--gin_bindings={b}' for b in _bindings(test_tasks)], *flags_]
  start = time.perf_counter()
  done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
  seconds = time.perf_counter() - start
  if done.returncode != 0:
    raise RuntimeError(f'{" ".join(command)} failed:\n{done.stderr[-3000:]}')
  return seconds


def _run_dir(root: str) -> str:
  experiments = [name for name in os.listdir(root)]
  assert len(experiments) == 1, experiments
  return os.path.join(root, experiments[0], 'smtl', 'seed_0')


def _returns(run_dir: str):
  with open(os.path.join(run_dir, 'results.json')) as f:
    return [task['returns'] for task in json.load(f)['test_tasks']]


def main(argv):
  del argv
  cores = len(os.sched_getaffinity(0))
  if min(cores, FLAGS.test_tasks) < 2:
    raise app.UsageError(f'Comparing one process with worker processes needs at least 2 cores '
                         f'and 2 test tasks (this process may use {cores} cores; '
                         f'--test_tasks={FLAGS.test_tasks}).')
  if shutil.which('taskset') is None:
    raise app.UsageError('taskset (util-linux) is needed to pin the one-core mode to one core; '
                         'install it.')
  if FLAGS.test_tasks % min(cores, FLAGS.test_tasks):
    print(f'Note: {FLAGS.test_tasks} test tasks do not divide evenly over '
          f'{min(cores, FLAGS.test_tasks)} workers; the last round leaves workers idle.', flush=True)
  with tempfile.TemporaryDirectory() as scratch:
    trained_root = os.path.join(scratch, 'trained')
    train_seconds = _smtl(trained_root, 1)
    trained = _run_dir(trained_root)
    first_core = sorted(os.sched_getaffinity(0))[0]
    workers = min(cores, FLAGS.test_tasks)  # one per core, no idle ones
    modes = [(f'one process, {cores} threads', [], ()),
             ('1 worker on 1 core, 1 thread', [], ('taskset', '-c', str(first_core))),
             (f'{workers} workers, 1 thread each', [f'--eval_workers={workers}',
                                                    '--eval_threads=1'], ())]
    rows = []
    for label, extra, prefix in modes:
      root = os.path.join(scratch, f'mode_{len(rows)}')
      seconds = _smtl(root, FLAGS.test_tasks, f'--trained_run={trained}', *extra, prefix=prefix)
      rows.append({'mode': label, 'command_prefix': ' '.join(prefix), 'flags': extra,
                   'wall_seconds': round(seconds, 1),
                   'test_tasks_per_hour': round(3600 * FLAGS.test_tasks / seconds, 2),
                   'returns': _returns(_run_dir(root))})
      print(f'{label}: {seconds:.1f} s for {FLAGS.test_tasks} test tasks', flush=True)
  single = rows[0]['wall_seconds']
  for row in rows:
    row['speedup'] = round(single / row['wall_seconds'], 3)
  per_worker, all_workers = rows[1]['test_tasks_per_hour'], rows[2]['test_tasks_per_hour']
  record = {'experiment': ' + '.join(FLAGS.gin_file), 'test_tasks': FLAGS.test_tasks,
            'iterations': FLAGS.iterations, 'train_tasks': FLAGS.train_tasks,
            'train_seconds': round(train_seconds, 1), 'cores': cores, 'workers': workers,
            'machine': platform.processor() or platform.machine(),
            'cpu': _cpu_name(), 'rows': rows,
            # throughput of one worker per core over `workers` times one worker's alone
            'worker_scaling_efficiency': round(all_workers / (workers * per_worker), 3),
            # one intra-op thread in both: the same sums in the same order
            'one_thread_modes_identical': rows[1]['returns'] == rows[2]['returns']}
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  with open(FLAGS.out + '.json', 'w') as f:
    json.dump(record, f, indent=1)
  with open(FLAGS.out + '.md', 'w') as f:
    f.write(_table(record))
  print(_table(record))


def _cpu_name() -> str:
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return 'unknown'


def _table(record) -> str:
  lines = [f'Evaluation of {record["test_tasks"]} test tasks of `{record["experiment"]}` '
           f'({record["iterations"]} VirtualTraining iterations per warm-up and per adaptation '
           f'stage), {record["cores"]} cores ({record["cpu"]}); whole commands, start-up '
           f'included.', '', '| mode | flags | wall time (s) | test tasks / hour | speedup |',
           '|---|---|---|---|---|']
  for row in record['rows']:
    command = ' '.join([row['command_prefix']] + row['flags']).strip() or '-'
    lines.append(f'| {row["mode"]} | `{command}` | {row["wall_seconds"]} '
                 f'| {row["test_tasks_per_hour"]} | {row["speedup"]} |')
  lines += ['', f'{record["workers"]} workers give {record["worker_scaling_efficiency"]} of '
            f'{record["workers"]} times one worker\'s throughput alone. Returns of the two '
            f'one-thread modes identical: {record["one_thread_modes_identical"]}.']
  return '\n'.join(lines) + '\n'


if __name__ == '__main__':
  define_flags()
  app.run(main)
