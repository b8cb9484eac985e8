"""Every gin file parses and binds only known names; bad configs fail clearly."""
import glob
import os
import subprocess
import sys

import gin
import pytest

from smtl_tf import main

GIN_FILES = sorted(glob.glob(os.path.join(main.REPO_ROOT, 'gin', '**', '*.gin'), recursive=True))


def test_there_are_gin_files():
  assert len(GIN_FILES) >= 5


@pytest.mark.parametrize('path', GIN_FILES, ids=lambda p: os.path.relpath(p, main.REPO_ROOT))
def test_gin_file_parses_with_no_unknown_bindings(path):
  main.parse_gin([path], [])
  assert gin.config_str() is not None


def test_unknown_binding_is_rejected_with_its_name():
  with pytest.raises(main.ConfigError, match='n_stagez'):
    main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'slbo_halfcheetah_vel1.gin')],
                   ['run_slbo.n_stagez = 3'])


def test_missing_gin_file_is_rejected():
  with pytest.raises(main.ConfigError, match='does not exist'):
    main.parse_gin(['gin/no_such_experiment.gin'], [])


def test_cli_reports_bad_binding_and_exits_nonzero(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m', 'smtl_tf.main', '--gin_file=gin/slbo_halfcheetah_vel1.gin',
       '--gin_bindings=SLBOAgent.n_modle = 3', f'--root_dir={tmp_path}'],
      cwd=main.REPO_ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0
  assert 'n_modle' in result.stderr
  assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('value', ['0', '-1', "'ten'", '2.5'])
def test_count_settings_are_validated_naming_the_binding(tmp_path, value):
  gin.clear_config()
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'halfcheetah_vel.gin'),
                  os.path.join(main.REPO_ROOT, 'gin', 'tiny.gin')], [f'run_smtl.n_tasks = {value}'])
  with pytest.raises(ValueError, match=r'run_smtl\.n_tasks = .*must be an integer >= 1'):
    main.train_eval(root_dir=str(tmp_path), seed=0)
  assert not os.path.exists(tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0' / 'checkpoints')
