"""Sequential Multi-task Learning: Algorithm 1 and adaptation to unseen tasks (Eq. 6).

Training (Algorithm 1), one unit per candidate task:
    fresh policy                                   (line 4)
    if the dataset is not empty: warm-up VirtualTraining(n_warmup) on the model
      [active selection: rate the task, maybe skip it]
    n_slbo x (collect n_collect noisy real samples, VirtualTraining(n_inner))
The dynamics model, normalizers, value function, their optimizer states and the dataset
carry over from task to task; only the policy is re-initialized.

Adaptation, one unit per (test task, iteration), or per group of test_batch test tasks:
each test task starts from the trained state, warms up a fresh policy on the model (0 real
samples), then runs n_adapt SLBO stages; the real return is measured after the warm-up and
after every stage. Test tasks do not see each other's data.

Checkpoints, resumption, logging and results.json are the run skeleton's
(smtl_tf/runs/skeleton.py).
"""
from typing import Dict, List, Optional

import gin
import numpy as np
from absl import logging

from smtl_tf import envs
from smtl_tf import saved_policy
from smtl_tf import seeding
from smtl_tf import settings
from smtl_tf.active import TaskSelector
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.runs import protocol
from smtl_tf.runs import results as results_lib
from smtl_tf.runs import skeleton
from smtl_tf.runs.logger import tagged
from smtl_tf.slbo import policy as policy_lib
from smtl_tf.slbo.agent import AgentDatasetArrays, SLBOAgent


@gin.configurable('run_smtl', denylist=['family', 'seed', 'experiment'])
class SMTL(AgentDatasetArrays, skeleton.Algorithm):
  """SMTL on a task family, evaluated on the fixed test tasks.

  Args:
    family: training task family, e.g. 'halfcheetah_vel'.
    seed: seeds training tasks, initialization, noise and resets (not the test tasks).
    experiment: experiment name written into results.json.
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
  """

  evaluation_runners = ('test', 'test_batch')

  def __init__(self, family: str, seed: int, experiment: str = '',
               test_family: Optional[str] = None, train_dynamics: str = 'default',
               test_dynamics: str = 'default', n_tasks: int = 100, n_warmup: int = 40,
               n_slbo: int = 1, n_inner: int = 0, n_collect: int = 4000, n_adapt: int = 3,
               n_adapt_inner: int = 40, eval_episodes: int = 20, n_envs: int = 20,
               keep_xy: bool = True, test_batch: int = 1):
    settings.check_counts('run_smtl', n_tasks=n_tasks, n_slbo=n_slbo, n_collect=n_collect,
                          eval_episodes=eval_episodes, n_envs=n_envs, test_batch=test_batch)
    settings.check_counts('run_smtl', minimum=0, n_warmup=n_warmup, n_inner=n_inner,
                          n_adapt=n_adapt, n_adapt_inner=n_adapt_inner)
    self.family, self.test_family = family, test_family or family
    self.test_dynamics, self.keep_xy = test_dynamics, keep_xy
    protocol.check_compatible(self.family, self.test_family)
    self.seed, self.experiment = seed, experiment
    self.n_tasks, self.n_warmup, self.n_slbo, self.n_inner = n_tasks, n_warmup, n_slbo, n_inner
    self.n_collect, self.n_adapt, self.n_adapt_inner = n_collect, n_adapt, n_adapt_inner
    self.eval_episodes = eval_episodes
    self.selector = TaskSelector()
    self.test_tasks = protocol.test_tasks(self.test_family)
    if len(self.test_tasks) % test_batch:
      raise ValueError(f'run_smtl.test_batch={test_batch} must divide the '
                       f'{len(self.test_tasks)} test tasks.')
    self.train_runner = RealRunner(family, n_envs, seed=seed, stream=('train_env',),
                                   dynamics=train_dynamics, keep_xy=keep_xy)
    self.test_runner = RealRunner(self.test_family, n_envs, seed=seed, stream=('test_env',),
                                  dynamics=test_dynamics, keep_xy=keep_xy)
    self.agent = SLBOAgent(self.train_runner, seed)
    self._runners = {'train': self.train_runner, 'test': self.test_runner}
    self.members = None
    if test_batch > 1:
      batch_runner = RealRunner(self.test_family, n_envs * test_batch, seed=seed,
                                stream=('test_batch_env',), dynamics=test_dynamics,
                                keep_xy=keep_xy)
      self.members = SLBOAgent(batch_runner, seed, n_shadow_models=0, n_members=test_batch,
                               stream=('members',))
      self._runners['test_batch'] = batch_runner
    n_candidates = n_tasks * (self.selector.max_candidates_per_task if self.selector.active else 1)
    self.candidates = envs.get_family(family).sample(seeding.numpy_stream(seed, 'train_tasks'),
                                                     n_candidates)
    self.run = None

  # --- what the run skeleton checkpoints ---

  def trackables(self):
    return {'agent': self.agent}

  def generators(self) -> Dict[str, np.random.Generator]:
    agents = {'agent': self.agent, 'members': self.members}
    return {f'{prefix}/{name}': rng for prefix, agent in agents.items() if agent is not None
            for name, rng in agent.generators.items()}

  def runners(self):
    return self._runners

  def phases(self, run: skeleton.Run) -> List[skeleton.Phase]:
    self.run = run
    kept = lambda progress: progress.extra.get('kept_tasks', 0)
    train = skeleton.Phase(
        'train', self.train_unit, n_units=self.n_tasks, meter_units=kept,
        finished=lambda p: kept(p) >= self.n_tasks or p.unit >= len(self.candidates),
        ends_training=True)
    size = self.members.n_members if self.members else 1
    if size == 1:
      adapt = skeleton.Phase('adapt', self.adapt_unit,
                             n_units=len(self.test_tasks) * (self.n_adapt + 1),
                             n_items=len(self.test_tasks), run_item=self.adapt_item)
    else:
      adapt = skeleton.Phase('adapt', self.adapt_group_unit, n_units=len(self.test_tasks) // size,
                             n_items=len(self.test_tasks) // size, run_item=self.adapt_item)
    self._adapt_phase = adapt
    return [train, adapt]

  # --- Algorithm 1 ---

  def train_unit(self, progress: skeleton.RunProgress) -> Optional[skeleton.Report]:
    """Candidate task progress.unit: warm-up, [selection,] collection."""
    agent, runner, index = self.agent, self.train_runner, progress.unit
    extra = progress.extra
    extra.setdefault('kept_tasks', 0)
    extra['candidates'] = index + 1  # tried, kept or skipped
    task = self.candidates[index]
    agent.set_task(runner, task)
    agent.new_policy()
    entry = {'task': task.tolist(), 'candidate': index, 'warmed_up': len(agent.dataset) > 0}
    if entry['warmed_up']:
      if self.selector.rating == 'estimated':
        agent.train_shadow_models(self.selector.shadow_model_steps)
      entry.update(_prefixed('warmup', agent.virtual_training(runner, self.n_warmup)))
      if self.selector.active and self.select(progress, index, task):
        self._warn_if_out_of_candidates(progress)
        return None
    for _ in range(self.n_slbo):
      entry['collect_return'] = float(np.mean(agent.collect(runner, self.n_collect)))
      if self.n_inner:
        entry.update(_prefixed('inner', agent.virtual_training(runner, self.n_inner)))
    steps = runner.steps
    entry['real_samples'] = steps['collect'] + steps['rating']
    entry['dataset_size'] = len(agent.dataset)
    progress.train_log.append(entry)
    extra['kept_tasks'] += 1
    kept = extra['kept_tasks']
    stats = {'collect_return': entry['collect_return'], 'real_samples': entry['real_samples'],
             'task_index': kept}
    if entry['warmed_up']:
      stats.update({name: entry[f'warmup/{name}']
                    for name in ('virtual_return', 'model_loss', 'kl', 'entropy')})
    self._warn_if_out_of_candidates(progress)
    return skeleton.Report(f'train task {kept}/{self.n_tasks} (candidate {index + 1}, task '
                           f'{_fmt(task)})', entry['real_samples'], tagged(stats))

  def _warn_if_out_of_candidates(self, progress: skeleton.RunProgress) -> None:
    kept = progress.extra['kept_tasks']
    if progress.unit + 1 == len(self.candidates) and kept < self.n_tasks:
      logging.warning('Stopping training after %d candidates with %d of %d tasks kept '
                      '(TaskSelector.max_candidates_per_task = %d).', len(self.candidates), kept,
                      self.n_tasks, self.selector.max_candidates_per_task)

  def select(self, progress: skeleton.RunProgress, index: int, task) -> bool:
    """Rates the warmed-up candidate, records the decision; True if it is skipped."""
    selector, runner, extra = self.selector, self.train_runner, progress.extra
    ratings, log = extra.setdefault('ratings', []), extra.setdefault('selection_log', [])
    before = runner.steps['rating']
    rated = self.agent.rate(runner, selector.rating, selector.n_rating_episodes)
    decision = selector.decide(rated['rating'], ratings)
    ratings.append(decision['rating'])
    log.append({'candidate': index, 'task': np.asarray(task).tolist(), **rated, **decision,
                'rating_real_samples': runner.steps['rating'] - before})
    stats = {'rating': decision['rating'], 'skipped': float(decision['skipped'])}
    if decision['threshold'] is not None:
      stats['threshold'] = decision['threshold']
    self.run.logger.scalars(index + 1, tagged(stats))
    threshold = 'n/a' if decision['threshold'] is None else f'{decision["threshold"]:.4g}'
    logging.info('candidate %d (task %s): %s rating %.4g, threshold %s -> %s', index + 1,
                 _fmt(task), selector.rating, decision['rating'], threshold,
                 'skipped' if decision['skipped'] else 'kept')
    return decision['skipped']

  # --- adaptation (Eq. 6) ---

  def restore_trained_state(self) -> None:
    """Model, normalizers, value function and dataset of the end of training, with fresh
    Adam states for the model and the value fit (the original's evaluation processes loaded
    only the weights; their optimizers started from zero). Step counters and numpy and
    environment streams keep running."""
    self.run.load_trained_state()
    self.agent.reset_optimizers()

  def start_group(self, agent: SLBOAgent, runner: RealRunner, tasks: np.ndarray,
                  *stream) -> List[Dict]:
    """Eq. 6 for a group of test tasks [M, task_dim] (agent.n_members = M; M = 1 is a single
    test task) on its trained state: streams restarted as (seed, *stream), a fresh policy per
    task warmed up on the model. Returns their test records (the fresh policy's return and
    the return after the warm-up, at 0 real adaptation samples)."""
    agent.reseed(*stream)
    runner.env.reseed(self.seed, *stream, 'env')
    agent.new_policy()
    agent.set_tasks(runner, tasks)
    random_returns = np.atleast_1d(agent.evaluate(runner, self.eval_episodes))
    agent.virtual_training(runner, self.n_warmup)
    returns = np.atleast_1d(agent.evaluate(runner, self.eval_episodes))
    return [protocol.test_record(task, [value], [0], random_policy_return=random)
            for task, value, random in zip(tasks, returns, random_returns)]

  def adaptation_stage(self, agent: SLBOAgent, runner: RealRunner, records: List[Dict]) -> None:
    """One SLBO stage on every task of the group; appends each task's return to its record."""
    agent.collect(runner, self.n_collect, purpose='adapt')
    agent.virtual_training(runner, self.n_adapt_inner)
    returns = np.atleast_1d(agent.evaluate(runner, self.eval_episodes))
    for record, value in zip(records, returns):
      protocol.append_iteration(record, value, record['adapt_samples'][-1] + self.n_collect)

  def adapt_unit(self, progress: skeleton.RunProgress) -> skeleton.Report:
    """Iteration `stage` of test task `index` (progress.unit = index * (n_adapt + 1) + stage),
    a group of one adapted by the main agent; checkpointed after every iteration."""
    index, stage = divmod(progress.unit, self.n_adapt + 1)
    agent, runner, tasks = self.agent, self.test_runner, self.test_tasks[index:index + 1]
    if stage == 0:
      self.restore_trained_state()
      progress.test_records += self.start_group(agent, runner, tasks, 'test_task', index)
    else:
      agent.set_tasks(runner, tasks)  # idempotent; needed when resuming mid-task
      self.adaptation_stage(agent, runner, progress.test_records[index:index + 1])
    record = progress.test_records[index]
    self.save_policy(agent, 0, index, record)
    return skeleton.Report(
        f'adapt test task {index + 1}/{len(self.test_tasks)} (task {_fmt(record["task"])}), '
        f'iteration {stage}', index,
        tagged({f'return_iter_{stage}': record['returns'][stage],
                'adapt_samples': record['adapt_samples'][stage]}))

  def adapt_item(self, index: int) -> List[Dict]:
    """Test task `index` (or batched group `index`) from the trained state, every iteration, as
    the sequential units adapt it; returns its test records (fan_out.py runs this in workers)."""
    size = self.members.n_members if self.members else 1
    units = self._adapt_phase.n_units // self._adapt_phase.n_items
    # The units index the run's record list by test task: earlier tasks' places stay empty.
    progress = skeleton.RunProgress(phase='adapt', test_records=[None] * (index * size))
    for unit in range(index * units, (index + 1) * units):
      progress.unit = unit
      self._adapt_phase.run_unit(progress)
    return progress.test_records[index * size:]

  def adapt_group_unit(self, progress: skeleton.RunProgress) -> skeleton.Report:
    """The test tasks of group progress.unit adapted together by the batched members (their
    own policies, value functions, normalizers, model copies and data), all iterations;
    checkpointed after the group. The group's streams depend only on (seed, index of its
    first test task)."""
    members, runner = self.members, self._runners['test_batch']
    start = progress.unit * members.n_members
    tasks = self.test_tasks[start:start + members.n_members]
    self.restore_trained_state()
    members.load_members(self.agent, own_capacity=max(1, self.n_adapt * self.n_collect))
    records = self.start_group(members, runner, tasks, 'test_group', start)
    for m, record in enumerate(records):
      self.save_policy(members, m, start + m, record)
    for _ in range(self.n_adapt):
      self.adaptation_stage(members, runner, records)
      for m, record in enumerate(records):
        self.save_policy(members, m, start + m, record)
    progress.test_records += records
    self.run.logger.test_records(start, records)
    means = np.mean([record['returns'] for record in records], axis=0)
    return skeleton.Report(
        f'adapt test tasks {start + 1}-{start + len(tasks)}/{len(self.test_tasks)} (batched)',
        start, tagged({f'mean_return_iter_{k}': value for k, value in enumerate(means)}))

  def save_policy(self, agent: SLBOAgent, member: int, index: int, record: Dict) -> None:
    """Saves member `member`'s policy as test task `index`'s latest iteration (saved_policy)."""
    iteration = len(record['returns']) - 1
    saved_policy.SavedPolicy(
        **policy_lib.mean_snapshot(agent.policy, member),
        environment={'family': self.test_family, 'task': list(record['task']),
                     'dynamics': self.test_dynamics, 'keep_xy': self.keep_xy,
                     'observation': 'slbo', 'allow_out_of_range': False},
        info={'algorithm': 'smtl', 'experiment': self.experiment, 'seed': self.seed,
              'test_task': index, 'iteration': iteration, 'horizon': self.test_runner.horizon,
              'adapt_samples': record['adapt_samples'][iteration],
              'return': record['returns'][iteration]},
    ).save(saved_policy.policy_path(self.run.run_dir, index, iteration))

  # --- results ---

  def results(self, progress: skeleton.RunProgress) -> Dict:
    steps, selector, extra = self.train_runner.steps, self.selector, progress.extra
    return results_lib.make_results(
        experiment=self.experiment, algorithm='smtl', seed=self.seed, family=self.family,
        test_family=self.test_family, train_real_samples=steps['collect'] + steps['rating'],
        eval_real_samples=sum(runner.steps['evaluate'] for runner in self._runners.values()),
        test_records=progress.test_records,
        extra={'train_tasks': [entry['task'] for entry in progress.train_log],
               'train_log': progress.train_log,
               'selection': {
                   'rating': selector.rating, 'min_seen': selector.min_seen,
                   'quantile': selector.quantile, 'window': selector.window,
                   'rating_real_samples': steps['rating'],
                   'candidates': extra.get('candidates', 0),
                   'log': extra.get('selection_log', [])}})


def _prefixed(prefix: str, stats: Dict[str, float]) -> Dict[str, float]:
  return {f'{prefix}/{key}': value for key, value in stats.items()}


def _fmt(task) -> str:
  return ', '.join(f'{value:.3g}' for value in np.ravel(task))
