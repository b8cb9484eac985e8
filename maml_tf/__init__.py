"""MAML-TRPO and the oracle baseline on smtl_tf's task environments.

In progress (issue 4): linear_baseline.py is done; the MAML learner, sampler and oracle are not
yet written (see WORKSPACE.md, "Status").
"""
