"""What a checkpoint holds besides TF variables: RNG states, real-step counters, the dataset.

Together with the TF checkpoint of the agent (weights, optimizer and generator
states) this makes a resumed run continue exactly as an uninterrupted one.
"""
from typing import Dict

import numpy as np

from smtl_tf.dataset import TransitionDataset
from smtl_tf.real_runner import RealRunner

DATASET_PREFIX = 'dataset/'


def capture(rng: np.random.Generator, runners: Dict[str, RealRunner]) -> Dict:
  """JSON-serializable RNG states and step counters."""
  return {'rng_state': rng.bit_generator.state,
          'runners': {name: {'steps': dict(runner.steps), 'env_rng_states': runner.rng_states()}
                      for name, runner in runners.items()}}


def restore(record: Dict, rng: np.random.Generator, runners: Dict[str, RealRunner]) -> None:
  """Inverse of capture()."""
  rng.bit_generator.state = record['rng_state']
  for name, runner in runners.items():
    if name not in record['runners']:
      continue  # a runner added after this record was written (e.g. batched test tasks) starts fresh
    runner.steps.clear()
    runner.steps.update(record['runners'][name]['steps'])
    runner.set_rng_states(record['runners'][name]['env_rng_states'])


def dataset_arrays(dataset: TransitionDataset) -> Dict[str, np.ndarray]:
  return {DATASET_PREFIX + key: value for key, value in dataset.state_dict().items()}


def load_dataset(dataset: TransitionDataset, arrays: Dict[str, np.ndarray]) -> None:
  dataset.load_state_dict({key[len(DATASET_PREFIX):]: value for key, value in arrays.items()
                           if key.startswith(DATASET_PREFIX)})
