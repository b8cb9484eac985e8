"""The check that a family's reward gives the same numbers on real and on predicted states.

The real environment scores a transition with numpy on the full reward state; the virtual
environment scores predicted observations with TensorFlow (`tensorflow.experimental.numpy`)
in float32. A reward that reads the wrong columns, a part that keep_xy=False drops, or calls
numpy directly instead of `xp` trains SMTL's policies on a reward the real environment does
not give. `check_reward` runs random actions in the real environment and compares.
"""
import dataclasses

import numpy as np

from smtl_tf.envs import families
from smtl_tf.envs import point
from smtl_tf.envs import task_env
from smtl_tf.envs.state import DroppedStateError


class RewardMismatch(AssertionError):
  """A family's TensorFlow reward or termination differs from the real environment's."""


@dataclasses.dataclass
class RewardCheck:
  """What check_reward compared: transitions, the largest reward difference, episodes ended."""
  family: str
  n_transitions: int
  max_reward_difference: float
  n_done: int


def random_transitions(env, rng: np.random.Generator, n: int):
  """n transitions of uniform actions in [-1.3, 1.3] (clipping included), resetting on done.

  Returns:
    dict of obs [n, obs_dim], action [n, act_dim], next_obs [n, obs_dim], reward [n], done [n].
  """
  rows = {'obs': [], 'action': [], 'next_obs': [], 'reward': [], 'done': []}
  obs, _ = env.reset(seed=int(rng.integers(1 << 30)))
  for _ in range(n):
    action = rng.uniform(-1.3, 1.3, env.action_space.shape)
    next_obs, reward, done, _, _ = env.step(action)
    for key, value in zip(rows, (obs, action, next_obs, reward, done)):
      rows[key].append(value)
    obs = env.reset()[0] if done else next_obs
  return {key: np.asarray(value) for key, value in rows.items()}


def check_reward(family: str, n_steps: int = 2000, seed: int = 0, dynamics: str = 'default',
                 keep_xy: bool = True, atol: float = 1e-4) -> RewardCheck:
  """Checks a family's TensorFlow reward and termination against its real environment's.

  Steps the real environment ('slbo' observations) with random actions for one task drawn
  from the family, then scores the same observations with the family's reward under
  TensorFlow in float32, as the virtual environment does.

  Args:
    family: a registered family name.
    n_steps: transitions to compare.
    seed: picks the task, the actions and the resets.
    dynamics, keep_xy: the environment's settings (as the experiment's).
    atol: largest reward difference allowed (float32 against float64).

  Returns:
    A RewardCheck.

  Raises:
    RewardMismatch: naming the family, the largest difference and where it occurs.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top (the environments need no TF)
  import tensorflow.experimental.numpy as tnp  # pylint: disable=g-import-not-at-top

  spec = families.get_family(family)
  rng = np.random.default_rng(seed)
  task = spec.sample(rng, 1)[0]
  env_class = point.PointEnv if spec.body == 'point' else task_env.TaskEnv
  env = env_class(family, task=task, dynamics=dynamics, keep_xy=keep_xy)
  data = random_transitions(env, rng, n_steps)
  reward_fn = spec.reward_fn(keep_xy)
  try:
    rewards, dones = tf.function(lambda *args: reward_fn(*args, xp=tnp))(
        *(tf.constant(data[key], tf.float32) for key in ('obs', 'action', 'next_obs')),
        tf.constant(task[None], tf.float32))
  except DroppedStateError:
    raise
  except Exception as error:  # pylint: disable=broad-except (any failure is the user's reward)
    numpy_on_tensor = 'numpy' in str(error).lower() or isinstance(error, NotImplementedError)
    hint = (' Write it with the array namespace xp it is given (xp.abs, xp.sum, ...), not '
            'numpy.' if numpy_on_tensor else '')
    raise RewardMismatch(f'The reward of family {family!r} fails under TensorFlow: '
                         f'{type(error).__name__}: {error}.{hint}') from error
  rewards, dones = np.broadcast_to(rewards.numpy(), [n_steps]), np.broadcast_to(dones.numpy(),
                                                                                [n_steps])
  differences = np.abs(rewards - data['reward'])
  worst = int(np.argmax(np.where(np.isnan(differences), np.inf, differences)))
  if not differences[worst] <= atol:
    raise RewardMismatch(
        f'The reward of family {family!r} differs between the real environment (numpy) and '
        f'TensorFlow by {differences[worst]:.3g} at transition {worst} of {n_steps} (real '
        f'{data["reward"][worst]:.6g}, TensorFlow {rewards[worst]:.6g}; task {task.tolist()}, '
        f'keep_xy={keep_xy}). The reward must compute the same function of the state in both.')
  wrong = np.flatnonzero(dones != data['done'])
  if len(wrong):
    raise RewardMismatch(
        f'The termination of family {family!r} differs between the real environment and '
        f'TensorFlow at {len(wrong)} of {n_steps} transitions (first: {int(wrong[0])}, real '
        f'{bool(data["done"][wrong[0]])}; keep_xy={keep_xy}).')
  return RewardCheck(family, n_steps, float(differences[worst]), int(data['done'].sum()))
