#!/usr/bin/env bash
# Strict full build of a copy of the working tree, so several people can build at once:
#   scripts/build_copy.sh /tmp/mybuild      -> /tmp/mybuild/_build/html
# Uses the project's .venv; the copy excludes .git, .venv and _build.
set -euo pipefail
dest=${1:?usage: scripts/build_copy.sh DEST}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dest"
rsync -a --delete --exclude .git --exclude .venv --exclude _build --exclude '.pytest_cache' "$root/" "$dest/"
cd "$dest"
export PATH="$root/.venv/bin:$PATH" SOURCE_DATE_EPOCH=1767225600 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
start=$(date +%s)
status=0
jupyter-book build . --builder "${BUILDER:-html}" -W -n --keep-going > build.log 2>&1 || status=$?
echo "build exit $status in $(( $(date +%s) - start )) s; warnings/errors:"
grep -E "WARNING|ERROR" build.log | grep -v "Kernel is running over TCP" || echo "  (none)"
echo "site: $dest/_build/html   glue check: BOOK_BUILD_DIR=$dest/_build $root/.venv/bin/python -m pytest -m built_book -q"
exit $status
