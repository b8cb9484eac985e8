#!/usr/bin/env bash
# A copy of ~/smtl-runs/queue_next.sh, the queue of issue 13 runs on the development machine:
# copy it to ~/smtl-runs/ (or run it from here) and start it with
#   setsid nohup bash results/paper/queue.sh > /dev/null 2>&1 < /dev/null &
# Issue 13's paper-settings runs, one after another; re-running this script resumes them.
# SMTL halfcheetah_vel continues from the worktree of the commit it started with (46d2d6b);
# the runs not yet started use the worktree at 1dfa257 (same numbers, plus checkpoints_trained/
# for MAML and the oracle, which --trained_run needs). Logs: ~/smtl-runs/logs/<name>.log.
set -u
exec 9> ~/smtl-runs/queue.lock
flock -n 9 || { echo "queue_next.sh is already running (~/smtl-runs/queue.lock)"; exit 1; }
. /root/venv/bin/activate
ROOT=~/smtl-runs/paper
run() {
  name=$1; code=$2; shift 2
  if [ -f ~/smtl-runs/logs/$name.done ]; then return 0; fi
  echo "$(date -u +%FT%TZ) start $name at $code" >> ~/smtl-runs/logs/queue.log
  (cd ~/smtl-runs/code-$code && python "$@" --seed=0 --root_dir=$ROOT) \
    >> ~/smtl-runs/logs/$name.log 2>&1 && touch ~/smtl-runs/logs/$name.done
  echo "$(date -u +%FT%TZ) end $name rc=$?" >> ~/smtl-runs/logs/queue.log
}
for commit in 46d2d6b 1dfa257; do
  [ -d ~/smtl-runs/code-$commit ] || git -C /work/main worktree add ~/smtl-runs/code-$commit $commit
done
mkdir -p ~/smtl-runs/logs
# The oracle's halfcheetah_vel run of 46d2d6b has no checkpoints_trained/: kept aside, repeated.
old=$ROOT/halfcheetah_vel/oracle/seed_0
if [ -d $old ] && [ ! -f $old/checkpoints_trained/LATEST ]; then
  mkdir -p ~/smtl-runs/old && mv $old ~/smtl-runs/old/oracle_halfcheetah_vel_46d2d6b
fi
run oracle_halfcheetah_vel_1dfa257 1dfa257 -m maml_tf.main --gin_file=gin/oracle/halfcheetah_vel.gin
run oracle_halfcheetah_pos2neg 1dfa257 -m maml_tf.main --gin_file=gin/oracle/halfcheetah_pos2neg.gin \
  --trained_run=$ROOT/halfcheetah_vel/oracle/seed_0
run smtl_halfcheetah_vel 46d2d6b -m smtl_tf.main --gin_file=gin/halfcheetah_vel.gin
run maml_halfcheetah_vel 1dfa257 -m maml_tf.main --gin_file=gin/maml/halfcheetah_vel.gin
run smtl_halfcheetah_fwdbwd 1dfa257 -m smtl_tf.main --gin_file=gin/halfcheetah_fwdbwd.gin
run maml_halfcheetah_fwdbwd 1dfa257 -m maml_tf.main --gin_file=gin/maml/halfcheetah_fwdbwd.gin
run maml_halfcheetah_pos2neg 1dfa257 -m maml_tf.main --gin_file=gin/maml/halfcheetah_pos2neg.gin \
  --trained_run=$ROOT/halfcheetah_vel/maml/seed_0
run smtl_halfcheetah_pos2neg 1dfa257 -m smtl_tf.main --gin_file=gin/halfcheetah_pos2neg.gin \
  --trained_run=$ROOT/halfcheetah_vel/smtl/seed_0
