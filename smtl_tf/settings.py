"""Validation of count settings, with errors that name the gin binding to fix."""
import numpy as np


def check_counts(configurable: str, minimum: int = 1, **values) -> None:
  """Raises ValueError naming `<configurable>.<name>` for any value that is not an integer
  >= minimum (e.g. run_smtl.n_tasks = 0, -1 or 'ten')."""
  for name, value in values.items():
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
      raise ValueError(f'{configurable}.{name} = {value!r}: it must be an integer >= {minimum}. '
                       f'Fix the binding in the gin file or in --gin_bindings.')
