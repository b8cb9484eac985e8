"""MultiTaskSampler's budget rule on a scripted environment, and packed returns-to-go."""
import numpy as np
import pytest
import tensorflow as tf

from maml_tf import advantages
from maml_tf.sampler import MultiTaskSampler

HORIZON = 10


class ScriptedEnv:
  """Stands in for VectorEnv: episode k of environment i terminates after lengths[i][k] steps.

  Episodes not in the script run until the sampler's horizon. The observation is
  (environment, step within the episode, episode number); every reward is 1.
  """

  def __init__(self, n_envs, lengths):
    self.n_envs, self.obs_dim, self.act_dim = n_envs, 3, 1
    self.lengths = {i: list(lengths.get(i, [])) for i in range(n_envs)}
    self.step_count = np.zeros(n_envs, np.int64)
    self.episode = np.full(n_envs, -1)

  def _obs(self, indices):
    return np.stack([indices, self.step_count[indices], self.episode[indices]], 1).astype(float)

  def reset(self, indices):
    indices = np.asarray(indices)
    self.episode[indices] += 1
    self.step_count[indices] = 0
    return self._obs(indices)

  def step(self, actions, indices):
    assert len(actions) == len(indices)
    indices = np.asarray(indices)
    self.step_count[indices] += 1
    limit = [self.lengths[i][self.episode[i]] if self.episode[i] < len(self.lengths[i])
             else HORIZON + 1 for i in indices]
    return self._obs(indices), np.ones(len(indices)), self.step_count[indices] >= limit


def _sampler(n_tasks, slots, lengths):
  sampler = MultiTaskSampler('point_nav', n_tasks, slots, seed=0, horizon=HORIZON)
  sampler.env = ScriptedEnv(n_tasks * slots, lengths)
  sampler.obs_dim, sampler.act_dim = 3, 1
  return sampler


def _counting_act_fn(calls):
  def act(obs):
    calls.append(obs.shape)
    return np.zeros((*obs.shape[:2], 1))
  return act


def _episodes(batch, task):
  """Episode lengths of one task, read from time_steps and episode_end."""
  n = int(batch['samples'][task])
  starts = np.flatnonzero(batch['time_steps'][task, :n] == 0)
  return np.diff(np.r_[starts, n]).tolist()


def test_hand_computed_schedule():
  # Budget 25, H 10, 3 slots. t=0: room 25 -> ceil(2.5) = 3 episodes (slots 0-2).
  # Slot 2 ends after 2 steps: room 25 - 2 - 2*10 = 3 -> one more episode in slot 2 (10 steps).
  # Slot 0 ends after 4: room 25 - 6 - 20 < 0. Slot 1 ends after 10: room 25 - 16 - 10 < 0.
  # Slot 2's second episode ends at t = 12: 26 samples >= 25, nothing runs: stop.
  sampler = _sampler(1, 3, {0: [4], 1: [], 2: [2]})
  calls = []
  batch = sampler.collect(_counting_act_fn(calls), 25, 'train')
  assert batch['samples'].tolist() == [26] and batch['episodes'].tolist() == [4]
  assert _episodes(batch, 0) == [2, 4, 10, 10]           # in order of completion
  assert batch['obs'].shape == (1, 25 + HORIZON - 1, 3)
  np.testing.assert_array_equal(batch['mask'][0], np.r_[np.ones(26), np.zeros(8)])
  np.testing.assert_array_equal(batch['episode_end'][0, :26],
                                np.repeat([2, 6, 16, 26], [2, 4, 10, 10]))
  assert np.all(batch['episode_end'][0, 26:] == 34)
  # obs = (environment, step, episode): slot 2's first episode, then slot 0's, ...
  np.testing.assert_array_equal(batch['obs'][0, :6], [[2, 0, 0], [2, 1, 0], [0, 0, 0], [0, 1, 0],
                                                      [0, 2, 0], [0, 3, 0]])
  np.testing.assert_array_equal(batch['obs'][0, 16:18], [[2, 0, 1], [2, 1, 1]])
  assert len(calls) == 12 and set(calls) == {(1, 3, 3)}   # one policy call per time step
  assert batch['mean_return'].tolist() == [26 / 4]
  assert sampler.steps['train'] == 26


@pytest.mark.parametrize('budget', [1, 19, 20, 21, 45])
def test_budget_is_met_in_whole_episodes_despite_terminations(budget):
  rng = np.random.default_rng(budget)
  n_tasks, slots = 3, 5
  lengths = {i: rng.integers(1, HORIZON + 1, size=20).tolist() for i in range(n_tasks * slots)}
  sampler = _sampler(n_tasks, slots, lengths)
  batch = sampler.collect(_counting_act_fn([]), budget, 'adapt')
  for task in range(n_tasks):
    n = int(batch['samples'][task])
    assert budget <= n < budget + HORIZON
    assert batch['mask'][task].sum() == n and batch['mask'][task, :n].all()
    episode_lengths = _episodes(batch, task)
    assert sum(episode_lengths) == n and len(episode_lengths) == batch['episodes'][task]
    # Every episode ran to its scripted termination or to the horizon (whole episodes).
    env_ids = batch['obs'][task, np.flatnonzero(batch['time_steps'][task, :n] == 0), 0]
    episode_ids = batch['obs'][task, np.flatnonzero(batch['time_steps'][task, :n] == 0), 2]
    for length, env, k in zip(episode_lengths, env_ids.astype(int), episode_ids.astype(int)):
      assert length == min(lengths[env][k], HORIZON)
  assert sampler.steps['adapt'] == batch['samples'].sum()


def test_without_terminations_all_episodes_start_together():
  sampler = _sampler(2, 4, {})
  calls = []
  batch = sampler.collect(_counting_act_fn(calls), 3 * HORIZON, 'train')
  assert batch['samples'].tolist() == [30, 30] and batch['episodes'].tolist() == [3, 3]
  assert len(calls) == HORIZON and set(calls) == {(2, 3, 3)}   # 3 of the 4 slots can be busy


def test_episode_returns_runs_one_fresh_episode_per_slot():
  sampler = _sampler(2, 4, {0: [3], 5: [7]})
  returns = sampler.episode_returns(_counting_act_fn([]), 2, 'evaluate')
  np.testing.assert_array_equal(returns, [[3, HORIZON], [HORIZON, 7]])
  assert sampler.steps['evaluate'] == 3 + 10 + 10 + 7
  with pytest.raises(ValueError, match='slots_per_task'):
    sampler.episode_returns(_counting_act_fn([]), 5, 'evaluate')


def test_packed_returns_to_go_restart_at_every_episode():
  rng = np.random.default_rng(0)
  lengths = [[3, 5, 2], [6, 4]]
  n, gamma = 12, 0.9
  rewards, time_steps = np.zeros((2, n), np.float32), np.zeros((2, n), np.int32)
  episode_end, expected = np.full((2, n), n, np.int32), np.zeros((2, n), np.float32)
  for task, episodes in enumerate(lengths):
    start = 0
    for length in episodes:
      r = rng.normal(size=length).astype(np.float32)
      rewards[task, start:start + length] = r
      time_steps[task, start:start + length] = np.arange(length)
      episode_end[task, start:start + length] = start + length
      for i in range(length):
        expected[task, start + i] = sum(gamma**(j - i) * r[j] for j in range(i, length))
      start += length
  returns = advantages.discounted_returns(tf.constant(rewards), tf.constant(time_steps),
                                          tf.constant(episode_end), gamma)
  np.testing.assert_allclose(returns.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_completed_episode_returns_count_the_short_episodes_a_slot_finishes_meanwhile():
  # Slot 0 ends an episode every 2 steps; slot 1 runs to the horizon (10). The task stops once its
  # completed episodes hold 20 samples, at step 10: five episodes of 2 and one of 10 (every reward
  # is 1, so a return is the episode's length). Fresh episodes would average (2 + 10) / 2 = 6.
  sampler = _sampler(1, 3, {0: [2] * 6})
  returns = sampler.completed_episode_returns(_counting_act_fn([]), 2 * HORIZON, 'evaluate')
  np.testing.assert_allclose(returns, [(5 * 2 + 10) / 6])
  assert sampler.steps['evaluate'] == 20
  # A second task that never ends early stops after one episode per slot; the first task's
  # dropped episode (slot 0's sixth, cut when its task finished) is not counted.
  sampler = _sampler(2, 2, {0: [2] * 6})
  returns = sampler.completed_episode_returns(_counting_act_fn([]), 2 * HORIZON, 'evaluate')
  np.testing.assert_allclose(returns, [20 / 6, HORIZON])
  with pytest.raises(ValueError, match='slots_per_task'):
    sampler.completed_episode_returns(_counting_act_fn([]), 3 * HORIZON, 'evaluate')
