"""After `make strict`: one build executed every notebook exactly once.

`make strict` tees the clean HTML build's log to ``_build/logs/html.log``; MyST-NB logs one
line ``<path>/book/<page>.md: Executed notebook in <s> seconds`` per execution. `make pdf`
reuses that build's pages (``_build/.doctrees``), which ``tests/book/test_pdf.py`` checks.
"""

from __future__ import annotations

import pytest

from bookglue import EXECUTED, ROOT, build_dir, executions

pytestmark = pytest.mark.built_book


def notebook_pages() -> set[str]:
    # MyST-NB executes every page with a kernelspec in its front matter, code cells or not
    return {p.stem for p in (ROOT / "book").glob("*.md") if "\nkernelspec:" in p.read_text(encoding="utf-8")}


def test_every_notebook_executed_exactly_once() -> None:
    log = build_dir() / "logs" / "html.log"
    if not log.exists():
        pytest.skip(f"{log} is written by `make strict` (a clean build); not found")
    counts = executions(log)
    assert set(counts) == notebook_pages(), f"executed {sorted(counts)}, notebooks {sorted(notebook_pages())}"
    assert all(n == 1 for n in counts.values()), f"executed more than once: {[p for p, n in counts.items() if n > 1]}"


def test_the_log_parser_reads_myst_nb_lines() -> None:
    # the pattern above is what the check relies on: prove it on MyST-NB's own line format
    line = "/tmp/x/book/ch1_what.md: Executed notebook in 3.14 seconds [mystnb]\n"
    assert EXECUTED.findall(line) == [("ch1_what", "3.14")]
