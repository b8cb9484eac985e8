"""Sequential Multi-task Learning: Algorithm 1 and adaptation to unseen tasks (Eq. 6).

Training (Algorithm 1): for each of n_tasks tasks, a fresh policy; warm-up
VirtualTraining(n_warmup) when the dataset is not empty; then n_slbo times
collect n_collect noisy real samples and VirtualTraining(n_inner). The dynamics
model, normalizers, value function, their optimizer states and the dataset
carry over from task to task; only the policy is re-initialized.

Adaptation (the evaluation protocol shared by every algorithm): each test task starts from the trained state
(restored from `checkpoints_trained/`), warms up a fresh policy on the model (0
real samples), then runs n_adapt SLBO stages; the real return is measured after
the warm-up and after every stage. Test tasks do not see each other's data.
"""
from typing import Dict, Optional

import gin
import numpy as np
from absl import logging

from smtl_tf import envs
from smtl_tf.active import TaskSelector
from smtl_tf import results as results_lib
from smtl_tf import run_dir as run_dir_lib
from smtl_tf import run_state
from smtl_tf import seeding
from smtl_tf import settings
from smtl_tf import trained_run as trained_run_lib
from smtl_tf.real_runner import RealRunner
from smtl_tf.slbo import SLBOAgent

TRAINED = trained_run_lib.TRAINED


def check_compatible(train_family: str, test_family: str) -> None:
  """Train and test families must share the body and the reward's form."""
  train, test = envs.get_family(train_family), envs.get_family(test_family)
  if (train.body, train.objective) != (test.body, test.objective):
    raise ValueError(
        f'Test family {test_family!r} ({test.body}, {test.objective}) does not match training '
        f'family {train_family!r} ({train.body}, {train.objective}); a learned model transfers '
        f'only between tasks of one body and reward form.')


@gin.configurable
def test_tasks(family: str, n_test_tasks: int = 40, test_seed: int = 1234) -> np.ndarray:
  """The fixed test tasks [n_test_tasks, task_dim], identical for every algorithm and seed."""
  return envs.get_family(family).sample(np.random.default_rng(test_seed), n_test_tasks)


class SMTLRun:
  """State of one SMTL run: agent, runners, progress record and checkpoints."""

  def __init__(self, run_dir: str, family: str, test_family: str, seed: int, n_envs: int,
               train_dynamics: str, test_dynamics: str, keep_xy: bool, test_batch: int = 1):
    check_compatible(family, test_family)
    self.run_dir, self.seed = run_dir, seed
    self.train_runner = RealRunner(family, n_envs, seed=seed, stream=('train_env',),
                                   dynamics=train_dynamics, keep_xy=keep_xy)
    self.test_runner = RealRunner(test_family, n_envs, seed=seed, stream=('test_env',),
                                  dynamics=test_dynamics, keep_xy=keep_xy)
    self.agent = SLBOAgent(self.train_runner, seed)
    self.checkpoint = run_dir_lib.RunCheckpoint(run_dir, agent=self.agent)
    self.trained = run_dir_lib.RunCheckpoint(run_dir, name=TRAINED, agent=self.agent)
    self.runners = {'train': self.train_runner, 'test': self.test_runner}
    self.members = None
    if test_batch > 1:  # test tasks adapted test_batch at a time as one computation
      batch_runner = RealRunner(test_family, n_envs * test_batch, seed=seed,
                                stream=('test_batch_env',), dynamics=test_dynamics,
                                keep_xy=keep_xy)
      self.members = SLBOAgent(batch_runner, seed, n_shadow_models=0, n_members=test_batch,
                               stream=('members',))
      self.runners['test_batch'] = batch_runner

  @property
  def generators(self) -> Dict[str, np.random.Generator]:
    """Every numpy stream of the run's agents, by name (checkpointed with the run)."""
    agents = {'agent': self.agent, 'members': self.members}
    return {f'{prefix}/{name}': rng for prefix, agent in agents.items() if agent is not None
            for name, rng in agent.generators.items()}

  def start_test_task(self, index: int) -> None:
    """Test task `index` adapts from the trained state with streams that depend only on
    (seed, index): the agent's and the test environments' resets."""
    self.restore_trained()
    self.agent.reseed('test_task', index)
    self.test_runner.env.reseed(self.seed, 'test_task', index, 'env')

  def start_test_group(self, start: int, own_capacity: int) -> None:
    """The batched members start from the trained state with streams that depend only on
    (seed, index of the group's first test task)."""
    self.restore_trained()
    self.members.load_members(self.agent, own_capacity)
    self.members.reseed('test_group', start)
    self.members.runner.env.reseed(self.seed, 'test_group', start, 'env')

  def load(self, restored) -> Dict:
    """Applies a (progress, arrays) checkpoint to RNGs, counters and dataset; returns progress."""
    progress, arrays = restored
    run_state.restore(progress, self.generators, self.runners)
    run_state.load_dataset(self.agent.dataset, arrays)
    return progress

  def save(self, checkpoint: run_dir_lib.RunCheckpoint, progress: Dict) -> None:
    checkpoint.save({**progress, **run_state.capture(self.generators, self.runners)},
                    run_state.dataset_arrays(self.agent.dataset))

  def start_from_trained_run(self, trained_run: str, plan: Dict) -> Dict:
    """This run starts its evaluation from trained_run's end of training (smtl_tf/trained_run.py):
    the trained state is restored, saved as this run's own trained state and checkpoint, and
    the progress record at the start of evaluation is returned."""
    progress, arrays = trained_run_lib.restore(trained_run, self.run_dir,
                                               ('test', 'test_batch'), agent=self.agent)
    progress = self.load((progress, arrays))
    progress.update({'phase': 'adapt', 'next_test': 0, 'next_stage': 0, 'test_records': [],
                     'plan': plan})
    self.save(self.trained, progress)
    self.save(self.checkpoint, progress)
    return progress

  def restore_trained(self) -> None:
    """Resets model, normalizers, value function and dataset to the end of training, with
    fresh Adam states for the model and the value fit (the original's evaluation processes
    loaded only the weights; their optimizers started from zero).

    Step counters and numpy/environment RNGs keep running; TF generator states come back
    with the checkpoint (the policy's is reseeded by new_policy()).
    """
    current = run_state.capture(self.generators, self.runners)
    restored = self.trained.restore()
    if restored is None:
      raise run_dir_lib.CheckpointError(
          f'No trained state in {self.trained.directory}: run training first.')
    self.load(restored)
    run_state.restore(current, self.generators, self.runners)
    self.agent.reset_optimizers()


@gin.configurable
def run_smtl(run_dir: str, family: str, seed: int, test_family: Optional[str] = None,
             train_dynamics: str = 'default', test_dynamics: str = 'default',
             n_tasks: int = 100, n_warmup: int = 40, n_slbo: int = 1, n_inner: int = 0,
             n_collect: int = 4000, n_adapt: int = 3, n_adapt_inner: int = 40,
             eval_episodes: int = 20, n_envs: int = 20, keep_xy: bool = True,
             test_batch: int = 1, experiment: str = '',
             trained_run: Optional[str] = None) -> Dict:
  """Trains SMTL on a task family, then adapts to the fixed test tasks and writes results.json.

  Args:
    run_dir: the run directory.
    family: training task family, e.g. 'halfcheetah_vel'.
    seed: seeds training tasks, initialization, noise and resets (not the test tasks).
    test_family: family of the test tasks (default: the training family); e.g.
      'halfcheetah_vel_neg' for the positive-to-negative shift.
    train_dynamics, test_dynamics: 'default', 'low_friction' or 'crippled' (ant).
    n_tasks: training tasks (paper 100).
    n_warmup: VirtualTraining iterations of the warm-up (paper 40), in training and adaptation.
    n_slbo: collection stages per training task (paper 1).
    n_inner: VirtualTraining iterations after each training collection (the original code: 0,
      so a task's data first serves the next task's warm-up).
    n_collect: real samples per collection (4000 HalfCheetah, 8000 Ant/Humanoid).
    n_adapt: SLBO stages per test task (paper 3).
    n_adapt_inner: VirtualTraining iterations per adaptation stage (original code 40).
    eval_episodes: fresh real episodes per return measurement (original code 20).
    n_envs: real environments stepped in lockstep.
    keep_xy: keep absolute x/y positions in observations.
    test_batch: test tasks adapted together as one batched computation (their own policies,
      value functions, normalizers, model copies and data); 1 adapts them one after another.
      Must divide the number of test tasks.
    experiment: experiment name written into results.json.
    trained_run: a finished SMTL training run with this run's training settings and seed:
      this run skips training and adapts that run's trained state to its own test tasks
      (smtl_tf/trained_run.py). Used only when this run has no checkpoint yet.

  Returns:
    The results record (see smtl_tf/results.py).
  """
  settings.check_counts('run_smtl', n_tasks=n_tasks, n_slbo=n_slbo, n_collect=n_collect,
                        eval_episodes=eval_episodes, n_envs=n_envs, test_batch=test_batch)
  settings.check_counts('run_smtl', minimum=0, n_warmup=n_warmup, n_inner=n_inner,
                        n_adapt=n_adapt, n_adapt_inner=n_adapt_inner)
  test_family = test_family or family
  selector = TaskSelector()
  evaluation_tasks = test_tasks(test_family)
  if test_batch < 1 or len(evaluation_tasks) % test_batch:
    raise ValueError(f'run_smtl.test_batch={test_batch} must divide the {len(evaluation_tasks)} '
                     f'test tasks.')
  run = SMTLRun(run_dir, family, test_family, seed, n_envs, train_dynamics, test_dynamics, keep_xy,
                test_batch)
  run_dir_lib.save_operative_config(run_dir)
  n_candidates = n_tasks * selector.max_candidates_per_task if selector.active else n_tasks
  candidates = envs.get_family(family).sample(seeding.numpy_stream(seed, 'train_tasks'),
                                              n_candidates)
  restored = run.checkpoint.restore()
  plan = {'family': family, 'test_family': test_family, 'n_tasks': n_tasks,
          'test_tasks': evaluation_tasks.tolist(), 'n_adapt': n_adapt}
  if selector.active:
    plan['selection'] = [selector.rating, selector.min_seen, selector.quantile, selector.window]
  if restored:
    progress = run.load(restored)
  elif trained_run:
    progress = run.start_from_trained_run(trained_run, plan)
  else:
    progress = {'phase': 'train', 'next_task': 0, 'next_test': 0, 'next_stage': 0,
                'train_log': [], 'test_records': [], 'plan': plan}
  progress.setdefault('kept_tasks', len(progress['train_log']))
  progress.setdefault('ratings', [])
  progress.setdefault('selection_log', [])
  if restored:
    check_plan(run.checkpoint.directory, progress.get('plan'), plan)
    logging.info('Resuming %s: phase %s, task %d, test task %d, stage %d.', run_dir,
                 progress['phase'], progress['next_task'], progress['next_test'],
                 progress['next_stage'])

  if progress['phase'] == 'train':
    train(run, progress, candidates, n_tasks, selector, n_warmup, n_slbo, n_inner, n_collect)
    progress['train_wall_seconds'] = run.checkpoint.wall_seconds()
    run.save(run.trained, progress)
    progress['phase'] = 'adapt'
    run.save(run.checkpoint, progress)
  if progress['phase'] == 'adapt':
    adapt_tasks = adapt if test_batch == 1 else adapt_batched
    adapt_tasks(run, progress, evaluation_tasks, n_warmup, n_adapt, n_adapt_inner, n_collect,
                eval_episodes)
    progress['phase'] = 'done'
    run.save(run.checkpoint, progress)
  train_steps = run.train_runner.steps
  record = results_lib.make_results(
      experiment=experiment, algorithm='smtl', seed=seed, family=family, test_family=test_family,
      train_real_samples=train_steps['collect'] + train_steps['rating'],
      eval_real_samples=sum(runner.steps['evaluate'] for runner in run.runners.values()),
      test_records=progress['test_records'],
      extra={'wall_seconds': run.checkpoint.wall_seconds(),
             'train_wall_seconds': progress['train_wall_seconds'],
             'train_tasks': [entry['task'] for entry in progress['train_log']],
             'train_log': progress['train_log'], 'trained_from': progress.get('trained_from'),
             'selection': {
                 'rating': selector.rating, 'min_seen': selector.min_seen,
                 'quantile': selector.quantile, 'window': selector.window,
                 'rating_real_samples': train_steps['rating'],
                 'candidates': progress['next_task'], 'log': progress['selection_log']}})
  results_lib.write(run_dir, record)
  results_lib.log_summary(run_dir, record)
  print(results_lib.format_table(record))
  return record


def check_plan(directory: str, saved: Optional[Dict], requested: Dict) -> None:
  """A run resumes only with the tasks it was started with (saved None: an older format)."""
  saved = saved or {}
  changed = [key for key in requested if saved.get(key) != requested[key]]
  if changed:
    raise run_dir_lib.CheckpointError(
        f'The checkpoint in {directory} was written for a different run ({", ".join(changed)} '
        f'changed). Resume with the original settings, or use another --root_dir or --seed.')


def train(run: SMTLRun, progress: Dict, candidates: np.ndarray, n_tasks: int,
          selector: TaskSelector, n_warmup: int, n_slbo: int, n_inner: int,
          n_collect: int) -> None:
  """Algorithm 1 until n_tasks tasks are kept; checkpoints after every candidate.

  progress['next_task'] indexes the candidates, progress['kept_tasks'] counts the tasks
  trained on. Without active selection every candidate is kept.
  """
  agent, runner = run.agent, run.train_runner
  meter = run_dir_lib.Progress(run.run_dir, n_tasks, progress['kept_tasks'])
  while progress['kept_tasks'] < n_tasks:
    index = progress['next_task']
    if index >= len(candidates):
      logging.warning('Stopping training after %d candidates with %d of %d tasks kept '
                      '(TaskSelector.max_candidates_per_task = %d).', index,
                      progress['kept_tasks'], n_tasks, selector.max_candidates_per_task)
      break
    task = candidates[index]
    agent.set_task(task)
    agent.new_policy()
    entry = {'task': task.tolist(), 'candidate': index, 'warmed_up': len(agent.dataset) > 0}
    if entry['warmed_up']:
      if selector.rating == 'estimated':
        agent.train_shadow_models(selector.shadow_model_steps)
      entry.update(_prefixed('warmup', agent.virtual_training(n_warmup)))
      if selector.active and _select(run, progress, selector, index, task, meter):
        progress['next_task'] = index + 1
        run.save(run.checkpoint, progress)
        continue
    for _ in range(n_slbo):
      entry['collect_return'] = float(np.mean(agent.collect(n_collect)))
      if n_inner:
        entry.update(_prefixed('inner', agent.virtual_training(n_inner)))
    entry['real_samples'] = runner.steps['collect'] + runner.steps['rating']
    entry['dataset_size'] = len(agent.dataset)
    progress['train_log'].append(entry)
    progress['next_task'] = index + 1
    progress['kept_tasks'] += 1
    kept = progress['kept_tasks']
    scalars = {'train/collect_return': entry['collect_return'],
               'train/real_samples': entry['real_samples'], 'train/task_index': kept}
    if entry['warmed_up']:
      scalars.update({'train/virtual_return': entry['warmup/virtual_return'],
                      'train/model_loss': entry['warmup/model_loss'],
                      'train/policy_kl': entry['warmup/kl'],
                      'train/policy_entropy': entry['warmup/entropy']})
    meter.log(kept, f'train task {kept}/{n_tasks} (candidate {index + 1}, task {_fmt(task)})',
              entry['real_samples'], scalars)
    run.save(run.checkpoint, progress)


def _select(run: SMTLRun, progress: Dict, selector: TaskSelector, index: int, task,
            meter: run_dir_lib.Progress) -> bool:
  """Rates the warmed-up candidate, records the decision; True if it is skipped."""
  runner = run.train_runner
  before = runner.steps['rating']
  rated = run.agent.rate(selector.rating, selector.n_rating_episodes)
  decision = selector.decide(rated['rating'], progress['ratings'])
  progress['ratings'].append(decision['rating'])
  record = {'candidate': index, 'task': np.asarray(task).tolist(), **rated, **decision,
            'rating_real_samples': runner.steps['rating'] - before}
  progress['selection_log'].append(record)
  scalars = {'select/rating': decision['rating'], 'select/skipped': float(decision['skipped'])}
  if decision['threshold'] is not None:
    scalars['select/threshold'] = decision['threshold']
  meter.write_scalars(index + 1, scalars)
  threshold = 'n/a' if decision['threshold'] is None else f'{decision["threshold"]:.4g}'
  logging.info('candidate %d (task %s): %s rating %.4g, threshold %s -> %s', index + 1,
               _fmt(task), selector.rating, decision['rating'], threshold,
               'skipped' if decision['skipped'] else 'kept')
  return decision['skipped']


def adapt(run: SMTLRun, progress: Dict, tasks: np.ndarray, n_warmup: int, n_adapt: int,
          n_inner: int, n_collect: int, eval_episodes: int) -> None:
  """Adapts to every test task from the trained state; checkpoints after every stage."""
  agent, runner = run.agent, run.test_runner
  agent.runner = runner
  n_units = len(tasks) * (n_adapt + 1)
  meter = run_dir_lib.Progress(run.run_dir, n_units,
                               progress['next_test'] * (n_adapt + 1) + progress['next_stage'])
  for index in range(progress['next_test'], len(tasks)):
    task = tasks[index]
    if progress['next_stage'] == 0:
      run.start_test_task(index)
    agent.set_task(task)
    if progress['next_stage'] == 0:
      progress['test_records'].append(start_test_task(agent, n_warmup, eval_episodes))
      progress['next_stage'] = 1
      _log_adaptation(meter, progress, index, len(tasks), n_adapt)
      run.save(run.checkpoint, progress)
    record = progress['test_records'][index]
    for stage in range(progress['next_stage'], n_adapt + 1):
      adaptation_stage(agent, record, n_inner, n_collect, eval_episodes)
      progress['next_stage'] = stage + 1
      _log_adaptation(meter, progress, index, len(tasks), n_adapt)
      run.save(run.checkpoint, progress)
    progress['next_test'] = index + 1
    progress['next_stage'] = 0


def adapt_batched(run: SMTLRun, progress: Dict, tasks: np.ndarray, n_warmup: int, n_adapt: int,
                  n_inner: int, n_collect: int, eval_episodes: int) -> None:
  """Adapts to the test tasks run.members.n_members at a time, as one batched computation.

  Every task of a group starts from the trained state with a fresh policy and follows the
  protocol of start_test_task and adaptation_stage. A checkpoint is written after each
  group (a crash repeats at most the group in progress).
  """
  members = run.members
  size = members.n_members
  n_units = len(tasks) * (n_adapt + 1)
  meter = run_dir_lib.Progress(run.run_dir, n_units, progress['next_test'] * (n_adapt + 1))
  for start in range(progress['next_test'], len(tasks), size):
    group = tasks[start:start + size]
    run.start_test_group(start, own_capacity=max(1, n_adapt * n_collect))
    members.new_policy()
    members.set_tasks(group)
    random_returns = members.evaluate(eval_episodes)
    members.virtual_training(n_warmup)
    returns = [members.evaluate(eval_episodes)]
    _log_group(meter, start, len(tasks), n_adapt, returns, 0)
    for stage in range(1, n_adapt + 1):
      members.collect(n_collect, purpose='adapt')
      members.virtual_training(n_inner)
      returns.append(members.evaluate(eval_episodes))
      _log_group(meter, start, len(tasks), n_adapt, returns, stage * n_collect)
    for m, task in enumerate(group):
      progress['test_records'].append({
          'task': np.asarray(task, np.float64).tolist(), 'random_policy_return': float(random_returns[m]),
          'returns': [float(r[m]) for r in returns],
          'adapt_samples': [k * n_collect for k in range(n_adapt + 1)]})
    progress['next_test'] = start + len(group)
    progress['next_stage'] = 0
    run.save(run.checkpoint, progress)


def _log_group(meter, start: int, n_tests: int, n_adapt: int, returns, samples: int) -> None:
  """TensorBoard scalars of stage k for every task of the group, and one log line."""
  k, size = len(returns) - 1, len(returns[0])
  for m in range(size):
    meter.write_scalars(start + m, {f'eval/return_iter_{k}': float(returns[k][m]),
                                    'eval/adapt_samples': samples})
  meter.log(start * (n_adapt + 1) + size * (k + 1),
            f'adapt test tasks {start + 1}-{start + size}/{n_tests} (batched), iteration {k}',
            start, {f'eval/mean_return_iter_{k}': float(np.mean(returns[k]))})


def start_test_task(agent: SLBOAgent, n_warmup: int, eval_episodes: int) -> Dict:
  """A fresh policy for the agent's current task, warmed up on the model (Eq. 6).

  Returns the test-task record: task, the fresh policy's return, and the return after the
  warm-up (0 real adaptation samples).
  """
  agent.new_policy()
  random_return = agent.evaluate(eval_episodes)
  agent.virtual_training(n_warmup)
  return {'task': agent.runner.env.task.tolist(), 'random_policy_return': random_return,
          'returns': [agent.evaluate(eval_episodes)], 'adapt_samples': [0]}


def adaptation_stage(agent: SLBOAgent, record: Dict, n_inner: int, n_collect: int,
                     eval_episodes: int) -> None:
  """One SLBO stage on the test task; appends its return and cumulative samples to record."""
  agent.collect(n_collect, purpose='adapt')
  agent.virtual_training(n_inner)
  record['returns'].append(agent.evaluate(eval_episodes))
  record['adapt_samples'].append(record['adapt_samples'][-1] + n_collect)


def _log_adaptation(meter, progress, index: int, n_tests: int, n_adapt: int) -> None:
  record = progress['test_records'][index]
  k = len(record['returns']) - 1
  meter.log(index * (n_adapt + 1) + k + 1,
            f'adapt test task {index + 1}/{n_tests} (task {_fmt(record["task"])}), iteration {k}',
            index, {f'eval/return_iter_{k}': record['returns'][k],
                    'eval/adapt_samples': record['adapt_samples'][k]})


def _prefixed(prefix: str, stats: Dict[str, float]) -> Dict[str, float]:
  return {f'{prefix}/{key}': value for key, value in stats.items()}


def _fmt(task) -> str:
  return ', '.join(f'{value:.3g}' for value in np.ravel(task))
