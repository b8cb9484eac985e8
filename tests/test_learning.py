"""Learning tests: the quick configs must improve the real return, not only run."""
import os

from smtl_tf import main

QUICK = os.path.join(main.REPO_ROOT, 'gin', 'quick.gin')


def test_short_slbo_run_beats_the_initial_policy(tmp_path):
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'slbo_halfcheetah_vel1.gin'), QUICK], [])
  results = main.train_eval(root_dir=str(tmp_path), seed=0)
  initial = results['curve'][0]['real_return']
  final = results['curve'][-1]['real_return']
  # A random policy scores about -250 on v = 1.0 (|v - 1| ~ 1 per step plus control cost);
  # matching the goal velocity scores near 0.
  assert final > initial + 50, results['curve']
  assert results['train_real_samples'] == 3 * 2000
