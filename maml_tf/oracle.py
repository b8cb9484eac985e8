"""The oracle: a policy that sees the task parameter, trained with TRPO on fresh tasks.

Every training episode draws a new task from the family (as maml_rl's oracle); the
task is appended to the observation. At test time each test task is fixed and the
policy's return is measured with no update (its single "iteration 0").
"""
from typing import Dict, Optional

import gin
import gymnasium
import numpy as np

from smtl_tf import results as results_lib
from smtl_tf import run_dir as run_dir_lib
from smtl_tf import run_state
from smtl_tf import settings
from smtl_tf import trained_run as trained_run_lib
from smtl_tf.model_free import RealTRPOAgent
from smtl_tf.envs.vector_env import VectorEnv
from smtl_tf.real_runner import RealRunner
from smtl_tf.smtl import check_plan, check_compatible, test_tasks


class TaskAppendedEnv:
  """Wraps a VectorEnv: observation = [obs, task]; every reset draws a new task.

  The task is drawn with the environment's own reset generator, so the runner's
  RNG checkpointing covers it. set_task() pins the task of every environment
  (evaluation). With show_task=False the observation is left alone: a task-blind
  policy trained on the same task distribution (the oracle's ablation).
  """

  def __init__(self, env: VectorEnv, show_task: bool = True):
    self.env = env
    self.show_task = show_task
    self.fixed = False
    self.obs_dim = env.obs_dim + (env.family.task_dim if show_task else 0)
    self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float64)

  def __getattr__(self, name):
    return getattr(self.env, name)

  def set_task(self, task) -> None:
    self.env.set_task(task)
    self.fixed = True

  def reset(self, indices: Optional[np.ndarray] = None) -> np.ndarray:
    indices = np.arange(self.env.n_envs) if indices is None else np.asarray(indices)
    if not self.fixed:
      for i in indices:
        self.env.tasks[i] = self.env.family.sample(self.env.rngs[i], 1)[0]
    return self._augment(self.env.reset(indices), indices)

  def step(self, actions: np.ndarray, indices: Optional[np.ndarray] = None):
    indices = np.arange(self.env.n_envs) if indices is None else np.asarray(indices)
    obs, rewards, dones = self.env.step(actions, indices)
    return self._augment(obs, indices), rewards, dones

  def reset_states(self, n: int) -> np.ndarray:
    raise NotImplementedError('The oracle trains on real environments only.')

  def _augment(self, obs: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return np.concatenate([obs, self.env.tasks[indices]], axis=1) if self.show_task else obs


def oracle_runner(family: str, n_envs: int, seed: int, show_task: bool = True,
                  observation: str = 'slbo', **env_kwargs) -> RealRunner:
  """A RealRunner whose environments draw a task per episode and append it to the observation.

  Args:
    family, n_envs, seed: as RealRunner.
    show_task: append the task to the observation (False: the task-blind ablation).
    observation: observation layout of the environments ('slbo' or 'rllab').
    **env_kwargs: further RealRunner arguments (stream, dynamics, keep_xy, allow_out_of_range).
  """
  runner = RealRunner(family, n_envs, seed=seed, observation=observation, **env_kwargs)
  runner.env = TaskAppendedEnv(runner.env, show_task)
  return runner


@gin.configurable(denylist=['show_task'])
def run_oracle(run_dir: str, family: str, seed: int, test_family: Optional[str] = None,
               train_dynamics: str = 'default', test_dynamics: str = 'default',
               n_iterations: int = 500, n_envs: int = 20, eval_episodes: int = 20,
               checkpoint_every: int = 10, keep_xy: bool = True, observation: str = 'slbo',
               show_task: bool = True, experiment: str = '',
               trained_run: Optional[str] = None) -> Dict:
  """Trains the oracle with TRPO (RealTRPOAgent.n_trpo samples per update) and evaluates it.

  Args:
    run_dir, family, seed, test_family, train_dynamics, test_dynamics, keep_xy, experiment: as
      run_maml.
    n_iterations: TRPO updates.
    n_envs: environments stepped in lockstep (each episode on its own fresh task).
    eval_episodes: episodes per test task.
    checkpoint_every: iterations between checkpoints.
    observation: observation layout of the environments ('slbo', or 'rllab': maml_rl's), before
      the task is appended.
    show_task: False trains the task-blind ablation (same tasks, task not observed); use
      train_eval.algorithm = 'task_blind' (run_task_blind) so it gets its own run directory.
    trained_run: a finished oracle run with this run's training settings and seed: this run
      skips training and evaluates that run's policy on its own test tasks
      (smtl_tf/trained_run.py). Used only when this run has no checkpoint yet.
  """
  settings.check_counts('run_oracle', n_iterations=n_iterations, n_envs=n_envs,
                        eval_episodes=eval_episodes, checkpoint_every=checkpoint_every)
  test_family = test_family or family
  check_compatible(family, test_family)
  runner = oracle_runner(family, n_envs, seed, show_task, observation, stream=('train_env',),
                         dynamics=train_dynamics, keep_xy=keep_xy)
  test_runner = oracle_runner(test_family, n_envs, seed, show_task, observation,
                              stream=('test_env',), dynamics=test_dynamics, keep_xy=keep_xy,
                              allow_out_of_range=True)
  runners = {'train': runner, 'test': test_runner}
  agent = RealTRPOAgent(runner, seed)
  run_dir_lib.save_operative_config(run_dir)
  checkpoint = run_dir_lib.RunCheckpoint(run_dir, agent=agent)
  evaluation_tasks = test_tasks(test_family)
  plan = {'family': family, 'test_family': test_family, 'n_iterations': n_iterations,
          'test_tasks': evaluation_tasks.tolist(), 'observation': observation}
  trained = run_dir_lib.RunCheckpoint(run_dir, name=trained_run_lib.TRAINED, agent=agent)
  restored = checkpoint.restore()
  progress = {'next_iteration': 0, 'train_log': [], 'test_records': [], 'plan': plan}
  if restored:
    progress = restored[0]
    check_plan(checkpoint.directory, progress.get('plan'), plan)
  elif trained_run:
    progress, _ = trained_run_lib.restore(trained_run, run_dir, ('test',), agent=agent)
    progress['plan'] = plan
  if restored or trained_run:
    run_state.restore(progress, agent.generators, runners)

  def save(to=checkpoint):
    to.save({**progress, **run_state.capture(agent.generators, runners)}, {})

  meter = run_dir_lib.Progress(run_dir, n_iterations + len(evaluation_tasks),
                               progress['next_iteration'] + len(progress['test_records']))
  for iteration in range(progress['next_iteration'], n_iterations):
    stats = agent.iteration()
    samples = runner.steps['collect']
    progress['train_log'].append({'iteration': iteration + 1, 'real_samples': samples, **stats})
    progress['next_iteration'] = iteration + 1
    meter.log(iteration + 1, f'oracle TRPO iteration {iteration + 1}/{n_iterations}', samples, {
        'train/collect_return': stats['collect_return'], 'train/policy_kl': stats['kl'],
        'train/policy_entropy': stats['entropy'], 'train/real_samples': samples})
    if (iteration + 1) % checkpoint_every == 0 or iteration + 1 == n_iterations:
      save()
  progress.setdefault('train_wall_seconds', checkpoint.wall_seconds())
  if not progress['test_records']:
    save(trained)  # the end of training, where evaluations of other test tasks start
  agent.runner = test_runner
  for index in range(len(progress['test_records']), len(evaluation_tasks)):
    task = evaluation_tasks[index]
    test_runner.set_task(task)
    value = agent.evaluate(eval_episodes)
    progress['test_records'].append({'task': task.tolist(), 'returns': [value],
                                     'adapt_samples': [0]})
    meter.log(n_iterations + index + 1, f'evaluate test task {index + 1}/{len(evaluation_tasks)}',
              index, {'eval/return_iter_0': value})
    save()
  record = results_lib.make_results(
      experiment=experiment, algorithm='oracle' if show_task else 'task_blind', seed=seed, family=family, test_family=test_family,
      train_real_samples=runner.steps['collect'], eval_real_samples=test_runner.steps['evaluate'],
      test_records=progress['test_records'], extra={'train_log': progress['train_log'],
                                        'wall_seconds': checkpoint.wall_seconds(),
                                        'train_wall_seconds': progress['train_wall_seconds'],
                                        'trained_from': progress.get('trained_from')})
  results_lib.write(run_dir, record)
  results_lib.log_summary(run_dir, record)
  print(results_lib.format_table(record))
  return record


def run_task_blind(**kwargs) -> Dict:
  """The oracle's ablation: identical training, but the policy does not see the task."""
  return run_oracle(show_task=False, **kwargs)
