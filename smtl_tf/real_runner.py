"""Real MuJoCo environments stepped in lockstep, with OU exploration noise and step counters."""
import collections
from typing import Callable, Dict, Optional, Tuple

import gin
import numpy as np
import tensorflow as tf

from smtl_tf import envs


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
  """n copies of a task environment, stepped together with one policy call per step.

  Every real step is counted in `steps`, keyed by purpose ('collect', 'evaluate', ...).

  Args:
    family: task family name.
    n_envs: environments stepped in lockstep.
    seed: seeds environment resets (env i gets seed + i).
    horizon: episode length (paper H = 200).
    dynamics, keep_xy, allow_out_of_range: passed to TaskEnv.
  """

  def __init__(self, family: str, n_envs: int, seed: int, horizon: int = 200,
               dynamics: str = 'default', keep_xy: bool = True, allow_out_of_range: bool = False):
    self.envs = [envs.make_env(family, dynamics=dynamics, keep_xy=keep_xy,
                               allow_out_of_range=allow_out_of_range) for _ in range(n_envs)]
    for i, env in enumerate(self.envs):
      env.reset(seed=seed + i)
    self.n_envs = n_envs
    self.horizon = horizon
    self.steps: Dict[str, int] = collections.Counter()

  @property
  def env(self) -> envs.TaskEnv:
    return self.envs[0]

  @property
  def total_steps(self) -> int:
    return sum(self.steps.values())

  def rng_states(self):
    """JSON-serializable reset-noise generator states of the environments."""
    return [env.np_random.bit_generator.state for env in self.envs]

  def set_rng_states(self, states) -> None:
    for env, state in zip(self.envs, states):
      env.np_random.bit_generator.state = state

  def set_task(self, task) -> None:
    for env in self.envs:
      env.set_task(task)

  def reset_states(self, n: int) -> np.ndarray:
    """n initial states [n, obs_dim] from reset() (no environment step is taken)."""
    env = self.envs[0]
    return np.stack([env.reset()[0] for _ in range(n)]).astype(np.float32)

  def _reset_all(self) -> np.ndarray:
    return np.stack([env.reset()[0] for env in self.envs])

  def collect(self, act_fn: Callable[[tf.Tensor], tf.Tensor], n_samples: int,
              noise: Optional[OUNoise], purpose: str) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Collects exactly n_samples transitions, all environments starting fresh.

    Returns:
      (batch of time-major [n_samples / n_envs, n_envs, ...] arrays with fields
       state, action, next_state, reward, done, timeout; returns of completed episodes).
    """
    if n_samples % self.n_envs:
      raise ValueError(f'n_samples={n_samples} must be a multiple of n_envs={self.n_envs}.')
    n_steps = n_samples // self.n_envs
    if noise is not None:
      noise.reset()
    states = self._reset_all()
    lengths = np.zeros(self.n_envs, np.int64)
    running = np.zeros(self.n_envs)
    returns = []
    batch = collections.defaultdict(list)
    for _ in range(n_steps):
      actions = act_fn(tf.constant(states, tf.float32)).numpy().astype(np.float64)
      if noise is not None:
        actions = actions + noise()
      next_states = np.empty_like(states)
      rewards = np.empty(self.n_envs)
      dones = np.empty(self.n_envs, bool)
      for i, env in enumerate(self.envs):
        next_states[i], rewards[i], dones[i], _, _ = env.step(actions[i])
      lengths += 1
      running += rewards
      timeouts = lengths >= self.horizon
      for key, value in (('state', states), ('action', actions), ('next_state', next_states),
                         ('reward', rewards), ('done', dones), ('timeout', timeouts)):
        batch[key].append(value.copy())
      states = next_states
      for i in np.flatnonzero(dones | timeouts):
        returns.append(running[i])
        running[i], lengths[i] = 0.0, 0
        states[i] = self.envs[i].reset()[0]
    self.steps[purpose] += n_samples
    return {key: np.stack(value) for key, value in batch.items()}, np.asarray(returns)

  def evaluate(self, act_fn: Callable[[tf.Tensor], tf.Tensor], n_episodes: int,
               purpose: str = 'evaluate') -> np.ndarray:
    """Undiscounted returns [n_episodes] of fresh episodes (up to `horizon` steps each)."""
    returns = []
    while len(returns) < n_episodes:
      states = self._reset_all()
      alive = np.arange(self.n_envs) < n_episodes - len(returns)
      used = alive.copy()
      totals = np.zeros(self.n_envs)
      for _ in range(self.horizon):
        actions = act_fn(tf.constant(states, tf.float32)).numpy()
        for i in np.flatnonzero(alive):
          states[i], reward, done, _, _ = self.envs[i].step(actions[i])
          totals[i] += reward
          alive[i] = not done
          self.steps[purpose] += 1
        if not alive.any():
          break
      returns.extend(totals[used].tolist())
    return np.asarray(returns)
