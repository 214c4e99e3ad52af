"""After `make pdf`: the whole book is one PDF, and what the HTML shows is in it.

``jupyter-book build . --builder pdflatex`` (xelatex, see ``_config.yml``'s
``latex:`` section) writes ``_build/latex/<targetname>.pdf``. These tests read
that PDF with poppler's ``pdfinfo``, ``pdftotext`` and ``pdfimages`` and check
that it is the whole book, with its numbers, exercises, figures and Chinese
glossary terms, and that xelatex had a glyph for every character.

Run by ``make pdf`` (and so by ``make test``) right after the build; marked
``pdf`` so the unit-test run leaves them out. Without TeX Live or poppler-utils
they skip, naming the Debian packages to install, except under CI (``CI`` set),
where the PDF is part of the build and a missing tool fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from bookglue import ROOT, build_dir, executions, glued_values

pytestmark = pytest.mark.pdf

# What the PDF build needs from Debian (the same list as README.md's "PDF" and .ci/run).
DEBIAN_PACKAGES = (
    "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-xetex "
    "texlive-lang-chinese texlive-plain-generic latexmk xindy tex-gyre fonts-freefont-otf "
    "fonts-noto-cjk poppler-utils"
)
TOOLS = ("xelatex", "latexmk", "xindy", "pdfinfo", "pdftotext", "pdfimages")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def pdf_path() -> Path:
    target = _config()["latex"]["latex_documents"]["targetname"]
    return build_dir() / "latex" / Path(target).with_suffix(".pdf").name


@pytest.fixture(scope="module", autouse=True)
def _pdf_is_there() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        msg = f"{', '.join(missing)} not found: apt-get install {DEBIAN_PACKAGES}"
        if _on_ci():
            pytest.fail(f"CI must build and check the PDF, but {msg}")
        pytest.skip(f"PDF not checked: {msg}")
    if not pdf_path().exists():
        pytest.fail(f"{pdf_path()} does not exist: build it first (make pdf)")


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@cache
def pdf_text() -> str:
    """The PDF's text with all whitespace removed, so line breaks cannot split a match.

    ``-raw`` keeps a hyphen at which TeX broke a line: by default pdftotext joins "2.4e-" and
    "05" on the next line into "2.4e05", which is not the number the page shows."""
    text = _run("pdftotext", "-raw", "-enc", "UTF-8", str(pdf_path()), "-")
    # Sphinx's smart quotes: the source's ' and " are printed as ’ and ” (and ‘ “).
    text = text.translate(str.maketrans("‘’“”", "''\"\""))
    return re.sub(r"\s+", "", text)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def toc_pages() -> list[str]:
    """Every page of _toc.yml, in order, as ``book/<name>``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node: dict | list) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                if key in node:
                    walk(node[key])

    walk(toc)
    return pages


def source(page: str) -> str:
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


def page_title(page: str) -> str:
    """The page's ``# `` heading, the first one after the front matter and before any code."""
    text = re.sub(r"\A---\n.*?\n---\n", "", source(page), flags=re.S)
    for line in text.splitlines():
        if line.startswith(("```", ":::")):
            break
        if line.startswith("# "):
            return re.sub(r"[*_`]", "", line[2:]).strip()
    raise AssertionError(f"{page}.md has no '# ' title before its first code cell")


def test_the_pdf_build_reused_the_html_builds_pages() -> None:
    # `make test` executes each notebook once: the PDF build (`make pdf`, log in _build/logs)
    # reads the pages the HTML build executed, from the doctrees both share.
    html_log, pdf_log = (build_dir() / "logs" / f"{b}.log" for b in ("html", "pdf"))
    if not (html_log.exists() and pdf_log.exists()):
        pytest.skip("the logs of `make strict` and `make pdf` are not both there")
    assert sum(executions(html_log).values()) > 0
    assert not executions(pdf_log), f"the PDF build executed again: {dict(executions(pdf_log))}"


def test_the_pdf_is_a_whole_book() -> None:
    pages = int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf_path())), re.M).group(1))
    assert pages > 20, f"{pdf_path()} has only {pages} pages"


@pytest.mark.parametrize("page", toc_pages())
def test_every_page_title_is_in_the_pdf(page: str) -> None:
    title = page_title(page)
    # Maths in a title comes out as Unicode maths letters: check the words around it.
    for words in re.split(r"\$[^$]*\$", title):
        if _squash(words):
            assert _squash(words) in pdf_text(), f"the title {title!r} of {page} is not in the PDF"


GLUE_TEXT = re.compile(r"\{glue:text\}`([A-Za-z0-9_]+)(?::([^`]*))?`")


def glued_strings(page: str) -> list[tuple[str, str]]:
    """``(key, text)`` for every ``{glue:text}`` on the page, formatted as myst-nb does."""
    from myst_nb.core.variables import format_plain_text

    roles = GLUE_TEXT.findall(source(page))
    if not roles:  # pages without glue (the glossary, the references) are no notebooks
        return []
    values = glued_values(Path(page).name)
    return [(key, format_plain_text(repr(values[key]), fmt or "s")) for key, fmt in roles]


def test_glued_numbers_are_in_the_pdf() -> None:
    """Every number the prose pastes (4 characters or more, so it is not found by chance)."""
    checked, missing = 0, []
    for page in toc_pages():
        for key, text in glued_strings(page):
            if len(_squash(text)) < 4:
                continue
            checked += 1
            if _squash(text) not in pdf_text():
                missing.append(f"{page}::{key} = {text!r}")
    assert checked >= 10, f"only {checked} glued values of 4+ characters found in the book's sources"
    assert not missing, f"glued values missing from the PDF: {missing}"


def test_exercises_theorems_and_proofs_are_in_the_pdf() -> None:
    sources = "".join(source(p) for p in toc_pages())
    assert "{exercise}" in sources, "the book has no exercise left to check"
    assert "Exercise" in pdf_text()
    for directive, word in (("{prf:theorem}", "Theorem"), ("{prf:proof}", "Proof"), ("{prf:lemma}", "Lemma")):
        if directive in sources:
            assert word in pdf_text(), f"the book has a {directive} but the PDF has no {word!r}"


def test_chinese_terms_are_in_the_pdf_with_glyphs() -> None:
    cjk = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
    terms = sorted({t for p in toc_pages() for t in cjk.findall(source(p))})
    assert "梯度消失" in terms, "the book's sources no longer contain 梯度消失 (vanishing gradient)"
    missing = [t for t in terms if t not in pdf_text()]
    assert not missing, f"Chinese text missing from the PDF: {missing}"


def test_xelatex_had_a_glyph_for_every_character() -> None:
    log = pdf_path().with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log)))
    assert not missing, f"characters without a glyph in the PDF: {missing}"
    # TeX wraps its log at 79 columns, so "undefined" may sit on the next line: match up to "on page"
    undefined = sorted(set(re.findall(r"LaTeX Warning: (?:Hyper reference|Reference|Citation) `([^']+)' on page", log)))
    assert not undefined, f"unresolved references in the PDF: {undefined}"
    assert "There were undefined references" not in log


def test_figures_are_in_the_pdf() -> None:
    images = [
        line.split() for line in _run("pdfimages", "-list", str(pdf_path())).splitlines()[2:] if line.strip()
    ]
    n_images = sum(1 for cols in images if cols[2] == "image")
    n_figures = len({name for p in toc_pages() for name in re.findall(r"name:\s*(fig-[\w-]+)", source(p))})
    assert n_figures >= 1, "the book's sources name no figure (name: fig-...)"
    assert n_images >= n_figures, f"{n_figures} named figures in the sources, {n_images} images in the PDF"
