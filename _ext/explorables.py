"""Sphinx extension: serve gradlab's explorable script once, and load it only where it is used.

An explorable (``gradlab.explorable``) is a cell output whose HTML holds the controls, the SVG charts
and the grid as JSON; ``gradlab/explorable.js`` draws them. The script is copied to
``<site>/explorable/explorable.js`` and not to ``_static/``: Jupyter Book adds every ``*.js`` file
there to every page. A page gets the script tag only if its body has an explorable.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from gradlab.explorable import SCRIPT

TARGET = Path("explorable") / SCRIPT.name


def copy_script(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / TARGET
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(SCRIPT, target)


def add_script(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if 'class="gl-explorable"' in context.get("body", ""):
        # Sphinx resolves the name relative to _static/; adding it here adds it to this page only.
        app.add_js_file(f"../{TARGET.as_posix()}", defer="defer")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", add_script)
    app.connect("build-finished", copy_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
