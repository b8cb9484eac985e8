#!/usr/bin/env bash
# While queue.sh runs: every 30 minutes, snapshot the unfinished runs of the algorithms given
# (default: MAML's, small) and commit only those files (other work in the checkout is left alone).
# An SMTL run's snapshot is tens of MB of new data while it trains (its dataset grows), so take
# those by hand once a session (`results/paper/snapshot.sh smtl` and a commit of
# results/paper/inflight); while it evaluates only its small per-task results change, so loop on it
# then (`snapshot_loop.sh smtl`). A snapshot that would take the session's submission past its
# budget (submission_size.sh) is not committed.
#
#   setsid nohup results/paper/snapshot_loop.sh [algorithm...] > /dev/null 2>&1 < /dev/null &
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$(git -C "$HERE" rev-parse --show-toplevel)" || exit 1
mkdir -p ~/smtl-runs/logs
algorithms=${*:-maml}
subject="results/paper/inflight: snapshot of unfinished issue-13 runs"
log=~/smtl-runs/logs/snapshot.log
committed=""
while true; do
  sleep 1800
  results/paper/snapshot.sh $algorithms >> $log 2>&1
  if [ $? -eq 2 ]; then
    echo "$(date -u +%FT%TZ) not committed: a snapshot names content it does not hold" >> $log
    continue
  fi
  git add results/paper/inflight >> $log 2>&1
  # A snapshot replaces this loop's previous one while nothing was committed after it (only the
  # last state is needed to resume, and the submission then carries no intermediate dataset).
  amend=()
  [ -n "$committed" ] && [ "$(git rev-parse HEAD)" = "$committed" ] && amend=(--amend)
  results/paper/submission_size.sh "${amend[@]}" >> $log 2>&1
  size=$?
  if [ $size -ne 0 ]; then
    git reset -q -- results/paper/inflight
    [ $size -eq 1 ] && why="the submission would pass its budget" || why="its size is unknown"
    echo "$(date -u +%FT%TZ) not committed: $why" >> $log
    continue
  fi
  [ ${#amend[@]} -eq 0 ] || [ "$(git rev-parse HEAD)" = "$committed" ] || amend=()  # moved since
  if git commit -q "${amend[@]}" -m "$subject ($(date -u +%FT%TZ))" -- results/paper/inflight \
       >> $log 2>&1; then
    committed=$(git rev-parse HEAD)
  else
    git reset -q -- results/paper/inflight
  fi
done
