#!/usr/bin/env bash
# Unpacks into ~/smtl-runs/paper every run kept in results/paper/ whose run directory is missing
# there: the snapshots of snapshot.sh (inflight/<experiment>/<algorithm>/seed_0/, where a file
# `<name>.same` stands for the kept file under inflight/ that it names, its content checked
# against the sha256 the pointer gives), then committed
# trained states (<experiment>/<algorithm>/trained_state.tar.gz, with their results.json: another
# run may evaluate them).
# A run directory that holds a checkpoint or results is never touched; one that holds neither
# (e.g. left by a command that failed at once) is moved aside to <directory>.empty-<time>.
# queue.sh calls this before it runs anything. Exits 1, naming the file, if one cannot be unpacked.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/paths.sh"  # ROOT, EVALUATED
mkdir -p "$ROOT"
now=$(date -u +%Y%m%dT%H%M%SZ)

# missing <relative>: true if the run directory is absent or holds nothing a run resumes from
# (moved aside then).
missing() {
  local run=$ROOT/$1
  [ -e "$run" ] || return 0
  if [ -f "$run/checkpoints/LATEST" ] || [ -f "$run/checkpoints_trained/LATEST" ] \
     || [ -f "$run/results.json" ]; then
    return 1
  fi
  mv "$run" "$run.empty-$now"
  echo "$(date -u +%FT%TZ) moved $1 aside to $1.empty-$now: it held no checkpoint nor results"
}

status=0
for kept in "$HERE"/inflight/*/*/seed_0; do
  [ -d "$kept" ] || continue
  relative=${kept#$HERE/inflight/}
  missing "$relative" || continue
  rm -rf "$ROOT/$relative.restoring"
  failed=""
  while IFS= read -r -d '' file; do
    file=${file#./}
    mkdir -p "$ROOT/$relative.restoring/$(dirname "$file")"
    case $file in
      *.same)  # the same bytes as the kept file it names (snapshot.sh's share)
        sum="" target=""
        read -r sum target < "$kept/$file" || true
        restored=$ROOT/$relative.restoring/${file%.same}
        { [ -n "$target" ] && gzip -dc "$HERE/inflight/$target" > "$restored" 2>/dev/null \
            && [ "$(sha256sum < "$restored" | cut -d' ' -f1)" = "$sum" ]; } \
          || { failed="$file (inflight/$target does not hold the content it names)"; break; } ;;
      *) gzip -dc "$kept/$file" > "$ROOT/$relative.restoring/${file%.gz}" || { failed=$file; break; } ;;
    esac
  done < <(cd "$kept" && find . -type f \( -name '*.gz' -o -name '*.same' \) -print0)
  if [ -n "$failed" ]; then
    rm -rf "$ROOT/$relative.restoring"
    echo "restore.sh: cannot unpack inflight/$relative/$failed; $relative not restored." >&2
    status=1
    continue
  fi
  mv "$ROOT/$relative.restoring" "$ROOT/$relative"
  echo "$(date -u +%FT%TZ) restored $relative from inflight/$relative"
done
for tarball in "$HERE"/*/*/trained_state.tar.gz; do
  [ -f "$tarball" ] || continue
  committed=$(dirname "$tarball")
  relative=${committed#$HERE/}/seed_0
  missing "$relative" || continue
  rm -rf "$ROOT/$relative.restoring" && mkdir -p "$ROOT/$relative.restoring"
  if ! tar -xzf "$tarball" -C "$ROOT/$relative.restoring" --strip-components=3; then
    rm -rf "$ROOT/$relative.restoring"
    echo "restore.sh: cannot unpack ${tarball#$HERE/}; $relative not restored." >&2
    status=1
    continue
  fi
  [ -f "$committed/results.json" ] && cp "$committed/results.json" "$ROOT/$relative.restoring/"
  mv "$ROOT/$relative.restoring" "$ROOT/$relative"
  echo "$(date -u +%FT%TZ) restored $relative from ${tarball#$HERE/}"
done
exit $status
