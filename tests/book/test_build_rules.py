"""The build is a test: prove that the project's configuration fails a broken book.

Each case builds a one-page book in a temporary folder with the project's own
``_config.yml`` and the same strict command as ``make strict``, so what is
proven here is what protects the real book.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JB = Path(sys.executable).with_name("jupyter-book")

pytestmark = pytest.mark.book

GOOD = """
    ```{code-cell} ipython3
    from myst_nb import glue
    glue("answer", 6 * 7, display=False)
    ```
    The answer is {glue:text}`answer`.
"""


def build(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    # What _config.yml refers to: the local extension, static files, the bibliography.
    for item in ("_ext", "_static", "_latex", "references.bib"):
        if (ROOT / item).is_dir():
            shutil.copytree(ROOT / item, tmp_path / item)
        elif (ROOT / item).exists():
            shutil.copy(ROOT / item, tmp_path / item)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    header = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n# A page\n"
    (tmp_path / "page.md").write_text(header + textwrap.dedent(body))
    env = dict(os.environ, PATH=f"{JB.parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [str(JB), "build", str(tmp_path), "--builder", "html", "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=env, timeout=600,
    )


def test_good_page_builds(tmp_path: Path) -> None:
    # The control: without it, the failures below could come from a broken harness.
    result = build(tmp_path, GOOD)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "The answer is" in (tmp_path / "_build" / "html" / "page.html").read_text()
    # The root redirect is a whole page whose icon is inline (_ext/book_site.py): a browser
    # neither asks for a missing /favicon.ico nor starts a request the redirect would abort.
    root = (tmp_path / "_build" / "html" / "index.html").read_text()
    assert '<link rel="icon" href="data:,">' in root
    assert "src=" not in root and "stylesheet" not in root
    assert 'content="0; url=page.html"' in root and "<title>" in root


def test_failing_cell_fails_the_build(tmp_path: Path) -> None:
    result = build(tmp_path, GOOD + '\n```{code-cell} ipython3\nraise RuntimeError("boom from a chapter cell")\n```\n')
    assert result.returncode != 0
    assert "boom from a chapter cell" in result.stdout + result.stderr


def test_unknown_glue_key_fails_the_build(tmp_path: Path) -> None:
    result = build(tmp_path, GOOD + "\nAnd {glue:text}`no_such_key`.\n")
    assert result.returncode != 0
    assert "no_such_key" in result.stdout + result.stderr


def test_warning_printed_by_a_cell_fails_the_build(tmp_path: Path) -> None:
    body = GOOD + '\n```{code-cell} ipython3\nimport numpy as np\nnp.log(np.array([0.0]))\n```\n'
    result = build(tmp_path, body)
    assert result.returncode != 0
    assert "stderr was found in the cell outputs" in result.stdout + result.stderr


def test_figure_captions_hold_no_citations() -> None:
    # A {cite} role in a figure caption breaks the PDF: LaTeX moves the caption into the list
    # of figures and stops with "Argument of \Hy@tempa has an extra }" (chapter 7 did, once).
    offenders = [
        f"{page.name}:{n}"
        for page in sorted((ROOT / "book").glob("*.md"))
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip().startswith("caption:") and "{cite" in line
    ]
    assert not offenders, f"figure captions with a citation (write the authors' names instead): {offenders}"
