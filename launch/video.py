"""Writes a video of a saved test-task policy from a run directory.

  python -m launch.video --run_dir=runs/quickstart/smtl/seed_0 --test_task=0 [--iteration=-1]

The run saves each test task's policy after the warm-up (iteration 0) and after every
adaptation iteration (smtl_tf/saved_policy.py). This plays its mean action (no exploration
noise) for --episodes episodes on the test task's environment and writes a GIF (Pillow) or,
for an --out ending in .mp4, an MP4 (needs ffmpeg on the PATH). Rendering is headless
(EGL or OSMesa, chosen automatically: smtl_tf/envs/rendering.py). It does not load
TensorFlow: Mesa's software OpenGL and TensorFlow crash when loaded into one process.
"""
import importlib
import os
import shutil
import subprocess
from typing import List

import numpy as np
from absl import app
from absl import flags

from smtl_tf import console
from smtl_tf import envs
from smtl_tf import saved_policy

FLAGS = flags.FLAGS


def define_flags() -> None:
  """Defines the command line's flags; only when this module is the program, so that importing it
  (a test, another launcher) defines none and cannot collide with flags of the same name."""
  flags.DEFINE_string('run_dir', None, 'A run directory with saved policies (policies/).')
  flags.DEFINE_integer('test_task', 0, 'Test task index, from 0, in results.json order.')
  flags.DEFINE_integer('iteration', -1, 'Adaptation iteration (0: after the warm-up); -1: the '
                       'last saved.')
  flags.DEFINE_integer('episodes', 1, 'Episodes to play one after another.')
  flags.DEFINE_integer('seed', 0, 'Seeds the episodes\' reset noise.')
  flags.DEFINE_string('out', None, 'Output .gif or .mp4 (default: <run_dir>/videos/'
                      'test_task_<k>_iteration_<i>.gif).')
  flags.DEFINE_integer('width', 480, 'Frame width in pixels.')
  flags.DEFINE_integer('height', 360, 'Frame height in pixels.')
  flags.DEFINE_integer('every', 2, 'Keep every n-th control step as a frame.')


def import_user_modules(run_dir: str) -> None:
  """Imports the modules the run's gin config imported (users' own families and bodies)."""
  path = os.path.join(run_dir, 'operative_config.gin')
  text = open(path).read() if os.path.exists(path) else ''
  for line in text.splitlines():
    if line.startswith('import '):
      module = line.split()[1]
      try:
        importlib.import_module(module)
      except ImportError as error:
        raise SystemExit(f'The run imports {module} (its task family is defined there), which '
                         f'is not importable here ({error}): run from the directory that holds '
                         f'it, or add that directory to PYTHONPATH.') from None


def load(run_dir: str, test_task: int, iteration: int) -> saved_policy.SavedPolicy:
  """The saved policy of one test task after one iteration (-1: the last saved)."""
  saved = saved_policy.saved_iterations(run_dir, test_task)
  if not saved:
    raise saved_policy.SavedPolicyError(
        f'{run_dir} has no saved policy for test task {test_task} (policies/test_task_'
        f'{test_task:02d}/). Runs save them as they adapt each test task.')
  if iteration == -1:
    iteration = saved[-1]
  if iteration not in saved:
    raise saved_policy.SavedPolicyError(
        f'Test task {test_task} of {run_dir} has iterations {saved}, not {iteration}.')
  return saved_policy.SavedPolicy.load(saved_policy.policy_path(run_dir, test_task, iteration))


def play(policy: saved_policy.SavedPolicy, episodes: int, seed: int, width: int, height: int,
         every: int):
  """Frames [n, height, width, 3] uint8, the return of each episode (mean actions), and the
  environment's frames per second."""
  env = envs.make_env(**policy.environment, render_mode='rgb_array', width=width, height=height)
  frames: List[np.ndarray] = []
  returns = []
  try:
    for episode in range(episodes):
      obs, _ = env.reset(seed=seed + episode)
      total = 0.0
      frames.append(env.render())
      for step in range(policy.info.get('horizon', envs.HORIZON)):
        obs, reward, done, _, _ = env.step(policy.mean_action(obs))
        total += reward
        if step % every == every - 1 or done:
          frames.append(env.render())
        if done:
          break
      returns.append(total)
  finally:
    env.close()
  return np.stack(frames), returns, env.metadata['render_fps']


def write_video(frames: np.ndarray, path: str, fps: float) -> None:
  """A GIF (Pillow) or an MP4 (ffmpeg through matplotlib), written atomically."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  extension = os.path.splitext(path)[1].lower()
  tmp = f'{path}.tmp{extension}'
  if extension == '.gif':
    from PIL import Image  # pylint: disable=g-import-not-at-top (matplotlib's dependency)
    images = [Image.fromarray(frame) for frame in frames]
    # GIF delays are whole centiseconds, and viewers slow down anything under 2.
    images[0].save(tmp, save_all=True, append_images=images[1:], loop=0,
                   duration=max(20, int(round(1000 / fps, -1))))
  elif extension == '.mp4':
    if shutil.which('ffmpeg') is None:
      raise RuntimeError('Writing an MP4 needs ffmpeg on the PATH (e.g. apt install ffmpeg); '
                         'or write a GIF: --out=<name>.gif.')
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use('Agg')
    from matplotlib import animation  # pylint: disable=g-import-not-at-top
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    frames = frames[:, :frames.shape[1] // 2 * 2, :frames.shape[2] // 2 * 2]  # yuv420p: even sizes
    height, width = frames.shape[1:3]
    figure = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    axes = figure.add_axes([0, 0, 1, 1])
    axes.axis('off')
    image = axes.imshow(frames[0])
    writer = animation.FFMpegWriter(fps=fps)
    with writer.saving(figure, tmp, dpi=100):
      for frame in frames:
        image.set_data(frame)
        writer.grab_frame()
    plt.close(figure)
  else:
    raise ValueError(f'--out must end in .gif or .mp4, got {path!r}.')
  os.replace(tmp, path)


def main(argv):
  del argv
  console.quiet(FLAGS.verbosity)
  if not FLAGS.run_dir:
    raise app.UsageError('Give --run_dir, a run directory with saved policies.')
  if FLAGS.every < 1 or FLAGS.episodes < 1:
    raise app.UsageError('--every and --episodes must be at least 1.')
  import_user_modules(FLAGS.run_dir)
  try:
    policy = load(FLAGS.run_dir, FLAGS.test_task, FLAGS.iteration)
  except saved_policy.SavedPolicyError as error:
    raise app.UsageError(str(error)) from None
  info = policy.info
  out = FLAGS.out or os.path.join(
      FLAGS.run_dir, 'videos', f'test_task_{info["test_task"]:02d}_iteration_{info["iteration"]}.gif')
  try:
    frames, returns, env_fps = play(policy, FLAGS.episodes, FLAGS.seed, FLAGS.width,
                                    FLAGS.height, FLAGS.every)
  except envs.rendering.RenderingUnavailable as error:
    raise SystemExit(str(error)) from None
  fps = env_fps / FLAGS.every
  try:
    write_video(frames, out, fps)
  except (RuntimeError, ValueError, subprocess.CalledProcessError) as error:
    raise SystemExit(f'Writing {out} failed: {error}') from None
  print(f'{out}: {len(frames)} frames, {info["algorithm"].upper()} test task {info["test_task"]} '
        f'(task {policy.environment["task"]}) after iteration {info["iteration"]} '
        f'({info["adapt_samples"]} real adaptation samples). Return of the mean action: '
        f'{", ".join(f"{value:.1f}" for value in returns)} (the run recorded '
        f'{info["return"]:.1f}, the mean over its evaluation episodes with exploration noise).')


if __name__ == '__main__':
  define_flags()
  app.run(main)
