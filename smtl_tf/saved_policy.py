"""Adapted test-task policies saved beside a run, small and readable without TensorFlow.

An SMTL run saves each test task's policy after the warm-up (iteration 0) and after every
adaptation iteration; a MAML run saves each test task's adapted parameters likewise. A
saved policy is the mean of the Gaussian policy (an MLP on normalized observations) plus
what is needed to make its environment, in one .npz file:

    <run_dir>/policies/test_task_<index>/iteration_<k>.npz

`launch.video` plays one back and writes a video.
"""
import dataclasses
import json
import os
import re
import zipfile
from typing import Dict, List, Optional, Tuple

import numpy as np

POLICIES = 'policies'
ACTIVATIONS = {'tanh': np.tanh, 'relu': lambda x: np.maximum(x, 0.0)}


class SavedPolicyError(ValueError):
  """A saved policy that is missing or cannot be read."""


@dataclasses.dataclass
class SavedPolicy:
  """The mean action of a policy, and its environment.

  Attributes:
    layers: [(kernel [fan_in, fan_out], bias [fan_out])] float32; the last layer is linear.
    activation: 'tanh' or 'relu' (hidden layers).
    obs_mean, obs_scale: [obs_dim] observation normalizer (None: raw observations).
    environment: make_env's keyword arguments: family, task, dynamics, keep_xy,
      allow_out_of_range, observation.
    info: algorithm, test task index, iteration, episode horizon, adaptation samples, the
      recorded return.
  """
  layers: List[Tuple[np.ndarray, np.ndarray]]
  activation: str
  obs_mean: Optional[np.ndarray]
  obs_scale: Optional[np.ndarray]
  environment: Dict
  info: Dict

  def mean_action(self, obs: np.ndarray) -> np.ndarray:
    """obs [..., obs_dim] -> mean actions [..., act_dim] float32."""
    x = np.asarray(obs, np.float32)
    if self.obs_mean is not None:
      x = (x - self.obs_mean) / self.obs_scale
    for i, (kernel, bias) in enumerate(self.layers):
      x = x @ kernel + bias
      if i < len(self.layers) - 1:
        x = ACTIVATIONS[self.activation](x)
    return x.astype(np.float32)

  def save(self, path: str) -> None:
    """Writes the .npz atomically (a killed run leaves the previous file or none)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {f'kernel_{i}': kernel for i, (kernel, _) in enumerate(self.layers)}
    arrays.update({f'bias_{i}': bias for i, (_, bias) in enumerate(self.layers)})
    if self.obs_mean is not None:
      arrays.update(obs_mean=self.obs_mean, obs_scale=self.obs_scale)
    header = {'activation': self.activation, 'environment': self.environment, 'info': self.info}
    tmp = f'{path[:-len(".npz")]}.partial'
    with open(tmp, 'wb') as f:
      np.savez_compressed(f, header=np.asarray(json.dumps(header)), **arrays)
    os.replace(tmp, path)

  @classmethod
  def load(cls, path: str) -> 'SavedPolicy':
    if not os.path.exists(path):
      raise SavedPolicyError(f'No saved policy at {path}.')
    try:
      with np.load(path) as data:
        header = json.loads(str(data['header']))
        n_layers = sum(name.startswith('kernel_') for name in data.files)
        layers = [(data[f'kernel_{i}'], data[f'bias_{i}']) for i in range(n_layers)]
        normalized = 'obs_mean' in data.files
        obs_mean = data['obs_mean'] if normalized else None
        obs_scale = data['obs_scale'] if normalized else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
      raise SavedPolicyError(f'Saved policy {path} cannot be read ({error}); the run rewrites '
                             f'it when the test task is adapted again.') from error
    return cls(layers, header['activation'], obs_mean, obs_scale, header['environment'],
               header['info'])


def policy_path(run_dir: str, test_task: int, iteration: int) -> str:
  """<run_dir>/policies/test_task_<k>/iteration_<i>.npz"""
  return os.path.join(run_dir, POLICIES, f'test_task_{test_task:02d}', f'iteration_{iteration}.npz')


def saved_iterations(run_dir: str, test_task: int) -> List[int]:
  """The iterations saved for one test task, ascending."""
  folder = os.path.dirname(policy_path(run_dir, test_task, 0))
  if not os.path.isdir(folder):
    return []
  found = (re.fullmatch(r'iteration_(\d+)\.npz', name) for name in os.listdir(folder))
  return sorted(int(match.group(1)) for match in found if match)
