#!/usr/bin/env bash
# Estimates this session's submission against the workplace's limit on a submission's diffs
# (256 MiB of diffs over all its commits, a file added in one commit and deleted in a later one
# counted twice; a submission over it is refused whole, as session 15's was). Counts, for every
# commit since the commit the session started from and for what is staged, the bytes of each
# file version it adds or deletes (a modified file: both versions), times 1.3 (binary files
# travel base85-encoded). Prints the estimate in MiB; exits 1 when it exceeds the budget, 2 when
# it cannot tell.
#
#   results/paper/submission_size.sh [--amend]  (budget: SMTL_SUBMISSION_BUDGET_MIB, default 160)
#
# --amend: as if the staged changes replaced the last commit (git commit --amend).
#
# The base is SMTL_SUBMISSION_BASE, else `git config smtl.submissionBase`, else the commit the
# session's branch was created at (its oldest reflog entry). A checkout that survived the last
# session keeps that session's reflog too; set the base at the start of such a session with
# `git config smtl.submissionBase $(git rev-parse HEAD)`.
set -eu
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
budget=${SMTL_SUBMISSION_BUDGET_MIB:-160}
branch=$(git symbolic-ref --short HEAD) || exit 2
base=${SMTL_SUBMISSION_BASE:-$(git config smtl.submissionBase || git reflog show --format=%H "$branch" 2>/dev/null | tail -1)}
if [ -z "$base" ] || ! git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
  echo "submission_size.sh: no base commit ('$base', from SMTL_SUBMISSION_BASE, git config" \
       "smtl.submissionBase or $branch's reflog, is none of HEAD's);" \
       "give SMTL_SUBMISSION_BASE=<the commit the session started from>" >&2
  exit 2
fi
zero=0000000000000000000000000000000000000000

# bytes <raw diff lines>: the sizes of the blobs they name, old and new.
bytes() {
  local total=0 old new
  while read -r _ _ old new _; do
    [ "$old" = "$zero" ] || total=$((total + $(git cat-file -s "$old" || echo 0)))
    [ "$new" = "$zero" ] || total=$((total + $(git cat-file -s "$new" || echo 0)))
  done
  echo $total
}

last=HEAD
[ "${1:-}" = --amend ] && last=HEAD^
total=0
for commit in $(git rev-list "$base..$last"); do
  total=$((total + $(git diff-tree --no-renames --no-commit-id -r "$commit^" "$commit" | bytes)))
done
total=$((total + $(git diff --cached --raw --no-abbrev --no-renames "$last" | bytes)))
mib=$((total * 13 / 10 / 1048576))
echo "submission since ${base:0:7}: about $mib MiB of diffs (budget $budget MiB, limit 256)"
[ "$mib" -le "$budget" ]
