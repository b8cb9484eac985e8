"""Evaluating another run's training: train once, test on several test families.

A shift experiment whose training equals another experiment's (halfcheetah_pos2neg
trains exactly as halfcheetah_vel, then tests on [-2, 0]) need not train again:

    python -m smtl_tf.main --gin_file=gin/halfcheetah_pos2neg.gin \
        --trained_run=runs/halfcheetah_vel/smtl/seed_0 --root_dir=runs

writes its own run directory, starting from the trained run's state at the end of
training (its `checkpoints_trained/`, which every multi-task algorithm saves). The
operative configurations of the two runs must agree on every binding that training
reads; only the evaluation bindings (EVALUATION_BINDINGS) may differ. Training reads
no random stream of the evaluation, so the result equals a fresh run of the shift
experiment with the same seed (tests/test_trained_run.py).
"""
import os
import re
from typing import Dict, Sequence, Tuple

import numpy as np

from smtl_tf import run_dir as run_dir_lib

TRAINED = 'checkpoints_trained'

# Bindings read only after training: they may differ between a trained run and a run that
# evaluates it.
EVALUATION_BINDINGS = frozenset({
    'train_eval.experiment', 'test_tasks.n_test_tasks', 'test_tasks.test_seed',
    'run_smtl.test_family', 'run_smtl.test_dynamics', 'run_smtl.n_adapt',
    'run_smtl.n_adapt_inner', 'run_smtl.eval_episodes', 'run_smtl.test_batch',
    'run_maml.test_family', 'run_maml.test_dynamics', 'run_maml.n_adapt',
    'run_maml.adapt_budget', 'run_maml.test_learning_rates', 'run_maml.eval_episodes',
    'run_oracle.test_family', 'run_oracle.test_dynamics', 'run_oracle.eval_episodes',
})


def read_bindings(path: str) -> Dict[str, str]:
  """{'configurable.parameter': value text} of an operative_config.gin file."""
  bindings, name = {}, None
  with open(path) as f:
    for line in f:
      if not line.strip() or line.lstrip().startswith('#'):
        continue
      if line[0].isspace() and name is not None:  # a long value continued on the next line
        bindings[name] += ' ' + line.strip()
        continue
      key, separator, value = line.partition(' = ')
      if separator:
        name = key.strip()
        bindings[name] = value.strip()
  return bindings


def check_same_training(trained_run: str, run_dir: str) -> None:
  """Raises ValueError unless trained_run trained with this run's training settings.

  Both directories must hold operative_config.gin (this run's is written before the call).
  """
  paths = [os.path.join(d, 'operative_config.gin') for d in (trained_run, run_dir)]
  if not os.path.exists(paths[0]):
    raise ValueError(f'--trained_run={trained_run} is not a run directory: it has no '
                     f'operative_config.gin.')
  theirs, ours = (read_bindings(path) for path in paths)
  differing = sorted(key for key in set(theirs) | set(ours)
                     if key not in EVALUATION_BINDINGS and theirs.get(key) != ours.get(key))
  if differing:
    details = '; '.join(f'{key}: {theirs.get(key, "unbound")} there, {ours.get(key, "unbound")} '
                        f'here' for key in differing)
    raise ValueError(f'--trained_run={trained_run} trained with other settings than this run '
                     f'({details}). Evaluate it with its own training settings, or train this '
                     f'experiment without --trained_run.')
  seeds = [re.search(r'seed_(\d+)$', os.path.normpath(d)) for d in (trained_run, run_dir)]
  if seeds[0] is None or seeds[0].group(1) != seeds[1].group(1):
    raise ValueError(f'--trained_run={trained_run} is not a run of seed {seeds[1].group(1)}: '
                     f'give the run directory of the same --seed.')


def restore(trained_run: str, run_dir: str, fresh_runners: Sequence[str],
            **trackables) -> Tuple[Dict, Dict[str, np.ndarray]]:
  """Checks trained_run against this run and restores its end-of-training checkpoint into the
  trackables; returns its (progress, arrays), with progress['trained_from'] set.

  The runners named in fresh_runners (those of the evaluation, unused in training) are left
  out of the progress record, so they start fresh when it is restored (run_state.restore), as
  they were when training ended.

  Raises:
    ValueError: different training settings or seed, or no finished training there.
  """
  check_same_training(trained_run, run_dir)
  directory = os.path.join(trained_run, TRAINED)
  if not os.path.exists(os.path.join(directory, 'LATEST')):
    raise ValueError(f'{trained_run} has no finished training ({directory} holds no checkpoint): '
                     f'let its training finish first (rerun its command).')
  progress, arrays = run_dir_lib.RunCheckpoint(trained_run, name=TRAINED, **trackables).restore()
  progress['trained_from'] = os.path.abspath(trained_run)
  progress['runners'] = {name: record for name, record in progress['runners'].items()
                         if name not in fresh_runners}
  return progress, arrays
