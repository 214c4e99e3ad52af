"""Sphinx extension: a chapter is out of date when gradlab's source changes, not only its own.

Sphinx rereads a page only when its source file is newer than the last read. A chapter's
numbers also depend on ``code/gradlab/*.py``, which the chapter imports: each page with code
cells records those files as dependencies (``env.note_dependency``), so an edit to any gradlab
module makes Sphinx reread, hence re-execute, every chapter, and an edit to one chapter
re-executes only that chapter. Together with ``execute_notebooks: force`` (a page that is read
is executed, never taken from a cache), no page can show numbers the current code would not
produce, and a build with nothing changed executes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

PACKAGE = Path(__file__).resolve().parents[1] / "code" / "gradlab"


def note_package_sources(app: Sphinx, docname: str, source: list[str]) -> None:
    if "{code-cell}" in source[0]:
        for path in sorted(PACKAGE.glob("*.py")):
            app.env.note_dependency(str(path))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", note_package_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
