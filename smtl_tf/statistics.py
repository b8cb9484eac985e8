"""Bootstrap confidence intervals of a mean (the paper's 95% CIs over test tasks)."""
from typing import Dict, Sequence

import numpy as np


def bootstrap_mean_ci(values: Sequence[float], confidence: float = 0.95, n_resamples: int = 10_000,
                      seed: int = 0) -> Dict[str, float]:
  """Percentile-bootstrap confidence interval of the mean.

  Args:
    values: [n] per-task numbers (e.g. returns of the 40 test tasks).
    confidence: coverage of the interval.
    n_resamples: bootstrap resamples.
    seed: seeds the resampling, so reports are reproducible.

  Returns:
    {'mean', 'ci_low', 'ci_high', 'n'}.
  """
  values = np.asarray(values, dtype=np.float64)
  if values.ndim != 1 or len(values) == 0:
    raise ValueError(f'Need a non-empty list of numbers, got shape {values.shape}.')
  if not np.all(np.isfinite(values)):
    raise ValueError('Cannot bootstrap non-finite values.')
  rng = np.random.default_rng(seed)
  resampled = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
  tail = (1.0 - confidence) / 2 * 100
  low, high = np.percentile(resampled, [tail, 100 - tail])
  return {'mean': float(values.mean()), 'ci_low': float(low), 'ci_high': float(high),
          'n': int(len(values))}
