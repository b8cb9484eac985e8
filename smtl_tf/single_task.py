"""Single-task learning curves: SLBO on one task and model-free TRPO on the real env.

Each unit is one SLBO stage or one TRPO update (the first unit also measures the initial
policy); results.json holds the learning curve against real training samples.
"""
from typing import Dict, List, Optional

import gin
import numpy as np
from absl import logging

from smtl_tf import settings
from smtl_tf.slbo.model_free import RealTRPOAgent
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.runs import skeleton
from smtl_tf.runs.logger import tagged
from smtl_tf.slbo.agent import AgentDatasetArrays, SLBOAgent

class _SingleTask(skeleton.Algorithm):
  """A learning curve on one task: the first point is the initial policy's return."""

  name = ''
  unit_name = ''

  def __init__(self, family: str, task, seed: int, n_envs: int, eval_episodes: int,
               dynamics: str, keep_xy: bool):
    self.family, self.seed, self.eval_episodes = family, seed, eval_episodes
    self.task = np.asarray(task).tolist()
    self.runner = RealRunner(family, n_envs, seed=seed, stream=('train_env',), dynamics=dynamics,
                             keep_xy=keep_xy)
    self.run = None

  def runners(self):
    return {'train': self.runner}

  def generators(self) -> Dict[str, np.random.Generator]:
    return self.agent.generators

  def trackables(self):
    return {'agent': self.agent}

  def measure_initial_policy(self, progress: skeleton.RunProgress) -> None:
    """Point 0 of the curve, before the first unit."""
    initial = self.agent.evaluate(self.runner, self.eval_episodes)
    progress.train_log.append({self.unit_name: 0, 'real_samples': 0, 'real_return': initial})
    self.run.logger.scalars(0, tagged({'real_return': initial}))
    logging.info('initial policy | real_return=%.4g', initial)

  def results(self, progress: skeleton.RunProgress) -> Dict:
    return {'algorithm': self.name, 'family': self.family, 'task': self.task, 'seed': self.seed,
            'train_real_samples': self.runner.steps['collect'],
            'eval_real_samples': self.runner.steps['evaluate'], 'curve': progress.train_log}

  def format_results(self, record: Dict) -> str:
    return format_curve(record)


@gin.configurable('run_slbo', denylist=['family', 'task', 'seed'])
class SingleTaskSLBO(AgentDatasetArrays, _SingleTask):
  """SLBO on one task: per stage, collect n_collect noisy real samples, then
  VirtualTraining(n_inner).

  Args:
    family, task: the task family and parameter (e.g. 'halfcheetah_vel', 1.0).
    seed: random seed.
    n_stages: collection stages.
    n_collect: real samples per stage (4000 HalfCheetah, 8000 Ant/Humanoid).
    n_inner: inner iterations of VirtualTraining per stage (SLBO n_iters = 20).
    n_envs: real environments stepped in lockstep.
    eval_episodes: fresh real episodes per evaluation (not counted as training samples).
    dynamics, keep_xy: passed to the environments.
    entropy_off_stage: from this (0-based) stage on, TRPO's entropy coefficient is 0, as in
      SLBO's main.py (stage 50); None keeps the bonus throughout.
  """

  name, unit_name = 'slbo', 'stage'

  def __init__(self, family: str, task, seed: int, n_stages: int = 100, n_collect: int = 4000,
               n_inner: int = 20, n_envs: int = 20, eval_episodes: int = 10,
               dynamics: str = 'default', keep_xy: bool = True,
               entropy_off_stage: Optional[int] = 50):
    settings.check_counts('run_slbo', n_stages=n_stages, n_collect=n_collect, n_envs=n_envs,
                          eval_episodes=eval_episodes)
    settings.check_counts('run_slbo', minimum=0, n_inner=n_inner)
    super().__init__(family, task, seed, n_envs, eval_episodes, dynamics, keep_xy)
    self.n_stages, self.n_collect, self.n_inner = n_stages, n_collect, n_inner
    self.entropy_off_stage = entropy_off_stage
    self.agent = SLBOAgent(self.runner, seed)
    self.agent.set_task(self.runner, task)

  def phases(self, run: skeleton.Run) -> List[skeleton.Phase]:
    self.run = run
    return [skeleton.Phase('train', self.stage, self.n_stages)]

  def stage(self, progress: skeleton.RunProgress) -> skeleton.Report:
    agent, runner, stage = self.agent, self.runner, progress.unit
    if stage == 0:
      self.measure_initial_policy(progress)
    if self.entropy_off_stage is not None and stage >= self.entropy_off_stage:
      agent.trpo.ent_coef.assign(0.0)
    collect_returns = agent.collect(runner, self.n_collect)
    stats = agent.virtual_training(runner, self.n_inner)
    real_return = agent.evaluate(runner, self.eval_episodes)
    samples = runner.steps['collect']
    point = {'stage': stage + 1, 'real_samples': samples, 'real_return': real_return,
             'collect_return': float(np.mean(collect_returns)),
             'ent_coef': float(agent.trpo.ent_coef.numpy()), **stats}
    progress.train_log.append(point)
    return skeleton.Report(f'SLBO stage {stage + 1}', samples, tagged(
        {**point, 'eval_samples': self.runner.steps['evaluate']},
        ('real_return', 'virtual_return', 'collect_return', 'model_loss', 'kl', 'entropy',
         'real_samples', 'eval_samples')))


@gin.configurable('run_trpo', denylist=['family', 'task', 'seed'])
class SingleTaskTRPO(_SingleTask):
  """Model-free TRPO on the real environment of one task.

  Args:
    family, task, seed, n_envs, eval_episodes, dynamics, keep_xy: as SingleTaskSLBO.
    n_iterations: TRPO updates (each on RealTRPOAgent.n_trpo real samples).
    eval_every: evaluate (and checkpoint) every this many iterations.
  """

  name, unit_name = 'trpo', 'iteration'

  def __init__(self, family: str, task, seed: int, n_iterations: int = 500, n_envs: int = 20,
               eval_every: int = 5, eval_episodes: int = 10, dynamics: str = 'default',
               keep_xy: bool = True):
    settings.check_counts('run_trpo', n_iterations=n_iterations, n_envs=n_envs,
                          eval_every=eval_every, eval_episodes=eval_episodes)
    super().__init__(family, task, seed, n_envs, eval_episodes, dynamics, keep_xy)
    self.n_iterations, self.eval_every = n_iterations, eval_every
    self.runner.set_task(task)
    self.agent = RealTRPOAgent(self.runner, seed)

  def phases(self, run: skeleton.Run) -> List[skeleton.Phase]:
    self.run = run
    return [skeleton.Phase('train', self.iteration, self.n_iterations, save_every=self.eval_every)]

  def iteration(self, progress: skeleton.RunProgress) -> skeleton.Report:
    if progress.unit == 0:
      self.measure_initial_policy(progress)
    iteration = progress.unit + 1
    stats = self.agent.iteration(self.runner)
    samples = self.runner.steps['collect']
    scalars = tagged({**stats, 'real_samples': samples},
                     ('collect_return', 'kl', 'entropy', 'real_samples'))
    if iteration % self.eval_every == 0 or iteration == self.n_iterations:
      real_return = self.agent.evaluate(self.runner, self.eval_episodes)
      progress.train_log.append({'iteration': iteration, 'real_samples': samples,
                                 'real_return': real_return,
                                 'collect_return': stats['collect_return']})
      scalars.update(tagged({'real_return': real_return}))
    return skeleton.Report(f'TRPO iteration {iteration}', samples, scalars)


def format_curve(results: Dict) -> str:
  """A small table of the learning curve for the terminal."""
  unit = 'stage' if results['algorithm'] == 'slbo' else 'iteration'
  lines = [f"{results['algorithm'].upper()} on {results['family']}, task {results['task']} "
           f"(seed {results['seed']})",
           f'{unit:>10s} {"real samples":>13s} {"real return":>12s}']
  for point in results['curve']:
    lines.append(f"{point[unit]:>10d} {point['real_samples']:>13d} {point['real_return']:>12.1f}")
  lines.append(f"Evaluation episodes used {results['eval_real_samples']} further real steps "
               f"(not counted as training samples).")
  return '\n'.join(lines)
