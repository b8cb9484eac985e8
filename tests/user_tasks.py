"""A user's own body, objective and task family, written outside smtl_tf with its public API
only (tests/test_user_tasks.py imports it from a gin file, as a user would)."""
from smtl_tf import envs

TORSO_PITCH = 2  # walker2d.xml's qpos: rootx, rootz, rooty, then the legs


def root_speed(state: envs.State, task, goal_bonus, xp):
  """-|v - g| on the root joint's own forward velocity qvel[0] (not the centre of mass's)."""
  return -xp.abs(state.qvel(0) - task[..., 0]) + goal_bonus


def tilted(state: envs.State, xp):
  """The torso pitched more than 1 rad: the walker is falling."""
  return xp.abs(state.qpos(TORSO_PITCH)) > 1.0


WALKER = envs.register_body(envs.Body(
    'user_walker', lambda: envs.xml_spec('walker2d.xml'), frame_skip=4, alive_bonus=1.0,
    ctrl_coef=1e-3, z_range=(0.8, 2.0), terminates=tilted))
ROOT_SPEED = envs.register_objective(envs.Objective('root_speed', root_speed))
WALKER_SPEED = envs.register_family(envs.TaskFamily(
    'walker_speed', body='user_walker', objective='root_speed', low=(0.5,), high=(1.5,)))
