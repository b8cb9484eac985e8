"""Task families and their MuJoCo environments, registered with gymnasium.

    import gymnasium, smtl_tf.envs
    env = gymnasium.make('smtl/HalfCheetahVel-v0', task=1.3)
"""
import gymnasium

from smtl_tf.envs.families import FAMILIES, TaskFamily, TaskOutOfRangeError, get_family
from smtl_tf.envs.point import PointEnv
from smtl_tf.envs.task_env import TaskEnv

HORIZON = 200


def make_env(family: str, **kwargs) -> TaskEnv:
  """A bare TaskEnv or PointEnv (no gymnasium wrappers), as the project's runners step it."""
  if get_family(family).body == 'point':
    return PointEnv(family, **kwargs)
  return TaskEnv(family, **kwargs)


def _entry_point(family: TaskFamily) -> str:
  if family.body == 'point':
    return 'smtl_tf.envs.point:PointEnv'
  return 'smtl_tf.envs.task_env:TaskEnv'


for _family in FAMILIES.values():
  if _family.env_id not in gymnasium.registry:
    gymnasium.register(id=_family.env_id, entry_point=_entry_point(_family),
                       kwargs={'family': _family.name}, max_episode_steps=HORIZON)
