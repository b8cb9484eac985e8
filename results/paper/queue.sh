#!/usr/bin/env bash
# Issue 13's paper-settings runs, one after another; re-running this script resumes them.
#
# Each run executes from a git worktree pinned at its own commit (~/smtl-runs/code-<commit>), with
# its run directory under ~/smtl-runs/paper and its log in ~/smtl-runs/logs/<name>.log.
# The development machine's home directory has not survived between sessions (sessions 8 and 9),
# so unfinished run directories are also kept in the repository: `snapshot.sh` (here) mirrors each
# into results/paper/inflight/<experiment>/<algorithm>/seed_0/, and `restore.sh`, called first
# here, unpacks every kept run whose directory is missing, so the next session's `queue.sh`
# resumes at the last snapshot.
#
#   setsid nohup results/paper/queue.sh > /dev/null 2>&1 < /dev/null &
#
# Bash reads a script as it runs it, so everything here is one function, read whole before it
# starts: the file can be edited (or checked out at another commit) while a queue runs.
set -u
# run <name> <experiment>/<algorithm> <commit> <python arguments...>
run() {
  name=$1 dir=$2 code=$3; shift 3
  if [ -f ~/smtl-runs/logs/$name.done ] || [ -f $ROOT/$dir/seed_0/results.json ] \
     || [ -f "$HERE/$dir/results.json" ]; then  # finished, or its results committed here
    return 0
  fi
  [ -d ~/smtl-runs/code-$code ] || git -C "$REPO" worktree add --detach ~/smtl-runs/code-$code $code
  echo "$(date -u +%FT%TZ) start $name at $code" >> ~/smtl-runs/logs/queue.log
  (cd ~/smtl-runs/code-$code && python "$@" --seed=0 --root_dir=$ROOT) \
    >> ~/smtl-runs/logs/$name.log 2>&1 && touch ~/smtl-runs/logs/$name.done
  echo "$(date -u +%FT%TZ) end $name rc=$?" >> ~/smtl-runs/logs/queue.log
}

main() {
  HERE=$(cd "$(dirname "$0")" && pwd)
  REPO=$(git -C "$HERE" rev-parse --show-toplevel)
  mkdir -p ~/smtl-runs/logs
  exec 9> ~/smtl-runs/queue.lock
  flock -n 9 || { echo "queue.sh is already running (~/smtl-runs/queue.lock)"; exit 1; }
  . "$REPO/.venv/bin/activate"
  . "$HERE/paths.sh"  # ROOT
  "$HERE/restore.sh" >> ~/smtl-runs/logs/queue.log 2>&1 \
    || { echo "$(date -u +%FT%TZ) restore.sh failed (above); nothing started" >> ~/smtl-runs/logs/queue.log; exit 1; }
  # SMTL evaluations: one single-threaded worker per core (1.47x one process on 2 cores).
  SMTL_EVAL_FLAGS=${SMTL_EVAL_FLAGS:---eval_workers=2 --eval_threads=1}

  run maml_halfcheetah_vel halfcheetah_vel/maml 4f9c18d \
    -m maml_tf.main --gin_file=gin/maml/halfcheetah_vel.gin
  run maml_halfcheetah_pos2neg halfcheetah_pos2neg/maml 4f9c18d \
    -m maml_tf.main --gin_file=gin/maml/halfcheetah_pos2neg.gin \
    --trained_run=$ROOT/halfcheetah_vel/maml/seed_0
  run maml_halfcheetah_fwdbwd halfcheetah_fwdbwd/maml 4f9c18d \
    -m maml_tf.main --gin_file=gin/maml/halfcheetah_fwdbwd.gin
  # Diagnostic for the MAML halfcheetah_fwdbwd miss (README): maml_rl's reported forward/backward
  # numbers come from meta-iteration 100 of a run with a meta-step KL bound of 0.02 ("mlr0.02");
  # the same experiment with those two changes (about 25 min).
  run maml_halfcheetah_fwdbwd_mlr002 halfcheetah_fwdbwd_mlr002/maml 4f9c18d \
    -m maml_tf.main --gin_file=gin/maml/halfcheetah_fwdbwd.gin \
    "--gin_bindings=train_eval.experiment = 'halfcheetah_fwdbwd_mlr002'" \
    "--gin_bindings=MAMLLearner.max_kl = 0.02" "--gin_bindings=run_maml.n_iterations = 100"
  run smtl_halfcheetah_vel halfcheetah_vel/smtl 4f9c18d \
    -m smtl_tf.main --gin_file=gin/halfcheetah_vel.gin $SMTL_EVAL_FLAGS
  run smtl_halfcheetah_pos2neg halfcheetah_pos2neg/smtl 4f9c18d \
    -m smtl_tf.main --gin_file=gin/halfcheetah_pos2neg.gin \
    --trained_run=$ROOT/halfcheetah_vel/smtl/seed_0 $SMTL_EVAL_FLAGS
  run smtl_halfcheetah_fwdbwd halfcheetah_fwdbwd/smtl 4f9c18d \
    -m smtl_tf.main --gin_file=gin/halfcheetah_fwdbwd.gin $SMTL_EVAL_FLAGS
  # Diagnostic for the MAML halfcheetah_vel miss (README): maml_rl's reported numbers come from
  # meta-iteration 475 of a run with 10 episodes per task and batch ("fbs10"); the same experiment
  # with those two changes.
  run maml_halfcheetah_vel_fbs10 halfcheetah_vel_fbs10/maml 4f9c18d \
    -m maml_tf.main --gin_file=gin/maml/halfcheetah_vel.gin \
    "--gin_bindings=train_eval.experiment = 'halfcheetah_vel_fbs10'" \
    "--gin_bindings=run_maml.n_episodes = 10" "--gin_bindings=run_maml.n_iterations = 475"
}

main "$@"; exit
