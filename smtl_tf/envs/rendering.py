"""Headless frames of a MuJoCo body: an OpenGL backend chosen automatically, and a camera that
follows the torso.

MuJoCo renders off-screen through EGL (a GPU driver, or Mesa's software device) or OSMesa
(software). `gl_backend()` honours MUJOCO_GL when it names one of them, else tries EGL, then
OSMesa, each in a short-lived subprocess (a failed OpenGL start can leave a process unable
to try the other), and remembers the first that draws. When none does, `RenderingUnavailable`
says what was tried and what to install.
"""
import functools
import importlib
import os
import subprocess
import sys

import mujoco
import numpy as np

BACKENDS = ('egl', 'osmesa')
_PROBE = ('{1}from mujoco.{0} import GLContext\n'
          'context = GLContext(8, 8)\ncontext.make_current()\ncontext.free()\n')


class RenderingUnavailable(RuntimeError):
  """No OpenGL backend for off-screen rendering works on this machine."""


def _probe(backend: str) -> str:
  """'' if the backend starts here, else why not. With TensorFlow loaded in this process, the
  probe loads it too: Mesa's software OpenGL (llvmpipe) crashes beside TensorFlow."""
  with_tensorflow = 'tensorflow' in sys.modules
  code = _PROBE.format(backend, 'import tensorflow\n' if with_tensorflow else '')
  env = dict(os.environ, MUJOCO_GL=backend, PYOPENGL_PLATFORM=backend,
             TF_CPP_MIN_LOG_LEVEL='3')
  try:
    done = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                          text=True, timeout=300)
  except subprocess.TimeoutExpired:
    return 'timed out'
  if done.returncode == 0:
    return ''
  if done.returncode < 0 and with_tensorflow:
    return (f'crashed (signal {-done.returncode}) with TensorFlow loaded in the same process; '
            f'render from a process without TensorFlow, as python -m launch.video does')
  lines = done.stderr.strip().splitlines()
  return lines[-1] if lines else f'exit status {done.returncode}'


_unavailable = []  # the RenderingUnavailable of an earlier gl_backend() call


@functools.lru_cache(maxsize=None)
def gl_backend() -> str:
  """The off-screen OpenGL backend to use: 'egl' or 'osmesa' (probed once per process)."""
  if _unavailable:
    raise _unavailable[0]
  requested = os.environ.get('MUJOCO_GL', '').lower()
  candidates = (requested,) if requested in BACKENDS else BACKENDS
  failures = {}
  for backend in candidates:
    failures[backend] = _probe(backend)
    if not failures[backend]:
      return backend
  tried = '; '.join(f'{backend.upper()}: {why}' for backend, why in failures.items())
  _unavailable.append(RenderingUnavailable(
      f'No OpenGL backend renders off-screen here ({tried}). Install EGL (a GPU driver, or '
      f'Mesa: apt install libegl1 libgl1-mesa-dri) or OSMesa (apt install libosmesa6), or '
      f'set MUJOCO_GL=egl or MUJOCO_GL=osmesa to the one that works.'))
  raise _unavailable[0]


def gl_context(width: int, height: int):
  """A current off-screen OpenGL context of the chosen backend."""
  backend = gl_backend()
  platform = os.environ.setdefault('PYOPENGL_PLATFORM', backend)
  if platform != backend:
    raise RenderingUnavailable(f'PYOPENGL_PLATFORM={platform} in the environment, but MuJoCo '
                               f'renders through {backend}: unset it or set it to {backend}.')
  context = importlib.import_module(f'mujoco.{backend}').GLContext(width, height)
  context.make_current()
  return context


class FrameRenderer:
  """RGB frames [height, width, 3] uint8 of a model's state, seen from the side by a camera
  that tracks `torso` (the body's own cameras differ from robot to robot)."""

  def __init__(self, model: mujoco.MjModel, torso: str, width: int = 480, height: int = 360):
    self.model, self.width, self.height = model, width, height
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    self.context = gl_context(width, height)
    self.scene = mujoco.MjvScene(model, maxgeom=2000)
    self.render_context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
    mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self.render_context)
    self.option = mujoco.MjvOption()
    self.camera = mujoco.MjvCamera()
    self.camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    self.camera.trackbodyid = max(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, torso), 0)
    self.camera.distance = 3.0 * max(_robot_size(model), 0.8)
    self.camera.azimuth, self.camera.elevation = 90.0, -15.0
    self.viewport = mujoco.MjrRect(0, 0, width, height)

  def __call__(self, data: mujoco.MjData) -> np.ndarray:
    """The frame [height, width, 3] uint8 of data's state."""
    self.context.make_current()
    mujoco.mjv_updateScene(self.model, data, self.option, None, self.camera,
                           mujoco.mjtCatBit.mjCAT_ALL, self.scene)
    mujoco.mjr_render(self.viewport, self.scene, self.render_context)
    pixels = np.empty((self.height, self.width, 3), np.uint8)
    mujoco.mjr_readPixels(pixels, None, self.viewport, self.render_context)
    return np.flipud(pixels).copy()

  def close(self) -> None:
    if self.context is not None:
      self.render_context.free()
      self.context.free()
      self.context = None


def _robot_size(model: mujoco.MjModel) -> float:
  """The largest distance between two bodies' origins in the reset pose (m); the floor and
  other world geoms, which the model's own extent includes, do not count."""
  data = mujoco.MjData(model)
  mujoco.mj_forward(model, data)
  positions = data.xpos[1:]
  return float(np.max(np.linalg.norm(positions[:, None] - positions[None], axis=-1)))


def point_frame(position: np.ndarray, goal: np.ndarray, width: int = 480,
                height: int = 360, extent: float = 1.0) -> np.ndarray:
  """A frame [height, width, 3] uint8 of the point body: the point (blue) and its goal (red)
  on a white plane spanning [-extent, extent]^2."""
  frame = np.full((height, width, 3), 255, np.uint8)
  scale = min(width, height) / (2.0 * extent)
  for xy, colour in ((goal, (220, 40, 40)), (position, (40, 80, 220))):
    column = int(round(width / 2 + xy[0] * scale))
    row = int(round(height / 2 - xy[1] * scale))
    if -4 <= row < height + 4 and -4 <= column < width + 4:  # else off the frame: not drawn
      frame[max(row - 4, 0):max(row + 5, 0), max(column - 4, 0):max(column + 5, 0)] = colour
  return frame
