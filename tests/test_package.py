"""The project installs as a package (pyproject.toml) and imports from any directory."""
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_package_installs_and_imports_from_another_directory(tmp_path):
  # A wheel built with this environment's setuptools (offline), installed without its
  # dependencies into a fresh virtual environment: only the packaging is under test here.
  source = tmp_path / 'source'  # setuptools builds in the source tree: keep the checkout clean
  source.mkdir()
  for name in ('pyproject.toml', 'README.md'):
    shutil.copy(os.path.join(REPO, name), source / name)
  for package in ('smtl_tf', 'maml_tf', 'launch'):
    shutil.copytree(os.path.join(REPO, package), source / package,
                    ignore=shutil.ignore_patterns('__pycache__'))
  wheels = tmp_path / 'wheels'
  subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
                  '--no-build-isolation', '--wheel-dir', str(wheels), str(source)],
                 check=True, timeout=600)
  built = [name for name in os.listdir(wheels) if name.endswith('.whl')]
  assert len(built) == 1 and built[0].startswith('smtl_tf-')
  venv = tmp_path / 'venv'
  subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, timeout=300)
  python = str(venv / 'bin' / 'python')
  subprocess.run([python, '-m', 'pip', 'install', '--quiet', '--no-deps', str(wheels / built[0])],
                 check=True, timeout=600)
  elsewhere = tmp_path / 'elsewhere'
  elsewhere.mkdir()
  shown = subprocess.run(
      [python, '-c', 'import importlib.util, smtl_tf, maml_tf, launch\n'
       'for name in ("smtl_tf.main", "smtl_tf.runs.skeleton", "smtl_tf.slbo.agent", '
       '"smtl_tf.envs", "maml_tf.maml", "launch.side_by_side"):\n'
       '  print(importlib.util.find_spec(name).origin)\n'
       'print(smtl_tf.__file__, maml_tf.__file__, launch.__file__)'],
      cwd=elsewhere, capture_output=True, text=True, timeout=300,
      env={key: value for key, value in os.environ.items() if key != 'PYTHONPATH'})
  assert shown.returncode == 0, shown.stderr
  paths = shown.stdout.split()
  assert len(paths) == 9
  for path in paths:  # (importing them needs the dependencies, which this venv lacks)
    assert path.startswith(str(venv)), f'{path} is not the installed copy'

