"""Throughput benchmark: python -m smtl_tf.bench [--family=halfcheetah_vel] [--json=PATH].

Measures, in one run on this machine:
  matmul_gflops          dense float32 matmul rate (2048 x 2048), the reference;
  virtual_rollout        samples/s of one 20 x 200 virtual rollout (2x500 model + policy);
  rollout_dot_chain_ratio the rollout's model matmuls alone (20 rows, 200 chained steps, XLA)
                         against the matmul rate: the ceiling of virtual_rollout_ratio, since
                         XLA runs dots this small on one core;
  trpo_update            ms of one TRPO update on 4000 samples (CG, line search, value fit);
  model_adam_100         ms of 100 Adam steps of the k-step loss (batch 128, k = 2);
  batched_*              the same three phases for 40 tasks as one computation (each task
                         with its own policy, value function and model copy);
  batched_rollout_weight_gb_per_s, memory_copy_gb_per_s
                         model weights streamed per second by the batched rollout, next to
                         the machine's memory bandwidth (what bounds it);
  batched_virtual_training_speedup (= batched_adapt_speedup)
                         one VirtualTraining iteration of 40 tasks, one after another vs batched
                         (>99% of adaptation time; run_smtl.test_batch runs it end to end);
  real_collect           real steps/s with the policy in the loop (20 lockstep envs);
  mj_step                raw mujoco.mj_step rate of the same model, the bound for real_collect.
Each compute figure is printed with its ratio to what the matmul rate allows for its
(estimated) FLOP count; real_collect with its ratio to the raw mj_step rate. A
benchmark, not a test: it asserts nothing.
"""
from smtl_tf import quiet_start  # noqa: F401  (first: TensorFlow starts without its native lines)
import json
import time
from typing import Callable, Dict

import mujoco
import numpy as np
import tensorflow as tf
from absl import app
from absl import flags

from smtl_tf import envs
from smtl_tf.envs import bodies
from smtl_tf.envs.real_runner import RealRunner
from smtl_tf.slbo.agent import SLBOAgent

flags.DEFINE_string('family', 'halfcheetah_vel', 'Task family to benchmark.')
flags.DEFINE_string('json', None, 'Also write the figures as one JSON object to this path.')
flags.DEFINE_integer('repeats', 10, 'Timed repetitions of each phase (after a warm-up).')
FLAGS = flags.FLAGS


def _time(fn: Callable[[], object], repeats: int) -> float:
  """Median wall time (s) of fn() after one warm-up call."""
  fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def _mlp_flops(sizes) -> int:
  """Forward FLOPs (multiply-adds x 2) of one row through dense layers of these widths."""
  return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_gflops(repeats: int) -> float:
  a = tf.random.normal([2048, 2048])
  b = tf.random.normal([2048, 2048])
  matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
  return 2 * 2048**3 / _time(lambda: matmul().numpy(), repeats) / 1e9


def dot_chain_gflops(sizes, rows: int, steps: int, repeats: int) -> float:
  """GFLOP/s of `steps` chained passes of `rows` rows through dense relu layers of these
  widths in one XLA loop: the model's matmuls of a virtual rollout without anything else."""
  rng = np.random.default_rng(0)
  weights = [tf.constant(rng.normal(0, 1 / np.sqrt(a), (a, b)), tf.float32)
             for a, b in zip(sizes[:-1], sizes[1:])]
  back = tf.constant(rng.normal(0, 1 / np.sqrt(sizes[-1]), (sizes[-1], sizes[0])), tf.float32)

  def body(t, x):
    h = x
    for w in weights:
      h = tf.nn.relu(tf.matmul(h, w))
    return t + 1, tf.tanh(tf.matmul(h, back))  # feeds the next pass, as states do

  chain = tf.function(lambda x: tf.while_loop(lambda t, _: t < steps, body, (0, x))[1],
                      jit_compile=True)
  x = tf.constant(rng.normal(size=(rows, sizes[0])), tf.float32)
  return steps * rows * _mlp_flops(sizes) / _time(lambda: chain(x).numpy(), repeats) / 1e9


def memory_copy_rate(repeats: int, n_bytes: int = 1 << 29) -> float:
  """GB/s moved (read + written) by a numpy copy of n_bytes, far larger than the caches."""
  source = np.ones(n_bytes // 4, np.float32)
  target = np.empty_like(source)
  return 2 * n_bytes / _time(lambda: np.copyto(target, source), repeats) / 1e9


def mj_step_rate(family: str, n: int = 5000) -> float:
  """Control steps/s of raw mujoco.mj_step on one MjData of the family's body (frame_skip each)."""
  body = bodies.get_body(envs.get_family(family).body)
  model, _ = bodies.load_model(body)
  data = mujoco.MjData(model)
  start = time.perf_counter()
  for _ in range(n):
    mujoco.mj_step(model, data)
  return n / (time.perf_counter() - start) / body.frame_skip


def _phase_seconds(agent: SLBOAgent, pool: np.ndarray, repeats: int) -> Dict[str, float]:
  """Median seconds of one virtual rollout, one TRPO update and 100 model Adam steps of all
  of the agent's members (M = agent.n_members), each phase as one compiled call."""
  members, n_envs = agent.n_members, agent.n_trpo // agent.horizon
  initial = np.broadcast_to(pool[:n_envs], (members, n_envs, pool.shape[1]))
  pools = np.broadcast_to(pool, (members, *pool.shape))
  seconds = {'rollout': _time(lambda: agent.virtual_env.rollout(
      initial, pools, agent.task)['reward'].numpy(), repeats)}
  batch = agent.virtual_env.rollout(initial, pools, agent.task)
  flat = {k: tf.reshape(v, [members, agent.n_trpo, -1]) for k, v in batch.items()}
  advantages = tf.random.normal([members, agent.n_trpo])
  permutations = np.random.default_rng(0).permuted(
      np.tile(np.arange(agent.n_trpo), (members, agent.trpo.vf_epochs, 1)), axis=2).astype(np.int32)
  seconds['trpo'] = _time(lambda: agent.trpo.update(
      flat['state'], flat['action'], advantages, advantages, permutations)['kl'].numpy(), repeats)
  windows = agent.dataset.sample_windows(agent.generators['minibatches'], 100, agent.model_batch_size, agent.multi_step)
  windows = {k: np.repeat(v[:, None], members, axis=1) for k, v in windows.items()}
  seconds['adam'] = _time(lambda: agent.model_trainer.train(
      windows['states'], windows['actions'], windows['next_states'], windows['masks'])['loss'].numpy(),
      repeats)
  return seconds


def run(family: str, repeats: int, n_batched: int = 40) -> Dict[str, float]:
  runner = RealRunner(family, 20, seed=0)
  agent = SLBOAgent(runner, seed=0)
  agent.set_task(runner, runner.env.family.sample(np.random.default_rng(0), 1)[0])
  obs_dim, act_dim = agent.obs_dim, agent.act_dim
  agent.collect(runner, agent.n_trpo)
  # Real collection first: after the large batched phases TensorFlow's idle worker threads
  # and the freed memory slowed the physics by up to 25% in the same process.
  seconds = _time(lambda: runner.collect(agent.policy.numpy_sampler(), 4000, agent.noise, 'bench'),
                  repeats)
  collect_figures = {'real_collect_steps_per_s': 4000 / seconds, 'mj_step_per_s': mj_step_rate(family)}
  collect_figures['real_collect_ratio'] = (collect_figures['real_collect_steps_per_s']
                                           / collect_figures['mj_step_per_s'])
  figures = {'matmul_gflops': matmul_gflops(repeats)}
  flops_per_second = figures['matmul_gflops'] * 1e9

  model_flops = _mlp_flops((obs_dim + act_dim, 500, 500, obs_dim))
  policy_flops = _mlp_flops((obs_dim, 32, 32, act_dim))
  value_flops = _mlp_flops((obs_dim, 64, 64, 1))
  rollout_flops = agent.n_trpo * (model_flops + policy_flops)
  # Estimate: gradient (3 passes) + 11 Fisher-vector products (forward-mode and reverse-mode
  # pass, ~4 passes each) + ~6 passes of line search and statistics for the policy; 5 epochs of
  # forward+backward (3 passes) + 1 pass for the value function.
  trpo_flops = agent.n_trpo * (53 * policy_flops + 16 * value_flops)
  adam_flops = 100 * agent.multi_step * agent.model_batch_size * 3 * model_flops

  pool = runner.reset_states(agent.reset_pool_size, agent.generators['reset_pool'])
  single = _phase_seconds(agent, pool, repeats)
  figures['virtual_rollout_samples_per_s'] = agent.n_trpo / single['rollout']
  figures['virtual_rollout_ratio'] = rollout_flops / single['rollout'] / flops_per_second
  # The bound: the same run's model matmuls alone, on the rollout's 20 rows per step.
  figures['rollout_dot_chain_ratio'] = dot_chain_gflops(
      (obs_dim + act_dim, 500, 500, obs_dim), agent.n_trpo // agent.horizon, agent.horizon,
      repeats) * 1e9 / flops_per_second
  figures['trpo_update_ms'] = 1e3 * single['trpo']
  figures['trpo_update_ratio'] = trpo_flops / single['trpo'] / flops_per_second
  figures['model_adam_100_ms'] = 1e3 * single['adam']
  figures['model_adam_ratio'] = adam_flops / single['adam'] / flops_per_second

  # The same phases for n_batched tasks as one computation (their own policies, value
  # functions and model copies), as batched adaptation runs them.
  batched_agent = SLBOAgent(runner, seed=0, n_members=n_batched)
  batched_agent.set_task(runner, runner.env.task)
  batched_agent.dataset = agent.dataset  # the model steps see one dataset, copied per member
  batched = _phase_seconds(batched_agent, pool, max(2, repeats // 3))
  figures['batched_rollout_samples_per_s'] = n_batched * agent.n_trpo / batched['rollout']
  figures['batched_rollout_ratio'] = n_batched * rollout_flops / batched['rollout'] / flops_per_second
  figures['batched_trpo_update_ms'] = 1e3 * batched['trpo']
  figures['batched_model_adam_100_ms'] = 1e3 * batched['adam']
  # What bounds the batched rollout: every step streams all n_batched model copies from memory
  # (one copy, ~1 MB, stays in a core's L2 cache across the steps of a single-task rollout).
  model_bytes = 4 * sum(int(np.prod(v.shape[1:])) for v in agent.model.variables_to_train)
  figures['batched_rollout_weight_gb_per_s'] = (
      n_batched * model_bytes * agent.horizon / batched['rollout'] / 1e9)
  figures['memory_copy_gb_per_s'] = memory_copy_rate(repeats)
  # One VirtualTraining iteration (n_model Adam steps, n_policy rollouts + TRPO updates) of
  # n_batched tasks: one after another vs batched. It is >95% of adaptation's compute.
  def iteration(seconds):
    return agent.n_model / 100 * seconds['adam'] + agent.n_policy * (seconds['rollout'] + seconds['trpo'])
  figures['sequential_virtual_iteration_s'] = n_batched * iteration(single)
  figures['batched_virtual_iteration_s'] = iteration(batched)
  figures['batched_virtual_training_speedup'] = (figures['sequential_virtual_iteration_s']
                                                 / figures['batched_virtual_iteration_s'])
  # VirtualTraining is >99% of an adaptation's time (real collection and evaluation of a test
  # task take well under a second), so its speedup is the adaptation's.
  figures['batched_adapt_speedup'] = figures['batched_virtual_training_speedup']

  return {**figures, **collect_figures}


def main(argv):
  del argv
  figures = run(FLAGS.family, FLAGS.repeats)
  print(f'smtl_tf.bench on {FLAGS.family} (medians of {FLAGS.repeats} runs)')
  for key, value in figures.items():
    print(f'  {key:32s} {value:12.3f}')
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump(figures, f, indent=2, sort_keys=True)


if __name__ == '__main__':
  app.run(main)
