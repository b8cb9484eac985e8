"""results/paper's snapshot.sh and restore.sh keep long runs across lost home directories: a
snapshot and a restore give the run directory back, the content of a large file kept once
however many paths repeat it, and a finished run keeps what is not yet committed; collect.sh copies finished runs into
the repository. Run on a sandbox copy
(SMTL_PAPER_ROOT), never on ~/smtl-runs."""
import filecmp
import gzip
import os
import re
import shutil
import subprocess
import tarfile

import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'results', 'paper')


def _write(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(text)


@pytest.fixture
def sandbox(tmp_path):
  here = tmp_path / 'paper'
  here.mkdir()
  for script in ('paths.sh', 'snapshot.sh', 'restore.sh', 'collect.sh'):
    shutil.copy(os.path.join(SCRIPTS, script), here)
  root = tmp_path / 'root'
  running = root / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0'
  _write(str(running / 'checkpoints' / 'LATEST'), 'ckpt-3')
  _write(str(running / 'checkpoints' / 'ckpt-3' / 'arrays.npz'), 'dataset' * 1000)
  _write(str(running / 'a name with  spaces .json'), '{}')
  _write(str(running / '.lock'), '')
  evaluated = root / 'halfcheetah_vel' / 'smtl' / 'seed_0'  # finished; pos2neg evaluates it
  _write(str(evaluated / 'results.json'), '{"algorithm": "smtl"}')
  _write(str(evaluated / 'operative_config.gin'), 'x = 1\n')
  _write(str(evaluated / 'checkpoints_trained' / 'LATEST'), 'ckpt-0')
  _write(str(evaluated / 'checkpoints_trained' / 'ckpt-0' / 'arrays.npz'), 'trained')
  _write(str(evaluated / 'checkpoints' / 'ckpt-9' / 'arrays.npz'), 'training checkpoint')
  finished = root / 'halfcheetah_fwdbwd' / 'maml' / 'seed_0'
  _write(str(finished / 'results.json'), '{"algorithm": "maml"}')
  _write(str(finished / 'operative_config.gin'), 'y = 2\n')
  _write(str(finished / 'events.out.tfevents.1.host'), 'events')
  _write(str(finished / 'checkpoints' / 'ckpt-500' / 'arrays.npz'), 'big')
  env = {**os.environ, 'SMTL_PAPER_ROOT': str(root)}
  return here, root, env


def _script(here, name, env, *args):
  return subprocess.run(['bash', str(here / name), *args], env=env, capture_output=True,
                        text=True, timeout=60)


def _files(directory):
  return sorted(os.path.relpath(os.path.join(d, f), directory)
                for d, _, files in os.walk(directory) for f in files)


def test_snapshot_then_restore_gives_the_runs_back(sandbox):
  here, root, env = sandbox
  done = _script(here, 'snapshot.sh', env)
  assert done.returncode == 0, done.stderr
  kept = here / 'inflight'
  assert _files(kept / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0') == [
      'a name with  spaces .json.gz', 'checkpoints/LATEST.gz', 'checkpoints/ckpt-3/arrays.npz.gz']
  assert _files(kept / 'halfcheetah_vel' / 'smtl' / 'seed_0') == [
      'checkpoints_trained/LATEST.gz', 'checkpoints_trained/ckpt-0/arrays.npz.gz',
      'operative_config.gin.gz', 'results.json.gz']
  assert _files(kept / 'halfcheetah_fwdbwd' / 'maml' / 'seed_0') == [
      'events.out.tfevents.1.host.gz', 'operative_config.gin.gz', 'results.json.gz']
  first = {f: (kept / f).read_bytes() for f in _files(kept)}
  assert _script(here, 'snapshot.sh', env).returncode == 0
  assert {f: (kept / f).read_bytes() for f in _files(kept)} == first  # unchanged: same bytes

  original = root.parent / 'original'
  root.rename(original)
  (root / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0').mkdir(parents=True)  # a failed command's
  done = _script(here, 'restore.sh', env)
  assert done.returncode == 0, done.stderr
  running = 'halfcheetah_fwdbwd/smtl/seed_0'
  assert _files(root / running) == [f for f in _files(original / running) if f != '.lock']
  for name in _files(root / running):
    assert filecmp.cmp(root / running / name, original / running / name, shallow=False)
  assert [p.name for p in (root / 'halfcheetah_fwdbwd' / 'smtl').iterdir()
          if p.name.startswith('seed_0.empty-')]
  assert (root / 'halfcheetah_vel/smtl/seed_0/checkpoints_trained/ckpt-0/arrays.npz').read_text() \
      == 'trained'
  # A run that exists is left alone.
  (root / running / 'checkpoints' / 'LATEST').write_text('ckpt-4')
  assert _script(here, 'restore.sh', env).returncode == 0
  assert (root / running / 'checkpoints' / 'LATEST').read_text() == 'ckpt-4'


def test_committed_results_and_trained_state_end_the_snapshots(sandbox):
  here, root, env = sandbox
  assert _script(here, 'snapshot.sh', env).returncode == 0
  for experiment in ('halfcheetah_fwdbwd', 'halfcheetah_vel'):
    committed = here / experiment / ('maml' if experiment == 'halfcheetah_fwdbwd' else 'smtl')
    committed.mkdir(parents=True)
    shutil.copy(root / committed.relative_to(here) / 'seed_0' / 'results.json', committed)
  with tarfile.open(here / 'halfcheetah_vel' / 'smtl' / 'trained_state.tar.gz', 'w:gz') as tar:
    tar.add(root / 'halfcheetah_vel/smtl/seed_0/checkpoints_trained',
            arcname='halfcheetah_vel/smtl/seed_0/checkpoints_trained')
  assert _script(here, 'snapshot.sh', env).returncode == 0
  assert _files(here / 'inflight') == [f'halfcheetah_fwdbwd/smtl/seed_0/{f}' for f in (
      'a name with  spaces .json.gz', 'checkpoints/LATEST.gz', 'checkpoints/ckpt-3/arrays.npz.gz')]
  shutil.rmtree(root)
  assert _script(here, 'restore.sh', env).returncode == 0
  evaluated = root / 'halfcheetah_vel' / 'smtl' / 'seed_0'  # from the committed trained state
  assert _files(evaluated) == ['checkpoints_trained/LATEST', 'checkpoints_trained/ckpt-0/arrays.npz',
                               'results.json']


def test_runs_are_frozen_while_copied_and_resumed_after(sandbox):
  here, root, env = sandbox
  fake_run = f'python -m smtl_tf.main --root_dir={root}'
  elsewhere = subprocess.Popen(['bash', '-c', f'exec -a "{fake_run}" sleep 60'],
                               start_new_session=True)
  beside = subprocess.Popen(['bash', '-c', f'exec -a "{fake_run}" sleep 60'])
  try:
    done = _script(here, 'snapshot.sh', env)  # does not freeze itself with `beside`
    assert done.returncode == 0, done.stderr
    assert f'run process {beside.pid} is in this shell' in done.stderr
    with open(f'/proc/{elsewhere.pid}/stat') as f:
      assert f.read().split()[2] != 'T'  # resumed
  finally:
    elsewhere.kill()
    beside.kill()


def test_an_unreadable_file_keeps_the_previous_snapshot(sandbox):
  here, root, env = sandbox
  assert _script(here, 'snapshot.sh', env).returncode == 0
  kept = here / 'inflight' / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0'
  before = _files(kept)
  dangling = root / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0' / 'checkpoints' / 'dangling'
  os.symlink('/nonexistent/target', dangling)  # not a regular file: skipped, not a failure
  (root / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0' / 'checkpoints' / 'unreadable').write_text('x')
  shim = here.parent / 'bin'  # a gzip that cannot read that one file
  shim.mkdir()
  (shim / 'gzip').write_text('#!/usr/bin/env bash\n'
                             'case "$*" in *unreadable*) exit 1;; esac\n'
                             f'exec {shutil.which("gzip")} "$@"\n')
  (shim / 'gzip').chmod(0o755)
  env = {**env, 'PATH': f'{shim}:{env["PATH"]}'}
  done = _script(here, 'snapshot.sh', env)
  assert done.returncode == 1 and 'could not copy' in done.stderr
  assert _files(kept) == before
  assert (here / 'inflight' / 'halfcheetah_vel' / 'smtl' / 'seed_0').is_dir()  # others went on


def test_collect_keeps_finished_runs_and_ends_their_snapshots(sandbox):
  here, root, env = sandbox
  assert _script(here, 'snapshot.sh', env).returncode == 0
  done = _script(here, 'collect.sh', env)
  assert done.returncode == 0, done.stderr
  assert _files(here / 'halfcheetah_fwdbwd' / 'maml') == [
      'events.out.tfevents.1.host', 'operative_config.gin', 'results.json']
  assert _files(here / 'halfcheetah_vel' / 'smtl') == ['operative_config.gin', 'results.json']
  assert not (here / 'halfcheetah_fwdbwd' / 'smtl').exists()  # unfinished
  assert _script(here, 'snapshot.sh', env).returncode == 0  # collected: the unfinished run and
  assert _files(here / 'inflight') == [  # the evaluated run's trained state (with its summary)
      'halfcheetah_fwdbwd/smtl/seed_0/a name with  spaces .json.gz',
      'halfcheetah_fwdbwd/smtl/seed_0/checkpoints/LATEST.gz',
      'halfcheetah_fwdbwd/smtl/seed_0/checkpoints/ckpt-3/arrays.npz.gz',
      'halfcheetah_vel/smtl/seed_0/checkpoints_trained/LATEST.gz',
      'halfcheetah_vel/smtl/seed_0/checkpoints_trained/ckpt-0/arrays.npz.gz',
      'halfcheetah_vel/smtl/seed_0/operative_config.gin.gz',
      'halfcheetah_vel/smtl/seed_0/results.json.gz']
  shutil.rmtree(root)
  assert _script(here, 'restore.sh', env).returncode == 0
  assert (root / 'halfcheetah_vel/smtl/seed_0/checkpoints_trained/ckpt-0/arrays.npz').read_text() \
      == 'trained'


@pytest.fixture
def sharing(sandbox):
  """An SMTL run evaluating (its checkpoint repeats its trained state's dataset) and another
  run evaluating its training (--trained_run), with files large enough to be shared."""
  here, root, env = sandbox
  dataset, weights = os.urandom(200_000), os.urandom(100_000)
  vel = root / 'halfcheetah_vel' / 'smtl' / 'seed_0'
  shutil.rmtree(vel)
  pos2neg = root / 'halfcheetah_pos2neg' / 'smtl' / 'seed_0'
  for run, checkpoint in ((vel, 'ckpt-101'), (pos2neg, 'ckpt-1')):
    for folder, name in (('checkpoints_trained', 'ckpt-0'), ('checkpoints', checkpoint)):
      (run / folder / name).mkdir(parents=True)
      (run / folder / 'LATEST').write_text(name)
      (run / folder / name / 'arrays.npz').write_bytes(dataset)
      (run / folder / name / 'variables.data').write_bytes(weights)
      (run / folder / name / 'progress.json').write_text(f'{run.parent.parent.name} {folder}')
    _write(str(run / 'items' / 'adapt_000.json'), '{}')
  return here, root, env


def test_repeated_bytes_are_kept_once_and_restored_whole(sharing):
  here, root, env = sharing
  done = _script(here, 'snapshot.sh', env)
  assert done.returncode == 0, done.stderr
  kept = here / 'inflight'
  trained = 'halfcheetah_vel/smtl/seed_0/checkpoints_trained/ckpt-0'
  for name in ('arrays.npz', 'variables.data'):
    assert (kept / trained / f'{name}.gz').is_file()  # the evaluated run's trained state: whole
    for shared in ('halfcheetah_vel/smtl/seed_0/checkpoints/ckpt-101',
                   'halfcheetah_pos2neg/smtl/seed_0/checkpoints_trained/ckpt-0',
                   'halfcheetah_pos2neg/smtl/seed_0/checkpoints/ckpt-1'):
      assert not (kept / shared / f'{name}.gz').exists()
      assert (kept / shared / f'{name}.same').read_text().split()[1] == f'{trained}/{name}.gz'
  assert (kept / 'halfcheetah_pos2neg/smtl/seed_0/checkpoints/ckpt-1/progress.json.gz').is_file()

  original = root.parent / 'original'
  root.rename(original)
  done = _script(here, 'restore.sh', env)
  assert done.returncode == 0, done.stderr
  for run in ('halfcheetah_vel/smtl/seed_0', 'halfcheetah_pos2neg/smtl/seed_0'):
    assert _files(root / run) == _files(original / run)
    for name in _files(root / run):
      assert filecmp.cmp(root / run / name, original / run / name, shallow=False), name


def test_a_pointer_whose_bytes_changed_is_refused(sharing):
  here, root, env = sharing
  assert _script(here, 'snapshot.sh', env).returncode == 0
  trained = here / 'inflight/halfcheetah_vel/smtl/seed_0/checkpoints_trained/ckpt-0/arrays.npz.gz'
  with gzip.open(trained, 'wb') as f:  # e.g. a damaged checkout
    f.write(b'not the same')
  done = _script(here, 'snapshot.sh', env, 'maml')  # the SMTL mirrors are not redone
  assert done.returncode == 2 and 'does not hold that content' in done.stderr
  shutil.rmtree(root)
  done = _script(here, 'restore.sh', env)
  assert done.returncode == 1
  assert re.search(r'cannot unpack inflight/halfcheetah_pos2neg/smtl/seed_0/\S+/arrays\.npz\.same '
                   r'\(inflight/halfcheetah_vel/\S+ does not hold the content it names\)',
                   done.stderr)
  assert not (root / 'halfcheetah_pos2neg' / 'smtl' / 'seed_0').exists()  # no partial run
  assert (root / 'halfcheetah_fwdbwd' / 'smtl' / 'seed_0').is_dir()  # the others are restored


def test_an_evaluated_run_keeps_its_trained_state_once_finished_and_collected(sharing):
  here, root, env = sharing
  assert _script(here, 'snapshot.sh', env).returncode == 0
  vel = root / 'halfcheetah_vel' / 'smtl' / 'seed_0'
  _write(str(vel / 'results.json'), '{"algorithm": "smtl"}')
  _write(str(vel / 'operative_config.gin'), 'x = 1\n')
  assert _script(here, 'collect.sh', env, 'halfcheetah_vel/smtl').returncode == 0
  done = _script(here, 'snapshot.sh', env)
  assert done.returncode == 0, done.stderr
  assert [f for f in _files(here / 'inflight/halfcheetah_vel/smtl/seed_0') if 'ckpt' in f] == [
      'checkpoints_trained/ckpt-0/arrays.npz.gz', 'checkpoints_trained/ckpt-0/progress.json.gz',
      'checkpoints_trained/ckpt-0/variables.data.gz']
  original = root.parent / 'original'
  root.rename(original)
  done = _script(here, 'restore.sh', env)
  assert done.returncode == 0, done.stderr
  for run in ('halfcheetah_vel/smtl/seed_0/checkpoints_trained', 'halfcheetah_pos2neg/smtl/seed_0'):
    for name in _files(original / run):
      assert filecmp.cmp(root / run / name, original / run / name, shallow=False), name

  # A finished evaluated run whose trained state went missing keeps its previous snapshot.
  shutil.rmtree(original / 'halfcheetah_vel/smtl/seed_0/checkpoints_trained')
  before = _files(here / 'inflight')
  done = _script(here, 'snapshot.sh', {**env, 'SMTL_PAPER_ROOT': str(original)})
  assert done.returncode == 1 and 'has no checkpoints_trained/' in done.stderr
  assert _files(here / 'inflight') == before


def _git(repo, *args):
  return subprocess.run(['git', '-C', str(repo), *args], capture_output=True, text=True,
                        check=True).stdout.strip()


def test_submission_size_counts_every_version_added_or_deleted(tmp_path):
  repo = tmp_path / 'repo'
  (repo / 'results' / 'paper').mkdir(parents=True)
  shutil.copy(os.path.join(SCRIPTS, 'submission_size.sh'), repo / 'results' / 'paper')
  _git(tmp_path, 'init', '-q', '-b', 'main', str(repo))
  for key, value in (('user.name', 'test'), ('user.email', 'test@example.com')):
    _git(repo, 'config', key, value)
  _git(repo, 'add', '.')
  _git(repo, 'commit', '-q', '-m', 'base')
  base = _git(repo, 'rev-parse', 'HEAD')
  (repo / 'dataset').write_bytes(os.urandom(2 << 20))  # 2 MiB
  _git(repo, 'add', 'dataset')
  _git(repo, 'commit', '-q', '-m', 'added')
  _git(repo, 'rm', '-q', 'dataset')
  _git(repo, 'commit', '-q', '-m', 'deleted')

  def size(*args, **env):
    return subprocess.run(['bash', str(repo / 'results' / 'paper' / 'submission_size.sh'), *args],
                          env={**os.environ, **env}, capture_output=True, text=True)

  done = size(SMTL_SUBMISSION_BASE=base)  # added and deleted: 2 x 2 MiB x 1.3
  assert done.returncode == 0 and 'about 5 MiB' in done.stdout, done.stdout + done.stderr
  assert size(SMTL_SUBMISSION_BASE=base, SMTL_SUBMISSION_BUDGET_MIB='4').returncode == 1
  _git(repo, 'checkout', 'HEAD^', '--', 'dataset')  # staged: the deletion undone
  assert 'about 2 MiB' in size('--amend', SMTL_SUBMISSION_BASE=base).stdout  # amended away
  done = size(SMTL_SUBMISSION_BASE='0' * 40)
  assert done.returncode == 2 and 'no base commit' in done.stderr
  _git(repo, 'reset', '-q', 'HEAD')
  assert 'since ' + base[:7] + ': about 5 MiB' in size().stdout  # the reflog's oldest commit
  _git(repo, 'config', 'smtl.submissionBase', _git(repo, 'rev-parse', 'HEAD^'))  # a later session
  assert 'about 2 MiB' in size().stdout  # the deletion alone: 2 MiB x 1.3, rounded down


def test_collect_refuses_an_evaluated_run_without_its_trained_state(sandbox):
  here, root, env = sandbox
  shutil.rmtree(root / 'halfcheetah_vel' / 'smtl' / 'seed_0' / 'checkpoints_trained')
  done = _script(here, 'collect.sh', env, 'halfcheetah_vel/smtl')
  assert done.returncode == 1 and 'halfcheetah_vel/smtl has no checkpoints_trained' in done.stderr
  assert not (here / 'halfcheetah_vel' / 'smtl').exists()  # nothing copied
  assert not (here / 'halfcheetah_fwdbwd' / 'maml').exists()  # not named
