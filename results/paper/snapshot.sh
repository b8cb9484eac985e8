#!/usr/bin/env bash
# Mirrors each run directory under ~/smtl-runs/paper into
# results/paper/inflight/<experiment>/<algorithm>/seed_0/, every file gzipped on its own (`gzip -n`:
# the same file gives the same bytes), so that a lost home directory costs at most the work since
# the last snapshot (`restore.sh`, called by queue.sh, unpacks them). Files that did not change
# since the previous snapshot (e.g. an SMTL run's trained state while it evaluates) give the same
# git blobs, so committing snapshot after snapshot stores each such file once.
#
# A run's checkpoint is written between two of its units, and a snapshot taken while a unit runs
# holds the previous checkpoint, from which the run resumes losing nothing but time.
# A finished run keeps, until its results are committed as
# results/paper/<experiment>/<algorithm>/results.json, only its results, operative config and
# TensorBoard events; a finished run that another queued run evaluates (EVALUATED in paths.sh)
# keeps its trained state (`checkpoints_trained/`) too, until that is committed as
# results/paper/<experiment>/<algorithm>/trained_state.tar.gz. Oracle runs (minutes) are left out.
#
#   results/paper/snapshot.sh [algorithm...]   (default: every algorithm; e.g. `maml` alone)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/paths.sh"  # ROOT, EVALUATED
mkdir -p "$HERE/inflight"

# Freeze the runs' processes (their whole session) while copying, so that no snapshot holds a
# checkpoint pointer and a checkpoint from different moments; never this script's own session.
own_session=$(ps -o sid= -p $$ | tr -d ' ')
pids=""
trap '[ -z "$pids" ] || kill -CONT $pids 2>/dev/null || true' EXIT
sessions=""
for pid in $(pgrep -f -- "--root_dir=$ROOT" || true); do
  session=$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ' || true)
  [ -n "$session" ] || continue
  if [ "$session" = "$own_session" ]; then
    echo "snapshot.sh: run process $pid is in this shell's session, so it is not frozen (start" \
         "queue.sh with setsid); this snapshot may hold a checkpoint caught mid-write." >&2
    continue
  fi
  sessions="$sessions $session"
done
for session in $(echo $sessions | tr ' ' '\n' | sort -u); do
  pids="$pids $(pgrep -s "$session" | tr '\n' ' ')"
done
pids=$(echo $pids)
[ -z "$pids" ] || kill -STOP $pids 2>/dev/null || true

# mirror <run directory> <destination> [path...]: the given paths of the run (default: all but
# its .lock), each file gzipped; replaces the destination whole, or on a failure keeps the
# previous mirror and returns 1.
mirror() {
  local source=$1 destination=$2; shift 2
  local paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(.)
  local file failed=""
  rm -rf "$destination.new" && mkdir -p "$destination.new"
  while IFS= read -r -d '' file; do
    mkdir -p "$destination.new/$(dirname "$file")"
    if ! gzip -nc "$source/$file" > "$destination.new/$file.gz"; then failed=$file; break; fi
  done < <(cd "$source" && find "${paths[@]}" -type f ! -name .lock -print0 2>/dev/null)
  if [ -n "$failed" ]; then
    rm -rf "$destination.new"
    echo "snapshot.sh: could not copy $source/$failed; the previous snapshot is kept." >&2
    return 1
  fi
  rm -rf "$destination" && mv "$destination.new" "$destination"
}

status=0
for run_dir in "$ROOT"/*/*/seed_0; do
  [ -d "$run_dir" ] || continue
  relative=${run_dir#$ROOT/}
  experiment=${relative%%/*}
  algorithm=$(basename "$(dirname "$run_dir")")
  kept=$HERE/inflight/$relative
  committed=$HERE/$experiment/$algorithm
  [ "$algorithm" = oracle ] && continue
  if [ $# -gt 0 ] && [[ " $* " != *" $algorithm "* ]]; then continue; fi
  if [ ! -f "$run_dir/results.json" ]; then
    what="$(mirror "$run_dir" "$kept" && du -sh "$kept" | cut -f1)" || { status=1; continue; }
    echo "$relative: $what"
    continue
  fi
  summary=(results.json operative_config.gin)
  for events in "$run_dir"/events.out.tfevents.*; do
    [ -f "$events" ] && summary+=("$(basename "$events")")
  done
  if [[ " $EVALUATED " == *" $experiment/$algorithm "* ]] && [ ! -f "$committed/trained_state.tar.gz" ]; then
    mirror "$run_dir" "$kept" "${summary[@]}" checkpoints_trained || { status=1; continue; }
    echo "$relative: finished; trained state kept until committed ($(du -sh "$kept" | cut -f1))"
  elif [ ! -f "$committed/results.json" ]; then
    mirror "$run_dir" "$kept" "${summary[@]}" || { status=1; continue; }
    echo "$relative: finished; results kept until committed"
  else
    rm -rf "$kept"
  fi
done
find "$HERE/inflight" -mindepth 1 -type d -empty -delete
exit $status
