"""Learning tests: the quick configs must improve the real return, not only run."""
import os

import gin

from smtl_tf import main

QUICK = os.path.join(main.REPO_ROOT, 'gin', 'quick.gin')


def test_short_slbo_run_beats_the_initial_policy(tmp_path):
  # One quick run's last stage varies by about +-80 from seed to seed, and a run can fail to
  # improve when the policy exploits an early model, so three seeds are averaged.
  gains = []
  for seed in (0, 1, 2):
    gin.clear_config()
    main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'slbo_halfcheetah_vel1.gin'), QUICK], [])
    results = main.train_eval(root_dir=str(tmp_path), seed=seed)
    gains.append(results['curve'][-1]['real_return'] - results['curve'][0]['real_return'])
    assert results['train_real_samples'] == 3 * 2000
  # A random policy scores about -250 on v = 1.0 (|v - 1| ~ 1 per step plus control cost);
  # matching the goal velocity scores near 0.
  assert sum(gains) / len(gains) > 50, gains


def test_warmed_up_policy_beats_a_random_policy_on_unseen_tasks(tmp_path):
  gin.clear_config()
  # Six test tasks: with three, one seed's physics noise decides the margin.
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'halfcheetah_vel.gin'), QUICK],
                 ['test_tasks.n_test_tasks = 6', 'run_smtl.n_adapt = 0'])
  results = main.train_eval(root_dir=str(tmp_path), seed=0)
  tasks = results['test_tasks']
  random_policy = sum(task['random_policy_return'] for task in tasks) / len(tasks)
  zero_shot = sum(task['returns'][0] for task in tasks) / len(tasks)
  assert all(task['adapt_samples'][0] == 0 for task in tasks)
  # Warm-up on the model learned from 4 other tasks uses no real sample of the test task.
  assert zero_shot > random_policy + 30, tasks


def test_hopper_example_family_warms_up_better_than_a_random_policy(tmp_path):
  # The worked example beyond the paper (smtl_tf/examples/hopper.py), at the quick size the
  # README reports: SMTL trains on 4 Hopper goal velocities, then adapts 6 unseen ones.
  gin.clear_config()
  main.parse_gin([os.path.join(main.REPO_ROOT, 'gin', 'hopper_vel.gin'), QUICK],
                 ['test_tasks.n_test_tasks = 6'])
  results = main.train_eval(root_dir=str(tmp_path), seed=0)
  tasks = results['test_tasks']
  random_policy = sum(task['random_policy_return'] for task in tasks) / len(tasks)
  zero_shot = sum(task['returns'][0] for task in tasks) / len(tasks)
  assert results['family'] == 'hopper_vel' and results['train_real_samples'] == 4 * 2000
  assert all(task['adapt_samples'] == [0, 2000] for task in tasks)
  # A random policy falls within a few dozen steps; staying up earns the alive bonus.
  assert zero_shot > random_policy + 30, tasks
