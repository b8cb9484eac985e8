"""MAML-TRPO and the oracle baseline on smtl_tf's task environments and run skeleton."""
