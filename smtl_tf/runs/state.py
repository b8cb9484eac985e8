"""Random streams and real-step counters of a run, as a JSON record in its checkpoints.

Together with the TF checkpoint (weights, optimizer and TF generator states) and the
algorithm's arrays (e.g. the dataset) this makes a resumed run continue exactly as an
uninterrupted one.
"""
from typing import Dict, Mapping

import numpy as np

from smtl_tf.runs.directory import CheckpointError


def capture(generators: Mapping[str, np.random.Generator], runners: Mapping) -> Dict:
  """JSON-serializable states of named numpy generators, and each runner's step counters and
  environment streams (runners: objects with `steps`, `rng_states()`, `set_rng_states()`)."""
  return {'rng_states': {name: rng.bit_generator.state for name, rng in generators.items()},
          'runners': {name: {'steps': dict(runner.steps), 'env_rng_states': runner.rng_states()}
                      for name, runner in runners.items()}}


def restore(record: Dict, generators: Mapping[str, np.random.Generator], runners: Mapping) -> None:
  """Inverse of capture(): states are set in place. A generator or runner the record lacks
  (added after it was written, e.g. the members of test_batch > 1) starts fresh."""
  if 'rng_states' not in record or 'runners' not in record:
    raise CheckpointError('The checkpoint holds no named random streams: it was written by an '
                          'older version of this code. Start the run again in a new --root_dir.')
  for name, rng in generators.items():
    if name in record['rng_states']:
      rng.bit_generator.state = record['rng_states'][name]
  for name, runner in runners.items():
    if name in record['runners']:
      runner.steps.clear()
      runner.steps.update(record['runners'][name]['steps'])
      runner.set_rng_states(record['runners'][name]['env_rng_states'])
