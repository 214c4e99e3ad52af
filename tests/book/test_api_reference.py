"""Every module of ``gradlab`` has its page in the API reference, listed in ``_toc.yml``.

Static checks of the sources, so they run with the unit tests in about a second.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import gradlab

ROOT = Path(__file__).resolve().parents[2]
MODULES: list[ModuleType] = [getattr(gradlab, name) for name in gradlab.__all__ if name != "__version__"]


def short(module: ModuleType) -> str:
    return module.__name__.split(".")[-1]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_module_has_a_reference_page_in_the_toc(module: ModuleType) -> None:
    page = ROOT / "book" / "api" / f"{short(module)}.md"
    assert page.exists(), f"add {page.relative_to(ROOT)} with `.. automodule:: {module.__name__}` (see book/api/mlp.md)"
    assert f".. automodule:: {module.__name__}\n" in page.read_text(encoding="utf-8")
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert f"file: book/api/{short(module)}\n" in toc, f"list book/api/{short(module)} in _toc.yml"
