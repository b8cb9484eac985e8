#!/usr/bin/env bash
# Mirrors each unfinished run directory under ~/smtl-runs/paper into
# results/paper/inflight/<experiment>/<algorithm>/seed_0/, every file gzipped on its own (`gzip -n`:
# the same file gives the same bytes), so that a lost home directory costs at most the work since
# the last snapshot (`restore.sh`, called by queue.sh, unpacks them). Files that did not change
# since the previous snapshot (e.g. an SMTL run's trained state while it evaluates) give the same
# git blobs, so committing snapshot after snapshot stores each such file once.
#
# A run's checkpoint is written between two of its units, and a snapshot taken while a unit runs
# holds the previous checkpoint, from which the run resumes losing nothing but time.
# A finished run's mirror is removed (its results are committed instead), except that of a run
# whose trained state another run evaluates (`checkpoints_trained/`, e.g. SMTL halfcheetah_vel for
# halfcheetah_pos2neg): its results.json, operative config and trained state stay, unless the
# trained state is committed as results/paper/<experiment>/<algorithm>/trained_state.tar.gz.
#
#   results/paper/snapshot.sh [algorithm...]   (default: every algorithm; e.g. `maml` alone)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${SMTL_PAPER_ROOT:-~/smtl-runs/paper}
mkdir -p "$HERE/inflight"
# Freeze the runs' processes (their whole session) while copying, so that no snapshot holds a
# checkpoint pointer and a checkpoint from different moments.
sessions=$(for pid in $(pgrep -f -- "--root_dir=$ROOT" || true); do ps -o sid= -p $pid; done | sort -u)
pids=$(for sid in $sessions; do pgrep -s $sid || true; done)
[ -n "$pids" ] && kill -STOP $pids
trap '[ -n "$pids" ] && kill -CONT $pids' EXIT

# mirror <run directory> <destination> [path...]: the given paths of the run (default: all but
# its .lock), each file gzipped; replaces the destination whole.
mirror() {
  local source=$1 destination=$2; shift 2
  local paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(.)
  rm -rf "$destination.new" && mkdir -p "$destination.new"
  (cd "$source" && find "${paths[@]}" -type f ! -name .lock) | while read -r file; do
    mkdir -p "$destination.new/$(dirname "$file")"
    gzip -nc "$source/$file" > "$destination.new/$file.gz"
  done
  rm -rf "$destination" && mv "$destination.new" "$destination"
}

for run_dir in $ROOT/*/*/seed_0; do
  [ -d "$run_dir" ] || continue
  relative=${run_dir#$ROOT/}
  experiment=${relative%%/*}
  algorithm=$(basename "$(dirname "$run_dir")")
  [ "$algorithm" = oracle ] && continue
  if [ $# -gt 0 ] && [[ " $* " != *" $algorithm "* ]]; then continue; fi
  rm -f "$HERE/inflight/${algorithm}_${experiment}.tar.gz"  # the earlier one-tarball format
  if [ -f "$run_dir/results.json" ]; then
    if [ -d "$run_dir/checkpoints_trained" ] \
       && [ ! -f "$HERE/$experiment/$algorithm/trained_state.tar.gz" ]; then
      mirror "$run_dir" "$HERE/inflight/$relative" results.json operative_config.gin checkpoints_trained
      echo "$relative: finished; trained state kept ($(du -sh "$HERE/inflight/$relative" | cut -f1))"
    else
      rm -rf "$HERE/inflight/$relative"
    fi
    continue
  fi
  mirror "$run_dir" "$HERE/inflight/$relative"
  echo "$relative: $(du -sh "$HERE/inflight/$relative" | cut -f1)"
done
find "$HERE/inflight" -mindepth 1 -type d -empty -delete
