"""A run's operative gin configuration: written once it is checked, compared on resume and
against a trained run whose training another run evaluates (--trained_run)."""
import os
import re
from typing import Dict, Iterable, Optional

from smtl_tf.runs.directory import OPERATIVE_CONFIG, CheckpointError, write_atomic

# Bindings read only after training: they may differ between a trained run and a run that
# evaluates its training.
EVALUATION_BINDINGS = frozenset({
    'train_eval.experiment', 'test_tasks.n_test_tasks', 'test_tasks.test_seed', 'test_tasks.tasks',
    'run_smtl.test_family', 'run_smtl.test_dynamics', 'run_smtl.n_adapt',
    'run_smtl.n_adapt_inner', 'run_smtl.eval_episodes', 'run_smtl.test_batch',
    'run_maml.test_family', 'run_maml.test_dynamics', 'run_maml.n_adapt',
    'run_maml.adapt_budget', 'run_maml.test_learning_rates', 'run_maml.eval_episodes',
    'run_maml.eval_protocol',
    'run_oracle.test_family', 'run_oracle.test_dynamics', 'run_oracle.eval_episodes',
})

# Bindings added after runs were made, with the value that does what the code did before they
# existed: a configuration that lacks one reads as binding it to this value (so such a run still
# resumes, and its training can still be evaluated, with the newer code).
ADDED_BINDINGS = {
    'MAMLLearner.hessian_vector_product': "'exact'",
    'test_tasks.tasks': 'None',
    'run_maml.eval_protocol': "'fresh'",
}


def parse_bindings(text: str) -> Dict[str, str]:
  """{'configurable.parameter': value text} of an operative configuration."""
  bindings, name = {}, None
  for line in text.splitlines():
    if not line.strip() or line.lstrip().startswith('#'):
      continue
    if line[0].isspace() and name is not None:  # a long value continued on the next line
      bindings[name] = f'{bindings[name]} {line.strip()}'.strip()
      continue
    key, separator, value = line.partition(' = ')
    if separator:
      name = key.strip()
      value = value.strip()
      bindings[name] = '' if value == '\\' else value  # gin wraps a long value after ` = \`
  return bindings


def read(run_dir: str) -> Optional[str]:
  """The run directory's operative configuration, or None if it has none."""
  path = os.path.join(run_dir, OPERATIVE_CONFIG)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return f.read()


def write(run_dir: str, text: str) -> None:
  write_atomic(os.path.join(run_dir, OPERATIVE_CONFIG), text)


def differences(theirs: str, ours: str, ignored: Iterable[str] = ()) -> Dict[str, tuple]:
  """{binding: (their value, our value)} for every binding not in `ignored` that differs."""
  a, b = parse_bindings(theirs), parse_bindings(ours)
  for key, value in ADDED_BINDINGS.items():
    if key in a or key in b:
      a.setdefault(key, value)
      b.setdefault(key, value)
  ignored = set(ignored)
  return {key: (a.get(key, 'unbound'), b.get(key, 'unbound'))
          for key in sorted(set(a) | set(b)) if key not in ignored and a.get(key) != b.get(key)}


def _listed(changed: Dict[str, tuple], there: str, here: str) -> str:
  return '; '.join(f'{key}: {old} {there}, {new} {here}' for key, (old, new) in changed.items())


def check_resume(run_dir: str, ours: str) -> None:
  """A run resumes only with the configuration it was started with.

  Raises:
    CheckpointError: naming every binding that differs.
  """
  theirs = read(run_dir)
  if theirs is None:
    raise CheckpointError(f'{run_dir} holds checkpoints but no {OPERATIVE_CONFIG}, so its '
                          f'settings are unknown. Start the run again in another --root_dir.')
  changed = differences(theirs, ours)
  if changed:
    raise CheckpointError(
        f'The checkpoint in {run_dir} was written for a different run '
        f'({_listed(changed, "there", "now")}). '
        f'Resume with the original settings (its {OPERATIVE_CONFIG}), or use another '
        f'--root_dir or --seed.')


def check_same_training(trained_run: str, ours: str, run_dir: str) -> None:
  """Raises ValueError unless trained_run trained with this run's training settings and seed."""
  theirs = read(trained_run)
  if theirs is None:
    raise ValueError(f'--trained_run={trained_run} is not a run directory: it has no '
                     f'{OPERATIVE_CONFIG}.')
  changed = differences(theirs, ours, EVALUATION_BINDINGS)
  if changed:
    raise ValueError(f'--trained_run={trained_run} trained with other settings than this run '
                     f'({_listed(changed, "there", "here")}). Evaluate it with its own training '
                     f'settings, or train this experiment without --trained_run.')
  seeds = [re.search(r'seed_(\d+)$', os.path.normpath(d)) for d in (trained_run, run_dir)]
  if seeds[0] is None or seeds[0].group(1) != seeds[1].group(1):
    raise ValueError(f'--trained_run={trained_run} is not a run of seed {seeds[1].group(1)}: '
                     f'give the run directory of the same --seed.')
