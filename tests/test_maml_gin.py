"""Every MAML experiment adapts on as many real samples per step as its SMTL twin."""
import glob
import os

import gin
import pytest

from smtl_tf import main  # noqa: F401  (registers every configurable)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAML_ONLY = {'point_nav'}   # no SMTL twin
BEYOND_PAPER = {'hopper_vel'}  # smtl_tf/examples/hopper.py


def _experiments():
  return sorted(os.path.basename(path)[:-len('.gin')]
                for path in glob.glob(os.path.join(REPO, 'gin', 'maml', '*.gin')))


def _query(gin_file, parameter):
  gin.clear_config()
  gin.add_config_file_search_path(REPO)
  gin.parse_config_files_and_bindings([os.path.join(REPO, gin_file)], [])
  try:
    value = gin.query_parameter(parameter)
    if isinstance(value, gin.config.ConfigurableReference):  # a macro, e.g. %BATCH_SAMPLES
      value = gin.query_parameter(str(value))
    return value
  finally:
    gin.clear_config()


def _maml_adapt_budget(experiment):
  budget = _query(f'gin/maml/{experiment}.gin', 'run_maml.adapt_budget')
  if budget is None:   # run_maml's default
    budget = (_query(f'gin/maml/{experiment}.gin', 'run_maml.n_episodes')
              * _query(f'gin/maml/{experiment}.gin', 'run_maml.horizon'))
  return budget


def test_every_maml_experiment_has_an_smtl_twin():
  twins = {name for name in _experiments()
           if os.path.exists(os.path.join(REPO, 'gin', f'{name}.gin'))}
  assert set(_experiments()) - twins == MAML_ONLY
  assert len(twins - BEYOND_PAPER) == 13


@pytest.mark.parametrize('experiment', sorted(set(_experiments()) - MAML_ONLY))
def test_maml_adaptation_budget_equals_smtl_n_collect(experiment):
  smtl_collect = _query(f'gin/{experiment}.gin', 'run_smtl.n_collect')
  assert _maml_adapt_budget(experiment) == smtl_collect, (
      f'gin/maml/{experiment}.gin: set run_maml.adapt_budget = {smtl_collect} '
      f'(run_smtl.n_collect of gin/{experiment}.gin).')
  assert smtl_collect == (4000 if experiment.startswith(('halfcheetah', 'hopper')) else 8000)


@pytest.mark.parametrize('prefix', ['maml', 'oracle'])
def test_baselines_observe_the_rllab_layout(prefix):
  for experiment in _experiments():
    parameter = f'run_{prefix}.observation'
    assert _query(f'gin/{prefix}/{experiment}.gin', parameter) == 'rllab', experiment
