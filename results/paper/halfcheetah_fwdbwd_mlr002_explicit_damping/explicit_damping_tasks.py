"""HalfCheetah with explicit joint damping in MuJoCo's Euler integrator, as a user's own body.

MuJoCo 4 integrates joint damping implicitly in its Euler integrator unless the `eulerdamp`
flag is disabled. This body is the built-in HalfCheetah with the flag disabled, and the family
is forward/backward on it; imported from the gin file beside it (`import explicit_damping_tasks`).
"""
import dataclasses

import mujoco

from smtl_tf import envs
from smtl_tf.envs import bodies


def explicit_damping_spec():
  spec = bodies.gymnasium_spec('half_cheetah.xml')
  spec.option.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_EULERDAMP)
  return spec


BODY = envs.register_body(dataclasses.replace(
    bodies.get_body('halfcheetah'), name='halfcheetah_explicit_damping',
    build_spec=explicit_damping_spec))
FAMILY = envs.register_family(envs.TaskFamily(
    'halfcheetah_fwdbwd_explicit_damping', 'halfcheetah_explicit_damping', 'direction', (-1.0,),
    (1.0,), choices=(-1.0, 1.0)))
