"""Dynamics model, k-step loss (Eq. 4), its Adam trainer and the dataset's k-step windows."""
import os

import numpy as np
import pytest
import tensorflow as tf

from smtl_tf.slbo.dataset import TransitionDataset
from smtl_tf.slbo.dynamics_model import DynamicsModel
from smtl_tf.slbo.model_trainer import ModelTrainer, multi_step_loss
from smtl_tf.slbo.normalizer import Normalizers


def _toy_model(states, actions):
  return 2.0 * states + actions


@pytest.mark.parametrize('mask,expected', [(1.0, (0.353553 + 0.790569) / 2),
                                           (0.0, (0.353553 + 0.707107) / 2)])
def test_k_step_loss_matches_hand_computation(mask, expected):
  # s0 = (0, 0), a0 = (1, 0), s1 = (1, 1); a1 = (0, 1), s2 = (1, 3); diff std (1, 2).
  # Step 0: predicted delta (1, 0) vs true (1, 1) -> error (0, -0.5), RMS sqrt(0.125).
  # Step 1 from the prediction (1, 0): predicted delta (1, 1) vs (0, 2) -> (1, -0.5), RMS sqrt(0.625);
  # from the true state (mask 0): predicted delta (1, 2) vs (0, 2) -> (1, 0), RMS sqrt(0.5).
  states = tf.constant([[[[0.0, 0.0]], [[1.0, 1.0]]]])  # [M=1, k=2, B=1, d=2]
  actions = tf.constant([[[[1.0, 0.0]], [[0.0, 1.0]]]])
  next_states = tf.constant([[[[1.0, 1.0]], [[1.0, 3.0]]]])
  masks = tf.constant([[[mask], [1.0]]])
  loss = multi_step_loss(_toy_model, tf.constant([[1.0, 2.0]]), states, actions, next_states, masks)
  assert loss.shape == (1,) and float(loss[0]) == pytest.approx(expected, rel=1e-5)


def _linear_system_batch(rng, n_envs=10, steps=50):
  a_matrix = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.1, 0.0, 0.95]])
  b_matrix = np.array([[0.5, 0.0], [0.0, 0.3], [0.2, 0.2]])
  state = rng.normal(size=(n_envs, 3))
  rows = {key: [] for key in ('state', 'action', 'next_state', 'reward', 'done', 'timeout')}
  for _ in range(steps):
    action = rng.uniform(-1, 1, (n_envs, 2))
    next_state = state @ a_matrix.T + action @ b_matrix.T
    for key, value in zip(rows, (state, action, next_state, np.zeros(n_envs),
                                 np.zeros(n_envs, bool), np.zeros(n_envs, bool))):
      rows[key].append(value)
    state = next_state
  return {key: np.stack(value) for key, value in rows.items()}


def test_model_fit_drives_the_k_step_loss_down_on_a_linear_system():
  rng = np.random.default_rng(0)
  normalizers = Normalizers(3, 2)
  model = DynamicsModel(3, 2, normalizers, rng, hidden_sizes=(64, 64))
  trainer = ModelTrainer(model, jit_compile=False)
  dataset = TransitionDataset(3, 2, capacity=10_000)
  batch = _linear_system_batch(rng)
  dataset.add_batch(batch)
  flat = {k: v.reshape(1, -1, v.shape[-1]) for k, v in batch.items() if k in ('state', 'action', 'next_state')}
  normalizers.update(flat['state'], flat['action'], flat['next_state'])
  held_out = dataset.sample_windows(rng, 1, 256, 2)
  def loss():
    return float(trainer.evaluate(*(held_out[k] for k in ('states', 'actions', 'next_states', 'masks')))[0])
  before = loss()
  for _ in range(5):
    windows = {k: v[:, None] for k, v in dataset.sample_windows(rng, 100, 128, 2).items()}
    trainer.train(windows['states'], windows['actions'], windows['next_states'], windows['masks'])
  after = loss()
  assert before > 0.5
  assert after < 0.2 * before


def test_dataset_windows_restart_at_episode_ends_and_batch_boundaries():
  rng = np.random.default_rng(1)
  dataset = TransitionDataset(3, 2, capacity=10_000)
  for _ in range(3):
    batch = _linear_system_batch(rng, n_envs=4, steps=6)
    batch['done'][2, 1] = True
    dataset.add_batch(batch)
  assert len(dataset) == 3 * 4 * 6
  windows = dataset.sample_windows(rng, 20, 64, 3)
  states, next_states, masks = windows['states'], windows['next_states'], windows['masks']
  for i in range(2):
    continuing = masks[:, i] == 1.0
    np.testing.assert_array_equal(states[:, i + 1][continuing], next_states[:, i][continuing])
  arrays = dataset.arrays()
  # Every collection segment (one env of one batch) ends in a timeout.
  assert arrays['timeout'].reshape(-1, 6)[:, -1].all()
  assert arrays['done'].sum() == 3


def test_dataset_is_fifo_at_capacity_and_round_trips():
  rng = np.random.default_rng(2)
  dataset = TransitionDataset(3, 2, capacity=50)
  batches = [_linear_system_batch(rng, n_envs=2, steps=10) for _ in range(4)]
  for batch in batches:
    dataset.add_batch(batch)
  assert len(dataset) == 50 and dataset.n_added == 80
  newest = np.swapaxes(batches[-1]['state'], 0, 1).reshape(-1, 3)
  np.testing.assert_allclose(dataset.arrays()['state'][-20:], newest, rtol=1e-6)
  copy = TransitionDataset(3, 2, capacity=50)
  copy.load_state_dict(dataset.state_dict())
  for key, value in dataset.arrays().items():
    np.testing.assert_array_equal(copy.arrays()[key], value)
  assert copy.n_added == 80


def test_nan_in_training_raises_a_clear_error():
  from smtl_tf.envs.real_runner import RealRunner
  from smtl_tf.slbo.agent import SLBOAgent
  runner = RealRunner('halfcheetah_vel', 2, seed=0)
  agent = SLBOAgent(runner, seed=0, n_trpo=400)
  agent.set_task(runner, 1.0)
  agent.collect(runner, 400)
  kernel = agent.model.net.kernels[0]
  kernel.assign(np.full(kernel.shape, np.nan, np.float32))
  with pytest.raises(FloatingPointError, match='diverged'):
    agent.train_model(3)


def _members_and_singles(n_members, rng_seed=0):
  """A 3-member model + trainer, and one single-member model per member with its weights."""
  def build(members):
    normalizers = Normalizers(3, 2, members)
    model = DynamicsModel(3, 2, normalizers, np.random.default_rng(rng_seed), hidden_sizes=(16, 16),
                          init_std=0.3)
    return normalizers, model, ModelTrainer(model, jit_compile=False)
  batched = build(n_members)
  singles = [build(1) for _ in range(n_members)]
  rng = np.random.default_rng(5)
  data = [_linear_system_batch(rng) for _ in range(n_members)]  # a different dataset per member
  flat = {k: np.stack([d[k].reshape(-1, d[k].shape[-1]) for d in data])
          for k in ('state', 'action', 'next_state')}
  batched[0].update(flat['state'], flat['action'], flat['next_state'])
  for m, (normalizers, model, _) in enumerate(singles):
    normalizers.update(flat['state'][m:m + 1], flat['action'][m:m + 1], flat['next_state'][m:m + 1])
    for single, stacked in zip(model.variables_to_train, batched[1].variables_to_train):
      single.assign(stacked[m:m + 1] * (1.0 + m))  # members differ
  stacked_values = [np.concatenate([s[1].variables_to_train[i].numpy() for s in singles])
                    for i in range(len(singles[0][1].variables_to_train))]
  for variable, value in zip(batched[1].variables_to_train, stacked_values):
    variable.assign(value)
  return batched, singles, data


def test_batched_model_training_equals_training_each_member_alone():
  n_members = 3
  batched, singles, data = _members_and_singles(n_members)
  rng = np.random.default_rng(6)
  windows = []
  for batch in data:
    dataset = TransitionDataset(3, 2, capacity=1000)
    dataset.add_batch(batch)
    windows.append(dataset.sample_windows(rng, 20, 32, 2))
  stacked = {k: np.stack([w[k] for w in windows], axis=1) for k in windows[0]}  # [steps, M, ...]
  keys = ('states', 'actions', 'next_states', 'masks')
  stats = batched[2].train(*(stacked[k] for k in keys))
  for m, (_, model, trainer) in enumerate(singles):
    alone = trainer.train(*(windows[m][k][:, None] for k in keys))
    np.testing.assert_allclose(stats['loss'][m], alone['loss'][0], rtol=1e-4)
    np.testing.assert_allclose(stats['grad_norm'][m], alone['grad_norm'][0], rtol=1e-4)
    for stacked_variable, own in zip(batched[1].variables_to_train, model.variables_to_train):
      np.testing.assert_allclose(stacked_variable[m:m + 1].numpy(), own.numpy(), rtol=1e-3,
                                 atol=1e-5)


def test_member_datasets_equal_a_copy_of_the_base_per_member():
  from smtl_tf.slbo.dataset import MemberDatasets
  rng = np.random.default_rng(3)
  base = TransitionDataset(3, 2, capacity=50)
  for _ in range(3):
    base.add_batch(_linear_system_batch(rng, n_envs=2, steps=10))  # 60 added, 50 kept
  members = MemberDatasets(base, n_members=3, own_capacity=100)
  own = [_linear_system_batch(rng, n_envs=2, steps=n) for n in (4, 4, 4)]
  members.add_batch({key: np.stack([batch[key] for batch in own]) for key in own[0]})
  copies = []
  for batch in own:
    copy = TransitionDataset(3, 2, capacity=50)
    copy.load_state_dict(base.state_dict())
    copy.add_batch(batch)
    copies.append(copy)
  np.testing.assert_array_equal(members.sizes(), [len(copy) for copy in copies])
  windows = members.sample_windows(np.random.default_rng(9), 5, 16, 2)
  reference = np.random.default_rng(9)
  for m, copy in enumerate(copies):
    expected = copy.sample_windows(reference, 5, 16, 2)
    for key, value in expected.items():
      np.testing.assert_array_equal(windows[key][:, m], value)


def _adam_state(optimizer):
  """An optimizer's step counter and moment variables (everything but the learning rate)."""
  return [v for v in optimizer.variables if v is not optimizer.learning_rate]


@pytest.mark.parametrize('bind_slbo_gin', [False, True])
def test_every_adam_uses_tf1s_epsilon(bind_slbo_gin, repo_root):
  import gin
  from smtl_tf import main
  from smtl_tf.envs.real_runner import RealRunner
  from smtl_tf.slbo.agent import SLBOAgent
  if bind_slbo_gin:
    main.parse_gin([os.path.join(repo_root, 'gin', 'base', 'slbo.gin')],
                   ['SLBOAgent.dataset_capacity = 1000', 'DynamicsModel.hidden_sizes = (16, 16)'])
    assert gin.query_parameter('ModelTrainer.adam_epsilon') == 1e-8
    assert gin.query_parameter('TRPO.vf_adam_epsilon') == 1e-8
  agent = SLBOAgent(RealRunner('halfcheetah_vel', 2, seed=0), seed=0, n_trpo=400,
                    n_shadow_models=2)
  trainers = [agent.model_trainer, *agent.shadow_trainers]
  for optimizer in [*(t.optimizer for t in trainers), agent.trpo.vf_optimizer]:
    assert optimizer.epsilon == 1e-8


def test_reset_optimizer_zeroes_moments_and_step_count_and_keeps_the_model():
  rng = np.random.default_rng(0)
  normalizers = Normalizers(3, 2)
  model = DynamicsModel(3, 2, normalizers, rng, hidden_sizes=(16,))
  trainer = ModelTrainer(model, learning_rate=3e-4, jit_compile=False)
  dataset = TransitionDataset(3, 2, capacity=10_000)
  dataset.add_batch(_linear_system_batch(rng))
  windows = {k: v[:, None] for k, v in dataset.sample_windows(rng, 3, 32, 2).items()}
  trainer.train(windows['states'], windows['actions'], windows['next_states'], windows['masks'])
  assert int(trainer.optimizer.iterations) == 3
  assert all(np.any(v.numpy() != 0) for v in _adam_state(trainer.optimizer))
  weights = [v.numpy() for v in model.variables]
  trainer.reset_optimizer()
  assert all(np.all(v.numpy() == 0) for v in _adam_state(trainer.optimizer))
  assert float(trainer.optimizer.learning_rate) == pytest.approx(3e-4)
  for variable, value in zip(model.variables, weights):
    np.testing.assert_array_equal(variable.numpy(), value)
  trainer.train(windows['states'], windows['actions'], windows['next_states'], windows['masks'])
  assert int(trainer.optimizer.iterations) == 3  # counts again from 0, in the compiled step too
