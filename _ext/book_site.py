"""Sphinx extension: make the built site work offline and load without console errors.

Loaded by ``_config.yml`` (``sphinx.local_extensions``). It does four things
that Jupyter Book 1 cannot be configured to do (and one repair):

* **MathJax from the site itself.** The MathJax 3 files shipped in the PyPI
  package ``sphinx-mathjax-offline`` are copied to ``<site>/mathjax/`` and
  pages load them from there, never from a CDN. They are *not* put under
  ``_static/``: Jupyter Book adds every ``*.js`` file it finds there to every
  page as a script tag, which would load all of MathJax's components at once.
* **No Thebe.** ``sphinx_thebe`` is always loaded by Jupyter Book; on
  Sphinx 7.4 it emits its configuration script twice, and the second copy
  fails with "THEBE_JS_URL has already been declared". The book has no
  live-code buttons, so its scripts are removed from every page.
* **A complete root page.** sphinx-external-toc writes ``index.html`` as a
  bare ``<meta http-equiv="Refresh">`` line. With no ``<link rel="icon">``
  Chromium may ask for ``/favicon.ico`` before it follows the redirect (the
  browser test saw that 404 in one run of three), and a real icon file is
  aborted half-loaded when the redirect fires (seen in the next run). The page
  is rewritten as a small HTML document with the book's title, a link, and an
  empty inline icon (``data:,``), so it requests nothing at all.
* **Exercises and theorems with code links.** sphinx-codeautolink crashes on
  the untitled sections inside sphinx-exercise and sphinx-proof blocks; see
  :func:`guard_codeautolink_sections`.

Everything else is ordinary configuration in ``_config.yml``.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

# MathJax's combined bundles that the book does not use (it loads tex-chtml.js);
# everything else (fonts, TeX extensions, a11y, menu) is loaded on demand.
UNUSED_BUNDLES = {
    "mml-chtml.js", "mml-svg.js", "node-main.js", "tex-chtml-full-speech.js", "tex-chtml-full.js",
    "tex-mml-chtml.js", "tex-mml-svg.js", "tex-svg-full.js", "tex-svg.js",
}


def mathjax_source() -> Path:
    """The ``mathjax`` folder inside the installed ``sphinx-mathjax-offline`` wheel."""
    dist = metadata.distribution("sphinx-mathjax-offline")
    for f in dist.files or []:
        if f.name == "tex-chtml.js" and f.parent.name == "mathjax":
            return Path(str(dist.locate_file(f))).parent
    raise RuntimeError("sphinx-mathjax-offline is installed but has no mathjax/tex-chtml.js")


def copy_mathjax(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(mathjax_source(), target, ignore=lambda d, names: [n for n in names if n in UNUSED_BUNDLES])


def use_local_mathjax(app: Sphinx, config: Any) -> None:
    # Relative paths are taken relative to _static/, so step out of it.
    config.mathjax_path = "../mathjax/tex-chtml.js"


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    def is_thebe(js: Any) -> bool:
        filename = getattr(js, "filename", js) or ""
        body = getattr(js, "attributes", {}).get("body", "")
        return "thebe" in str(filename) or "THEBE_JS_URL" in body

    if "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if not is_thebe(js)]


def guard_codeautolink_sections() -> None:
    """Let sphinx-codeautolink walk pages with exercises, solutions and theorems.

    sphinx-exercise and sphinx-proof put an *untitled* section inside every
    exercise, solution, theorem and proof. sphinx-codeautolink's visitor pushes
    the text of every ``title`` node it meets and pops one for every section it
    leaves, so each untitled section pops a title it never pushed, and a page
    with a few exercises fails with "IndexError: pop from empty list". Pop only
    when the section starts with a plain ``title`` (the only kind it pushed).
    """
    try:
        from sphinx_codeautolink.extension.block import CodeBlockAnalyser
    except ImportError:  # extension not installed: nothing to guard
        return
    original = CodeBlockAnalyser.depart_section
    if getattr(original, "book_site_guard", False):
        return

    def depart_section(self: Any, node: nodes.section) -> None:
        if node.children and type(node.children[0]) is nodes.title:
            original(self, node)

    depart_section.book_site_guard = True  # type: ignore[attr-defined]
    CodeBlockAnalyser.depart_section = depart_section


REDIRECT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def complete_root_redirect(app: Sphinx, exc: Exception | None) -> None:
    """Replace sphinx-external-toc's one-line ``index.html`` redirect with a full page."""
    index = Path(app.outdir) / "index.html"
    if exc is not None or app.builder.format != "html" or not index.exists():
        return
    text = index.read_text(encoding="utf-8").strip()
    if not (text.startswith('<meta http-equiv="Refresh"') and "url=" in text):
        return  # not the generated redirect: leave a real index page alone
    target = text.split("url=", 1)[1].split('"', 1)[0]
    index.write_text(REDIRECT.format(title=app.config.html_title, target=target), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    guard_codeautolink_sections()
    mathjax_source()  # fail at start-up, not at the end, if the package is missing
    app.connect("config-inited", use_local_mathjax)
    app.connect("build-finished", copy_mathjax)
    # after sphinx-external-toc's handler (default priority 500), which writes the redirect
    app.connect("build-finished", complete_root_redirect, priority=900)
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
