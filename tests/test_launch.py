"""launch/: side-by-side runs (local processes and a local Ray cluster), figure and table."""
import json
import os
import subprocess
import sys

import pytest

from launch import jobs as jobs_lib
from smtl_tf.runs import results as results_lib

TINY = ['gin/tiny.gin']


def test_jobs_use_each_algorithms_experiment_file(tmp_path):
  jobs = jobs_lib.make_jobs('ant_pos2neg', ['smtl', 'maml', 'oracle'], [0, 1], TINY, [],
                                str(tmp_path))
  assert [job.name for job in jobs] == ['smtl/seed_0', 'smtl/seed_1', 'maml/seed_0',
                                        'maml/seed_1', 'oracle/seed_0', 'oracle/seed_1']
  assert '--gin_file=gin/ant_pos2neg.gin' in jobs[0].command
  assert '--gin_file=gin/maml/ant_pos2neg.gin' in jobs[2].command
  assert jobs[4].command[2] == 'maml_tf.main'
  assert all(job.command[-1] == '--gin_file=gin/tiny.gin' for job in jobs)


@pytest.mark.parametrize('args,message', [
    (('halfcheetah_vel', ['reptile'], [0], [], []), 'Unknown algorithms'),
    (('no_such_experiment', ['maml'], [0], [], []), 'gin/maml/no_such_experiment.gin'),
    (('halfcheetah_vel', ['maml'], [0], ['gin/nope.gin'], []), 'nope.gin'),
])
def test_bad_requests_fail_before_anything_runs(tmp_path, args, message):
  with pytest.raises(ValueError, match=message):
    jobs_lib.make_jobs(*args, str(tmp_path))


def test_a_failing_job_is_reported_with_its_log(tmp_path):
  jobs = jobs_lib.make_jobs('halfcheetah_vel', ['maml'], [0], TINY,
                                ['run_maml.n_iteratons = 1'], str(tmp_path))
  assert jobs_lib.run_local(jobs, max_parallel=1) != [0]
  with open(jobs[0].log_path) as f:
    assert 'n_iteratons' in f.read()


def test_side_by_side_then_plot_end_to_end(tmp_path):
  root = tmp_path / 'runs'
  launch = subprocess.run(
      [sys.executable, '-m', 'launch.side_by_side', '--experiment=halfcheetah_vel',
       '--algorithms=smtl,maml,oracle', '--seeds=0', '--overlay=gin/tiny.gin',
       f'--root_dir={root}', '--max_parallel=2'],
      cwd=jobs_lib.REPO_ROOT, capture_output=True, text=True, timeout=600)
  assert launch.returncode == 0, launch.stderr[-3000:]
  assert '3/3 runs finished' in launch.stdout
  experiment_dir = root / 'halfcheetah_vel'
  records = [results_lib.load(path) for path in results_lib.find([str(experiment_dir)])]
  assert sorted(r['algorithm'] for r in records) == ['maml', 'oracle', 'smtl']
  tasks = {tuple(map(tuple, (t['task'] for t in r['test_tasks']))) for r in records}
  assert len(tasks) == 1, 'all algorithms must be evaluated on the same test tasks'
  assert all(r['wall_seconds'] > 0 for r in records)

  out = tmp_path / 'figure'
  plot = subprocess.run([sys.executable, '-m', 'launch.plot_adaptation', f'--out={out}',
                         str(experiment_dir)], cwd=jobs_lib.REPO_ROOT, capture_output=True,
                        text=True, timeout=300)
  assert plot.returncode == 0, plot.stderr[-3000:]
  assert os.path.getsize(f'{out}.png') > 10_000
  with open(f'{out}.md') as f:
    table = f.read()
  for row in ('| maml | 1 |', '| oracle (no update) | 1 |', '| smtl | 1 |',
              '| SMTL (original code) [1] | | 40 | -30.5 | -32.0 |',
              '| MAML-TRPO (original code) [2] | | 40 | -129.5 |',
              '| oracle (maml_rl) [3] | | 40 | -54.5 |'):
    assert row in table
  assert 'nlandolfi/slbo' in table and 'cbfinn/maml_rl' in table
  assert '[2] Finn et al. 2017' in table and '(fbs10), meta-iteration 475' in table


def test_ray_local_cluster_runs_the_jobs(tmp_path):
  jobs = jobs_lib.make_jobs('halfcheetah_vel', ['maml', 'oracle'], [3], TINY, [],
                                str(tmp_path))
  assert jobs_lib.run_ray(jobs, 'local', cpus_per_job=1) == [0, 0]
  for algorithm in ('maml', 'oracle'):
    record = results_lib.load(str(tmp_path / 'halfcheetah_vel' / algorithm / 'seed_3'))
    assert record['seed'] == 3


def test_active_selection_jobs_cover_regimes_ratings_and_the_baseline(tmp_path):
  jobs = jobs_lib.active_selection_jobs(['5', '20'], ['true'], [0, 1], ['gin/quick.gin'], [],
                                    str(tmp_path))
  assert [job.name for job in jobs] == ['smtl_none/seed_0', 'smtl_none/seed_1',
                                        'smtl_true/seed_0', 'smtl_true/seed_1'] * 2
  files = [arg for arg in jobs[2].command if arg.startswith('--gin_file=')]
  assert files == ['--gin_file=gin/ant_vel2d_active.gin', '--gin_file=gin/quick.gin',
                   '--gin_file=gin/active/tasks_5.gin', '--gin_file=gin/active/rating_true.gin']
  assert jobs[4].log_path.endswith('ant_vel2d_active_20/logs/smtl_none_seed_0.log')
  with pytest.raises(ValueError, match='tasks_7.gin'):
    jobs_lib.active_selection_jobs(['7'], ['true'], [0], [], [], str(tmp_path))


def test_plot_active_pairs_runs_by_regime_and_seed(tmp_path):
  from launch import plot_active  # pylint: disable=g-import-not-at-top

  def record(rating, seed, returns, experiment='ant_vel2d_active_20'):
    tasks = [{'task': [float(i)], 'returns': r, 'adapt_samples': [0, 8000][:len(r)]}
             for i, r in enumerate(returns)]
    return results_lib.make_results(
        experiment, 'smtl', seed, 'ant_vel2d', 'ant_vel2d', 1000, 0, tasks,
        extra={'train_log': [{}] * 20, 'selection': {
            'rating': rating, 'candidates': 31 if rating != 'none' else 20,
            'rating_real_samples': 500 if rating == 'true' else 0, 'log': []}})

  records = [record('none', 0, [[1.0, 2.0], [3.0, 4.0]]), record('true', 0, [[2.0, 2.0], [5.0, 7.0]]),
             record('none', 1, [[0.0, 0.0], [0.0, 0.0]]), record('true', 1, [[1.0, 1.0], [1.0, 1.0]]),
             record('estimated', 2, [[9.0, 9.0], [9.0, 9.0]])]   # no baseline for seed 2: unpaired
  paired = plot_active.paired_differences(records)
  assert list(paired) == [('ant_vel2d_active_20', 'true')]
  assert paired[('ant_vel2d_active_20', 'true')]['diffs'] == [[1.0, 2.0, 1.0, 1.0],
                                                              [0.0, 3.0, 1.0, 1.0]]
  table = plot_active.table(paired)
  assert '| ant_vel2d_active_20 | true | 2 | +1.2 [' in table
  plot_active.plot(paired, -1, str(tmp_path / 'figure3'))
  assert (tmp_path / 'figure3.png').stat().st_size > 5_000


def test_unreadable_results_are_named_and_skipped_when_others_can_be_plotted(tmp_path):
  good = tmp_path / 'good' / 'results.json'
  good.parent.mkdir()
  record = results_lib.make_results('e', 'smtl', 0, 'halfcheetah_vel', 'halfcheetah_vel', 10, 0,
                                    [{'task': [1.0], 'returns': [1.0], 'adapt_samples': [0]}])
  good.write_text(json.dumps(record))
  truncated = tmp_path / 'bad' / 'results.json'
  truncated.parent.mkdir()
  truncated.write_text('{"experiment": ')
  paths = results_lib.find([str(tmp_path)])
  assert len(paths) == 2
  assert results_lib.load_readable(paths) == [record]
  with pytest.raises(results_lib.UnreadableResults, match=str(truncated)):
    results_lib.load_readable([str(truncated)])


def test_evaluation_wall_time_of_a_run_that_evaluated_another_runs_training():
  from launch import adaptation_figure
  trained_here = {'wall_seconds': 100.0, 'train_wall_seconds': 80.0}
  evaluated_only = {'wall_seconds': 14.0, 'train_wall_seconds': 8421.0, 'trained_from': '/runs/x'}
  assert adaptation_figure.evaluation_seconds(trained_here) == 20.0
  assert adaptation_figure.evaluation_seconds(evaluated_only) == 14.0
  assert adaptation_figure.evaluation_seconds({'train_wall_seconds': 1.0}) is None


def test_scalars_csv_joins_a_resumed_runs_event_files_keeping_the_latest_value(tmp_path):
  from launch import scalars_csv
  from smtl_tf.runs import logger as logger_lib
  first = logger_lib.RunLogger(str(tmp_path))
  for step in (100, 200):
    first.scalars(step, {'train/pre_update_return': -step, 'train/real_samples': step})
  first.writer.close()
  resumed = logger_lib.RunLogger(str(tmp_path))  # a second process redoes step 200
  resumed.scalars(200, {'train/pre_update_return': 7.5, 'train/real_samples': 200})
  resumed.scalars(300, {'train/pre_update_return': -300, 'train/real_samples': 300})
  resumed.writer.close()
  scalars = scalars_csv.read_scalars(str(tmp_path))
  columns = scalars_csv.parse_columns(['pre=train/pre_update_return'], scalars, 'train/')
  assert scalars_csv.table(scalars, columns, index='iteration') == [
      ['iteration', 'step', 'pre'], [1, 100, '-100'], [2, 200, '7.5'], [3, 300, '-300']]
  assert [name for name, _ in scalars_csv.parse_columns(None, scalars, 'train/')] == [
      'pre_update_return', 'real_samples']
  with pytest.raises(KeyError, match='train/policy_kl'):
    scalars_csv.table(scalars, [('kl', 'train/policy_kl')])
  with pytest.raises(ValueError, match='name=tag'):
    scalars_csv.parse_columns(['train/policy_kl'], scalars, 'train/')
  with pytest.raises(FileNotFoundError, match='No TensorBoard event file'):
    scalars_csv.read_scalars(str(tmp_path / 'missing'))
  last = sorted(tmp_path.glob('events.out.tfevents.*'))[-1]   # a crash cut the last file short
  last.write_bytes(last.read_bytes()[:-7])
  kept = scalars_csv.read_scalars(str(tmp_path))['train/pre_update_return']
  assert kept[100] == -100 and kept[200] == 7.5   # the cut file's complete records are kept


def test_a_seed_found_twice_is_refused_rather_than_pooled(tmp_path):
  from launch import adaptation_figure
  def record(seed):
    return results_lib.make_results('e', 'maml', seed, 'halfcheetah_vel', 'halfcheetah_vel', 10, 0,
                                    [{'task': [1.0], 'returns': [1.0], 'adapt_samples': [0]}])
  assert len(adaptation_figure.group([record(0), record(1)])['e']['maml']) == 2
  with pytest.raises(ValueError, match='maml seed 0 on e'):
    adaptation_figure.group([record(0), record(1), record(0)])
  for name in ('run', 'run_reevaluated'):
    (tmp_path / name).mkdir()
    (tmp_path / name / 'results.json').write_text(json.dumps(record(0)))
  finished = subprocess.run([sys.executable, '-m', 'launch.plot_adaptation',
                             f'--out={tmp_path}/figure', str(tmp_path)],
                            capture_output=True, text=True)
  assert finished.returncode != 0 and 'count twice' in finished.stderr
  assert not (tmp_path / 'figure.png').exists()


def test_the_table_gives_the_spread_over_test_tasks_of_the_seeds_pooled():
  from launch import adaptation_figure
  def record(seed, returns):
    tasks = [{'task': [1.0], 'returns': list(r), 'adapt_samples': [0, 4000]} for r in returns]
    return results_lib.make_results('e', 'smtl', seed, 'halfcheetah_vel', 'halfcheetah_vel', 10, 0,
                                    tasks)
  runs = [record(0, [(-10.0, 1.0), (-20.0, 1.0)]), record(1, [(-30.0, 1.0), (-40.0, 1.0)])]
  assert adaptation_figure.task_spread(runs) == pytest.approx([5 ** 0.5 * 5, 0.0])
  table = adaptation_figure.table(runs, with_references=False)
  assert '| smtl: sd over test tasks | | | 11.2 | 0.0 | | | |' in table


def test_the_gain_row_pairs_each_task_with_itself_before_adaptation():
  from launch import adaptation_figure
  def record(seed, returns):
    tasks = [{'task': [1.0], 'returns': list(r), 'adapt_samples': [0, 4000, 8000]}
             for r in returns]
    return results_lib.make_results('e', 'smtl', seed, 'halfcheetah_vel', 'halfcheetah_vel', 10, 0,
                                    tasks)
  # the tasks' levels differ by 100s, their gains by 1: unpaired, the gain would be lost in the
  # spread of the levels
  runs = [record(0, [(-300.0, -298.0, -299.0), (-10.0, -8.0, -11.0)]),
          record(1, [(-150.0, -148.0, -149.0)])]
  first, second = adaptation_figure.adaptation_gain(runs)
  assert (first['iteration'], first['n'], first['n_up']) == (1, 3, 3)
  assert first['mean'] == pytest.approx(2.0) and first['ci_low'] == pytest.approx(2.0)
  assert second['mean'] == pytest.approx(1 / 3) and second['n_up'] == 2
  assert -1.0 <= second['ci_low'] < second['mean'] < second['ci_high'] <= 1.0
  lines = adaptation_figure.table(runs, with_references=False).splitlines()
  sd_row, = [i for i, line in enumerate(lines) if line.startswith('| smtl: sd over test tasks')]
  gain_row = lines[sd_row + 1]
  assert gain_row.startswith('| smtl: gain over iteration 0 | | |  | +2.0 [+2.0, +2.0]; 3/3 up | +0.3 [')
  # an algorithm without updates gets no gain row
  oracle = results_lib.make_results('e', 'oracle', 0, 'halfcheetah_vel', 'halfcheetah_vel', 10, 0,
                                    [{'task': [1.0], 'returns': [-5.0], 'adapt_samples': [0]}])
  assert 'oracle: gain' not in adaptation_figure.table([oracle], with_references=False)


def test_a_reference_with_a_spread_gets_its_sd_row_after_its_mean_row():
  from launch import adaptation_figure
  from launch import references as references_lib
  def record(experiment):
    tasks = [{'task': [1.0], 'returns': [-10.0, 1.0], 'adapt_samples': [0, 4000]}]
    return results_lib.make_results(experiment, 'smtl', 0, 'halfcheetah_vel', 'halfcheetah_vel',
                                    10, 0, tasks)
  smtl, = [r for r in references_lib.for_experiment('halfcheetah_vel') if r.algorithm == 'smtl']
  assert smtl.spread is not None and len(smtl.spread) == len(smtl.returns)
  lines = adaptation_figure.table([record('halfcheetah_vel')]).splitlines()
  row = f"| {smtl.label}: sd over test tasks | | | {' | '.join(f'{v:.1f}' for v in smtl.spread)} | | | |"
  assert row == '| SMTL (original code): sd over test tasks | | | 25.6 | 21.9 | 20.2 | 20.0 | | | |'
  assert lines[lines.index(row) - 1].startswith(f'| {smtl.label} [')
  # references without a spread (MAML here) and experiments without references get no such row
  assert not any(line.startswith('| MAML-TRPO (original code): sd') for line in lines)
  assert 'original code): sd' not in adaptation_figure.table([record('point_nav')])
  assert 'original code): sd' not in adaptation_figure.table([record('halfcheetah_vel')],
                                                             with_references=False)


def test_every_launch_module_can_be_imported_in_one_process():
  """Launchers with flags of the same name (--out) define them only when run as the program, so
  every launch module can share a process, as a test session does."""
  program = ('import importlib, pkgutil, launch\n'
             'for module in pkgutil.iter_modules(launch.__path__):\n'
             '  importlib.import_module(f"launch.{module.name}")\n'
             'from absl import flags\n'
             'defined = [name for name in ("out", "seeds", "experiment", "regimes") '
             'if name in flags.FLAGS]\n'
             'print("imported", *defined)')
  finished = subprocess.run([sys.executable, '-c', program], capture_output=True, text=True)
  assert finished.returncode == 0, finished.stderr[-2000:]
  assert finished.stdout.strip() == 'imported'
