"""How much MuJoCo's implicit joint damping (Euler integrator) moves our HalfCheetah.

MuJoCo 4 integrates joint damping implicitly in its Euler integrator unless the `eulerdamp` flag is
disabled; whether MuJoCo 1.31 (maml_rl's) did the same is not known here. Mean forward speed of
the torso subtree's centre of mass over 20 episodes of 200 steps (2 s) from rllab's reset noise,
under actions N(0, 1) and under an open-loop sine gait, with and without implicit damping:

    python results/paper/euler_damping.py
"""
import mujoco
import numpy as np

from smtl_tf.envs import bodies

HORIZON, EPISODES = 200, 20


def mean_speed(explicit_damping: bool, policy, seed: int = 0):
  body = bodies.get_body('halfcheetah')
  model, _ = bodies.load_model(body)
  if explicit_damping:
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_EULERDAMP)
  data = mujoco.MjData(model)
  rng = np.random.default_rng(seed)
  distances = []
  for _ in range(EPISODES):
    bodies.reset_data(model, data, rng)
    mujoco.mj_forward(model, data)
    start = data.subtree_com[1][0]
    for step in range(HORIZON):
      data.ctrl[:] = np.clip(policy(step, rng), -1.0, 1.0)
      mujoco.mj_step(model, data)
    distances.append(data.subtree_com[1][0] - start)
  seconds = HORIZON * model.opt.timestep
  return np.mean(distances) / seconds, np.std(distances) / seconds


def main():
  policies = {'actions N(0, 1)': lambda step, rng: rng.normal(size=6),
              'sine gait, 1.5 Hz': lambda step, rng: np.sin(2 * np.pi * 1.5 * step * 0.01 + np.arange(6))}
  for name, policy in policies.items():
    implicit, explicit = mean_speed(False, policy), mean_speed(True, policy)
    print(f'{name}: implicit damping {implicit[0]:.3f} +- {implicit[1]:.3f} m/s, '
          f'explicit {explicit[0]:.3f} +- {explicit[1]:.3f} m/s')


if __name__ == '__main__':
  main()
