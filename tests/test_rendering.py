"""Watching policies: frames from every environment, saved test-task policies, the video
command. Rendering runs in subprocesses without TensorFlow (Mesa's software OpenGL crashes
beside it; see smtl_tf/envs/rendering.py), and is skipped, with the reason, where no
OpenGL backend works."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from smtl_tf import main
from smtl_tf import saved_policy
from smtl_tf.slbo import policy as policy_lib
from smtl_tf.slbo.normalizer import Normalizer

GIN = os.path.join(main.REPO_ROOT, 'gin')
FRAMES = """
import json, sys
import gymnasium
import numpy as np
from smtl_tf import envs
import smtl_tf.examples.hopper
try:
  envs.rendering.gl_backend()
except envs.rendering.RenderingUnavailable as error:
  print(json.dumps({'unavailable': str(error)}))
  sys.exit(0)
shapes = {}
for env_id in ('smtl/HalfCheetahVel-v0', 'smtl/AntVel-v0', 'smtl/HumanoidVel-v0',
               'smtl/HopperVel-v0', 'smtl/PointNav-v0'):
  env = gymnasium.make(env_id, render_mode='rgb_array', width=96, height=64)
  env.reset(seed=0)
  first = env.render()
  env.step(np.ones(env.action_space.shape))
  second = env.render()
  shapes[env_id] = [list(first.shape), str(first.dtype), float(np.abs(second.astype(int) - first).mean())]
  env.close()
print(json.dumps(shapes))
"""


def _python(code_or_module, *arguments, module=False, timeout=600):
  command = [sys.executable, *(['-m', code_or_module] if module else ['-c', code_or_module]),
             *arguments]
  return subprocess.run(command, cwd=main.REPO_ROOT, capture_output=True, text=True,
                        timeout=timeout, env=dict(os.environ, PYTHONPATH=main.REPO_ROOT))


def test_every_environment_renders_rgb_frames_of_the_requested_size():
  done = _python(FRAMES)
  assert done.returncode == 0, done.stderr[-3000:]
  shapes = json.loads(done.stdout.strip().splitlines()[-1])
  if 'unavailable' in shapes:
    pytest.skip(shapes['unavailable'])
  for env_id, (shape, dtype, change) in shapes.items():
    assert shape == [64, 96, 3] and dtype == 'uint8', env_id
    assert change > 0, f'{env_id}: the frame should change after a step'


def test_a_saved_policy_is_the_policy_mean_in_numpy(tmp_path):
  normalizer = Normalizer(5, n_members=2)
  normalizer.update(np.random.default_rng(1).normal(2.0, 3.0, (2, 100, 5)))
  policy = policy_lib.GaussianPolicy(5, 2, normalizer, np.random.default_rng(0), 3)
  policy.net.kernels[0].assign_add(np.random.default_rng(2).normal(size=(2, 5, 32)) * 0.1)
  states = np.random.default_rng(3).normal(size=(2, 50, 5)).astype(np.float32)
  means = policy.mean(tf.constant(states)).numpy()
  for member in (0, 1):
    path = str(tmp_path / f'member_{member}.npz')
    saved_policy.SavedPolicy(**policy_lib.mean_snapshot(policy, member),
                             environment={'family': 'halfcheetah_vel'}, info={}).save(path)
    loaded = saved_policy.SavedPolicy.load(path)
    np.testing.assert_allclose(loaded.mean_action(states[member]), means[member], rtol=1e-5,
                               atol=1e-6)
  (tmp_path / 'broken.npz').write_bytes(b'not a zip file')
  with pytest.raises(saved_policy.SavedPolicyError, match='broken.npz'):
    saved_policy.SavedPolicy.load(str(tmp_path / 'broken.npz'))


def _train(tmp_path, gin_file, overlay='tiny.gin'):
  main.parse_gin([os.path.join(GIN, gin_file), os.path.join(GIN, overlay)], [])
  return main.train_eval(root_dir=str(tmp_path), seed=0)


def test_runs_save_each_test_tasks_policy_after_every_iteration(tmp_path):
  results = _train(tmp_path, 'halfcheetah_vel.gin')
  run_dir = str(tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0')
  for index, record in enumerate(results['test_tasks']):
    assert saved_policy.saved_iterations(run_dir, index) == list(range(len(record['returns'])))
    last = saved_policy.SavedPolicy.load(saved_policy.policy_path(run_dir, index, 1))
    assert last.info['return'] == record['returns'][1] and last.environment['task'] == record['task']
    assert last.info['adapt_samples'] == record['adapt_samples'][1]


def test_the_video_command_writes_a_playable_gif_of_a_maml_policy(tmp_path):
  results = _train(tmp_path, os.path.join('maml', 'point_nav.gin'))
  run_dir = str(tmp_path / 'point_nav' / 'maml' / 'seed_0')
  assert saved_policy.saved_iterations(run_dir, 1) == list(range(len(results['test_tasks'][1]['returns'])))
  out = str(tmp_path / 'point.gif')
  done = _python('launch.video', f'--run_dir={run_dir}', '--test_task=1', f'--out={out}',
                 '--width=64', '--height=48', '--every=1', module=True)
  assert done.returncode == 0, done.stderr[-3000:]
  assert 'MAML test task 1' in done.stdout
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with Image.open(out) as video:
    assert video.size == (64, 48) and video.n_frames > 1


def test_the_video_command_films_a_mujoco_body_or_says_why_not(tmp_path):
  _train(tmp_path, 'halfcheetah_vel.gin')
  run_dir = str(tmp_path / 'halfcheetah_vel' / 'smtl' / 'seed_0')
  out = str(tmp_path / 'cheetah.gif')
  done = _python('launch.video', f'--run_dir={run_dir}', '--test_task=0', '--iteration=0',
                 f'--out={out}', '--width=64', '--height=48', '--every=20', module=True)
  if done.returncode != 0 and 'No OpenGL backend' in done.stderr:
    pytest.skip(done.stderr.strip().splitlines()[-1])
  assert done.returncode == 0, done.stderr[-3000:]
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with Image.open(out) as video:
    assert video.size == (64, 48) and video.n_frames == 1 + 200 // 20
  missing = _python('launch.video', f'--run_dir={run_dir}', '--test_task=7', module=True)
  assert missing.returncode != 0 and 'no saved policy for test task 7' in missing.stderr
