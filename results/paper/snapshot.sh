#!/usr/bin/env bash
# Packs each unfinished run directory under ~/smtl-runs/paper into results/paper/inflight/, so
# that a lost home directory costs at most the work since the last snapshot (queue.sh restores
# them). A run's checkpoint is written between two of its units, and a snapshot taken while a
# unit runs holds the previous checkpoint, from which the run resumes losing nothing but time.
# Finished runs are removed from inflight/ (their results are committed instead).
#
#   results/paper/snapshot.sh [algorithm...]   (default: every algorithm; e.g. `maml` alone, as
#                                               SMTL's snapshots are ~30 MB and taken once a session)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=~/smtl-runs/paper
mkdir -p "$HERE/inflight"
# Freeze the runs' processes (their whole session) while packing, so that no snapshot holds a
# checkpoint pointer and a checkpoint from different moments.
sessions=$(for pid in $(pgrep -f -- "--root_dir=$ROOT"); do ps -o sid= -p $pid; done | sort -u)
pids=$(for sid in $sessions; do pgrep -s $sid; done)
[ -n "$pids" ] && kill -STOP $pids
trap '[ -n "$pids" ] && kill -CONT $pids' EXIT
for run_dir in $ROOT/*/*/seed_0; do
  [ -d "$run_dir" ] || continue
  relative=${run_dir#$ROOT/}
  experiment=${relative%%/*}
  algorithm=$(basename "$(dirname "$run_dir")")
  name=${algorithm}_${experiment}
  [ "$algorithm" = oracle ] && continue
  if [ $# -gt 0 ] && [[ " $* " != *" $algorithm "* ]]; then continue; fi
  if [ -f "$run_dir/results.json" ]; then
    rm -f "$HERE/inflight/$name.tar.gz"
    continue
  fi
  tar -czf "$HERE/inflight/$name.tar.gz.new" -C $ROOT "$relative"
  mv "$HERE/inflight/$name.tar.gz.new" "$HERE/inflight/$name.tar.gz"
  echo "$name: $(du -h "$HERE/inflight/$name.tar.gz" | cut -f1)"
done
