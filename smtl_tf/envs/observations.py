"""Observation layouts: what a policy sees of the state after a control step.

Every quantity is read from a forward pass (`mj_forward`) on the state after the
step, as the original code did (mujoco-py's `forward()` after stepping), so an
observation, its reward and its termination all describe the new state.

Layouts (a per-algorithm setting):
  'slbo'  (SMTL, single-task SLBO and TRPO; SLBO's code): qpos, qvel, [Ant: torso
          rotation matrix by rows, 9], torso subtree CoM (3), torso subtree CoM
          velocity (3). keep_xy=False drops the absolute x (and y) of the root and CoM
          (state.StateIndex).
  'rllab' (MAML and the oracle; the observations of rllab's environments that maml_rl
          trained on, unnormalized): HalfCheetah qpos[1:], qvel, torso CoM (20);
          Ant qpos, qvel, cfrc_ext clipped to [-1, 1], torso rotation matrix, torso CoM
          (125); simple Humanoid qpos, qvel, clipped cfrc_ext, torso CoM.
Rewards and terminations always read the full 'slbo' layout (`Layout.reward_state`),
whatever the policy sees, so every algorithm is scored by one definition.
"""
import dataclasses
from typing import Optional

import mujoco
import numpy as np

from smtl_tf.envs import bodies
from smtl_tf.envs.state import StateIndex

LAYOUTS = ('slbo', 'rllab')

# The frame-axis sensors give the torso rotation matrix by columns; observations have it by rows.
_XMAT_ROWS = np.array([3 * column + row for row in range(3) for column in range(3)])


@dataclasses.dataclass
class Snapshot:
  """Forward-pass quantities of m states.

  Attributes:
    qpos: [m, nq]; qvel: [m, nv].
    sensordata: [m, nsensordata], the torso sensors of bodies.load_model.
    contact_forces: [m, nbody * 6] cfrc_ext (after mj_rnePostConstraint), or None.
  """
  qpos: np.ndarray
  qvel: np.ndarray
  sensordata: np.ndarray
  contact_forces: Optional[np.ndarray] = None


def forward(model: mujoco.MjModel, data: mujoco.MjData, contact_forces: bool) -> Snapshot:
  """Runs the forward pass on data's state (cold solver start) and returns its snapshot (m = 1).

  With contact_forces, also mj_rnePostConstraint, which fills cfrc_ext (MuJoCo 1.x computed
  it in every forward pass; MuJoCo 2+ only on request).
  """
  data.qacc_warmstart[:] = 0.0
  mujoco.mj_forward(model, data)
  forces = None
  if contact_forces:
    mujoco.mj_rnePostConstraint(model, data)
    forces = data.cfrc_ext.reshape(1, -1).copy()
  return Snapshot(data.qpos[None].copy(), data.qvel[None].copy(), data.sensordata[None].copy(),
                  forces)


class Layout:
  """One observation layout of one body.

  Args:
    body: the body.
    model: its compiled model (sizes).
    name: one of LAYOUTS.
    keep_xy: 'slbo' only: keep absolute x/y positions.
  """

  def __init__(self, body: bodies.Body, model: mujoco.MjModel, name: str = 'slbo',
               keep_xy: bool = True):
    if name not in LAYOUTS:
      raise ValueError(f'Unknown observation layout {name!r}; choose one of {LAYOUTS}.')
    if name == 'rllab' and not keep_xy:
      raise ValueError("keep_xy=False applies to the 'slbo' observation layout only; rllab's "
                       "layout is fixed (bind keep_xy = True).")
    self.body, self.name, self.keep_xy = body, name, keep_xy
    self.needs_contact_forces = name == 'rllab' and body.rllab_contact_forces
    self.index = StateIndex(model.nq, model.nv, bodies.root_xy_count(model),
                            body.with_torso_xmat, True, keep_xy)
    self.full_size = self.index.full_size
    self.kept = self.index.kept
    if name == 'slbo':
      self.size = len(self.kept)
    else:
      self.size = (model.nq - int(body.rllab_drops_root_x) + model.nv
                   + (6 * model.nbody if body.rllab_contact_forces else 0)
                   + (9 if body.with_torso_xmat else 0) + 3)

  def reward_state(self, snapshot: Snapshot) -> np.ndarray:
    """The full 'slbo' observation [m, full_size] float64, which rewards and terminations read."""
    torso = snapshot.sensordata
    if self.body.with_torso_xmat:
      torso = np.concatenate([torso[..., _XMAT_ROWS], torso[..., 9:]], axis=-1)
    return np.concatenate([snapshot.qpos, snapshot.qvel, torso], axis=-1)

  def __call__(self, snapshot: Snapshot, reward_state: np.ndarray) -> np.ndarray:
    """Observations [m, size] float64 of a snapshot and its reward_state [m, full_size]."""
    if self.name == 'slbo':
      return reward_state[:, self.kept]
    qpos = snapshot.qpos[:, 1:] if self.body.rllab_drops_root_x else snapshot.qpos
    parts = [qpos, snapshot.qvel]
    if self.body.rllab_contact_forces:
      if snapshot.contact_forces is None:
        raise ValueError('This layout needs contact forces: take the snapshot with them.')
      parts.append(np.clip(snapshot.contact_forces, -1.0, 1.0))
    com_start = self.full_size - 6
    if self.body.with_torso_xmat:
      parts.append(reward_state[:, com_start - 9:com_start])
    parts.append(reward_state[:, com_start:com_start + 3])
    return np.concatenate(parts, axis=-1)
