"""Fixtures for the tests that read the built book (``make strict``).

Each chapter's claims module, ``tests/book/test_<page>.py``, sets ``PAGE = "<page>"`` and takes
the ``glue`` fixture: the values that page glued in the last build, read once per module.
"""

from __future__ import annotations

from typing import Any

import pytest

from bookglue import build_dir, glued_values


@pytest.fixture(scope="module")
def glue(request: pytest.FixtureRequest) -> dict[str, Any]:
    """``{key: value}`` glued by the page named in the test module's ``PAGE``."""
    page = getattr(request.module, "PAGE", None)
    if not isinstance(page, str):
        raise TypeError(f"{request.module.__name__} must set PAGE to the page's name, e.g. 'ch1_what'")
    if not (build_dir() / "jupyter_execute" / "book" / f"{page}.ipynb").exists():
        pytest.fail(f"page {page} was not built into {build_dir()}: run the strict build first (make strict)")
    return glued_values(page)
