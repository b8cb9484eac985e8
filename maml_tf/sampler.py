"""Trajectories of many tasks at once: T tasks x M episodes stepped in lockstep.

One policy call per time step serves the whole meta-batch (every task with its
own parameters). Episodes last `horizon` steps unless they terminate; steps after
termination are masked out and not counted.
"""
import collections
from typing import Callable, Dict

import gin
import numpy as np

from smtl_tf import envs


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
    self.envs = [[envs.make_env(family, dynamics=dynamics, keep_xy=keep_xy,
                                allow_out_of_range=allow_out_of_range)
                  for _ in range(n_per_task)] for _ in range(n_tasks)]
    for i, env in enumerate(self._all()):
      env.reset(seed=seed + i)
    first = self.envs[0][0]
    self.obs_dim = first.observation_space.shape[0]
    self.act_dim = first.action_space.shape[0]
    self.steps: Dict[str, int] = collections.Counter()

  def _all(self):
    return [env for row in self.envs for env in row]

  def set_tasks(self, tasks: np.ndarray) -> None:
    """tasks [n_tasks, task_dim]: task t for every environment of row t."""
    if len(tasks) != self.n_tasks:
      raise ValueError(f'Expected {self.n_tasks} tasks, got {len(tasks)}.')
    for row, task in zip(self.envs, tasks):
      for env in row:
        env.set_task(task)

  def rng_states(self):
    return [env.np_random.bit_generator.state for env in self._all()]

  def set_rng_states(self, states) -> None:
    for env, state in zip(self._all(), states):
      env.np_random.bit_generator.state = state

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
    rows = [row[:n_episodes] for row in self.envs]
    shape = (self.n_tasks, n_episodes)
    obs = np.zeros((*shape, self.horizon, self.obs_dim), np.float32)
    actions = np.zeros((*shape, self.horizon, self.act_dim), np.float32)
    rewards = np.zeros((*shape, self.horizon), np.float32)
    mask = np.zeros((*shape, self.horizon), np.float32)
    current = np.stack([[env.reset()[0] for env in row] for row in rows]).astype(np.float32)
    alive = np.ones(shape, bool)
    for t in range(self.horizon):
      obs[:, :, t] = current
      mask[:, :, t] = alive
      chosen = np.asarray(act_fn(current))
      actions[:, :, t] = chosen
      for i, j in zip(*np.nonzero(alive)):
        next_obs, reward, done, _, _ = rows[i][j].step(chosen[i, j])
        current[i, j] = next_obs
        rewards[i, j, t] = reward
        alive[i, j] = not done
      if not alive.any():
        break
    self.steps[purpose] += int(mask.sum())
    return {'obs': obs, 'actions': actions, 'rewards': rewards, 'mask': mask,
            'returns': rewards.sum(axis=-1)}
