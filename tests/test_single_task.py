"""Single-task SLBO loop: SLBO's late switch-off of the entropy bonus."""
import os

import gin
import pytest

from smtl_tf import main

GIN = os.path.join(main.REPO_ROOT, 'gin')


def _run_slbo(root, bindings):
  gin.clear_config()
  main.parse_gin([os.path.join(GIN, 'slbo_halfcheetah_vel1.gin'), os.path.join(GIN, 'tiny.gin')],
                 bindings)
  return main.train_eval(root_dir=str(root), seed=0)


def test_entropy_bonus_is_zero_from_the_bound_stage_on(tmp_path):
  results = _run_slbo(tmp_path, ['run_slbo.n_stages = 3', 'run_slbo.entropy_off_stage = 2',
                                 'TRPO.ent_coef = 0.005'])
  # Stage indices 0 and 1 (curve stages 1, 2) keep the bonus; index 2 (curve stage 3) has none.
  assert [point['ent_coef'] for point in results['curve'][1:]] == pytest.approx([0.005, 0.005, 0.0])


def test_slbo_experiment_binds_the_original_switch_off_stage():
  gin.clear_config()
  main.parse_gin([os.path.join(GIN, 'slbo_halfcheetah_vel1.gin')], [])
  assert gin.query_parameter('run_slbo.entropy_off_stage') == 50
