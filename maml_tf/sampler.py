"""Trajectories of many tasks at once, stepped in lockstep (one policy call per time step).

Every task owns `slots_per_task` environments (slots). One policy call and one batched
physics step (VectorEnv) per time step serve every slot of every task, each task with
its own parameters. Two ways to collect:

* `collect(act_fn, budget, purpose)`: whole episodes until each task has at least
  `budget` real samples, as maml_rl's sampler does (rllab/sampler/parallel_sampler.py
  `sample_paths` with `max_samples = batch_size / n_tasks`, driven by stateful_pool
  `run_collect`: whole paths until the count reaches the threshold). The rule, per task
  and time step: a free slot starts a new episode while
      completed_samples + H * running_episodes < budget,
  i.e. a running episode reserves the H steps it may still take. So a task stops with
  budget <= samples < budget + H (the bound of rllab's serial collection), early
  terminations (Ant, Humanoid) are made up by further episodes, and a task that never
  terminates gets exactly ceil(budget / H) episodes, all started together.
  The episodes are packed one after another on a sample axis of fixed length
  budget + H - 1 (the most that can be collected), so shapes never change between calls.
* `episode_returns(act_fn, n_episodes, purpose)`: exactly n_episodes fresh episodes per
  task, one per slot, each until it terminates or reaches H steps (evaluation).
* `completed_episode_returns(act_fn, budget, purpose)`: the mean return as maml_rl measured it
  when its reported results were made (sandbox `VectorizedSampler`): ceil(budget / H) slots
  per task step together, each starting a new episode when its episode ends, until the task's
  completed episodes hold at least `budget` samples; episodes still running are dropped. Where
  episodes end early, this mean leans toward the short ones (a slot completes several of them
  in the time another completes one long one).

Every real step is counted in `steps` by purpose.
"""
import collections
from typing import Callable, Dict, Sequence

import gin
import numpy as np

from smtl_tf.envs.vector_env import VectorEnv

ActFn = Callable[[np.ndarray], np.ndarray]


def slots_for(budget, horizon: int):
  """Episodes of at most horizon steps that a budget of samples needs at least (and slots per
  task that let them all run at once): ceil(budget / horizon), elementwise for arrays."""
  return -(-budget // horizon)


@gin.configurable
class MultiTaskSampler:
  """n_tasks x slots_per_task environments of one family.

  Args:
    family: task family name.
    n_tasks: tasks sampled together (the meta-batch or the test tasks).
    slots_per_task: environments per task: the most episodes of a task that run at once
      (ceil(budget / horizon) lets `collect` start a whole budget at once; `episode_returns`
      needs n_episodes <= slots_per_task).
    seed: the run's seed; environment i draws its resets from stream (seed, *stream, i)
      (smtl_tf.seeding).
    stream: the name of these environments' reset streams (distinct per sampler of a run).
    horizon: episode length H (paper 200; maml_rl's point navigation 100).
    dynamics, keep_xy, allow_out_of_range: passed to the environments.
    observation: observation layout of the environments ('slbo' or 'rllab').
  """

  def __init__(self, family: str, n_tasks: int, slots_per_task: int, seed: int,
               stream: Sequence = ('env',), horizon: int = 200, dynamics: str = 'default', keep_xy: bool = True,
               allow_out_of_range: bool = False, observation: str = 'slbo'):
    if n_tasks < 1 or slots_per_task < 1 or horizon < 1:
      raise ValueError(f'MultiTaskSampler needs n_tasks, slots_per_task and horizon >= 1, got '
                       f'{n_tasks}, {slots_per_task}, {horizon}.')
    self.family = family
    self.n_tasks, self.slots_per_task, self.horizon = n_tasks, slots_per_task, horizon
    # Environment t * slots_per_task + j is slot j of task t.
    self.env = VectorEnv(family, n_tasks * slots_per_task, seed, stream, dynamics=dynamics,
                         keep_xy=keep_xy, allow_out_of_range=allow_out_of_range,
                         observation=observation)
    self.env_index = np.arange(n_tasks * slots_per_task).reshape(n_tasks, slots_per_task)
    self.obs_dim, self.act_dim = self.env.obs_dim, self.env.act_dim
    self.steps: Dict[str, int] = collections.Counter()

  def set_tasks(self, tasks: np.ndarray) -> None:
    """tasks [n_tasks, task_dim]: task t for every slot of row t."""
    if len(tasks) != self.n_tasks:
      raise ValueError(f'Expected {self.n_tasks} tasks, got {len(tasks)}.')
    self.env.set_tasks(np.repeat(np.asarray(tasks, np.float64).reshape(self.n_tasks, -1),
                                 self.slots_per_task, axis=0))

  def rng_states(self):
    return self.env.rng_states()

  def set_rng_states(self, states) -> None:
    self.env.set_rng_states(states)

  # --- budgeted collection (training data) --------------------------------------------------

  def capacity(self, budget: int) -> int:
    """Length of the packed sample axis for a budget: the most one task can collect."""
    return budget + self.horizon - 1

  def collect(self, act_fn: ActFn, budget: int, purpose: str) -> Dict[str, np.ndarray]:
    """Whole episodes until every task has at least `budget` samples (rule: module docstring).

    Args:
      act_fn: observations [T, W, obs_dim] float32 -> actions [T, W, act_dim], W =
        min(slots_per_task, ceil(budget / H)) (the slots that can be busy); called once per time
        step (idle slots see a stale observation and their action is unused).
      budget: samples per task (maml_rl: n_episodes * H).
      purpose: counter key ('train', 'adapt').

    Returns:
      Packed per-task arrays, N = budget + H - 1, episodes in order of completion:
      obs [T, N, obs_dim], actions [T, N, act_dim], rewards [T, N], mask [T, N] (1 for real
      samples, all before the padding), time_steps [T, N] int32 (step within the episode),
      episode_end [T, N] int32 (index one past the sample's episode; N on padding),
      samples [T] int64 (real samples), episodes [T] int64, mean_return [T] (mean undiscounted
      episode return).
    """
    if budget < 1:
      raise ValueError(f'The sample budget per task must be >= 1, got {budget}.')
    packed = _PackedEpisodes(self.n_tasks, self.capacity(budget), self.obs_dim, self.act_dim)
    episodes = _RunningEpisodes(self.n_tasks, self.slots_per_task, self.horizon, self.obs_dim,
                                self.act_dim)
    width = min(self.slots_per_task, slots_for(budget, self.horizon))  # slots that can ever be busy
    while True:
      room = np.maximum(budget - packed.samples - self.horizon * episodes.running.sum(axis=1), 0)
      starts = episodes.free_slots(slots_for(room, self.horizon))  # new episodes for the room
      if starts.any():
        episodes.start(starts, self.env.reset(self.env_index[starts]))
      if not episodes.running.any():
        break
      ended = self._step(act_fn, episodes, width)
      for task, slot in zip(*np.nonzero(ended)):
        packed.add(task, *episodes.finish(task, slot))
    self.steps[purpose] += int(packed.samples.sum())
    return packed.arrays()

  def _step(self, act_fn: ActFn, episodes: '_RunningEpisodes', width: int) -> np.ndarray:
    """One time step of every running episode (all in the first `width` slots).

    Returns:
      ended [T, S] bool: the episodes that terminated or reached H steps.
    """
    tasks, slots = np.nonzero(episodes.running)
    actions = np.asarray(act_fn(episodes.current[:, :width]), np.float32)
    next_obs, rewards, dones = self.env.step(actions[tasks, slots], self.env_index[tasks, slots])
    episodes.record(tasks, slots, actions[tasks, slots], rewards, next_obs)
    ended = np.zeros_like(episodes.running)
    ended[tasks, slots] = dones | (episodes.length[tasks, slots] >= self.horizon)
    return ended

  # --- fixed numbers of fresh episodes (evaluation) ------------------------------------------

  def episode_returns(self, act_fn: ActFn, n_episodes: int, purpose: str) -> np.ndarray:
    """Undiscounted returns [T, n_episodes] of n_episodes fresh episodes per task.

    Slot j of every task runs episode j once (until it terminates or reaches H steps); act_fn
    maps observations [T, n_episodes, obs_dim] float32 to actions [T, n_episodes, act_dim].
    """
    if not 0 < n_episodes <= self.slots_per_task:
      raise ValueError(f'n_episodes={n_episodes} must be in [1, slots_per_task='
                       f'{self.slots_per_task}]; build the sampler with more slots per task.')
    episodes = _RunningEpisodes(self.n_tasks, self.slots_per_task, self.horizon, self.obs_dim,
                                self.act_dim)
    starts = episodes.free_slots(np.full(self.n_tasks, n_episodes))
    episodes.start(starts, self.env.reset(self.env_index[starts]))
    returns = np.zeros((self.n_tasks, n_episodes))
    while episodes.running.any():
      ended = self._step(act_fn, episodes, n_episodes)
      for task, slot in zip(*np.nonzero(ended)):
        returns[task, slot] = episodes.finish(task, slot)[2].sum()
    self.steps[purpose] += int(episodes.samples)
    return returns

  def completed_episode_returns(self, act_fn: ActFn, budget: int, purpose: str) -> np.ndarray:
    """Mean undiscounted return [T] of each task's completed episodes (rule: module docstring).

    act_fn: observations [T, W, obs_dim] -> actions [T, W, act_dim], W = ceil(budget / H).
    """
    width = slots_for(budget, self.horizon)
    if width > self.slots_per_task:
      raise ValueError(f'A budget of {budget} needs {width} slots per task, more than '
                       f'slots_per_task={self.slots_per_task}.')
    episodes = _RunningEpisodes(self.n_tasks, self.slots_per_task, self.horizon, self.obs_dim,
                                self.act_dim)
    totals, counts = np.zeros(self.n_tasks), np.zeros(self.n_tasks, np.int64)
    completed = np.zeros(self.n_tasks, np.int64)
    starts = episodes.free_slots(np.full(self.n_tasks, width))
    episodes.start(starts, self.env.reset(self.env_index[starts]))
    while episodes.running.any():
      ended = self._step(act_fn, episodes, width)
      for task, slot in zip(*np.nonzero(ended)):
        rewards = episodes.finish(task, slot)[2]
        totals[task] += rewards.sum()
        counts[task] += 1
        completed[task] += len(rewards)
      finished = completed >= budget
      episodes.running[finished] = False      # a finished task's running episodes are dropped
      restarts = ended & ~finished[:, None]
      if restarts.any():
        episodes.start(restarts, self.env.reset(self.env_index[restarts]))
    self.steps[purpose] += int(episodes.samples)
    return totals / counts


class _RunningEpisodes:
  """The episode each slot is running: its steps so far [T, S, H, ...] and where it stands."""

  def __init__(self, n_tasks: int, n_slots: int, horizon: int, obs_dim: int, act_dim: int):
    shape = (n_tasks, n_slots)
    self.obs = np.zeros((*shape, horizon, obs_dim), np.float32)
    self.actions = np.zeros((*shape, horizon, act_dim), np.float32)
    self.rewards = np.zeros((*shape, horizon), np.float32)
    self.current = np.zeros((*shape, obs_dim), np.float32)
    self.length = np.zeros(shape, np.int64)
    self.running = np.zeros(shape, bool)
    self.samples = 0   # steps taken so far, all slots

  def free_slots(self, n_allowed: np.ndarray) -> np.ndarray:
    """starts [T, S] bool: the first n_allowed[t] free slots of each task t."""
    free = ~self.running
    return free & (np.cumsum(free, axis=1) <= n_allowed[:, None])

  def start(self, starts: np.ndarray, first_obs: np.ndarray) -> None:
    """New episodes in the slots starts [T, S] with first observations [n, obs_dim]."""
    self.current[starts] = first_obs
    self.length[starts] = 0
    self.running[starts] = True

  def record(self, tasks, slots, actions, rewards, next_obs) -> None:
    """One step of the running episodes (tasks[i], slots[i])."""
    steps = self.length[tasks, slots]
    self.obs[tasks, slots, steps] = self.current[tasks, slots]
    self.actions[tasks, slots, steps] = actions
    self.rewards[tasks, slots, steps] = rewards
    self.current[tasks, slots] = next_obs
    self.length[tasks, slots] += 1
    self.samples += len(tasks)

  def finish(self, task: int, slot: int):
    """Frees a slot; returns its episode (obs [L, d], actions [L, a], rewards [L])."""
    self.running[task, slot] = False
    n = self.length[task, slot]
    return (self.obs[task, slot, :n], self.actions[task, slot, :n],
            self.rewards[task, slot, :n])


class _PackedEpisodes:
  """Each task's finished episodes written one after another on a sample axis of `capacity`."""

  def __init__(self, n_tasks: int, capacity: int, obs_dim: int, act_dim: int):
    self.capacity = capacity
    self.obs = np.zeros((n_tasks, capacity, obs_dim), np.float32)
    self.actions = np.zeros((n_tasks, capacity, act_dim), np.float32)
    self.rewards = np.zeros((n_tasks, capacity), np.float32)
    self.mask = np.zeros((n_tasks, capacity), np.float32)
    self.time_steps = np.zeros((n_tasks, capacity), np.int32)
    self.episode_end = np.full((n_tasks, capacity), capacity, np.int32)
    self.samples = np.zeros(n_tasks, np.int64)
    self.returns = [[] for _ in range(n_tasks)]

  def add(self, task: int, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
    start = self.samples[task]
    end = start + len(rewards)
    if end > self.capacity:   # cannot happen under collect()'s rule
      raise RuntimeError(f'Task {task} collected {end} samples, more than the capacity '
                         f'{self.capacity}.')
    self.obs[task, start:end] = obs
    self.actions[task, start:end] = actions
    self.rewards[task, start:end] = rewards
    self.mask[task, start:end] = 1.0
    self.time_steps[task, start:end] = np.arange(len(rewards))
    self.episode_end[task, start:end] = end
    self.samples[task] = end
    self.returns[task].append(float(rewards.sum()))

  def arrays(self) -> Dict[str, np.ndarray]:
    return {'obs': self.obs, 'actions': self.actions, 'rewards': self.rewards, 'mask': self.mask,
            'time_steps': self.time_steps, 'episode_end': self.episode_end,
            'samples': self.samples.copy(),
            'episodes': np.array([len(r) for r in self.returns], np.int64),
            'mean_return': np.array([np.mean(r) for r in self.returns])}
