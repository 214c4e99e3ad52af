"""Sphinx extension: ARIA roles for the bibliography that accessibility checkers accept.

Loaded by ``_config.yml`` (``sphinx.local_extensions``). docutils 0.21 writes each
entry of a ``{bibliography}`` (book/references.md) as
``<div class="citation" role="doc-biblioentry">`` inside ``<div role="list">``.
``doc-biblioentry`` is deprecated in DPUB-ARIA 1.1 and axe-core does not count it as
a list item, so the references page fails axe's critical rule
``aria-required-children`` (tests/test_browser.py). This writes ``role="listitem"``
instead; the markup is otherwise docutils' own (``visit_citation`` and
``depart_citation`` of ``docutils.writers._html_base``).

sphinxcontrib-bibtex's ``:list: bullet`` would avoid the roles too, but in
version 2.7 citations ({cite:t}, {cite:p}) resolve only against bibliographies
in the default citation style.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx


def visit_citation(self: Any, node: nodes.citation) -> None:
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self: Any, node: nodes.citation) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
