"""SLBO's components (Luo et al. 2019), which Algorithm 1 runs once per task.

agent.SLBOAgent drives them: collect real samples (envs/real_runner.py), fit the dynamics
model (dynamics_model.py, model_trainer.py, dataset.py, normalizer.py), and optimize the
policy with TRPO on virtual rollouts (virtual_env.py, policy.py, value_function.py, gae.py,
trpo.py). model_free.RealTRPOAgent is TRPO on the real environment (the oracle's learner).
"""
