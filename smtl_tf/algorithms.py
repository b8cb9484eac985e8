"""Every algorithm by the name `train_eval.algorithm` binds, and how one is built from gin.

main.py (the command line) and fan-out workers (runs/fan_out.py) build algorithms here;
this module defines no flags, so a worker process can import it beside any entry point.
"""
import os
from typing import Optional

import gin

from maml_tf import maml
from maml_tf import oracle
from smtl_tf import single_task
from smtl_tf import smtl

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SINGLE_TASK = {'slbo': single_task.SingleTaskSLBO, 'trpo': single_task.SingleTaskTRPO}
MULTI_TASK = {'smtl': smtl.SMTL, 'maml': maml.MAML, 'oracle': oracle.Oracle,
              'task_blind': oracle.TaskBlind}
ALGORITHMS = {**SINGLE_TASK, **MULTI_TASK}


def check_name(algorithm: str) -> str:
  """The algorithm's name, or a clear error if no algorithm has it."""
  if algorithm not in ALGORITHMS:
    raise ValueError(f'Unknown algorithm {algorithm!r}; bind train_eval.algorithm to one of '
                     f'{sorted(ALGORITHMS)}.')
  return algorithm


def build(seed: int, experiment: Optional[str] = None, algorithm: Optional[str] = None,
          family: Optional[str] = None, task=None):
  """The algorithm of train_eval's bindings (each argument not given is read from the parsed
  gin configuration), built for `seed`."""
  def bound(name, value, default=gin.REQUIRED):
    if value is not None:
      return value
    try:
      return gin.query_parameter(f'train_eval.{name}')
    except ValueError:
      if default is gin.REQUIRED:
        raise ValueError(f'Bind train_eval.{name} in the gin configuration.') from None
      return default
  algorithm = check_name(bound('algorithm', algorithm))
  family = bound('family', family)
  if algorithm in SINGLE_TASK:
    task = bound('task', task, None)
    if task is None:
      raise ValueError(f'Algorithm {algorithm!r} trains on one task: bind train_eval.task.')
    return ALGORITHMS[algorithm](family=family, seed=seed, task=task)
  return ALGORITHMS[algorithm](family=family, seed=seed,
                               experiment=bound('experiment', experiment))
