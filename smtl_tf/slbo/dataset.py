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


class MemberDatasets:
  """One dataset per member (task): a shared, read-only base followed by the member's own data.

  Member m sees exactly what a copy of `base` would hold after the member's own
  batches were added to it (FIFO at the base's capacity), without storing 40 copies
  of the base: windows are gathered from the base or from the member's own buffer.

  Args:
    base: the shared dataset (e.g. the training data at the end of Algorithm 1).
    n_members: M.
    own_capacity: transitions each member may add (all of its adaptation collections).
  """

  def __init__(self, base: TransitionDataset, n_members: int, own_capacity: int):
    self.base = base.arrays()
    self.capacity = base.capacity
    obs_dim, act_dim = self.base['state'].shape[1], self.base['action'].shape[1]
    self.own = [TransitionDataset(obs_dim, act_dim, own_capacity) for _ in range(n_members)]

  def sizes(self) -> np.ndarray:
    """Transitions each member sees [M]."""
    return np.array([min(len(self.base['state']) + len(own), self.capacity) for own in self.own])

  def add_batch(self, batch: Dict[str, np.ndarray]) -> None:
    """Adds batch[field] [M, T, n_envs, ...]: member m's collection to member m's data."""
    for m, own in enumerate(self.own):
      own.add_batch({key: batch[key][m] for key in FIELDS})

  def sample_windows(self, rng: np.random.Generator, n_batches: int, batch_size: int,
                     k: int) -> Dict[str, np.ndarray]:
    """Random k-step windows per member (as TransitionDataset.sample_windows on its data).

    Returns:
      {'states', 'next_states': [n_batches, M, k, B, d], 'actions': [n_batches, M, k, B, a],
       'masks': [n_batches, M, k, B] float32}.
    """
    per_member = []
    for own, size in zip(self.own, self.sizes()):
      own_arrays = own.arrays()
      n_own = len(own_arrays['state'])
      n_base = size - n_own
      dropped = len(self.base['state']) - n_base  # oldest base transitions pushed out
      offsets = rng.integers(0, size, size=(n_batches, 1, batch_size))
      offsets = (offsets + np.arange(k)[None, :, None]) % size
      in_base = offsets < n_base
      base_index = np.where(in_base, offsets + dropped, 0)
      own_index = np.where(in_base, 0, offsets - n_base)
      window = {}
      for key in FIELDS:
        from_base = self.base[key][base_index]
        from_own = own_arrays[key][own_index] if n_own else from_base
        shape = in_base.shape + (1,) * (from_base.ndim - in_base.ndim)
        window[key] = np.where(in_base.reshape(shape), from_base, from_own)
      per_member.append(window)
    stacked = {key: np.stack([w[key] for w in per_member], axis=1) for key in FIELDS}
    masks = ~(stacked['done'] | stacked['timeout'])
    return {'states': stacked['state'], 'actions': stacked['action'],
            'next_states': stacked['next_state'], 'masks': masks.astype(np.float32)}
