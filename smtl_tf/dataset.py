"""The dataset of real transitions, with k-step windows for the model loss."""
from typing import Dict

import numpy as np

FIELDS = ('state', 'action', 'next_state', 'reward', 'done', 'timeout')


class TransitionDataset:
  """A FIFO buffer of real transitions, stored in time order per environment.

  Each collection batch ([T, n_envs] from the lockstep runner) is stored
  environment by environment, and the last transition of every environment's
  segment is marked `timeout`, so that k-step windows restart at episode ends and
  at collection-batch boundaries (see model_trainer.multi_step_loss).

  Args:
    obs_dim, act_dim: sizes.
    capacity: maximum number of transitions kept (oldest dropped first).
  """

  def __init__(self, obs_dim: int, act_dim: int, capacity: int = 1_000_000):
    self.capacity = capacity
    self._data = {
        'state': np.zeros((capacity, obs_dim), np.float32),
        'action': np.zeros((capacity, act_dim), np.float32),
        'next_state': np.zeros((capacity, obs_dim), np.float32),
        'reward': np.zeros((capacity,), np.float32),
        'done': np.zeros((capacity,), bool),
        'timeout': np.zeros((capacity,), bool),
    }
    self._next = 0
    self._size = 0
    self.n_added = 0

  def __len__(self) -> int:
    return self._size

  def add_batch(self, batch: Dict[str, np.ndarray]) -> None:
    """Adds a collection batch of arrays shaped [T, n_envs, ...] (fields of FIELDS)."""
    time_major = {key: np.asarray(batch[key]) for key in FIELDS}
    time_major['timeout'] = time_major['timeout'].copy()
    time_major['timeout'][-1] = True
    flat = {key: np.swapaxes(value, 0, 1).reshape(-1, *value.shape[2:])
            for key, value in time_major.items()}
    n = len(flat['state'])
    if n > self.capacity:
      flat = {key: value[-self.capacity:] for key, value in flat.items()}
      n = self.capacity
    positions = (self._next + np.arange(n)) % self.capacity
    for key, value in flat.items():
      self._data[key][positions] = value
    self._next = (self._next + n) % self.capacity
    self._size = min(self._size + n, self.capacity)
    self.n_added += n

  def arrays(self) -> Dict[str, np.ndarray]:
    """All stored transitions, oldest first ([len, ...] per field)."""
    order = (self._next - self._size + np.arange(self._size)) % self.capacity
    return {key: value[order] for key, value in self._data.items()}

  def sample_windows(self, rng: np.random.Generator, n_batches: int, batch_size: int,
                     k: int) -> Dict[str, np.ndarray]:
    """Random k-step windows for `n_batches` Adam steps.

    Returns:
      {'states', 'next_states': [n_batches, k, B, d], 'actions': [n_batches, k, B, a],
       'masks': [n_batches, k, B] float32 (0 after an episode end or batch boundary)}.
    """
    if self._size == 0:
      raise ValueError('The dataset is empty: collect real samples before training the model.')
    offsets = rng.integers(0, self._size, size=(n_batches, 1, batch_size))
    # A window running past the newest transition wraps to the oldest; the newest
    # one is always a timeout, so the rollout restarts there.
    offsets = (offsets + np.arange(k)[None, :, None]) % self._size
    index = (self._next - self._size + offsets) % self.capacity
    data = self._data
    masks = ~(data['done'][index] | data['timeout'][index])
    return {'states': data['state'][index], 'actions': data['action'][index],
            'next_states': data['next_state'][index], 'masks': masks.astype(np.float32)}

  def state_dict(self) -> Dict[str, np.ndarray]:
    arrays = self.arrays()
    arrays['n_added'] = np.asarray(self.n_added)
    return arrays

  def load_state_dict(self, state: Dict[str, np.ndarray]) -> None:
    n = len(state['state'])
    self._size = 0
    self._next = 0
    for key in FIELDS:
      self._data[key][:n] = state[key]
    self._size = n
    self._next = n % self.capacity
    self.n_added = int(state['n_added'])
