#!/usr/bin/env bash
# Copies what a finished run under ~/smtl-runs/paper keeps in the repository into
# results/paper/<experiment>/<algorithm>/: its results.json, operative config and TensorBoard
# events. The trained state of a run that another queued run evaluates (EVALUATED in paths.sh)
# stays where snapshot.sh keeps it, in inflight/<experiment>/<algorithm>/seed_0/checkpoints_trained/
# (restore.sh unpacks it): a second copy here would add its tens of MB to the submission again.
# Such a run is collected only once it has its trained state. results.json is copied last:
# queue.sh skips a run whose results are here, so a collection cut short leaves the run to be
# collected again. Runs already collected and unfinished runs are left alone; committing is the
# caller's (then snapshot.sh keeps only what is not committed).
#
#   results/paper/collect.sh [experiment/algorithm...]   (default: every finished run)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/paths.sh"  # ROOT, EVALUATED

status=0
for run_dir in "$ROOT"/*/*/seed_0; do
  [ -f "$run_dir/results.json" ] || continue
  relative=$(dirname "${run_dir#$ROOT/}")
  if [ $# -gt 0 ] && [[ " $* " != *" $relative "* ]]; then continue; fi
  committed=$HERE/$relative
  [ -f "$committed/results.json" ] && continue
  evaluated=false
  [[ " $EVALUATED " == *" $relative "* ]] && evaluated=true
  if $evaluated && [ ! -f "$run_dir/checkpoints_trained/LATEST" ]; then
    echo "collect.sh: $relative has no checkpoints_trained/ to keep; not collected." >&2
    status=1
    continue
  fi
  mkdir -p "$committed"
  cp "$run_dir/operative_config.gin" "$committed/"
  for events in "$run_dir"/events.out.tfevents.*; do
    [ -f "$events" ] && cp "$events" "$committed/"
  done
  cp "$run_dir/results.json" "$committed/"
  echo "collected $relative into results/paper/$relative/"
done
exit $status
