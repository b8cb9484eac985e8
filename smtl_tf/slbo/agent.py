"""SLBO on one task (Luo et al. 2019): the pieces Algorithm 1 runs once per task.

`SLBOAgent` owns the shared state (normalizers, dynamics model, dataset, value
function) and the per-task policy, and exposes the phases:
  collect          n real samples with OU noise into the dataset (Alg. 1 line 7);
  virtual_training n_inner x (n_model Adam steps, n_policy TRPO updates on the
                   model) (Alg. 1 lines 9-14);
  evaluate         fresh real episodes without noise (counted separately);
  rate             a task's difficulty for active task selection (smtl_tf/active.py).
"""
from typing import Dict, Optional, Sequence

import gin
import numpy as np
import tensorflow as tf

from smtl_tf.slbo import gae as gae_lib
from smtl_tf import seeding
from smtl_tf.slbo.dataset import MemberDatasets, TransitionDataset
from smtl_tf.slbo.dynamics_model import DynamicsModel
from smtl_tf.slbo.model_trainer import ModelTrainer, check_finite
from smtl_tf.slbo.normalizer import Normalizers
from smtl_tf.slbo.policy import GaussianPolicy
from smtl_tf.envs.real_runner import OUNoise, RealRunner
from smtl_tf.slbo.trpo import TRPO
from smtl_tf.slbo.value_function import ValueFunction
from smtl_tf.slbo.virtual_env import VirtualEnv, episode_returns


DATASET_PREFIX = 'dataset/'

# The numpy streams a test task's adaptation restarts (SLBOAgent.reseed).
RESEEDED_STREAMS = ('policy', 'minibatches', 'reset_pool', 'virtual_resets', 'value_minibatches',
                    'ou_noise')


class AgentDatasetArrays:
  """For an algorithm whose checkpoint arrays are its `agent`'s dataset (SLBOAgent)."""

  def arrays(self) -> Dict[str, np.ndarray]:
    return self.agent.dataset_arrays()

  def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
    self.agent.load_dataset_arrays(arrays)


@gin.configurable
class SLBOAgent(tf.Module):
  """Model, dataset, policy and their trainers for model-based policy optimization.

  The agent keeps no runner: collect, evaluate, rate and virtual_training act on the runner
  they are given (training or test environments of one body and reward form).

  Args:
    runner: a RealRunner of the task family: sets the shapes, the horizon, the reward function
      and the exploration noise's batch (runner.n_envs); not kept.
    seed: the run's seed; with `stream` it names every random stream the agent draws from
      (smtl_tf.seeding): 'init' (model and value-function weights), 'policy' (each new
      policy's weights and its action-sampling key), 'minibatches' (model training
      windows), 'reset_pool' (the real reset states virtual rollouts may start from, drawn
      as the real environments draw theirs), 'virtual_resets' (which of them start rollouts),
      'value_minibatches' (value-fit order), 'ou_noise', 'shadow_init', and TensorFlow's
      'virtual_env' / 'shadow_env' generators (virtual resets after early terminations).
    stream: the agent's name among the run's streams (e.g. ('agent',), ('members',)).
    n_model: Adam steps per inner iteration (paper n_model = 100).
    n_policy: TRPO updates per inner iteration (paper n_policy = 40).
    n_trpo: virtual samples per TRPO update (4000 HalfCheetah, 8000 Ant/Humanoid).
    model_batch_size: transitions per Adam step (paper 128).
    multi_step: k of the k-step loss (SLBO 2).
    gamma, gae_lambda: discount and GAE lambda (0.99, 0.95).
    reset_pool_size: real reset states drawn per virtual-training call.
    dataset_capacity: transitions kept in the dataset.
    n_shadow_models: extra dynamics models (own initialization, same data and normalizers)
      whose disagreement is the 'estimated' difficulty rating; 0 without active selection.
    n_members: tasks handled as one batched computation (their own policies, value
      functions, normalizers and model copies; leading axis M of every variable). The
      single-task phases (collect, train_model, rate) need M = 1.
  """

  def __init__(self, runner: RealRunner, seed: int, n_model: int = 100, n_policy: int = 40,
               n_trpo: int = 4000, model_batch_size: int = 128, multi_step: int = 2,
               gamma: float = 0.99, gae_lambda: float = 0.95, reset_pool_size: int = 1000,
               dataset_capacity: int = 1_000_000, n_shadow_models: int = 0, n_members: int = 1,
               stream: Sequence = ('agent',)):
    super().__init__(name='slbo_agent')
    env = runner.env
    if env.reward_fn is None:
      raise ValueError('SLBO needs the reward on its own observations (the model predicts them): '
                       "use the 'slbo' observation layout, not the 'rllab' one.")
    self.obs_dim = env.observation_space.shape[0]
    self.act_dim = env.action_space.shape[0]
    self.horizon = runner.horizon
    if n_trpo % self.horizon:
      raise ValueError(f'n_trpo={n_trpo} must be a multiple of the horizon {self.horizon}.')
    self.n_model, self.n_policy, self.n_trpo = n_model, n_policy, n_trpo
    self.model_batch_size, self.multi_step = model_batch_size, multi_step
    self.gamma, self.gae_lambda = gamma, gae_lambda
    self.reset_pool_size = reset_pool_size
    self.seed, self.stream = seed, tuple(stream)
    self.generators = {name: seeding.numpy_stream(seed, *self.stream, name)
                       for name in (*RESEEDED_STREAMS, 'init', 'shadow_init')}
    self.n_members = n_members
    self.normalizers = Normalizers(self.obs_dim, self.act_dim, n_members)
    init = self.generators['init']
    self.model = DynamicsModel(self.obs_dim, self.act_dim, self.normalizers, init)
    self.model_trainer = ModelTrainer(self.model)
    self.value_fn = ValueFunction(self.obs_dim, self.normalizers.state, init)
    self.dataset = TransitionDataset(self.obs_dim, self.act_dim, dataset_capacity)
    self.noise = OUNoise((runner.n_envs, self.act_dim), self.generators['ou_noise'])
    self.task = tf.Variable(tf.zeros([n_members, env.family.task_dim]), trainable=False, name='task')
    self.new_policy()
    self.virtual_env = VirtualEnv(self.model, self.policy, env.reward_fn,
                                  seeding.philox_state(seed, *self.stream, 'virtual_env'),
                                  horizon=self.horizon)
    self.shadow_models = [
        DynamicsModel(self.obs_dim, self.act_dim, self.normalizers, self.generators['shadow_init'])
        for _ in range(n_shadow_models)]
    self.shadow_trainers = [ModelTrainer(model) for model in self.shadow_models]
    self.shadow_envs = [VirtualEnv(model, self.policy, env.reward_fn,
                                   seeding.philox_state(seed, *self.stream, 'shadow_env', i),
                                   horizon=self.horizon)
                        for i, model in enumerate(self.shadow_models)]

  def reseed(self, *path) -> None:
    """Every stream that adaptation draws from restarts as stream (seed, *path, name): a test
    task's adaptation then depends only on the trained state and path (e.g. ('test_task', j)),
    not on the tasks adapted before it. Weight-initialization streams are left alone."""
    for name in RESEEDED_STREAMS:
      self.generators[name] = seeding.numpy_stream(self.seed, *path, name)
    self.noise.rng = self.generators['ou_noise']
    self.virtual_env.rng.reset(seeding.philox_state(self.seed, *path, 'virtual_env'))
    for i, env in enumerate(self.shadow_envs):
      env.rng.reset(seeding.philox_state(self.seed, *path, 'shadow_env', i))

  def new_policy(self) -> None:
    """A freshly initialized policy (Algorithm 1, line 4); TRPO keeps no policy state."""
    rng = self.generators['policy']
    sampler_key = int(rng.integers(2**63))
    if hasattr(self, 'policy'):
      self.policy.reinitialize(rng, sampler_key)
      return
    self.policy = GaussianPolicy(self.obs_dim, self.act_dim, self.normalizers.state, rng,
                                 sampler_key)
    self.trpo = TRPO(self.policy, self.value_fn)

  def set_task(self, runner: RealRunner, task) -> None:
    """The task of the runner's environments and of the agent's virtual rollouts."""
    runner.set_task(task)
    self.task.assign(np.tile(np.asarray(runner.env.task, np.float32), (self.n_members, 1)))

  def set_tasks(self, runner: RealRunner, tasks: np.ndarray) -> None:
    """One task per member, tasks [M, task_dim]; member m's real environments are the m-th
    group of runner.n_envs / M (member-major)."""
    tasks = np.asarray(tasks, np.float64).reshape(self.n_members, -1)
    group = runner.n_envs // self.n_members
    runner.env.set_tasks(np.repeat(tasks, group, axis=0))
    self.task.assign(runner.env.tasks[::group].astype(np.float32))

  def load_members(self, trained: 'SLBOAgent', own_capacity: int) -> None:
    """Every member starts from the single-task agent's trained state: normalizers, model and
    value function are copied M times, the model's and value fit's Adam states start fresh
    (as SMTL.restore_trained_state); each member gets its own dataset (trained.dataset, then its
    own data, see MemberDatasets). The policies are left alone."""
    pairs = [(self.normalizers, trained.normalizers), (self.model, trained.model),
             (self.value_fn, trained.value_fn)]
    targets = [v for module, _ in pairs for v in module.variables]
    sources = [v for _, module in pairs for v in module.variables]
    for target, source in zip(targets, sources, strict=True):
      value = source.numpy()
      target.assign(np.repeat(value, self.n_members, axis=0) if value.ndim else value)
    self.reset_optimizers()
    self.dataset = MemberDatasets(trained.dataset, self.n_members, own_capacity)

  def dataset_arrays(self) -> Dict[str, np.ndarray]:
    """The dataset as named arrays, for a checkpoint (members' own data is not included)."""
    return {DATASET_PREFIX + key: value for key, value in self.dataset.state_dict().items()}

  def load_dataset_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
    """Inverse of dataset_arrays(); other arrays are ignored."""
    self.dataset.load_state_dict({key[len(DATASET_PREFIX):]: value for key, value in arrays.items()
                                  if key.startswith(DATASET_PREFIX)})

  def reset_optimizers(self) -> None:
    """Fresh Adam moments for the model and the value fit (the start of a test task)."""
    self.model_trainer.reset_optimizer()
    self.trpo.reset_value_fit_optimizer()

  def collect(self, runner: RealRunner, n_samples: int, purpose: str = 'collect') -> np.ndarray:
    """Collects n_samples real samples per member with OU noise, adds them to the (member's)
    dataset and updates the (member's) normalizers.

    Returns the returns of the (noisy) episodes completed, all members together.
    """
    members = self.n_members
    batch, returns = runner.collect(self.policy.numpy_sampler(), members * n_samples,
                                    self.noise, purpose)
    if members > 1:  # [T, M * n, ...] -> [M, T, n, ...], as MemberDatasets takes it
      batch = {key: np.swapaxes(value.reshape(value.shape[0], members, -1, *value.shape[2:]), 0, 1)
               for key, value in batch.items()}
    self.dataset.add_batch(batch)
    flat = {key: batch[key].reshape(members, -1, *batch[key].shape[-1:])
            for key in ('state', 'action', 'next_state')}
    self.normalizers.update(flat['state'], flat['action'], flat['next_state'])
    return returns

  def train_model(self, n_steps: int, trainer: Optional[ModelTrainer] = None) -> Dict[str, float]:
    """n_steps Adam steps of the k-step loss for the main model (or the given trainer's)."""
    trainer = trainer or self.model_trainer
    windows = self.dataset.sample_windows(self.generators['minibatches'], n_steps,
                                          self.model_batch_size, self.multi_step)
    if self.n_members == 1:
      windows = {key: value[:, None] for key, value in windows.items()}
    stats = trainer.train(windows['states'], windows['actions'], windows['next_states'],
                          windows['masks'])
    return check_finite(stats, 'Dynamics-model training')

  def train_shadow_models(self, n_steps: int) -> None:
    """n_steps Adam steps for every shadow model on the current dataset."""
    for trainer in self.shadow_trainers:
      self.train_model(n_steps, trainer)

  def virtual_return(self, runner: RealRunner, virtual_env: Optional[VirtualEnv] = None) -> float:
    """Mean return of n_trpo / horizon episodes of the policy on a model (no real step),
    starting from reset states of the runner's environments."""
    virtual_env = virtual_env or self.virtual_env
    pool = runner.reset_states(self.reset_pool_size, self.generators['reset_pool'])
    initial = pool[self.generators['virtual_resets'].integers(0, len(pool), self.n_trpo // self.horizon)]
    batch = virtual_env.rollout(initial[None], pool[None], self.task)
    returns = episode_returns(batch['reward'][0].numpy(), batch['done'][0].numpy(),
                              batch['timeout'][0].numpy())
    return float(np.mean(returns))

  def rate(self, runner: RealRunner, rating: str, n_real_episodes: int) -> Dict[str, float]:
    """Difficulty of the current task for the current (warmed-up) policy.

    'true': virtual return on the model minus the real return of n_real_episodes fresh
      episodes (real steps counted as 'rating', not added to the dataset);
    'estimated': std of the virtual returns on the shadow models (no real step).
    """
    if rating == 'true':
      virtual = self.virtual_return(runner)
      real = self.evaluate(runner, n_real_episodes, purpose='rating')
      return {'rating': virtual - real, 'virtual_return': virtual, 'real_return': real}
    if rating == 'estimated':
      if len(self.shadow_models) < 2:
        raise ValueError('The estimated rating needs at least 2 shadow models: bind '
                         'SLBOAgent.n_shadow_models >= 2.')
      returns = [self.virtual_return(runner, env) for env in self.shadow_envs]
      return {'rating': float(np.std(returns)), 'shadow_returns': returns}
    raise ValueError(f'Unknown rating {rating!r}; choose "true" or "estimated".')

  @tf.function
  def _virtual_policy_iteration(self, initial_states, reset_pool, vf_permutations):
    """One virtual rollout batch, GAE and TRPO update, compiled together."""
    batch = self.virtual_env.rollout(initial_states, reset_pool, self.task)
    advantages, returns = gae_lib.advantages_and_returns(self.value_fn, batch, self.gamma,
                                                         self.gae_lambda)
    flat = gae_lib.flatten_time
    stats = self.trpo.update(flat(batch['state']), flat(batch['action']), flat(advantages),
                             flat(returns), vf_permutations)
    return stats, batch['reward'], batch['done'], batch['timeout']

  def train_policy_virtual(self, runner: RealRunner, n_updates: int) -> Dict[str, float]:
    """n_updates virtual rollouts + TRPO updates of every member; the last stats (arrays [M]
    when M > 1). All members start from one pool of reset states of the runner's
    environments."""
    n_envs, members = self.n_trpo // self.horizon, self.n_members
    pool = runner.reset_states(self.reset_pool_size, self.generators['reset_pool'])
    pools = np.broadcast_to(pool, (members, *pool.shape))
    stats, outcome = {}, None
    for _ in range(n_updates):
      initial = pool[self.generators['virtual_resets'].integers(0, len(pool), (members, n_envs))]
      permutations = self.generators['value_minibatches'].permuted(
          np.tile(np.arange(self.n_trpo), (members, self.trpo.vf_epochs, 1)), axis=2)
      stats, *outcome = self._virtual_policy_iteration(initial, pools, permutations.astype(np.int32))
    values = check_finite({k: tf.cast(v, tf.float32) for k, v in stats.items()}, 'TRPO on the model')
    returns = [episode_returns(*(part[m].numpy() for part in outcome)) for m in range(members)]
    means = np.array([np.mean(r) if len(r) else np.nan for r in returns])
    values['virtual_return'] = float(means[0]) if members == 1 else means
    return values

  def virtual_training(self, runner: RealRunner, n_inner: int) -> Dict[str, float]:
    """VirtualTraining(theta, phi, D, n_inner) of Algorithm 1 (virtual rollouts start from
    reset states of the runner's environments). Returns the last stats."""
    stats = {}
    for _ in range(n_inner):
      model_stats = self.train_model(self.n_model)
      stats = self.train_policy_virtual(runner, self.n_policy)
      stats.update({'model_loss': model_stats['loss'], 'model_grad_norm': model_stats['grad_norm']})
    return stats

  def evaluate(self, runner: RealRunner, n_episodes: int, purpose: str = 'evaluate'):
    """Mean return of fresh real episodes of the current (stochastic) policy on the runner's
    environments (per member, [M], when M > 1)."""
    returns = runner.evaluate(self.policy.numpy_sampler(), n_episodes, purpose, self.n_members)
    return float(np.mean(returns)) if self.n_members == 1 else returns.mean(axis=1)
