"""After a strict build: every number the prose shows equals the one the tests compute.

Each chapter's test module ``tests/test_<page>.py`` defines ``expected_glue()``
returning ``{key: value}`` for every key that page glues. Here the two sets of
keys must match exactly (a glued number with no test, or a tested number the
page no longer shows, both fail), and every value must agree.

Run by ``make strict`` after ``jupyter-book build``; marked ``built_book`` so
the unit-test run skips it.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bookglue import ROOT, build_dir, glued_values  # noqa: E402

pytestmark = pytest.mark.built_book

PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.md"))


def _chapter_pages() -> list[str]:
    return [p for p in PAGES if (ROOT / "tests" / f"test_{p}.py").exists()]


def test_every_page_with_glue_has_a_test_module() -> None:
    missing = [p for p in PAGES if "glue(" in (ROOT / "book" / f"{p}.md").read_text() and p not in _chapter_pages()]
    assert not missing, f"pages glue values but have no tests/test_<page>.py: {missing}"


@pytest.mark.parametrize("page", _chapter_pages())
def test_glued_values_match_tests(page: str) -> None:
    if not (build_dir() / "jupyter_execute" / "book" / f"{page}.ipynb").exists():
        pytest.fail(f"page {page} was not built into {build_dir()}: run the strict build first")
    module = importlib.import_module(f"test_{page}")
    expected = module.expected_glue()
    glued = glued_values(page)
    assert set(glued) == set(expected), (
        f"glued but not tested: {sorted(set(glued) - set(expected))}; "
        f"tested but not glued: {sorted(set(expected) - set(glued))}"
    )
    for key, want in expected.items():
        got = glued[key]
        if isinstance(want, float):
            # Same code, same seeds: only floating-point summation order may differ.
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-300), f"{page}::{key}: book {got!r}, tests {want!r}"
        else:
            assert got == want, f"{page}::{key}: book {got!r}, tests {want!r}"
