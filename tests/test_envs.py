"""Task environments: gymnasium registration and checks, parameter spaces, shifts."""
import gymnasium
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from smtl_tf import envs
from smtl_tf.envs import bodies


@pytest.mark.parametrize('family', sorted(envs.FAMILIES))
def test_every_family_is_registered_and_passes_check_env(family):
  spec = envs.get_family(family)
  env = gymnasium.make(spec.env_id, task=spec.sample(np.random.default_rng(0), 1)[0])
  check_env(env.unwrapped, skip_render_check=True)
  assert env.spec.max_episode_steps == envs.HORIZON


@pytest.mark.parametrize('dynamics', ['low_friction', 'crippled'])
def test_ant_shifts_pass_check_env(dynamics):
  check_env(envs.make_env('ant_fwdbwd', dynamics=dynamics), skip_render_check=True)


def test_control_steps_match_the_original_code():
  assert envs.make_env('halfcheetah_vel').dt == pytest.approx(0.01)
  assert envs.make_env('ant_vel').dt == pytest.approx(0.02)
  assert envs.make_env('humanoid_vel').dt == pytest.approx(0.01)


def test_sampling_is_seeded_and_inside_the_space():
  for family in envs.FAMILIES.values():
    a = family.sample(np.random.default_rng(3), 50)
    b = family.sample(np.random.default_rng(3), 50)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (50, family.task_dim)
    assert all(family.contains(task) for task in a)
  directions = envs.get_family('ant_fwdbwd').sample(np.random.default_rng(0), 100)
  assert set(directions.ravel()) == {-1.0, 1.0}


@pytest.mark.parametrize('family,bad', [('halfcheetah_vel', 2.5), ('halfcheetah_vel', -0.1),
                                        ('ant_vel2d', (0.0, 3.5)), ('ant_fwdbwd', 0.5),
                                        ('humanoid_vel', float('nan')), ('ant_vel', (1.0, 1.0))])
def test_out_of_range_task_is_rejected_with_a_clear_error(family, bad):
  with pytest.raises(envs.TaskOutOfRangeError, match=family):
    envs.make_env(family, task=bad)


def test_out_of_range_task_allowed_explicitly_for_shift_experiments():
  env = envs.make_env('halfcheetah_vel', task=-1.5, allow_out_of_range=True)
  assert env.task[0] == -1.5
  with pytest.raises(envs.TaskOutOfRangeError):
    envs.make_env('halfcheetah_vel', task=float('inf'), allow_out_of_range=True)


def test_unknown_names_give_clear_errors():
  with pytest.raises(ValueError, match='Unknown task family'):
    envs.make_env('cheetah_velocity')
  with pytest.raises(ValueError, match='Unknown dynamics'):
    envs.make_env('ant_vel', dynamics='icy')
  with pytest.raises(ValueError, match='ant only'):
    envs.make_env('halfcheetah_vel', dynamics='crippled')


def test_crippled_ant_ignores_the_disabled_leg():
  env = envs.make_env('ant_fwdbwd', dynamics='crippled')
  env.reset(seed=0)
  disabled = env._action_mask == 0
  assert disabled.sum() == 2
  action = np.where(disabled, 1.0, 0.0)
  env.step(action)
  np.testing.assert_array_equal(env.data.ctrl, 0.0)


def test_low_friction_halves_every_friction_coefficient():
  normal = envs.make_env('ant_fwdbwd')
  low = envs.make_env('ant_fwdbwd', dynamics='low_friction')
  np.testing.assert_allclose(low.model.geom_friction, 0.5 * normal.model.geom_friction)


def test_observation_velocity_is_the_torso_subtree_com_velocity():
  env = envs.make_env('halfcheetah_vel')
  env.reset(seed=1)
  torso = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, 'torso')
  x_before = env.data.subtree_com[torso][0]
  obs = None
  for _ in range(5):
    obs, *_ = env.step(np.ones(6))
  assert np.any(obs[-3:] != 0.0), 'subtree_linvel must be refreshed after mj_step'
  # Finite-difference check of the CoM velocity over one step.
  x_prev = env.data.subtree_com[torso][0].copy()
  obs, *_ = env.step(np.ones(6))
  x_next = env.data.subtree_com[torso][0]
  assert obs[-3] == pytest.approx((x_next - x_prev) / env.dt, abs=0.3)
  del x_before


def test_keep_xy_switch_drops_absolute_positions():
  full = envs.make_env('ant_vel')
  reduced = envs.make_env('ant_vel', keep_xy=False)
  assert full.observation_space.shape[0] - reduced.observation_space.shape[0] == 4
  obs, _ = reduced.reset(seed=0)
  assert obs[0] == pytest.approx(reduced.data.qpos[2])  # torso height comes first.
  assert bodies.get_body('ant').z_range == (0.2, 1.0)
