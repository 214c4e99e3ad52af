#!/usr/bin/env bash
# Build one chapter alone, quickly, while writing it:  scripts/preview_page.sh ch1_what
# Uses the project's _config.yml and strict flags; output in /tmp/preview_<page>/_build/html.
# Links to chapters outside the preview show as warnings here; the full `make strict` checks them.
set -euo pipefail
page=${1:?usage: scripts/preview_page.sh PAGE (a file name in book/ without .md)}
root=$(cd "$(dirname "$0")/.." && pwd)
out=/tmp/preview_$page
rm -rf "$out" && mkdir -p "$out/book"
cp "$root/_config.yml" "$out/"
ln -s "$root/book/$page.md" "$out/book/$page.md"
# What pages and _config.yml refer to: sources for literalinclude, the local extension, static files, the bibliography.
for item in code _ext _static _latex references.bib; do
  if [ -e "$root/$item" ]; then ln -s "$root/$item" "$out/$item"; fi
done
printf 'format: jb-book\nroot: book/%s\n' "$page" > "$out/_toc.yml"
export PATH="$root/.venv/bin:$PATH" SOURCE_DATE_EPOCH=1767225600 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
start=$(date +%s)
status=0
jupyter-book build "$out" --builder html -n --keep-going > "$out/build.log" 2>&1 || status=$?
echo "build exit $status in $(( $(date +%s) - start )) s; warnings:"
grep -E "WARNING|ERROR|Error" "$out/build.log" | grep -v "Kernel is running over TCP" || echo "  (none)"
echo "HTML: $out/_build/html/book/$page.html"
echo "glue check: BOOK_BUILD_DIR=$out/_build .venv/bin/python -m pytest -m built_book -q -k $page"
