#!/usr/bin/env bash
# Mirrors each run directory under ~/smtl-runs/paper into
# results/paper/inflight/<experiment>/<algorithm>/seed_0/, every file gzipped on its own (`gzip -n`:
# the same file gives the same bytes), so that a lost home directory costs at most the work since
# the last snapshot (`restore.sh`, called by queue.sh, unpacks them). Files that did not change
# since the previous snapshot give the same git blobs, so committing snapshot after snapshot
# stores each such file once.
#
# A file over 64 kB whose content is already kept under inflight/ at another path (a checkpoint saved again
# under a new name with the same dataset, the trained state that a checkpoint repeats, the
# trained state of a run that evaluates another run's training) is kept as a pointer
# `<name>.same` naming that path instead of a second copy: a submission counts every file it adds
# or deletes, however often git stores its bytes, and an SMTL trained state is about 40 MB.
#
# A run's checkpoint is written between two of its units, and a snapshot taken while a unit runs
# holds the previous checkpoint, from which the run resumes losing nothing but time.
# A finished run keeps, until its results are committed as
# results/paper/<experiment>/<algorithm>/results.json, only its results, operative config and
# TensorBoard events; a finished run that another run evaluates (EVALUATED in paths.sh) keeps its
# trained state (`checkpoints_trained/`) too, unless it is committed as
# results/paper/<experiment>/<algorithm>/trained_state.tar.gz (the MAML runs' form). Oracle runs
# (minutes) are left out.
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
# its .lock), each file gzipped, repeated bytes shared (share); replaces the destination whole,
# or on a failure keeps the previous mirror and returns 1.
mirror() {
  local source=$1 destination=$2; shift 2
  local paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(.)
  local file failed=""
  rm -rf "$destination.new" && mkdir -p "$destination.new"
  while IFS= read -r -d '' file; do
    mkdir -p "$destination.new/$(dirname "$file")"
    if ! gzip -nc "$source/$file" > "$destination.new/$file.gz"; then failed=$file; break; fi
  done < <(cd "$source" && find "${paths[@]}" -type f ! -name .lock -print0 2>/dev/null)
  if [ -z "$failed" ] && ! share "$destination"; then
    rm -rf "$destination.new"
    echo "snapshot.sh: could not share the repeated files of $source; the previous snapshot is" \
         "kept." >&2
    return 1
  fi
  if [ -n "$failed" ]; then
    rm -rf "$destination.new"
    echo "snapshot.sh: could not copy $source/$failed; the previous snapshot is kept." >&2
    return 1
  fi
  rm -rf "$destination" && mv "$destination.new" "$destination"
}

# content_sum <gzipped file>: the sha256 of its content.
content_sum() {
  local sum
  sum=$(gzip -dc "$1" | sha256sum; exit "${PIPESTATUS[0]}") || return 1
  echo "${sum%% *}"
}

# sums <directory>: "<sha256 of the content> <path>" for the gzipped files over 64 kB under the
# directory (paths relative to it), those of checkpoints_trained/ first.
sums() {
  local directory=$1 file sum
  [ -d "$directory" ] || return 0
  while IFS= read -r -d '' file; do
    sum=$(content_sum "$directory/$file") || return 1
    printf '%s %s\n' "$sum" "${file#./}"
  done < <(cd "$directory" && {
             find ./checkpoints_trained -type f -name '*.gz' -size +64k -print0 2>/dev/null \
               | LC_ALL=C sort -z
             find . -path ./checkpoints_trained -prune -o -type f -name '*.gz' -size +64k -print0 \
               | LC_ALL=C sort -z; })
}

# share <destination>: in the new mirror <destination>.new, replaces each gzipped file over 64 kB
# whose content is kept in the trained state of another run that queued runs evaluate
# (EVALUATED; kept as long as its mirror), or at a path of this mirror listed before it, by
# <name>.same, holding "<sha256 of the content> <that path relative to inflight/>". The trained
# state of an EVALUATED run stays whole. Returns 1 if a file cannot be read or replaced.
share() {
  local destination=$1 relative=${1#"$HERE/inflight/"}
  local evaluated=false
  [[ " $EVALUATED " == *" ${relative%/seed_0} "* ]] && evaluated=true
  local -A kept_at=()
  local listing line sum path other
  listing=$(mktemp) || return 1
  for other in $EVALUATED; do
    [ "$other/seed_0" != "$relative" ] || continue
    sums "$HERE/inflight/$other/seed_0/checkpoints_trained" > "$listing" || { rm -f "$listing"; return 1; }
    while IFS= read -r line; do
      sum=${line%% *} path=${line#* }
      [ -n "${kept_at[$sum]:-}" ] || kept_at[$sum]=$other/seed_0/checkpoints_trained/$path
    done < "$listing"
  done
  sums "$destination.new" > "$listing" || { rm -f "$listing"; return 1; }
  while IFS= read -r line; do
    sum=${line%% *} path=${line#* }
    if [ -n "${kept_at[$sum]:-}" ] && ! { $evaluated && [[ $path == checkpoints_trained/* ]]; }; then
      { printf '%s %s\n' "$sum" "${kept_at[$sum]}" > "$destination.new/${path%.gz}.same" \
          && rm "$destination.new/$path"; } || { rm -f "$listing"; return 1; }
    else
      kept_at[$sum]=$relative/$path
    fi
  done < "$listing"
  rm -f "$listing"
}

# The runs that others evaluate first, so that the others share their trained state as it is now.
run_dirs=()
for relative in $EVALUATED; do run_dirs+=("$ROOT/$relative/seed_0"); done
for run_dir in "$ROOT"/*/*/seed_0; do
  [[ " $EVALUATED " == *" $(dirname "${run_dir#$ROOT/}") "* ]] || run_dirs+=("$run_dir")
done
status=0
for run_dir in "${run_dirs[@]}"; do
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
    if [ ! -f "$run_dir/checkpoints_trained/LATEST" ]; then
      echo "snapshot.sh: $relative has finished but has no checkpoints_trained/, which runs" \
           "evaluate; its previous snapshot is kept." >&2
      status=1
      continue
    fi
    mirror "$run_dir" "$kept" "${summary[@]}" checkpoints_trained || { status=1; continue; }
    echo "$relative: finished; trained state kept for the runs that evaluate it ($(du -sh "$kept" | cut -f1))"
  elif [ ! -f "$committed/results.json" ]; then
    mirror "$run_dir" "$kept" "${summary[@]}" || { status=1; continue; }
    echo "$relative: finished; results kept until committed"
  else
    rm -rf "$kept"
  fi
done
find "$HERE/inflight" -mindepth 1 -type d -empty -delete
# A pointer whose file no longer holds its content: exit 2 (snapshot_loop.sh then commits nothing).
# Each named file is read once, however many pointers name it.
declare -A content_of=()
while IFS= read -r -d '' pointer; do
  sum="" target=""
  read -r sum target < "$pointer" || true
  if [ -n "$target" ] && [ -f "$HERE/inflight/$target" ] && [ -z "${content_of[$target]:-}" ]; then
    content_of[$target]=$(content_sum "$HERE/inflight/$target" 2>/dev/null) || content_of[$target]=unreadable
  fi
  if [ -z "$target" ] || [ "${content_of[$target]:-missing}" != "$sum" ]; then
    echo "snapshot.sh: ${pointer#"$HERE/"} names inflight/$target, which does not hold that" \
         "content; run snapshot.sh again before committing (it keeps a copy then)." >&2
    status=2
  fi
done < <(find "$HERE/inflight" -type f -name '*.same' -print0)
exit $status
