# Sourced by snapshot.sh, restore.sh and collect.sh: where the paper runs live, and which finished
# runs another queued run evaluates with --trained_run (their trained state is kept).
# SMTL_PAPER_ROOT and SMTL_PAPER_EVALUATED override them (the tests use a sandbox root).
ROOT=$(realpath -m "${SMTL_PAPER_ROOT:-$HOME/smtl-runs/paper}")
EVALUATED=${SMTL_PAPER_EVALUATED:-"halfcheetah_vel/smtl halfcheetah_vel/maml"}
