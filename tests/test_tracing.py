"""Compiled phases trace once: repeated calls with the same shapes reuse the graph."""
import numpy as np

from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.slbo.agent import SLBOAgent
from smtl_tf.slbo.model_free import RealTRPOAgent


def test_slbo_phases_trace_once():
  runner = RealRunner('halfcheetah_vel', 2, seed=0)
  agent = SLBOAgent(runner, seed=0, n_model=3, n_policy=2, n_trpo=400, reset_pool_size=20)
  agent.set_task(runner, 0.5)
  for _ in range(3):
    agent.collect(runner, 400)
    agent.virtual_training(runner, n_inner=2)
    agent.evaluate(runner, 2)
  agent.new_policy()
  agent.virtual_training(runner, n_inner=1)
  assert agent.model_trainer.train.experimental_get_tracing_count() == 1
  assert agent._virtual_policy_iteration.experimental_get_tracing_count() == 1


def test_virtual_rollout_traces_once_when_called_alone():
  runner = RealRunner('ant_vel', 1, seed=0)
  agent = SLBOAgent(runner, seed=0, n_trpo=400)
  pool = runner.reset_states(10, np.random.default_rng(0))
  for _ in range(3):
    batch = agent.virtual_env.rollout(pool[None, :2], pool[None], agent.task[None])
  assert batch["state"].shape == (1, 200, 2, pool.shape[1])
  assert agent.virtual_env.rollout.experimental_get_tracing_count() == 1


def test_model_free_update_traces_once():
  runner = RealRunner('halfcheetah_vel', 2, seed=0)
  agent = RealTRPOAgent(runner, seed=0, n_trpo=400)
  for _ in range(3):
    stats = agent.iteration(runner)
  assert np.isfinite(stats['kl'])
  assert agent._update.experimental_get_tracing_count() == 1
