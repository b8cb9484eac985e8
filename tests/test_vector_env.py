"""VectorEnv (one rollout call per step) against n TaskEnvs (the per-environment reference)."""
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf import seeding
from smtl_tf.envs.vector_env import VectorEnv

CASES = [('halfcheetah_vel', 'default', True, 'slbo'), ('ant_vel2d', 'crippled', False, 'slbo'),
         ('humanoid_fwdbwd', 'default', True, 'slbo'), ('point_nav', 'default', True, 'slbo'),
         ('halfcheetah_fwdbwd', 'default', True, 'rllab'), ('ant_vel', 'low_friction', True, 'rllab'),
         ('humanoid_vel', 'default', True, 'rllab')]


def _seeded_single(family, seed, index, **kwargs):
  """A TaskEnv drawing its resets from VectorEnv environment index's stream."""
  env = envs.make_env(family, **kwargs)
  env.np_random = seeding.numpy_stream(seed, 'env', index)
  return env


@pytest.mark.parametrize('family,dynamics,keep_xy,observation', CASES)
def test_vector_env_reproduces_task_envs_bit_for_bit(family, dynamics, keep_xy, observation):
  n, seed = 3, 7
  rng = np.random.default_rng(0)
  tasks = envs.get_family(family).sample(rng, n)
  kwargs = dict(dynamics=dynamics, keep_xy=keep_xy)
  if observation != 'slbo':
    kwargs['observation'] = observation
  vector = VectorEnv(family, n, seed, **kwargs)
  vector.set_tasks(tasks)
  singles = [_seeded_single(family, seed, i, task=task, **kwargs) for i, task in enumerate(tasks)]
  expected = np.stack([env.reset()[0] for env in singles])
  np.testing.assert_array_equal(vector.reset(), expected)
  for t in range(30):
    actions = rng.uniform(-1.5, 1.5, (n, vector.act_dim))
    active = np.arange(n) if t % 3 else np.array([0, 2])  # a partial step leaves env 1 alone
    obs, rewards, dones = vector.step(actions[active], active)
    for k, i in enumerate(active):
      single_obs, single_reward, single_done, _, _ = singles[i].step(actions[i])
      np.testing.assert_array_equal(obs[k], single_obs)
      assert rewards[k] == single_reward and dones[k] == single_done
  restarted = vector.reset(np.array([1]))
  np.testing.assert_array_equal(restarted[0], singles[1].reset()[0])


def test_reset_states_leave_the_environments_alone_and_use_the_given_generator():
  vector = VectorEnv('ant_vel', 2, seed=3)
  first = vector.reset()
  states = vector.reset_states(5, seeding.numpy_stream(3, 'pool'))
  single = envs.make_env('ant_vel')
  single.np_random = seeding.numpy_stream(3, 'pool')
  np.testing.assert_allclose(states, np.stack([single.reset()[0] for _ in range(5)]).astype(np.float32))
  obs, _, _ = vector.step(np.zeros((2, 8)))
  fresh = _seeded_single('ant_vel', 3, 0)
  np.testing.assert_array_equal(fresh.reset()[0], first[0])
  np.testing.assert_array_equal(fresh.step(np.zeros(8))[0], obs[0])


def test_vector_env_validates_tasks_and_checkpoints_generators():
  vector = VectorEnv('halfcheetah_vel', 2, seed=0)
  with pytest.raises(envs.TaskOutOfRangeError):
    vector.set_task(7.0)
  with pytest.raises(ValueError, match='Expected 2 tasks'):
    vector.set_tasks([[1.0]])
  saved = vector.rng_states()
  first = vector.reset()
  vector.set_rng_states(saved)
  np.testing.assert_array_equal(vector.reset(), first)
  with pytest.raises(ValueError, match='3 environment generators'):
    vector.set_rng_states(saved + saved[:1])
