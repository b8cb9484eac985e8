"""MAML-TRPO and the oracle baseline on smtl_tf's task environments (not implemented yet:
see WORKSPACE.md, "Status")."""
