"""Tables for the book: Markdown text that MyST renders as a real table.

A cell that ends with ``Markdown(markdown_table(...))`` (from
``IPython.display``) shows a table whose every entry was computed in that
cell, with the number format stated once.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["markdown_table"]


def _cell(value: Any, floatfmt: str) -> str:
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        return format(float(value), floatfmt)
    return str(value).replace("|", r"\|")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, floatfmt: str = ".3g") -> str:
    """A pipe table with right-aligned columns; floats are formatted with ``floatfmt``.

    >>> print(markdown_table(["l", "x"], [[1, 0.5]]))
    | l | x |
    |--:|--:|
    | 1 | 0.5 |
    """
    if isinstance(headers, str) or len(headers) == 0:
        raise ValueError("headers must be a non-empty sequence of column titles")
    try:
        format(1.0, floatfmt)
    except (ValueError, TypeError):
        raise ValueError(f"floatfmt must be a format spec for floats such as '.3g', got {floatfmt!r}") from None
    lines = ["| " + " | ".join(_cell(h, floatfmt) for h in headers) + " |", "|" + "|".join("--:" for _ in headers) + "|"]
    for i, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"rows[{i}] must have {len(headers)} entries (one per header), got {len(row)}")
        lines.append("| " + " | ".join(_cell(v, floatfmt) for v in row) + " |")
    return "\n".join(lines)
