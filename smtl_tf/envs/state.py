"""Named parts of a body's reward state, for rewards written once for numpy and TensorFlow.

Rewards and terminations read the 'slbo' observation of the state after a step:

    qpos [nq], qvel [nv], torso rotation matrix by rows [9] (bodies with_torso_xmat),
    torso subtree centre of mass [3], torso subtree centre-of-mass velocity [3]

minus, with keep_xy=False, the absolute horizontal position: the root's x (and y) and
the centre of mass's x (and y). `StateIndex` says where each part lies for one body and
keep_xy; `State` reads them from an array [..., dim] by name with plain slicing, which
numpy arrays and TensorFlow tensors both support, so a reward written against `State`
and an array namespace `xp` gives the same numbers on real and on predicted states.
"""
import dataclasses
import functools

import numpy as np


class DroppedStateError(ValueError):
  """A reward read a part of the state its observation layout leaves out."""


@dataclasses.dataclass(frozen=True)
class StateIndex:
  """Column layout of one body's reward state.

  Attributes:
    nq, nv: the model's position and velocity sizes.
    n_xy: absolute horizontal root coordinates at the start of qpos: 2 for a free joint
      (x, y), 1 for a planar body whose first joint slides along x, 0 for a fixed base.
    with_torso_xmat: the state includes the torso rotation matrix.
    with_com: the state ends with the torso subtree CoM and its velocity (False only for
      the point body, whose state is its position).
    keep_xy: the absolute x (and y) of the root and the CoM are kept.
  """
  nq: int
  nv: int
  n_xy: int
  with_torso_xmat: bool
  with_com: bool = True
  keep_xy: bool = True

  @property
  def full_size(self) -> int:
    """Columns of the state with keep_xy=True."""
    return self.nq + self.nv + (9 if self.with_torso_xmat else 0) + (6 if self.with_com else 0)

  @functools.cached_property
  def kept(self) -> np.ndarray:
    """Columns of the full state that this layout keeps [size] int."""
    if self.keep_xy or not self.n_xy:
      return np.arange(self.full_size)
    com_start = self.full_size - 6
    dropped = list(range(self.n_xy)) + list(range(com_start, com_start + self.n_xy))
    return np.setdiff1d(np.arange(self.full_size), dropped)

  @property
  def size(self) -> int:
    return len(self.kept)

  def column(self, full_column: int, name: str) -> int:
    """Where a column of the full state lies in this layout, or a clear error if dropped."""
    where = np.flatnonzero(self.kept == full_column)
    if not len(where):
      raise DroppedStateError(
          f'The reward reads {name}, which the observation leaves out with keep_xy=False. '
          f'Read velocities or the height instead, or bind keep_xy = True.')
    return int(where[0])


class State:
  """A batch of reward states [..., size] read by name (see the module docstring).

  Every accessor is a slice of the last axis: [...] for one column, [..., k] for several.
  """

  def __init__(self, array, index: StateIndex):
    self.array, self.index = array, index

  def qpos(self, i: int):
    """Generalized position i of the model (qpos[i]) [...]."""
    if not 0 <= i < self.index.nq:
      raise IndexError(f'qpos index {i} is outside [0, {self.index.nq}).')
    return self.array[..., self.index.column(i, f'qpos[{i}]')]

  def qvel(self, i: int):
    """Generalized velocity i of the model (qvel[i]) [...]."""
    if not 0 <= i < self.index.nv:
      raise IndexError(f'qvel index {i} is outside [0, {self.index.nv}).')
    return self.array[..., self.index.column(self.index.nq + i, f'qvel[{i}]')]

  @property
  def position(self):
    """The point body's position [..., 2] (its whole state)."""
    if self.index.with_com:
      raise ValueError('State.position is the point body\'s state; MuJoCo bodies have '
                       'com_position and qpos(i).')
    return self.array[..., :2]

  @property
  def height(self):
    """The root's height above the floor [...]: qpos[n_xy] (free and planar bodies)."""
    if not self.index.n_xy:
      raise ValueError('This body has no free or planar root joint, so no root height.')
    return self.qpos(self.index.n_xy)

  @property
  def torso_xmat(self):
    """The torso rotation matrix by rows [..., 9]."""
    if not self.index.with_torso_xmat:
      raise ValueError('This body\'s state has no torso rotation matrix (Body.with_torso_xmat).')
    start = self.index.column(self.index.nq + self.index.nv, 'the torso rotation matrix')
    return self.array[..., start:start + 9]

  @property
  def com_velocity(self):
    """Linear velocity of the torso subtree's centre of mass [..., 3] (x, y, z)."""
    self._need_com()
    return self.array[..., -3:]

  @property
  def com_position(self):
    """Position of the torso subtree's centre of mass [..., 3], when keep_xy=True."""
    self._need_com()
    if not self.index.keep_xy and self.index.n_xy:
      raise DroppedStateError('The reward reads the centre of mass position, which the '
                              'observation leaves out with keep_xy=False; bind keep_xy = True.')
    return self.array[..., -6:-3]

  def _need_com(self):
    if not self.index.with_com:
      raise ValueError('The point body\'s state is its position only (State.position).')
