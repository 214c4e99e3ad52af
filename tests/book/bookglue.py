"""Read what the build left behind: the values that chapters glued, and which notebooks it executed.

myst-nb stores each ``glue(key, value)`` as a display output tagged
``metadata.scrapbook.name == key``: outputs glued with ``display=False`` go to
``_build/jupyter_execute/book/<page>.glue.json``, displayed ones stay in the
executed ``<page>.ipynb``. Its ``text/plain`` is the value's ``repr``;
chapters glue plain ``int``, ``float`` and ``str`` only, so ``repr`` round-trips.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    """``$BOOK_BUILD_DIR`` if set (page previews), else the project's ``_build``."""
    return Path(os.environ.get("BOOK_BUILD_DIR", ROOT / "_build"))


def glued_values(page: str) -> dict[str, Any]:
    """``{key: value}`` for every glue call in ``book/<page>`` of the last build."""
    folder = build_dir() / "jupyter_execute" / "book"
    nb_path = folder / f"{page}.ipynb"
    if not nb_path.exists():
        raise FileNotFoundError(f"{nb_path} does not exist: build the book first (make strict)")
    outputs = [out for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"] for out in cell.get("outputs", [])]
    glue_path = folder / f"{page}.glue.json"
    if glue_path.exists():
        outputs += list(json.loads(glue_path.read_text(encoding="utf-8")).values())
    values: dict[str, Any] = {}
    for out in outputs:
        name = out.get("metadata", {}).get("scrapbook", {}).get("name")
        if name is None:
            continue
        text = out["data"]["text/plain"]
        text = "".join(text) if isinstance(text, list) else text
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise AssertionError(
                f"glued value {name!r} on page {page} is {text!r}: glue plain int/float/str, not numpy scalars"
            ) from None
    return values


EXECUTED = re.compile(r"book/(\w+)\.md: Executed notebook in ([\d.]+) seconds")


def executions(log: Path) -> Counter[str]:
    """How many times a build executed each page, from its log (MyST-NB logs one line per execution)."""
    return Counter(m.group(1) for m in EXECUTED.finditer(log.read_text(encoding="utf-8", errors="replace")))


EXPLORABLE = re.compile(r'<script[^>]*class="gl-x-data"[^>]*>(.*?)</script>', re.DOTALL)  # the HTML writer reorders attributes


def explorables(page: str) -> dict[str, dict[str, Any]]:
    """``{name: spec}`` for every explorable (``gradlab.explorable``) on the built HTML page ``book/<page>``.

    The spec is the JSON the page embeds: ``controls``, ``panels``, ``xs`` and ``cells``. Cells are in
    row-major order over the controls; curve ``[i, y]`` is drawn at ``x = spec["xs"][i]``.
    The ``"bytes"`` entry is the size of the explorable's HTML on the page.
    """
    html_path = build_dir() / "html" / "book" / f"{page}.html"
    if not html_path.exists():
        raise FileNotFoundError(f"{html_path} does not exist: build the book first (make strict)")
    text = html_path.read_text(encoding="utf-8")
    found = {}
    for m in EXPLORABLE.finditer(text):
        spec = json.loads(m.group(1))
        start = text.rfind("<div", 0, text.find(f'id="gl-x-{spec["name"]}"'))
        spec["bytes"] = len(text[start:m.end()].encode("utf-8"))
        found[spec["name"]] = spec
    return found


def explorable_cell(spec: dict[str, Any], **setting: Any) -> dict[str, Any]:
    """The cell of ``spec`` for ``setting`` (control name -> value; unnamed controls at their default),
    with each curve as ``(x, y)`` lists."""
    flat = 0
    for c in spec["controls"]:
        k = c["values"].index(setting[c["name"]]) if c["name"] in setting else c["default"]
        flat = flat * len(c["values"]) + k
    cell = spec["cells"][flat]
    return dict(cell, curves=[[(spec["xs"][i], y) for i, y in panel] for panel in cell["curves"]])
