#!/usr/bin/env bash
# While queue.sh runs: every 30 minutes, snapshot the unfinished MAML runs (small) and commit
# only those files (other work in the checkout is left alone). SMTL's (its dataset: tens of MB
# while it trains) are taken by hand once a session: `results/paper/snapshot.sh smtl` and a commit
# of results/paper/inflight.
#
#   setsid nohup results/paper/snapshot_loop.sh > /dev/null 2>&1 < /dev/null &
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$(git -C "$HERE" rev-parse --show-toplevel)" || exit 1
mkdir -p ~/smtl-runs/logs
while true; do
  sleep 1800
  results/paper/snapshot.sh maml >> ~/smtl-runs/logs/snapshot.log 2>&1
  git add results/paper/inflight >> ~/smtl-runs/logs/snapshot.log 2>&1
  git commit -q -m "results/paper/inflight: snapshot of unfinished issue-13 runs ($(date -u +%FT%TZ))" \
    -- results/paper/inflight >> ~/smtl-runs/logs/snapshot.log 2>&1
done
