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
from typing import Dict, Optional, Sequence

import gin
import numpy as np
import tensorflow as tf

from maml_tf import advantages as advantages_lib
from maml_tf.meta_learner import MAMLLearner
from maml_tf.sampler import MultiTaskSampler, slots_for
from smtl_tf import envs
from smtl_tf import results as results_lib
from smtl_tf import run_dir as run_dir_lib
from smtl_tf import run_state
from smtl_tf import seeding
from smtl_tf import settings
from smtl_tf import trained_run as trained_run_lib
from smtl_tf.model_trainer import check_finite
from smtl_tf.smtl import check_plan, check_compatible, test_tasks

FAST_PREFIX = 'fast_params/'


class MAMLRun:
  """Learner, samplers, RNG and checkpoints of one MAML run."""

  def __init__(self, run_dir: str, family: str, test_family: str, seed: int, meta_batch: int,
               train_budget: int, n_test_tasks: int, adapt_budget: int, eval_episodes: int,
               horizon: int, train_dynamics: str, test_dynamics: str, keep_xy: bool,
               observation: str, gamma: float):
    check_compatible(family, test_family)
    self.run_dir, self.gamma = run_dir, gamma
    self.rng = seeding.numpy_stream(seed, 'train_tasks')
    env_kwargs = {'horizon': horizon, 'keep_xy': keep_xy, 'observation': observation}
    self.train_sampler = MultiTaskSampler(family, meta_batch, slots_for(train_budget, horizon),
                                          seed=seed, stream=('train_env',),
                                          dynamics=train_dynamics, **env_kwargs)
    self.test_sampler = MultiTaskSampler(
        test_family, n_test_tasks, max(slots_for(adapt_budget, horizon), eval_episodes),
        seed=seed, stream=('test_env',), dynamics=test_dynamics, allow_out_of_range=True, **env_kwargs)
    sampler = self.train_sampler
    self.learner = MAMLLearner(sampler.obs_dim, sampler.act_dim, seed)
    self.checkpoint = run_dir_lib.RunCheckpoint(run_dir, learner=self.learner)
    self.trained = run_dir_lib.RunCheckpoint(run_dir, name=trained_run_lib.TRAINED,
                                             learner=self.learner)
    self.samplers = {'train': self.train_sampler, 'test': self.test_sampler}
    self._process = tf.function(lambda batch: advantages_lib.process(batch, self.gamma))

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
    """Mean return [T] of n_episodes fresh episodes per test task (evaluation samples)."""
    return self.test_sampler.episode_returns(self.act_fn(params), n_episodes,
                                             'evaluate').mean(axis=1)

  def save(self, progress: Dict, fast_params=None, checkpoint=None) -> None:
    arrays = {} if fast_params is None else {
        f'{FAST_PREFIX}{i}': np.asarray(p) for i, p in enumerate(fast_params)}
    checkpoint = checkpoint or self.checkpoint
    checkpoint.save({**progress, **run_state.capture(self.rng, self.samplers)}, arrays)

  def start_from_trained_run(self, trained_run: str, plan: Dict) -> Dict:
    """This run starts its evaluation from trained_run's end of meta-training
    (smtl_tf/trained_run.py); returns the progress record at the start of evaluation."""
    progress, _ = trained_run_lib.restore(trained_run, self.run_dir, ('test',),
                                          learner=self.learner)
    run_state.restore(progress, self.rng, self.samplers)
    progress['plan'] = plan
    self.save(progress, checkpoint=self.trained)
    self.save(progress)
    return progress

  def restore(self):
    restored = self.checkpoint.restore()
    if restored is None:
      return None, None
    progress, arrays = restored
    run_state.restore(progress, self.rng, self.samplers)
    fast = [tf.constant(arrays[f'{FAST_PREFIX}{i}']) for i in range(len(self.learner.params))
            ] if f'{FAST_PREFIX}0' in arrays else None
    return progress, fast


@gin.configurable
def run_maml(run_dir: str, family: str, seed: int, test_family: Optional[str] = None,
             train_dynamics: str = 'default', test_dynamics: str = 'default',
             n_iterations: int = 500, meta_batch: int = 40, n_episodes: int = 20,
             n_adapt: int = 3, adapt_budget: Optional[int] = None,
             test_learning_rates: Sequence[float] = (0.1, 0.05),
             eval_episodes: int = 20, horizon: int = 200, gamma: float = 0.99,
             keep_xy: bool = True, observation: str = 'slbo', experiment: str = '',
             trained_run: Optional[str] = None) -> Dict:
  """Meta-trains MAML-TRPO, evaluates it on the fixed test tasks and writes results.json.

  Args:
    run_dir: the run directory.
    family: training task family; test_family: of the test tasks (default: the same).
    seed: seeds meta-batches, initialization, action noise and resets.
    train_dynamics, test_dynamics, keep_xy: passed to the environments.
    n_iterations: meta-iterations (paper 500).
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
    experiment: experiment name written into results.json.
    trained_run: a finished MAML run with this run's training settings and seed: this run
      skips meta-training and evaluates that run's meta-parameters on its own test tasks
      (smtl_tf/trained_run.py). Used only when this run has no checkpoint yet.
  """
  test_family = test_family or family
  train_budget = n_episodes * horizon
  adapt_budget = adapt_budget or train_budget
  settings.check_counts('run_maml', meta_batch=meta_batch, n_episodes=n_episodes,
                        adapt_budget=adapt_budget, eval_episodes=eval_episodes, horizon=horizon)
  # 0 meta-iterations evaluate the random initialization (maml_rl's "random init" baseline).
  settings.check_counts('run_maml', minimum=0, n_iterations=n_iterations, n_adapt=n_adapt)
  evaluation_tasks = test_tasks(test_family)
  run = MAMLRun(run_dir, family, test_family, seed, meta_batch, train_budget,
                len(evaluation_tasks), adapt_budget, eval_episodes, horizon, train_dynamics,
                test_dynamics, keep_xy, observation, gamma)
  run_dir_lib.save_operative_config(run_dir)
  plan = {'family': family, 'test_family': test_family, 'n_iterations': n_iterations,
          'meta_batch': meta_batch, 'test_tasks': evaluation_tasks.tolist(), 'n_adapt': n_adapt,
          'train_budget': train_budget, 'adapt_budget': adapt_budget, 'observation': observation}
  progress, fast = run.restore()
  if progress is not None:
    check_plan(run.checkpoint.directory, progress.get('plan'), plan)
  elif trained_run:
    progress = run.start_from_trained_run(trained_run, plan)
  else:
    progress = {'phase': 'train', 'next_iteration': 0, 'next_stage': 0, 'train_log': [],
                'test_records': [], 'plan': plan}
  if progress['phase'] == 'train':
    meta_train(run, progress, family, n_iterations, meta_batch, train_budget)
    progress['train_wall_seconds'] = run.checkpoint.wall_seconds()
    progress['phase'] = 'adapt'
    run.save(progress, checkpoint=run.trained)  # where evaluations of other test tasks start
    run.save(progress)
  if progress['phase'] == 'adapt':
    evaluate(run, progress, fast, evaluation_tasks, n_adapt, test_learning_rates, adapt_budget,
             eval_episodes)
    progress['phase'] = 'done'
    run.save(progress)
  train_steps, test_steps = run.train_sampler.steps, run.test_sampler.steps
  record = results_lib.make_results(
      experiment=experiment, algorithm='maml', seed=seed, family=family, test_family=test_family,
      train_real_samples=train_steps['train'],
      eval_real_samples=train_steps['evaluate'] + test_steps['evaluate'],
      test_records=progress['test_records'], extra={'train_log': progress['train_log'],
                                        'wall_seconds': run.checkpoint.wall_seconds(),
                                        'train_wall_seconds': progress['train_wall_seconds'],
                                        'trained_from': progress.get('trained_from')})
  results_lib.write(run_dir, record)
  results_lib.log_summary(run_dir, record)
  print(results_lib.format_table(record))
  return record


def meta_train(run: MAMLRun, progress: Dict, family: str, n_iterations: int, meta_batch: int,
               budget: int) -> None:
  """Meta-iterations from progress['next_iteration'] on; checkpoints after each."""
  sampler, learner = run.train_sampler, run.learner
  meter = run_dir_lib.Progress(run.run_dir, n_iterations, progress['next_iteration'])
  spec = envs.get_family(family)
  for iteration in range(progress['next_iteration'], n_iterations):
    sampler.set_tasks(spec.sample(run.rng, meta_batch))
    theta = learner.shared_params(meta_batch)
    pre = run.collect(sampler, theta, budget, 'train')
    pre_data = run.process(pre)
    fast = learner.adapted_params(theta, pre_data, tf.constant(learner.inner_lr))
    post = run.collect(sampler, fast, budget, 'train')
    stats = check_finite(learner.meta_update(pre_data, run.process(post)), 'The MAML meta-update')
    entry = {'iteration': iteration + 1, 'pre_update_return': float(pre['mean_return'].mean()),
             'post_update_return': float(post['mean_return'].mean()),
             'real_samples': sampler.steps['train'], **stats}
    progress['train_log'].append(entry)
    progress['next_iteration'] = iteration + 1
    meter.log(iteration + 1, f'meta-iteration {iteration + 1}/{n_iterations}',
              entry['real_samples'], {
                  'train/pre_update_return': entry['pre_update_return'],
                  'train/collect_return': entry['post_update_return'],
                  'train/policy_kl': stats['kl'], 'train/real_samples': entry['real_samples']})
    run.save(progress)


def evaluate(run: MAMLRun, progress: Dict, fast, tasks: np.ndarray, n_adapt: int,
             learning_rates: Sequence[float], budget: int, eval_episodes: int) -> None:
  """Returns after 0..n_adapt test-time steps on all test tasks at once; checkpoints per step.

  progress['adapt_used'] holds each task's cumulative adaptation samples including the batch
  of the step just taken, saved with the fast weights, so a resumed run counts it.
  """
  sampler, learner = run.test_sampler, run.learner
  sampler.set_tasks(tasks)
  meter = run_dir_lib.Progress(run.run_dir, n_adapt + 1, progress['next_stage'])
  if progress['next_stage'] == 0:
    fast = learner.shared_params(len(tasks))
    progress['test_records'] = [{'task': task.tolist(), 'returns': [], 'adapt_samples': []}
                                for task in tasks]
    progress['adapt_used'] = [0] * len(tasks)
  used = np.array(progress['adapt_used'], np.int64)
  for stage in range(progress['next_stage'], n_adapt + 1):
    returns = run.mean_returns(fast, eval_episodes)
    for record, value, count in zip(progress['test_records'], returns, used):
      record['returns'].append(float(value))
      record['adapt_samples'].append(int(count))
    meter.log(stage + 1, f'evaluate {len(tasks)} test tasks after {stage} adaptation steps',
              stage, {'eval/mean_return_all_tasks': float(returns.mean())})
    if stage < n_adapt:
      batch = run.collect(sampler, fast, budget, 'adapt')
      used = used + batch['samples']
      lr = learning_rates[min(stage, len(learning_rates) - 1)]
      fast = learner.adapted_params(fast, run.process(batch), tf.constant(lr))
    progress['adapt_used'] = used.tolist()
    progress['next_stage'] = stage + 1
    run.save(progress, fast)
