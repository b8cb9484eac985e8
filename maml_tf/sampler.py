"""Trajectories of many tasks at once: T tasks x M episodes stepped in lockstep.

One policy call and one batched physics step (VectorEnv) per time step serve the
whole meta-batch (every task with its own parameters). Episodes last `horizon` steps unless they terminate; steps after
termination are masked out and not counted.
"""
import collections
from typing import Callable, Dict

import gin
import numpy as np

from smtl_tf.envs.vector_env import VectorEnv


@gin.configurable
class MultiTaskSampler:
  """n_tasks x n_per_task environments; every real step is counted in `steps` by purpose.

  Args:
    family: task family name.
    n_tasks: tasks sampled together (the meta-batch or the test tasks).
    n_per_task: environments per task (the most episodes one call may ask for).
    seed: seeds the reset noise (environment i gets seed + i).
    horizon: episode length (paper 200; maml_rl's point navigation 100).
    dynamics, keep_xy, allow_out_of_range: passed to the environments.
  """

  def __init__(self, family: str, n_tasks: int, n_per_task: int, seed: int, horizon: int = 200,
               dynamics: str = 'default', keep_xy: bool = True, allow_out_of_range: bool = False):
    self.family = family
    self.n_tasks, self.n_per_task, self.horizon = n_tasks, n_per_task, horizon
    # Environment t * n_per_task + j runs episode j of task t.
    self.env = VectorEnv(family, n_tasks * n_per_task, seed, dynamics=dynamics, keep_xy=keep_xy,
                         allow_out_of_range=allow_out_of_range)
    self.obs_dim, self.act_dim = self.env.obs_dim, self.env.act_dim
    self.steps: Dict[str, int] = collections.Counter()

  def set_tasks(self, tasks: np.ndarray) -> None:
    """tasks [n_tasks, task_dim]: task t for every environment of row t."""
    if len(tasks) != self.n_tasks:
      raise ValueError(f'Expected {self.n_tasks} tasks, got {len(tasks)}.')
    self.env.set_tasks(np.repeat(np.asarray(tasks, np.float64).reshape(self.n_tasks, -1),
                                 self.n_per_task, axis=0))

  def rng_states(self):
    return self.env.rng_states()

  def set_rng_states(self, states) -> None:
    self.env.set_rng_states(states)

  def collect(self, act_fn: Callable[[np.ndarray], np.ndarray], n_episodes: int,
              purpose: str) -> Dict[str, np.ndarray]:
    """n_episodes fresh episodes per task.

    Args:
      act_fn: observations [T, M, obs_dim] float32 -> actions [T, M, act_dim].
      n_episodes: M <= n_per_task.
      purpose: counter key ('train', 'adapt', 'evaluate').

    Returns:
      obs [T, M, H, obs_dim], actions [T, M, H, act_dim], rewards [T, M, H] (0 after the end),
      mask [T, M, H] (1 for real steps), returns [T, M] undiscounted episode returns.
    """
    if not 0 < n_episodes <= self.n_per_task:
      raise ValueError(f'n_episodes={n_episodes} must be in [1, n_per_task={self.n_per_task}].')
    shape = (self.n_tasks, n_episodes)
    used = (np.arange(self.n_tasks)[:, None] * self.n_per_task + np.arange(n_episodes)).ravel()
    obs = np.zeros((*shape, self.horizon, self.obs_dim), np.float32)
    actions = np.zeros((*shape, self.horizon, self.act_dim), np.float32)
    rewards = np.zeros((*shape, self.horizon), np.float32)
    mask = np.zeros((*shape, self.horizon), np.float32)
    current = self.env.reset(used).astype(np.float32).reshape(*shape, self.obs_dim)
    alive = np.ones(shape, bool)
    for t in range(self.horizon):
      obs[:, :, t] = current
      mask[:, :, t] = alive
      chosen = np.asarray(act_fn(current))
      actions[:, :, t] = chosen
      rows, columns = np.nonzero(alive)
      next_obs, step_rewards, dones = self.env.step(chosen[rows, columns],
                                                    used.reshape(shape)[rows, columns])
      current[rows, columns] = next_obs
      rewards[rows, columns, t] = step_rewards
      alive[rows, columns] = ~dones
      if not alive.any():
        break
    self.steps[purpose] += int(mask.sum())
    return {'obs': obs, 'actions': actions, 'rewards': rewards, 'mask': mask,
            'returns': rewards.sum(axis=-1)}
