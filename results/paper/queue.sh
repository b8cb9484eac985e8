#!/usr/bin/env bash
# Issue 13's paper-settings runs, one after another; re-running this script resumes them.
# Session 8: the run directories of sessions 5-7 were lost with the machine's home directory;
# every SMTL/MAML run starts again from the worktree at 34293e8. Logs: ~/smtl-runs/logs/<name>.log.
set -u
exec 9> ~/smtl-runs/queue.lock
flock -n 9 || { echo "queue_next.sh is already running (~/smtl-runs/queue.lock)"; exit 1; }
. /work/main/.venv/bin/activate
ROOT=~/smtl-runs/paper
# SMTL evaluations: one single-threaded worker per core (1.47x one process on 2 cores).
SMTL_EVAL_FLAGS=${SMTL_EVAL_FLAGS:---eval_workers=2 --eval_threads=1}
CODE=34293e8
run() {
  name=$1; shift
  if [ -f ~/smtl-runs/logs/$name.done ]; then return 0; fi
  echo "$(date -u +%FT%TZ) start $name at $CODE" >> ~/smtl-runs/logs/queue.log
  (cd ~/smtl-runs/code-$CODE && python "$@" --seed=0 --root_dir=$ROOT) \
    >> ~/smtl-runs/logs/$name.log 2>&1 && touch ~/smtl-runs/logs/$name.done
  echo "$(date -u +%FT%TZ) end $name rc=$?" >> ~/smtl-runs/logs/queue.log
}
[ -d ~/smtl-runs/code-$CODE ] || git -C /work/main worktree add ~/smtl-runs/code-$CODE $CODE
mkdir -p ~/smtl-runs/logs
run maml_halfcheetah_vel -m maml_tf.main --gin_file=gin/maml/halfcheetah_vel.gin
run maml_halfcheetah_pos2neg -m maml_tf.main --gin_file=gin/maml/halfcheetah_pos2neg.gin \
  --trained_run=$ROOT/halfcheetah_vel/maml/seed_0
run maml_halfcheetah_fwdbwd -m maml_tf.main --gin_file=gin/maml/halfcheetah_fwdbwd.gin
run smtl_halfcheetah_vel -m smtl_tf.main --gin_file=gin/halfcheetah_vel.gin $SMTL_EVAL_FLAGS
run smtl_halfcheetah_pos2neg -m smtl_tf.main --gin_file=gin/halfcheetah_pos2neg.gin \
  --trained_run=$ROOT/halfcheetah_vel/smtl/seed_0 $SMTL_EVAL_FLAGS
run smtl_halfcheetah_fwdbwd -m smtl_tf.main --gin_file=gin/halfcheetah_fwdbwd.gin $SMTL_EVAL_FLAGS
