"""Single-task training loops: SLBO on one task and model-free TRPO on the real env.

Both write the shared run directory (operative config, TensorBoard, checkpoints,
results.json with the learning curve against real samples) and resume from
their last checkpoint when re-run with the same command.
"""
from typing import Dict, List, Optional

import gin
import numpy as np
from absl import logging

from smtl_tf import run_dir as run_dir_lib
from smtl_tf import run_state
from smtl_tf import settings
from smtl_tf.model_free import RealTRPOAgent
from smtl_tf.real_runner import RealRunner
from smtl_tf.slbo import SLBOAgent


def _restore(checkpoint, rng, runner, dataset=None):
  """Restores a run; returns (next unit index, curve)."""
  restored = checkpoint.restore()
  if restored is None:
    return 0, []
  progress, arrays = restored
  run_state.restore(progress, rng, {'train': runner})
  if dataset is not None:
    run_state.load_dataset(dataset, arrays)
  logging.info('Resuming from %s at unit %d.', checkpoint.directory, progress['next'])
  return progress['next'], progress['curve']


def _progress_record(next_unit: int, rng, runner, curve: List[Dict]) -> Dict:
  return {'next': next_unit, 'curve': curve, **run_state.capture(rng, {'train': runner})}


@gin.configurable
def run_slbo(run_dir: str, family: str, task, seed: int, n_stages: int = 100,
             n_collect: int = 4000, n_inner: int = 20, n_envs: int = 20,
             eval_episodes: int = 10, dynamics: str = 'default', keep_xy: bool = True,
             entropy_off_stage: Optional[int] = 50) -> Dict:
  """SLBO on one task: per stage, collect n_collect noisy real samples, then VirtualTraining(n_inner).

  Args:
    run_dir: the run directory.
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

  Returns:
    The results record written to results.json.
  """
  settings.check_counts('run_slbo', n_stages=n_stages, n_collect=n_collect, n_envs=n_envs,
                        eval_episodes=eval_episodes)
  settings.check_counts('run_slbo', minimum=0, n_inner=n_inner)
  runner = RealRunner(family, n_envs, seed=seed, stream=('train_env',), dynamics=dynamics,
                      keep_xy=keep_xy)
  agent = SLBOAgent(runner, seed)
  agent.set_task(task)
  run_dir_lib.save_operative_config(run_dir)
  checkpoint = run_dir_lib.RunCheckpoint(run_dir, agent=agent)
  start, curve = _restore(checkpoint, agent.generators, runner, agent.dataset)
  progress = run_dir_lib.Progress(run_dir, n_stages, start)
  if start == 0:
    initial = agent.evaluate(eval_episodes)
    curve.append({'stage': 0, 'real_samples': 0, 'real_return': initial})
    progress.log(0, 'initial policy', 0, {'eval/real_return': initial})
  for stage in range(start, n_stages):
    if entropy_off_stage is not None and stage >= entropy_off_stage:
      agent.trpo.ent_coef.assign(0.0)
    collect_returns = agent.collect(n_collect)
    stats = agent.virtual_training(n_inner)
    real_return = agent.evaluate(eval_episodes)
    samples = runner.steps['collect']
    point = {'stage': stage + 1, 'real_samples': samples, 'real_return': real_return,
             'collect_return': float(np.mean(collect_returns)),
             'ent_coef': float(agent.trpo.ent_coef.numpy()), **stats}
    curve.append(point)
    progress.log(stage + 1, f'SLBO stage {stage + 1}', samples, {
        'eval/real_return': real_return, 'train/virtual_return': stats['virtual_return'],
        'train/collect_return': point['collect_return'], 'train/model_loss': stats['model_loss'],
        'train/policy_kl': stats['kl'], 'train/policy_entropy': stats['entropy'],
        'train/real_samples': samples, 'train/eval_samples': runner.steps['evaluate']})
    checkpoint.save(_progress_record(stage + 1, agent.generators, runner, curve),
                    run_state.dataset_arrays(agent.dataset))
  return _write_results(run_dir, 'slbo', family, task, seed, runner, curve)


@gin.configurable
def run_trpo(run_dir: str, family: str, task, seed: int, n_iterations: int = 500,
             n_envs: int = 20, eval_every: int = 5, eval_episodes: int = 10,
             dynamics: str = 'default', keep_xy: bool = True) -> Dict:
  """Model-free TRPO on the real environment of one task.

  Args:
    run_dir, family, task, seed, n_envs, eval_episodes, dynamics, keep_xy: as run_slbo.
    n_iterations: TRPO updates (each on RealTRPOAgent.n_trpo real samples).
    eval_every: evaluate every this many iterations.
  """
  settings.check_counts('run_trpo', n_iterations=n_iterations, n_envs=n_envs,
                        eval_every=eval_every, eval_episodes=eval_episodes)
  runner = RealRunner(family, n_envs, seed=seed, stream=('train_env',), dynamics=dynamics,
                      keep_xy=keep_xy)
  runner.set_task(task)
  agent = RealTRPOAgent(runner, seed)
  run_dir_lib.save_operative_config(run_dir)
  checkpoint = run_dir_lib.RunCheckpoint(run_dir, agent=agent)
  start, curve = _restore(checkpoint, agent.generators, runner)
  progress = run_dir_lib.Progress(run_dir, n_iterations, start)
  if start == 0:
    initial = agent.evaluate(eval_episodes)
    curve.append({'iteration': 0, 'real_samples': 0, 'real_return': initial})
    progress.log(0, 'initial policy', 0, {'eval/real_return': initial})
  for iteration in range(start, n_iterations):
    stats = agent.iteration()
    samples = runner.steps['collect']
    scalars = {'train/collect_return': stats['collect_return'], 'train/policy_kl': stats['kl'],
               'train/policy_entropy': stats['entropy'], 'train/real_samples': samples}
    if (iteration + 1) % eval_every == 0 or iteration + 1 == n_iterations:
      real_return = agent.evaluate(eval_episodes)
      curve.append({'iteration': iteration + 1, 'real_samples': samples, 'real_return': real_return,
                    'collect_return': stats['collect_return']})
      scalars['eval/real_return'] = real_return
      checkpoint.save(_progress_record(iteration + 1, agent.generators, runner, curve), {})
    progress.log(iteration + 1, f'TRPO iteration {iteration + 1}', samples, scalars)
  return _write_results(run_dir, 'trpo', family, task, seed, runner, curve)


def _write_results(run_dir, algorithm, family, task, seed, runner, curve) -> Dict:
  results = {'algorithm': algorithm, 'family': family, 'task': np.asarray(task).tolist(),
             'seed': seed, 'train_real_samples': runner.steps['collect'],
             'eval_real_samples': runner.steps['evaluate'], 'curve': curve}
  run_dir_lib.write_json(f'{run_dir}/results.json', results)
  print(format_curve(results))
  logging.info('Wrote %s/results.json: final real return %.1f after %d real training samples.',
               run_dir, curve[-1]['real_return'], runner.steps['collect'])
  return results


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
