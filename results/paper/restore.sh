#!/usr/bin/env bash
# Unpacks every run directory kept in results/paper/inflight/ (snapshot.sh) whose directory under
# ~/smtl-runs/paper is missing, and the earlier format (inflight/<algorithm>_<experiment>.tar.gz).
# An existing run directory is never touched. queue.sh calls this before it runs anything.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${SMTL_PAPER_ROOT:-~/smtl-runs/paper}
mkdir -p "$ROOT"
for kept in "$HERE"/inflight/*/*/seed_0; do
  [ -d "$kept" ] || continue
  relative=${kept#$HERE/inflight/}
  [ -e "$ROOT/$relative" ] && continue
  rm -rf "$ROOT/$relative.restoring"
  (cd "$kept" && find . -type f -name '*.gz') | while read -r file; do
    mkdir -p "$ROOT/$relative.restoring/$(dirname "$file")"
    gzip -dc "$kept/$file" > "$ROOT/$relative.restoring/${file%.gz}"
  done
  mv "$ROOT/$relative.restoring" "$ROOT/$relative"
  echo "$(date -u +%FT%TZ) restored $relative from inflight/$relative"
done
for tarball in "$HERE"/inflight/*.tar.gz; do
  [ -f "$tarball" ] || continue
  relative=$(tar -tzf "$tarball" | head -1); relative=${relative%/}
  relative=$(echo "$relative" | cut -d/ -f1-3)
  [ -e "$ROOT/$relative" ] && continue
  tar -xzf "$tarball" -C "$ROOT"
  echo "$(date -u +%FT%TZ) restored $relative from inflight/$(basename "$tarball")"
done
