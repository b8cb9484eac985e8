"""How much a different set of 40 goal velocities moves a run's mean return (a reading aid).

On `halfcheetah_vel` a test task's return is nearly a function of its goal velocity. This fits
that function (a quadratic in the goal, per adaptation iteration) to a run's 40 test tasks and
reads it at another set of goals: the original SMTL code's 40 evaluation goals (`HCP` in its
`eval.py`, uniform on [0, 2]), so that our mean can be set beside the authors' on their goals.
An estimate from a fit, not a run; the residual sd says how far single tasks scatter about it.

    python results/paper/goal_set_estimate.py results/paper/halfcheetah_vel/smtl/results.json

With `--goals_from=<results.json>` the fit is read at that run's goals instead, and its actual
means are printed beside: a check of the estimate where the same training was run on both sets
(`halfcheetah_vel/maml` and `halfcheetah_vel/maml_rl_goals`).
"""
import json
import sys
from typing import List, Sequence, Tuple

import numpy as np

# The 40 goal velocities of the original SMTL code's HalfCheetah [0, 2] evaluation jobs (data).
AUTHORS_GOALS = (
    1.621739044286087, 0.5120315517529808, 1.600031953540813, 1.3230884164208945,
    0.818337879736718, 1.8390578197915646, 0.875129453163364, 1.2301006596606492,
    1.9017166617863595, 0.17889633184676712, 1.9932221030952089, 1.3484648368390593,
    1.1518208894213369, 0.8479821863457024, 1.1127970111023426, 0.03588457187991345,
    1.525161566415382, 0.03413930365809237, 0.6481791204556626, 1.5703290150877156,
    0.07574701436183395, 0.9473944477019758, 0.7762348890093063, 0.3303059755334363,
    1.7210104128224775, 1.285390167914429, 1.4277798133230495, 1.4349238383912646,
    0.4889460701412387, 1.2918231586056708, 0.5140048289371433, 1.530888589125165,
    0.38416948358415404, 0.7301007759699705, 0.5872963834433034, 0.8579206201854694,
    1.7464146092825317, 0.275386527756438, 0.00211481676132097, 1.2958350976765327)


def estimate(results: dict, goals: Sequence[float] = AUTHORS_GOALS,
             degree: int = 2) -> Tuple[float, List[Tuple[float, float, float]]]:
  """The run's mean goal velocity, and per adaptation iteration (mean return over the run's
  tasks, residual sd of the fit, the fit's mean over `goals` [n_goals])."""
  tasks = np.array([task['task'][0] for task in results['test_tasks']])  # [n_tasks]
  returns = np.array([task['returns'] for task in results['test_tasks']])  # [n_tasks, n_iter]
  rows = []
  for iteration in range(returns.shape[1]):
    coefficients = np.polyfit(tasks, returns[:, iteration], degree)
    residual = returns[:, iteration] - np.polyval(coefficients, tasks)
    rows.append((returns[:, iteration].mean(), residual.std(),
                 np.polyval(coefficients, np.array(goals)).mean()))
  return tasks.mean(), rows


def main(arguments):
  other = [a.split('=', 1)[1] for a in arguments if a.startswith('--goals_from=')]
  paths = [a for a in arguments if not a.startswith('--goals_from=')]
  goals, actual, source = AUTHORS_GOALS, None, "the authors' goals"
  if other:
    with open(other[0]) as f:
      measured = json.load(f)
    goals = [task['task'][0] for task in measured['test_tasks']]
    actual = np.mean([task['returns'] for task in measured['test_tasks']], axis=0)
    source = f'the goals of {other[0]}'
  for path in paths:
    with open(path) as f:
      results = json.load(f)
    mean_goal, rows = estimate(results, goals)
    print(f'{path}: mean goal {mean_goal:.3f} ({source}: {np.mean(goals):.3f})')
    print(f'| iteration | ours | residual sd | fit read at {source} |'
          + (' measured there |' if actual is not None else ''))
    print('|---|---|---|---|' + ('---|' if actual is not None else ''))
    for iteration, (ours, spread, theirs) in enumerate(rows):
      print(f'| {iteration} | {ours:.1f} | {spread:.1f} | {theirs:.1f} |'
            + (f' {actual[iteration]:.1f} |' if actual is not None else ''))


if __name__ == '__main__':
  main(sys.argv[1:])
