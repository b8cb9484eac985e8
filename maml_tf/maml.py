"""MAML-TRPO meta-training and its evaluation on the fixed test tasks (paper appendix, maml_rl).

Each meta-iteration samples meta_batch tasks, collects pre-update episodes per task
with theta, takes the inner step per task, collects post-update episodes with each
task's fast weights, and makes one TRPO meta-update. All of it is batched over the
meta-batch. Evaluation starts every test task from theta and takes n_adapt
policy-gradient steps (alpha 0.1 first, 0.05 after), each on fresh episodes
(adaptation samples); the return after 0..n_adapt steps is measured on eval_episodes
further episodes (evaluation samples).

Sample budgets (maml_rl's batch_size = n_episodes * max_path_length per task): every
collection for a step runs whole episodes until each task has at least its budget,
n_episodes * horizon in meta-training and adapt_budget at test time (the rule is in
maml_tf/sampler.py), so early terminations do not shrink a batch. adapt_budget equals
SMTL's run_smtl.n_collect of the same experiment (tests/test_maml_gin.py).
"""
from typing import Dict, List, Optional, Sequence

import gin
import numpy as np
import tensorflow as tf

from maml_tf import advantages as advantages_lib
from maml_tf.meta_learner import MAMLLearner
from maml_tf.sampler import MultiTaskSampler, slots_for
from smtl_tf import envs
from smtl_tf import saved_policy
from smtl_tf import seeding
from smtl_tf import settings
from smtl_tf.slbo.model_trainer import check_finite
from smtl_tf.runs import protocol
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import skeleton
from smtl_tf.runs.logger import tagged

FAST_PREFIX = 'fast_params/'
EVAL_PROTOCOLS = ('fresh', 'maml_rl_vectorized')


@gin.configurable('run_maml', denylist=['family', 'seed', 'experiment'])
class MAML(skeleton.Algorithm):
  """MAML-TRPO meta-training, then evaluation on the fixed test tasks.

  Args:
    family: training task family; test_family: of the test tasks (default: the same).
    seed: seeds meta-batches, initialization, action noise and resets.
    experiment: experiment name written into results.json.
    train_dynamics, test_dynamics, keep_xy: passed to the environments.
    n_iterations: meta-iterations (paper 500); 0 evaluates the random initialization
      (maml_rl's "random init" baseline).
    meta_batch: tasks per meta-iteration (40).
    n_episodes: meta-training sample budget per task for the pre-update and for the
      post-update batch, in episodes: n_episodes * horizon samples (maml_rl's fast_batch_size:
      20; 40 for Ant forward/backward and Humanoid).
    n_adapt: test-time policy-gradient steps (3).
    adapt_budget: real samples per task for each test-time step, collected in whole episodes
      (default n_episodes * horizon). The experiment files set SMTL's run_smtl.n_collect (4,000
      HalfCheetah, 8,000 Ant and Humanoid), so both adapt on the same real data per step.
    test_learning_rates: step sizes of the test-time steps; the last one repeats (0.1, then 0.05).
    eval_episodes: fresh episodes per return measurement (not adaptation samples).
    horizon: episode length (200).
    gamma: discount (0.99).
    observation: observation layout of the environments ('slbo', or 'rllab': maml_rl's).
    eval_protocol: how a test task's return is measured: 'fresh' (eval_episodes fresh
      episodes, as SMTL) or 'maml_rl_vectorized' (maml_rl's measurement at the time of its
      reported results: the completed episodes of an adapt_budget-sized vectorized batch, which
      favours short episodes where episodes end early; for comparisons with those numbers).
  """

  def __init__(self, family: str, seed: int, experiment: str = '',
               test_family: Optional[str] = None, train_dynamics: str = 'default',
               test_dynamics: str = 'default', n_iterations: int = 500, meta_batch: int = 40,
               n_episodes: int = 20, n_adapt: int = 3, adapt_budget: Optional[int] = None,
               test_learning_rates: Sequence[float] = (0.1, 0.05), eval_episodes: int = 20,
               horizon: int = 200, gamma: float = 0.99, keep_xy: bool = True,
               observation: str = 'slbo', eval_protocol: str = 'fresh'):
    if eval_protocol not in EVAL_PROTOCOLS:
      raise ValueError(f'run_maml.eval_protocol = {eval_protocol!r} is not one of '
                       f'{EVAL_PROTOCOLS}.')
    self.eval_protocol = eval_protocol
    self.train_budget = n_episodes * horizon
    self.adapt_budget = adapt_budget or self.train_budget
    settings.check_counts('run_maml', meta_batch=meta_batch, n_episodes=n_episodes,
                          adapt_budget=self.adapt_budget, eval_episodes=eval_episodes,
                          horizon=horizon)
    settings.check_counts('run_maml', minimum=0, n_iterations=n_iterations, n_adapt=n_adapt)
    self.family, self.test_family = family, test_family or family
    protocol.check_compatible(self.family, self.test_family)
    self.seed, self.experiment, self.gamma = seed, experiment, gamma
    self.test_environment = {'family': self.test_family, 'dynamics': test_dynamics,
                             'keep_xy': keep_xy, 'observation': observation,
                             'allow_out_of_range': True}
    self.horizon, self.run_dir = horizon, None
    self.n_iterations, self.meta_batch, self.n_adapt = n_iterations, meta_batch, n_adapt
    self.learning_rates, self.eval_episodes = tuple(test_learning_rates), eval_episodes
    self.test_tasks = protocol.test_tasks(self.test_family)
    self.rng = seeding.numpy_stream(seed, 'train_tasks')
    env_kwargs = {'horizon': horizon, 'keep_xy': keep_xy, 'observation': observation}
    self.train_sampler = MultiTaskSampler(family, meta_batch,
                                          slots_for(self.train_budget, horizon), seed=seed,
                                          stream=('train_env',), dynamics=train_dynamics,
                                          **env_kwargs)
    self.test_sampler = MultiTaskSampler(
        self.test_family, len(self.test_tasks),
        max(slots_for(self.adapt_budget, horizon), eval_episodes), seed=seed,
        stream=('test_env',), dynamics=test_dynamics, allow_out_of_range=True, **env_kwargs)
    sampler = self.train_sampler
    self.learner = MAMLLearner(sampler.obs_dim, sampler.act_dim, seed)
    self.fast = None  # the test tasks' adapted parameters during evaluation
    self._process = tf.function(lambda batch: advantages_lib.process(batch, self.gamma))

  # --- what the run skeleton checkpoints ---

  def trackables(self):
    return {'learner': self.learner}

  def generators(self) -> Dict[str, np.random.Generator]:
    return {'train_tasks': self.rng}

  def runners(self):
    return {'train': self.train_sampler, 'test': self.test_sampler}

  def arrays(self) -> Dict[str, np.ndarray]:
    if self.fast is None:
      return {}
    return {f'{FAST_PREFIX}{i}': np.asarray(p) for i, p in enumerate(self.fast)}

  def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
    self.fast = [tf.constant(arrays[f'{FAST_PREFIX}{i}']) for i in range(len(self.learner.params))
                 ] if f'{FAST_PREFIX}0' in arrays else None

  def phases(self, run: skeleton.Run) -> List[skeleton.Phase]:
    self.run_dir = run.run_dir
    return [skeleton.Phase('train', self.meta_iteration, self.n_iterations, ends_training=True),
            skeleton.Phase('adapt', self.evaluation_step, self.n_adapt + 1)]

  # --- sampling ---

  def process(self, batch: Dict[str, np.ndarray]) -> Dict[str, tf.Tensor]:
    return self._process({key: tf.constant(batch[key]) for key in
                          ('obs', 'actions', 'rewards', 'mask', 'time_steps', 'episode_end')})

  def act_fn(self, params):
    """Sampling function of MultiTaskSampler for per-task params: obs [T, W, d] -> [T, W, a]."""
    return lambda obs: self.learner.act(params, tf.constant(obs)).numpy()

  def collect(self, sampler: MultiTaskSampler, params, budget: int, purpose: str):
    """Whole episodes until every task has `budget` samples (MultiTaskSampler.collect)."""
    return sampler.collect(self.act_fn(params), budget, purpose)

  def mean_returns(self, params, n_episodes: int) -> np.ndarray:
    """Mean return [T] of each test task (evaluation samples): of n_episodes fresh episodes,
    or with eval_protocol 'maml_rl_vectorized' of the completed episodes of an adaptation-sized
    vectorized batch (MultiTaskSampler.completed_episode_returns)."""
    if self.eval_protocol == 'maml_rl_vectorized':
      return self.test_sampler.completed_episode_returns(self.act_fn(params), self.adapt_budget,
                                                         'evaluate')
    return self.test_sampler.episode_returns(self.act_fn(params), n_episodes,
                                             'evaluate').mean(axis=1)

  # --- meta-training ---

  def meta_iteration(self, progress: skeleton.RunProgress) -> skeleton.Report:
    """One meta-iteration: meta-batch tasks, pre-update episodes, inner step, post-update
    episodes, TRPO meta-update."""
    sampler, learner, budget = self.train_sampler, self.learner, self.train_budget
    iteration = progress.unit
    sampler.set_tasks(envs.get_family(self.family).sample(self.rng, self.meta_batch))
    theta = learner.shared_params(self.meta_batch)
    pre = self.collect(sampler, theta, budget, 'train')
    pre_data = self.process(pre)
    fast = learner.adapted_params(theta, pre_data, tf.constant(learner.inner_lr))
    post = self.collect(sampler, fast, budget, 'train')
    stats = check_finite(learner.meta_update(pre_data, self.process(post)), 'The MAML meta-update')
    entry = {'iteration': iteration + 1, 'pre_update_return': float(pre['mean_return'].mean()),
             'post_update_return': float(post['mean_return'].mean()),
             'real_samples': sampler.steps['train'], **stats}
    progress.train_log.append(entry)
    return skeleton.Report(
        f'meta-iteration {iteration + 1}/{self.n_iterations}', entry['real_samples'],
        tagged({'pre_update_return': entry['pre_update_return'],
                'collect_return': entry['post_update_return'], 'kl': stats['kl'],
                'real_samples': entry['real_samples']}))

  # --- evaluation ---

  def evaluation_step(self, progress: skeleton.RunProgress) -> skeleton.Report:
    """Returns of all test tasks after `stage` = progress.unit test-time steps, then the next
    step (the last stage only measures).

    progress.extra['adapt_used'] holds each task's cumulative adaptation samples including
    the batch of the step just taken, saved with the fast weights, so a resumed run counts it.
    """
    sampler, learner, tasks, stage = self.test_sampler, self.learner, self.test_tasks, progress.unit
    sampler.set_tasks(tasks)
    if stage == 0:
      self.fast = learner.shared_params(len(tasks))
      progress.test_records = [protocol.test_record(task) for task in tasks]
      progress.extra['adapt_used'] = [0] * len(tasks)
    used = np.array(progress.extra['adapt_used'], np.int64)
    returns = self.mean_returns(self.fast, self.eval_episodes)
    for record, value, count in zip(progress.test_records, returns, used):
      protocol.append_iteration(record, value, count)
    self.save_policies(progress.test_records, stage)
    report = skeleton.Report(f'evaluate {len(tasks)} test tasks after {stage} adaptation steps',
                             stage, tagged({'mean_return_all_tasks': float(returns.mean())}))
    if stage < self.n_adapt:
      batch = self.collect(sampler, self.fast, self.adapt_budget, 'adapt')
      used = used + batch['samples']
      lr = self.learning_rates[min(stage, len(self.learning_rates) - 1)]
      self.fast = learner.adapted_params(self.fast, self.process(batch), tf.constant(lr))
    progress.extra['adapt_used'] = used.tolist()
    return report

  def save_policies(self, records: List[Dict], iteration: int) -> None:
    """Saves every test task's current fast weights as its iteration `iteration` (saved_policy)."""
    params = [p.numpy() for p in self.fast]  # [W_0, b_0, ..., W_L, b_L, log_std], each [T, ...]
    for index, record in enumerate(records):
      layers = [(params[2 * i][index], params[2 * i + 1][index])
                for i in range((len(params) - 1) // 2)]
      saved_policy.SavedPolicy(
          layers, 'relu', None, None, {**self.test_environment, 'task': list(record['task'])},
          {'algorithm': 'maml', 'experiment': self.experiment, 'seed': self.seed,
           'test_task': index, 'iteration': iteration, 'horizon': self.horizon,
           'adapt_samples': record['adapt_samples'][iteration],
           'return': record['returns'][iteration]},
      ).save(saved_policy.policy_path(self.run_dir, index, iteration))

  def results(self, progress: skeleton.RunProgress) -> Dict:
    train_steps, test_steps = self.train_sampler.steps, self.test_sampler.steps
    return results_lib.make_results(
        experiment=self.experiment, algorithm='maml', seed=self.seed, family=self.family,
        test_family=self.test_family, train_real_samples=train_steps['train'],
        eval_real_samples=train_steps['evaluate'] + test_steps['evaluate'],
        test_records=progress.test_records, extra={'train_log': progress.train_log})
