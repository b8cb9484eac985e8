"""Named parts of the reward state read the same values whether or not keep_xy drops the
absolute positions, and saved-policy listings ignore partial files."""
import numpy as np
import pytest

from smtl_tf import envs
from smtl_tf import saved_policy
from smtl_tf.envs import rendering


@pytest.mark.parametrize('body', ['ant', 'halfcheetah', 'humanoid'])
def test_parts_are_the_same_with_and_without_absolute_positions(body):
  full_index = envs.get_body(body).state_index(keep_xy=True)
  kept_index = envs.get_body(body).state_index(keep_xy=False)
  full = np.random.default_rng(0).normal(size=(5, full_index.full_size))
  full_state = envs.State(full, full_index)
  kept_state = envs.State(full[:, kept_index.kept], kept_index)
  for part in ('com_velocity', 'height') + (('torso_xmat',) if body == 'ant' else ()):
    np.testing.assert_array_equal(getattr(kept_state, part), getattr(full_state, part), part)
  for i in range(kept_index.n_xy, kept_index.nq):
    np.testing.assert_array_equal(kept_state.qpos(i), full_state.qpos(i))
  np.testing.assert_array_equal(kept_state.qvel(0), full_state.qvel(0))
  with pytest.raises(envs.DroppedStateError, match=r'qpos\[0\]'):
    kept_state.qpos(0)
  with pytest.raises(envs.DroppedStateError, match='centre of mass position'):
    kept_state.com_position  # pylint: disable=pointless-statement


def test_saved_iterations_ignore_files_a_killed_run_left_half_written(tmp_path):
  folder = tmp_path / 'policies' / 'test_task_03'
  folder.mkdir(parents=True)
  for name in ('iteration_0.npz', 'iteration_2.npz', 'iteration_1.partial', 'notes.txt'):
    (folder / name).write_bytes(b'')
  assert saved_policy.saved_iterations(str(tmp_path), 3) == [0, 2]


def test_the_point_frame_leaves_out_a_point_off_the_frame():
  frame = rendering.point_frame(np.array([-3.0, 0.0]), np.zeros(2), width=40, height=30)
  assert (frame != 255).any(axis=-1).sum() == 9 * 9  # the goal only
