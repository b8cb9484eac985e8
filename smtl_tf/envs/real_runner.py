"""Real MuJoCo environments stepped in lockstep, with OU exploration noise and step counters."""
import collections
from typing import Callable, Dict, Optional, Sequence, Tuple

import gin
import numpy as np

from smtl_tf.envs.vector_env import VectorEnv


@gin.configurable
class OUNoise:
  """Ornstein-Uhlenbeck noise, one independent process per environment.

  x <- x + theta (mu - x) + sigma N(0, 1); SLBO: theta 0.15, sigma 0.3.
  """

  def __init__(self, shape, rng: np.random.Generator, theta: float = 0.15, sigma: float = 0.3,
               mu: float = 0.0):
    self.shape, self.rng, self.theta, self.sigma, self.mu = shape, rng, theta, sigma, mu
    self.reset()

  def reset(self) -> None:
    self.state = np.full(self.shape, self.mu)

  def __call__(self) -> np.ndarray:
    self.state = self.state + self.theta * (self.mu - self.state) + self.sigma * self.rng.standard_normal(self.shape)
    return self.state


@gin.configurable
class RealRunner:
  """n environments of a task family stepped as one batch with one policy call per step.

  Every real step is counted in `steps`, keyed by purpose ('collect', 'evaluate', ...).

  Args:
    family: task family name.
    n_envs: environments stepped in lockstep.
    seed: the run's seed; environment i draws its resets from the stream
      (seed, *stream, i) (smtl_tf.seeding).
    horizon: episode length (paper H = 200).
    stream: name of the environments' reset streams (distinct per runner of a run).
    dynamics, keep_xy, allow_out_of_range, observation: passed to VectorEnv.
  """

  def __init__(self, family: str, n_envs: int, seed: int, horizon: int = 200,
               stream: Sequence = ('env',), dynamics: str = 'default', keep_xy: bool = True,
               allow_out_of_range: bool = False, observation: str = 'slbo'):
    self.env = VectorEnv(family, n_envs, seed, stream, dynamics=dynamics, keep_xy=keep_xy,
                         allow_out_of_range=allow_out_of_range, observation=observation)
    self.n_envs = n_envs
    self.horizon = horizon
    self.steps: Dict[str, int] = collections.Counter()

  @property
  def total_steps(self) -> int:
    return sum(self.steps.values())

  def rng_states(self):
    """JSON-serializable reset-noise generator states of the environments."""
    return self.env.rng_states()

  def set_rng_states(self, states) -> None:
    self.env.set_rng_states(states)

  def set_task(self, task) -> None:
    self.env.set_task(task)

  def reset_states(self, n: int, rng: np.random.Generator) -> np.ndarray:
    """n initial states [n, obs_dim] drawn with rng (no environment's state or stream changes)."""
    return self.env.reset_states(n, rng)

  def collect(self, act_fn: Callable[[np.ndarray], np.ndarray], n_samples: int,
              noise: Optional[OUNoise], purpose: str) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Collects exactly n_samples transitions, all environments starting fresh.

    act_fn maps observations [n_envs, obs_dim] float32 to actions [n_envs, act_dim]
    (e.g. GaussianPolicy.numpy_sampler()); it is called once per step.

    Returns:
      (batch of time-major [n_samples / n_envs, n_envs, ...] arrays with fields
       state, action, next_state, reward, done, timeout; returns of completed episodes).
    """
    if n_samples % self.n_envs:
      raise ValueError(f'n_samples={n_samples} must be a multiple of n_envs={self.n_envs}.')
    n_steps = n_samples // self.n_envs
    if noise is not None:
      noise.reset()
    batch = {'state': np.empty((n_steps, self.n_envs, self.env.obs_dim)),
             'action': np.empty((n_steps, self.n_envs, self.env.act_dim)),
             'next_state': np.empty((n_steps, self.n_envs, self.env.obs_dim)),
             'reward': np.empty((n_steps, self.n_envs)),
             'done': np.empty((n_steps, self.n_envs), bool),
             'timeout': np.empty((n_steps, self.n_envs), bool)}
    states = self.env.reset()
    lengths = np.zeros(self.n_envs, np.int64)
    running = np.zeros(self.n_envs)
    returns = []
    for t in range(n_steps):
      actions = np.asarray(act_fn(states.astype(np.float32)), np.float64)
      if noise is not None:
        actions = actions + noise()
      next_states, rewards, dones = self.env.step(actions)
      lengths += 1
      running += rewards
      timeouts = lengths >= self.horizon
      for key, value in (('state', states), ('action', actions), ('next_state', next_states),
                         ('reward', rewards), ('done', dones), ('timeout', timeouts)):
        batch[key][t] = value
      states = next_states
      ended = np.flatnonzero(dones | timeouts)
      if len(ended):
        returns.extend(running[ended].tolist())
        running[ended], lengths[ended] = 0.0, 0
        states[ended] = self.env.reset(ended)
    self.steps[purpose] += n_samples
    return batch, np.asarray(returns)

  def evaluate(self, act_fn: Callable[[np.ndarray], np.ndarray], n_episodes: int,
               purpose: str = 'evaluate', n_members: int = 1) -> np.ndarray:
    """Undiscounted returns of fresh episodes (up to `horizon` steps each).

    With n_members > 1 the environments form n_members member-major groups (member m
    owns environments m * n_envs / M ...), each running n_episodes of its own.

    Returns:
      [n_episodes] for one member, else [n_members, n_episodes].
    """
    if self.n_envs % n_members:
      raise ValueError(f'n_envs={self.n_envs} is not a multiple of n_members={n_members}.')
    per_member = self.n_envs // n_members
    slot = np.tile(np.arange(per_member), n_members)  # an environment's index within its group
    returns = np.zeros((n_members, 0))
    while returns.shape[1] < n_episodes:
      states = self.env.reset()
      alive = slot < n_episodes - returns.shape[1]
      used = alive.reshape(n_members, per_member).copy()  # alive changes as episodes end
      totals = np.zeros(self.n_envs)
      for _ in range(self.horizon):
        active = np.flatnonzero(alive)
        actions = np.asarray(act_fn(states.astype(np.float32)))
        states[active], rewards, dones = self.env.step(actions[active], active)
        totals[active] += rewards
        alive[active] = ~dones
        self.steps[purpose] += len(active)
        if not alive.any():
          break
      finished = totals.reshape(n_members, per_member)[:, used[0]]
      returns = np.concatenate([returns, finished], axis=1)
    return returns[0] if n_members == 1 else returns
