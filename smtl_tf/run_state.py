"""What a checkpoint holds besides TF variables: RNG states, real-step counters, the dataset.

Together with the TF checkpoint of the agent (weights, optimizer and generator
states) this makes a resumed run continue exactly as an uninterrupted one.
"""
from typing import Dict, Mapping, Union

import numpy as np

from smtl_tf.dataset import TransitionDataset
from smtl_tf.run_dir import CheckpointError
from smtl_tf.real_runner import RealRunner

DATASET_PREFIX = 'dataset/'
Generators = Union[np.random.Generator, Mapping[str, np.random.Generator]]


def capture(generators: Generators, runners: Dict[str, RealRunner]) -> Dict:
  """JSON-serializable RNG states (one generator, or named generators) and step counters."""
  if isinstance(generators, np.random.Generator):
    rng_record = {'rng_state': generators.bit_generator.state}
  else:
    rng_record = {'rng_states': {name: rng.bit_generator.state for name, rng in generators.items()}}
  return {**rng_record,
          'runners': {name: {'steps': dict(runner.steps), 'env_rng_states': runner.rng_states()}
                      for name, runner in runners.items()}}


def restore(record: Dict, generators: Generators, runners: Dict[str, RealRunner]) -> None:
  """Inverse of capture(): generators' states are set in place."""
  if isinstance(generators, np.random.Generator):
    generators.bit_generator.state = record['rng_state']
  else:
    if 'rng_states' not in record:
      raise CheckpointError(
          'The checkpoint holds no named random streams: it was written by an older version '
          'of this code. Start the run again in a new --root_dir.')
    for name, rng in generators.items():
      if name in record['rng_states']:  # a stream added after this record (e.g. the members
        rng.bit_generator.state = record['rng_states'][name]  # of test_batch > 1) starts fresh
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
