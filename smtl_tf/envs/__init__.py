"""Task families, bodies and objectives, and their MuJoCo environments, registered with gymnasium.

    import gymnasium, smtl_tf.envs
    env = gymnasium.make('smtl/HalfCheetahVel-v0', task=1.3)

Your own family, body or objective: build a TaskFamily, Body or Objective and register it
(`register_family`, `register_body`, `register_objective`) from a module that a gin file
imports; `check_reward` checks that its reward gives the same numbers in numpy and
TensorFlow on real transitions. The README's "Your own tasks" walks through an example.
"""
from smtl_tf.envs.bodies import BODIES, Body, get_body, register_body, xml_spec
from smtl_tf.envs.consistency import RewardMismatch, check_reward
from smtl_tf.envs.families import (FAMILIES, HORIZON, TaskFamily, TaskOutOfRangeError, get_family,
                                   register_family)
from smtl_tf.envs import rendering
from smtl_tf.envs.point import PointEnv
from smtl_tf.envs.rewards import Objective, get_objective, register_objective
from smtl_tf.envs.state import DroppedStateError, State
from smtl_tf.envs.task_env import TaskEnv


def make_env(family: str, **kwargs) -> TaskEnv:
  """A bare TaskEnv or PointEnv (no gymnasium wrappers), as the project's runners step it."""
  if get_family(family).body == 'point':
    return PointEnv(family, **kwargs)
  return TaskEnv(family, **kwargs)
