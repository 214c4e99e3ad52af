"""After a strict build: every glued number is shown or judged, and every reference to one resolves.

A chapter computes each number once and glues it. Its claims module,
``tests/book/test_<page>.py``, asserts what the prose says about those numbers
(analytic values, tolerances, orderings); nothing recomputes the chapter. Here:

* every ``{glue:...}`` reference in a page names a key the page glued;
* no glued key is dead: each is shown in the page's prose or named, literally,
  in its claims module (so a test that asserts it can be found by searching);
* every page that glues has a claims module;
* every glued value is a plain, finite Python number or a string, under the page's prefix (``ch7_``).
"""

from __future__ import annotations

import math
import re

import pytest

from bookglue import ROOT, glued_values

pytestmark = pytest.mark.built_book

PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.md"))
# {glue}`key`, {glue:text}`key:.3f`, {glue:md}`key`, and the directives ```{glue:figure} key
GLUE_REF = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)|```\{glue(?::\w+)?\}\s+(\S+)")


def claims_module(page: str):
    return ROOT / "tests" / "book" / f"test_{page}.py"


def glueing_pages() -> list[str]:
    return [p for p in PAGES if "glue(" in (ROOT / "book" / f"{p}.md").read_text(encoding="utf-8")]


def shown_keys(page: str) -> set[str]:
    text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
    return {a or b for a, b in GLUE_REF.findall(text)}


def test_every_page_that_glues_has_a_claims_module() -> None:
    missing = [p for p in glueing_pages() if not claims_module(p).exists()]
    assert not missing, f"pages glue values but have no tests/book/test_<page>.py: {missing}"


@pytest.mark.parametrize("page", glueing_pages())
def test_every_glue_reference_resolves(page: str) -> None:
    unknown = shown_keys(page) - set(glued_values(page))
    assert not unknown, f"{page} shows keys it never glues: {sorted(unknown)}"


@pytest.mark.parametrize("page", glueing_pages())
def test_no_glued_key_is_dead(page: str) -> None:
    source = claims_module(page).read_text(encoding="utf-8")
    judged = set(re.findall(r"""["']([A-Za-z0-9_]+)["']""", source))
    dead = set(glued_values(page)) - shown_keys(page) - judged
    assert not dead, f"{page} glues keys that are neither shown in its prose nor named in {claims_module(page).name}: {sorted(dead)}"



@pytest.mark.parametrize("page", glueing_pages())
def test_glued_values_are_plain_finite_and_prefixed(page: str) -> None:
    prefix = page.split("_")[0] + "_"
    for key, value in glued_values(page).items():
        assert key.startswith(prefix), f"{page} glues {key!r} without its prefix {prefix!r}"
        assert type(value) in (int, float, str), f"{page}::{key} is a {type(value).__name__}: glue int, float or str"
        assert not isinstance(value, float) or math.isfinite(value), f"{page}::{key} = {value}"
