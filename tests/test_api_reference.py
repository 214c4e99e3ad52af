"""The API reference's "Used in" lists stay true while the chapters change.

Every public function and class of ``gradlab`` (and every module) may end its
docstring with a numpy-style section

    Used in
    -------
    :doc:`/book/ch1_what`, :doc:`/book/ch5_exploding`

which the API reference (``book/api/``) renders as links to those chapters.
A chapter *uses* an object here when its code cells write ``module.name``
after ``from gradlab import module``, or its text writes
``gradlab.module.name`` (in backticks or in a ``{py:func}`` role). The checks:

* complete: every chapter that uses an object is in the object's list (and
  every chapter that imports a module is in the module's list);
* sound: every chapter in the list of a function or class mentions it, by
  ``module.name`` or by its bare name, or (for a class) gets an instance of it
  from a function it uses, as its return annotation says (``scalar_chain``
  returns a ``ChainFactors``). Activations, initialisations and losses are
  exempt, because a chapter also uses them by a registry name
  (``hidden="relu"``) or as a default (``init_network`` draws ``standard``
  weights unless told otherwise), which the docstring lists too;
* every module of ``gradlab.__all__`` has its page in ``book/api/``, listed in
  ``_toc.yml``.

Static checks of the sources, so they run with the unit tests in about a second.
"""

from __future__ import annotations

import functools
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import gradlab

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("ch*.md"))
MODULES: list[ModuleType] = [getattr(gradlab, name) for name in gradlab.__all__ if name != "__version__"]
REGISTRY_MODULES = {"activations", "init", "losses"}
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.S)


def used_in(obj: object) -> set[str]:
    """The chapters named in the object's "Used in" section (empty if it has none)."""
    doc = inspect.getdoc(obj) or ""
    m = re.search(r"^Used in\n-+\n(.*?)(?:\n\n|\Z)", doc, re.S | re.M)
    return set(re.findall(r":doc:`/book/(\w+)`", m.group(1))) if m else set()


def chapter_text(page: str) -> tuple[str, str]:
    """(code of all code cells, everything else) of ``book/<page>.md``."""
    text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
    return "\n".join(CODE_CELL.findall(text)), CODE_CELL.sub("", text)


def imported_modules(code: str) -> set[str]:
    return {name.strip() for m in re.finditer(r"from gradlab import ([\w, ]+)", code) for name in m.group(1).split(",")}


def uses(page: str) -> set[tuple[str, str]]:
    """``{(module, name)}`` that the chapter's code calls or its text names."""
    code, prose = chapter_text(page)
    found = {(mod, name) for mod in imported_modules(code) for name in re.findall(rf"\b{mod}\.([A-Za-z_]\w*)", code)}
    found |= set(re.findall(r"gradlab\.(\w+)\.([A-Za-z_]\w*)", prose))
    return found


def documented(module: ModuleType) -> list[tuple[str, object]]:
    """Public functions and classes of the module (data such as ``NAMES`` has no docstring of its own)."""
    return [(n, getattr(module, n)) for n in module.__all__ if inspect.isfunction(getattr(module, n))
            or inspect.isclass(getattr(module, n))]


@functools.lru_cache(maxsize=None)
def classes_reached(page: str) -> frozenset[str]:
    """Names of the classes whose instances the chapter gets from the functions it uses.

    Follows return annotations, then the field annotations of the classes reached
    (a ``GradCheckReport`` holds ``GradCheckRow``s), until nothing new turns up.
    """
    classes = {n: obj for m in MODULES for n, obj in documented(m) if inspect.isclass(obj)}
    todo = [getattr(getattr(gradlab, mod, None), name, None) for mod, name in uses(page)]
    reached: set[str] = set()
    while todo:
        obj = todo.pop()
        if inspect.isfunction(obj):
            annotations = [str(inspect.signature(obj).return_annotation)]
        elif inspect.isclass(obj):
            annotations = [str(a) for a in getattr(obj, "__annotations__", {}).values()]
        else:
            continue
        for word in set(re.findall(r"\w+", " ".join(annotations))) & set(classes) - reached:
            reached.add(word)
            todo.append(classes[word])
    return frozenset(reached)


def short(module: ModuleType) -> str:
    return module.__name__.split(".")[-1]


def test_chapters_and_modules_exist() -> None:
    assert CHAPTERS and MODULES
    for module in MODULES:
        for page in used_in(module):
            assert (ROOT / "book" / f"{page}.md").exists(), f"{module.__name__} lists a missing chapter {page}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_object_a_chapter_uses_lists_the_chapter(page: str) -> None:
    code, prose = chapter_text(page)
    missing = []
    for module in MODULES:
        if short(module) in imported_modules(code) or f"gradlab.{short(module)}" in prose:
            if page not in used_in(module):
                missing.append(module.__name__)
    for mod, name in sorted(uses(page)):
        module = getattr(gradlab, mod, None)
        obj = getattr(module, name, None)
        if module is None or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # a data object (NAMES, PALETTE) or an attribute chain
        if page not in used_in(obj):
            missing.append(f"{module.__name__}.{name}")
    assert not missing, f"{page} uses these, but their docstrings' 'Used in' does not list it: {missing}"


@pytest.mark.parametrize(
    "module", [m for m in MODULES if short(m) not in REGISTRY_MODULES], ids=lambda m: m.__name__
)
def test_every_listed_chapter_mentions_the_object(module: ModuleType) -> None:
    wrong = []
    for name, obj in documented(module):
        for page in used_in(obj):
            code, prose = chapter_text(page)
            if not re.search(rf"\b{name}\b", code + prose) and name not in classes_reached(page):
                wrong.append(f"{name} -> {page}")
    assert not wrong, f"'Used in' lists chapters that never mention the object: {wrong}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_module_has_a_reference_page_in_the_toc(module: ModuleType) -> None:
    page = ROOT / "book" / "api" / f"{short(module)}.md"
    assert page.exists(), f"add {page.relative_to(ROOT)} with `.. automodule:: {module.__name__}` (see book/api/mlp.md)"
    assert f".. automodule:: {module.__name__}\n" in page.read_text(encoding="utf-8")
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert f"file: book/api/{short(module)}\n" in toc, f"list book/api/{short(module)} in _toc.yml"
