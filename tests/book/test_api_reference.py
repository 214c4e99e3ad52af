"""The API reference: every module of ``gradlab`` has its page, and the "Used in" lists are generated.

Static checks of the sources run with the unit tests in about a second; the last test reads the
built book (``make strict``). What ``_ext/used_in.py`` finds in the chapters is tested in test_used_in.py.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import gradlab
from bookglue import build_dir

ROOT = Path(__file__).resolve().parents[2]
# Every public module, also one the package does not import itself (gradlab.plotting).
MODULES: list[ModuleType] = [
    importlib.import_module(info.name) for info in pkgutil.iter_modules(gradlab.__path__, "gradlab.")
    if not info.name.split(".")[-1].startswith("_")
]


def short(module: ModuleType) -> str:
    return module.__name__.split(".")[-1]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_module_has_a_reference_page_in_the_toc(module: ModuleType) -> None:
    page = ROOT / "book" / "api" / f"{short(module)}.md"
    assert page.exists(), f"add {page.relative_to(ROOT)} with `.. automodule:: {module.__name__}` (see book/api/mlp.md)"
    assert f".. automodule:: {module.__name__}\n" in page.read_text(encoding="utf-8")
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert f"file: book/api/{short(module)}\n" in toc, f"list book/api/{short(module)} in _toc.yml"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_no_docstring_keeps_a_hand_written_used_in_list(module: ModuleType) -> None:
    # The build generates them (_ext/used_in.py); a hand-kept copy goes stale.
    own = [obj for _, obj in inspect.getmembers(module) if getattr(obj, "__module__", None) == module.__name__]
    own += [member for cls in own if inspect.isclass(cls) for member in vars(cls).values()]
    kept = [getattr(obj, "__name__", module.__name__) for obj in [module, *own]
            if re.search(r"^\s*Used in\n\s*-+$", inspect.getdoc(obj) or "", re.M)]
    assert not kept, f"remove the 'Used in' sections of {kept}: the build writes them"


@pytest.mark.built_book
def test_the_built_reference_shows_the_generated_lists() -> None:
    html = (build_dir() / "html" / "book" / "api" / "mlp.html").read_text(encoding="utf-8")
    # backward's entry (up to the next entry) ends with a rubric whose paragraph links chapter 3
    entry = r'id="gradlab\.mlp\.backward"(?:(?!id="gradlab).)*<p class="rubric">Used in</p>\s*<p>(.*?)</p>'
    listed = re.search(entry, html, re.S)
    assert listed and 'href="../ch3_chain_rule.html"' in listed.group(1)
    # the package page's module table: the row of gradlab.mlp links chapter 2
    index = (build_dir() / "html" / "book" / "api" / "index.html").read_text(encoding="utf-8")
    row = r'gradlab\.mlp</span></code></a></p></td>\s*<td><p>[^<]*</p></td>\s*<td><p>(.*?)</p></td>'
    chapters = re.search(row, index, re.S)
    assert chapters and 'href="../ch2_notation.html"' in chapters.group(1)
