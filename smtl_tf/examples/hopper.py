"""Hopper goal velocity: gymnasium's hopper.xml, rewarded for moving forward at a goal speed.

Imported by gin/hopper_vel.gin (`import smtl_tf.examples.hopper`), which registers the body
and the family; nothing else in the project names them.

Reward per step (a = action clipped to [-1, 1]; v_x = torso subtree CoM velocity):

    -|v_x - g| + 1 - 0.001 |a|^2,   g ~ U[0, 1]

The episode ends when the hopper falls, as in gymnasium's Hopper-v5: torso height below 0.7
or torso angle outside [-0.2, 0.2] (Hopper-v5's third condition, every state entry within
+-100, is left out). Physics as the XML (RK4, 0.002 s) with Hopper-v5's 4 physics steps per
control step; resets use this project's noise (as every body's), not Hopper-v5's.
"""
from smtl_tf import envs

TORSO_ANGLE = 2            # qpos: rootx, rootz, rooty (the torso's pitch), thigh, leg, foot
HEALTHY_ANGLE = 0.2        # Hopper-v5's healthy_angle_range


def fallen_over(state: envs.State, xp):
  """True where the torso pitches beyond HEALTHY_ANGLE [...]."""
  return xp.abs(state.qpos(TORSO_ANGLE)) > HEALTHY_ANGLE


HOPPER = envs.register_body(envs.Body(
    'hopper', lambda: envs.xml_spec('hopper.xml'), frame_skip=4,
    alive_bonus=1.0, ctrl_coef=1e-3, z_range=(0.7, float('inf')), terminates=fallen_over))

HOPPER_VEL = envs.register_family(envs.TaskFamily(
    'hopper_vel', body='hopper', objective='velocity', low=(0.0,), high=(1.0,)))
