"""The oracle: a policy that sees the task parameter, trained with TRPO on fresh tasks.

Every training episode draws a new task from the family (as maml_rl's oracle); the
task is appended to the observation. At test time each test task is fixed and the
policy's return is measured with no update (its single "iteration 0").
"""
from typing import Dict, List, Optional

import gin
import gymnasium
import numpy as np

from smtl_tf import settings
from smtl_tf.envs.vector_env import VectorEnv
from smtl_tf.slbo.model_free import RealTRPOAgent
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.runs import protocol
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import skeleton
from smtl_tf.runs.logger import tagged


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


@gin.configurable('run_oracle', denylist=['family', 'seed', 'experiment', 'show_task'])
class Oracle(skeleton.Algorithm):
  """Trains the oracle with TRPO (RealTRPOAgent.n_trpo samples per update) and evaluates it.

  Args:
    family, seed, experiment, test_family, train_dynamics, test_dynamics, keep_xy: as
      maml_tf.maml.MAML.
    n_iterations: TRPO updates.
    n_envs: environments stepped in lockstep (each episode on its own fresh task).
    eval_episodes: episodes per test task.
    checkpoint_every: iterations between checkpoints.
    observation: observation layout of the environments ('slbo', or 'rllab': maml_rl's), before
      the task is appended.
    show_task: False trains the task-blind ablation (same tasks, task not observed); use
      train_eval.algorithm = 'task_blind' (TaskBlind) so it gets its own run directory.
  """

  def __init__(self, family: str, seed: int, experiment: str = '',
               test_family: Optional[str] = None, train_dynamics: str = 'default',
               test_dynamics: str = 'default', n_iterations: int = 500, n_envs: int = 20,
               eval_episodes: int = 20, checkpoint_every: int = 10, keep_xy: bool = True,
               observation: str = 'slbo', show_task: bool = True):
    settings.check_counts('run_oracle', n_iterations=n_iterations, n_envs=n_envs,
                          eval_episodes=eval_episodes, checkpoint_every=checkpoint_every)
    self.family, self.test_family = family, test_family or family
    protocol.check_compatible(self.family, self.test_family)
    self.seed, self.experiment, self.show_task = seed, experiment, show_task
    self.n_iterations, self.eval_episodes = n_iterations, eval_episodes
    self.checkpoint_every = checkpoint_every
    self.train_runner = oracle_runner(family, n_envs, seed, show_task, observation,
                                      stream=('train_env',), dynamics=train_dynamics,
                                      keep_xy=keep_xy)
    self.test_runner = oracle_runner(self.test_family, n_envs, seed, show_task, observation,
                                     stream=('test_env',), dynamics=test_dynamics,
                                     keep_xy=keep_xy, allow_out_of_range=True)
    self.agent = RealTRPOAgent(self.train_runner, seed)
    self.test_tasks = protocol.test_tasks(self.test_family)

  def trackables(self):
    return {'agent': self.agent}

  def generators(self) -> Dict[str, np.random.Generator]:
    return self.agent.generators

  def runners(self):
    return {'train': self.train_runner, 'test': self.test_runner}

  def phases(self, run: skeleton.Run) -> List[skeleton.Phase]:
    return [skeleton.Phase('train', self.trpo_iteration, self.n_iterations,
                           save_every=self.checkpoint_every, ends_training=True),
            skeleton.Phase('evaluate', self.evaluate_test_task, len(self.test_tasks))]

  def trpo_iteration(self, progress: skeleton.RunProgress) -> skeleton.Report:
    stats = self.agent.iteration(self.train_runner)
    samples = self.train_runner.steps['collect']
    iteration = progress.unit + 1
    progress.train_log.append({'iteration': iteration, 'real_samples': samples, **stats})
    return skeleton.Report(f'oracle TRPO iteration {iteration}/{self.n_iterations}', samples,
                           tagged({**stats, 'real_samples': samples},
                                  ('collect_return', 'kl', 'entropy', 'real_samples')))

  def evaluate_test_task(self, progress: skeleton.RunProgress) -> skeleton.Report:
    """The policy's return on test task progress.unit, without any update."""
    index = progress.unit
    task = self.test_tasks[index]
    self.test_runner.set_task(task)
    value = self.agent.evaluate(self.test_runner, self.eval_episodes)
    progress.test_records.append(protocol.test_record(task, [value], [0]))
    return skeleton.Report(f'evaluate test task {index + 1}/{len(self.test_tasks)}', index,
                           tagged({'return_iter_0': value}))

  def results(self, progress: skeleton.RunProgress) -> Dict:
    return results_lib.make_results(
        experiment=self.experiment, algorithm='oracle' if self.show_task else 'task_blind',
        seed=self.seed, family=self.family, test_family=self.test_family,
        train_real_samples=self.train_runner.steps['collect'],
        eval_real_samples=self.test_runner.steps['evaluate'],
        test_records=progress.test_records, extra={'train_log': progress.train_log})


class TaskBlind(Oracle):
  """The oracle's ablation: identical training (run_oracle bindings), but the policy does not
  see the task."""

  def __init__(self, **kwargs):
    super().__init__(show_task=False, **kwargs)
