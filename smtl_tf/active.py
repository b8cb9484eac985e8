"""Active task selection (paper Sec. 4.4): skip candidate tasks rated easy.

Once at least `min_seen` candidates have been rated, candidate j is skipped when its
rating is strictly below the q-quantile (numpy's linear interpolation) of the ratings
of the earlier candidates, skipped ones included; `window` limits those to the most
recent ones (the original code: the last 10, q = 0.5).
"""
from typing import Dict, Optional, Sequence

import gin
import numpy as np

RATINGS = ('none', 'true', 'estimated')


def skip_threshold(history: Sequence[float], min_seen: int, quantile: float,
                   window: Optional[int] = None) -> Optional[float]:
  """The q-quantile of the earlier ratings, or None while fewer than min_seen exist."""
  if len(history) < max(min_seen, 1):
    return None
  recent = history[-window:] if window else history
  return float(np.quantile(np.asarray(recent, np.float64), quantile))


@gin.configurable
class TaskSelector:
  """The skipping rule of Algorithm 1, line 3, with its rating.

  Args:
    rating: 'none' (keep every task), 'true' (model return minus real return of the
      warmed-up policy; costs real samples) or 'estimated' (disagreement of shadow models).
    min_seen: L, ratings needed before any task is skipped.
    quantile: q in [0, 1].
    window: use only the last `window` earlier ratings (None: all of them).
    n_rating_episodes: real episodes of the 'true' rating (original code: 4,000 samples).
    shadow_model_steps: Adam steps per candidate for each shadow model, before the warm-up
      (original code 100).
    max_candidates_per_task: candidates drawn at most per kept task; training stops with
      fewer tasks (and says so) rather than draw forever.
  """

  def __init__(self, rating: str = 'none', min_seen: int = 10, quantile: float = 0.5,
               window: Optional[int] = None, n_rating_episodes: int = 20,
               shadow_model_steps: int = 100, max_candidates_per_task: int = 4):
    if rating not in RATINGS:
      raise ValueError(f'Unknown rating {rating!r}; bind TaskSelector.rating to one of {RATINGS}.')
    if not 0.0 <= quantile <= 1.0:
      raise ValueError(f'TaskSelector.quantile must be in [0, 1], got {quantile}.')
    if min_seen < 1 or (window is not None and window < 1) or max_candidates_per_task < 1:
      raise ValueError('TaskSelector.min_seen, window and max_candidates_per_task must be >= 1.')
    self.rating, self.min_seen, self.quantile, self.window = rating, min_seen, quantile, window
    self.n_rating_episodes = n_rating_episodes
    self.shadow_model_steps = shadow_model_steps
    self.max_candidates_per_task = max_candidates_per_task

  @property
  def active(self) -> bool:
    return self.rating != 'none'

  def decide(self, rating: float, history: Sequence[float]) -> Dict:
    """{'rating', 'threshold' (None before min_seen), 'skipped'} for a candidate."""
    if not np.isfinite(rating):
      raise FloatingPointError(
          f'The {self.rating} difficulty rating is {rating}: the model or policy diverged.')
    threshold = skip_threshold(history, self.min_seen, self.quantile, self.window)
    return {'rating': float(rating), 'threshold': threshold,
            'skipped': threshold is not None and rating < threshold}
