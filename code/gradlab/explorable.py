r"""Explorables: figures a reader drives with sliders, computed by gradlab before anyone reads them.

An explorable is a grid. Each control (a slider or a drop-down list) takes a few values; for every
combination, :func:`build` calls the chapter's ``compute`` once and keeps the curves it returns and
the numbers it reports. The result is a cell output with two forms:

* ``text/html``: labelled native controls, one SVG chart per panel, the current numbers printed as
  text, and the whole grid as JSON. ``explorable.js`` (shipped beside this module and served once
  by the site) draws the chart for the chosen setting. Nothing runs a kernel, nothing is fetched:
  the page works from ``file://``.
* ``image/png``: the default setting drawn with matplotlib in the book's style, which is what the
  PDF prints.

Every value the page can show is therefore computed by gradlab at build time, and the tests read
it back from the built page. A reader changes which precomputed setting is shown, never the maths.

Example
-------
>>> import numpy as np
>>> from gradlab import explorable
>>> def compute(w):
...     a = np.linspace(-4.0, 4.0, 5)
...     return {"curves": [[(a, w * a)]], "values": {"slope": w}}
>>> x = explorable.build(
...     "doc-line", "A line through the origin",
...     [explorable.Control("w", "slope w", (0.5, 1.0, 2.0), default=1.0)],
...     [explorable.Panel("w a", "a", "w a", (explorable.Series("w a"),))],
...     compute, readout=[("slope", "slope", ".1f")])
>>> x.n_settings, x.cell(w=2.0)["text"], x.cell(w=2.0)["curves"][0][0][1]
(3, 'slope = 2.0', [-8.0, -4.0, 0.0, 4.0, 8.0])
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["Control", "Series", "Panel", "Explorable", "build", "SCRIPT", "SIGNIFICANT_DIGITS"]

#: The widget's script, served once by the site (the book's Sphinx extension copies it).
SCRIPT: Path = Path(__file__).with_name("explorable.js")
#: How many significant digits the stored curves keep (a chart is a few hundred pixels high, so a
#: thousandth of its range is below one pixel); the readout keeps six.
SIGNIFICANT_DIGITS = 3
STYLES = ("line", "dashed", "points", "marker")
SCALES = ("linear", "log")
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")


@dataclass(frozen=True)
class Control:
    """One control: ``compute`` receives ``name=value`` for each of ``values``.

    Numbers get a slider (``<input type="range">`` stepping through the values in order), strings a
    drop-down list. ``label`` is the visible label and the control's accessible name; ``fmt`` formats
    a number for display (``"g"`` unless given).
    """

    name: str
    label: str
    values: tuple[Any, ...]
    default: Any = None
    fmt: str = "g"

    @property
    def kind(self) -> str:
        return "select" if isinstance(self.values[0], str) else "range"

    def text(self, value: Any) -> str:
        return value if isinstance(value, str) else format(value, self.fmt)


@dataclass(frozen=True)
class Series:
    """One curve of a panel. ``style``: line, dashed, points or marker (one large point)."""

    label: str
    style: str = "line"
    colour: int = 0


@dataclass(frozen=True)
class Panel:
    """One chart. ``series`` are computed per setting; ``static`` ones (with their data) are fixed.

    The axis ranges are the same for every setting (taken over the whole grid unless ``xlim`` or
    ``ylim`` is given), so a change of setting moves the curves, not the axes.
    """

    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    xscale: str = "linear"
    yscale: str = "linear"
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    static: tuple[tuple[Series, Any, Any], ...] = ()


@dataclass
class Explorable:
    """A computed grid; in a notebook it displays as the widget (HTML) and a PNG (the PDF's figure)."""

    name: str
    title: str
    controls: tuple[Control, ...]
    panels: tuple[Panel, ...]
    readout: tuple[tuple[str, str, str], ...]
    cells: list[dict[str, Any]] = field(repr=False)
    limits: list[dict[str, list[float]]] = field(repr=False)
    xs: list[list[float | None]] = field(repr=False, default_factory=list)

    @property
    def n_settings(self) -> int:
        return len(self.cells)

    def index(self, **setting: Any) -> int:
        """Position of a setting in ``cells`` (row-major over the controls; defaults fill gaps)."""
        unknown = set(setting) - {c.name for c in self.controls}
        if unknown:
            raise ValueError(f"setting names no control of {self.name!r}: {sorted(unknown)}")
        flat = 0
        for c in self.controls:
            value = setting.get(c.name, c.default)
            if value not in c.values:
                raise ValueError(f"{c.name} must be one of {list(c.values)}, got {value!r}")
            flat = flat * len(c.values) + c.values.index(value)
        return flat

    def cell(self, **setting: Any) -> dict[str, Any]:
        """What the page shows for one setting: ``curves``, ``values`` and the printed ``text``.

        ``curves[j][k]`` is ``[x, y]`` for series k of panel j (x is stored once in ``xs``, and
        the cell refers to it by position; this method puts it back).
        """
        cell = self.cells[self.index(**setting)]
        return dict(cell, curves=[[[self.xs[i], y] for i, y in panel] for panel in cell["curves"]])

    def spec(self) -> dict[str, Any]:
        """The JSON the page embeds (``explorable.js`` reads it)."""
        return {
            "name": self.name,
            "title": self.title,
            "controls": [{"name": c.name, "label": c.label, "kind": c.kind, "labels": [c.text(v) for v in c.values],
                          "values": list(c.values), "default": c.values.index(c.default)} for c in self.controls],
            "panels": [{
                "title": p.title, "xlabel": p.xlabel, "ylabel": p.ylabel, "xscale": p.xscale, "yscale": p.yscale,
                "xlim": lim["x"], "ylim": lim["y"],
                "series": [_series_spec(s) for s in p.series],
                "static": [dict(_series_spec(s), xy=_xy(x, y)) for s, x, y in p.static],
            } for p, lim in zip(self.panels, self.limits)],
            "readout": [{"key": k, "label": lab} for k, lab, _ in self.readout],
            "xs": self.xs,
            "cells": self.cells,
        }

    def json(self) -> str:
        # "</" would end the <script> element that holds the JSON.
        return json.dumps(self.spec(), ensure_ascii=False, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")

    def html(self) -> str:
        """The widget: controls, one SVG per panel, the printed values and the grid as JSON."""
        uid = f"gl-x-{self.name}"
        default = self.cells[self.index()]
        parts = [f'<div class="gl-explorable" id="{uid}" role="group" aria-labelledby="{uid}-title">',
                 f'<p class="gl-x-title" id="{uid}-title">{_esc(self.title)}</p>', '<div class="gl-x-controls">']
        for i, c in enumerate(self.controls):
            cid, k = f"{uid}-c{i}", c.values.index(c.default)
            parts.append(f'<div class="gl-x-control"><label for="{cid}">{_esc(c.label)}</label>')
            if c.kind == "range":
                shown = _esc(c.text(c.default))
                parts.append(f'<input type="range" id="{cid}" min="0" max="{len(c.values) - 1}" step="1" value="{k}" '
                             f'aria-valuetext="{shown}"><output for="{cid}" id="{cid}-value">{shown}</output>')
            else:
                options = "".join(f'<option value="{j}"{" selected" if j == k else ""}>{_esc(c.text(v))}</option>'
                                  for j, v in enumerate(c.values))
                parts.append(f'<select id="{cid}">{options}</select>')
            parts.append("</div>")
        parts.append('</div><div class="gl-x-panels">')
        for j, p in enumerate(self.panels):
            pid = f"{uid}-p{j}"
            legend = "".join(f'<li><svg width="26" height="10" aria-hidden="true">{_swatch(s)}</svg>{_esc(s.label)}</li>'
                             for s in [st for st, _, _ in p.static] + list(p.series))
            parts.append(f'<figure class="gl-x-panel"><svg id="{pid}" viewBox="0 0 380 270" role="img" '
                         f'aria-labelledby="{pid}-desc"><title id="{pid}-desc">{_esc(p.title)}</title></svg>'
                         f'<figcaption><ul class="gl-x-legend">{legend}</ul></figcaption></figure>')
        parts.append(f'</div><p class="gl-x-readout" id="{uid}-readout" aria-live="polite">{_esc(default["text"])}</p>')
        parts.append('<noscript><p>This figure needs JavaScript to redraw; the values above are for the default '
                     'setting.</p></noscript>')
        parts.append(f'<script type="application/json" class="gl-x-data">{self.json()}</script></div>')
        return "".join(parts)

    def figure(self) -> Any:
        """The default setting as a matplotlib figure in the book's style (the PDF's static figure)."""
        from . import plotting  # matplotlib only when a figure is asked for

        cell = self.cells[self.index()]
        n = len(self.panels)
        fig, axes = plotting.figure(1, n, width=5.2 * n, height=4.0)
        with plotting.style():
            for j, (p, lim) in enumerate(zip(self.panels, self.limits)):
                ax = axes[0, j]
                drawn = [(s, x, y) for s, x, y in p.static] + [(s, self.xs[c[0]], c[1]) for s, c in zip(p.series, cell["curves"][j])]
                for s, x, y in drawn:
                    _plot(ax, s, np.array(x, dtype=float), np.array(y, dtype=float))
                ax.set_xscale(p.xscale)
                ax.set_yscale(p.yscale)
                ax.set_xlim(*lim["x"])
                ax.set_ylim(*lim["y"])
                ax.set_xlabel(p.xlabel)
                ax.set_ylabel(p.ylabel)
                ax.set_title(p.title, fontsize="medium")
                ax.legend(fontsize="small")
            setting = ", ".join(f"{c.label} = {c.text(c.default)}" for c in self.controls)
            fig.text(0.5, -0.02, _wrap(f"{setting}. {cell['text']}", 110 * n // 2), ha="center", va="top", fontsize="small")
        return fig

    def png(self) -> bytes:
        import matplotlib.pyplot as plt

        fig = self.figure()
        buf = io.BytesIO()
        # No "Software" entry: the bytes depend on the data only, so rebuilds are identical.
        fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        return buf.getvalue()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/html": self.html(),
                "image/png": base64.b64encode(self.png()).decode("ascii"),
                "text/plain": f"<explorable {self.name!r}: {self.n_settings} settings; default: {self.cell()['text']}>"}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, max(width, 40)))


def _series_spec(s: Series) -> dict[str, Any]:
    return {"label": s.label, "style": s.style, "colour": _colour(s.colour)}


def _colour(i: int) -> str:
    from .plotting import PALETTE

    return PALETTE[i % len(PALETTE)]


def _swatch(s: Series) -> str:
    colour = _colour(s.colour)
    if s.style in ("points", "marker"):
        return f'<circle cx="13" cy="5" r="{3.5 if s.style == "points" else 4.5}" fill="{colour}"/>'
    dash = ' stroke-dasharray="5 3"' if s.style == "dashed" else ""
    return f'<line x1="1" y1="5" x2="25" y2="5" stroke="{colour}" stroke-width="2.5"{dash}/>'


def _plot(ax: Any, s: Series, x: np.ndarray, y: np.ndarray) -> None:
    colour = _colour(s.colour)
    if s.style == "points":
        ax.plot(x, y, "o", ms=4, color=colour, label=s.label)
    elif s.style == "marker":
        ax.plot(x, y, "o", ms=9, color=colour, markeredgecolor="black", label=s.label)
    else:
        ax.plot(x, y, ls="--" if s.style == "dashed" else "-", color=colour, label=s.label)


def _round(v: float) -> float | None:
    if not math.isfinite(v):
        return None
    return float(f"{v:.{SIGNIFICANT_DIGITS}g}")


def _values(v: Any) -> list[float | None]:
    return [_round(float(a)) for a in np.asarray(v, dtype=float)]


def _xy(x: Any, y: Any) -> list[list[float | None]]:
    return [_values(x), _values(y)]


def _curve(raw: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = raw
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where} must be a pair (x, y) of 1-D number arrays") from exc
    if x.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"{where} must be a pair (x, y) of 1-D arrays of one non-zero length, got shapes {x.shape} and {y.shape}")
    return x, y


def _range(values: list[np.ndarray], scale: str, where: str) -> list[float]:
    v = np.concatenate(values) if values else np.array([])
    v = v[np.isfinite(v)]
    if scale == "log":
        v = v[v > 0]
    if v.size == 0:
        raise ValueError(f"{where} has no finite value to draw{' above 0 (log scale)' if scale == 'log' else ''}")
    lo, hi = float(v.min()), float(v.max())
    if scale == "log":
        lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
        return [lo, hi if hi > lo else lo * 10]
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(lo), 1.0) * 0.5
    return [lo - pad, hi + pad]


def _check_spec(name: Any, title: Any, controls: Any, panels: Any, readout: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be lower-case letters, digits and hyphens, starting with a letter, got {name!r}")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("title must be a non-empty string")
    if not controls:
        raise ValueError("controls must list at least one Control")
    seen = set()
    for c in controls:
        if not isinstance(c, Control):
            raise TypeError(f"controls must hold gradlab.explorable.Control objects, got {type(c).__name__}")
        if not c.values:
            raise ValueError(f"control {c.name!r} has no values")
        kinds = {isinstance(v, str) for v in c.values}
        if len(kinds) > 1 or (kinds == {False} and not all(isinstance(v, (int, float)) and math.isfinite(v) for v in c.values)):
            raise ValueError(f"control {c.name!r}: values must be all strings or all finite numbers, got {list(c.values)}")
        if len(set(c.values)) != len(c.values):
            raise ValueError(f"control {c.name!r}: values must be distinct, got {list(c.values)}")
        if c.default is not None and c.default not in c.values:
            raise ValueError(f"control {c.name!r}: default must be one of {list(c.values)}, got {c.default!r}")
        if c.name in seen or not c.name.isidentifier():
            raise ValueError(f"control names must be distinct Python identifiers, got {c.name!r}")
        seen.add(c.name)
    if not panels:
        raise ValueError("panels must list at least one Panel")
    for p in panels:
        if not isinstance(p, Panel):
            raise TypeError(f"panels must hold gradlab.explorable.Panel objects, got {type(p).__name__}")
        if p.xscale not in SCALES or p.yscale not in SCALES:
            raise ValueError(f"panel {p.title!r}: xscale and yscale must be one of {SCALES}, got {p.xscale!r}, {p.yscale!r}")
        for axis, lim, scale in (("xlim", p.xlim, p.xscale), ("ylim", p.ylim, p.yscale)):
            if lim is None:
                continue
            ok = len(lim) == 2 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in lim) and lim[0] < lim[1]
            if not ok or (scale == "log" and lim[0] <= 0):
                raise ValueError(f"panel {p.title!r}: {axis} must be (low, high) with low < high"
                                 f"{' and low > 0 (log scale)' if scale == 'log' else ''}, got {lim!r}")
        for s in list(p.series) + [s for s, _, _ in p.static]:
            if not isinstance(s, Series):
                raise TypeError(f"panel {p.title!r}: series must be gradlab.explorable.Series objects, got {type(s).__name__}")
            if s.style not in STYLES:
                raise ValueError(f"panel {p.title!r}: series style must be one of {STYLES}, got {s.style!r}")
    for item in readout:
        if not (isinstance(item, tuple) and len(item) == 3 and all(isinstance(t, str) for t in item)):
            raise TypeError(f"readout entries must be (key, label, format) string triples, got {item!r}")


def build(
    name: str,
    title: str,
    controls: Sequence[Control],
    panels: Sequence[Panel],
    compute: Callable[..., Mapping[str, Any]],
    *,
    readout: Sequence[tuple[str, str, str]] = (),
) -> Explorable:
    """Call ``compute`` on every combination of the controls' values and keep what it returns.

    ``compute(**setting)`` returns ``{"curves": [[(x, y), ...] per panel], "values": {key: number}}``:
    one ``(x, y)`` pair per series of each panel, in order, and a number for each ``readout`` key.
    ``readout`` lists ``(key, label, format)``: the page prints ``label = format(value)`` for each (an
    infinite value as ∞; a string value as ``label: value``).
    A control's default is its first value unless given.

    Raises
    ------
    ValueError
        If the name is not a lower-case slug, a control has no, repeated or mixed values or a default
        outside them, a scale or style is unknown, or ``compute`` returns the wrong number of curves,
        curves of mismatched shapes, a NaN readout value, or nothing to draw on a panel.
    TypeError
        If a control, panel, series or readout entry has the wrong type, or ``compute`` returns
        something other than the mapping described above.
    """
    _check_spec(name, title, controls, panels, readout)
    controls = tuple(Control(c.name, c.label, tuple(c.values), c.values[0] if c.default is None else c.default, c.fmt)
                     for c in controls)
    panels, readout = tuple(panels), tuple(readout)
    cells: list[dict[str, Any]] = []
    x_index: dict[tuple[float | None, ...], int] = {}  # most settings share their x: store each x once
    xs: list[list[np.ndarray]] = [[np.asarray(x, dtype=float) for _, x, _ in p.static] for p in panels]
    ys: list[list[np.ndarray]] = [[np.asarray(y, dtype=float) for _, _, y in p.static] for p in panels]
    for combo in itertools.product(*(c.values for c in controls)):
        setting = {c.name: v for c, v in zip(controls, combo)}
        where = f"compute({', '.join(f'{k}={v!r}' for k, v in setting.items())})"
        out = compute(**setting)
        if not isinstance(out, Mapping) or "curves" not in out:
            raise TypeError(f"{where} must return a mapping with 'curves' (and 'values'), got {type(out).__name__}")
        curves, values = out["curves"], out.get("values", {})
        if len(curves) != len(panels):
            raise ValueError(f"{where} returned curves for {len(curves)} panels, expected {len(panels)}")
        stored = []
        for j, (p, per_panel) in enumerate(zip(panels, curves)):
            if len(per_panel) != len(p.series):
                raise ValueError(f"{where}: panel {j} has {len(p.series)} series, got {len(per_panel)} curves")
            pairs = [_curve(raw, f"{where}, panel {j}, series {k}") for k, raw in enumerate(per_panel)]
            xs[j] += [x for x, _ in pairs]
            ys[j] += [y for _, y in pairs]
            stored.append([[x_index.setdefault(tuple(_values(x)), len(x_index)), _values(y)] for x, y in pairs])
        kept, text = {}, []
        for key, label, fmt in readout:
            if key not in values:
                raise ValueError(f"{where} returned no value for the readout key {key!r}")
            if isinstance(values[key], str):  # a word, e.g. the name of a phase
                kept[key] = values[key]
                text.append(f"{label}: {values[key]}")
                continue
            v = float(values[key])
            if math.isnan(v):
                raise ValueError(f"{where}: readout value {key!r} is NaN")
            # an infinite value (a depth scale at the edge of chaos) is printed as such, stored as null
            kept[key] = float(f"{v:.6g}") if math.isfinite(v) else None
            text.append(f"{label} = {format(v, fmt) if math.isfinite(v) else ('−' if v < 0 else '') + '∞'}")
        for key, v in values.items():  # extra values: kept for the tests, not printed (NaN as null)
            if key not in kept:
                try:
                    v = float(v)
                except (TypeError, ValueError) as exc:
                    raise TypeError(f"{where}: value {key!r} must be a real number, got {type(v).__name__}") from exc
                kept[key] = float(f"{v:.6g}") if math.isfinite(v) else None
        cells.append({"curves": stored, "values": kept, "text": "; ".join(text)})
    limits = []
    for j, p in enumerate(panels):
        where = f"panel {j} ({p.title!r})"
        limits.append({"x": list(p.xlim) if p.xlim else _range(xs[j], p.xscale, where + " x"),
                       "y": list(p.ylim) if p.ylim else _range(ys[j], p.yscale, where + " y")})
    return Explorable(name, title, controls, panels, readout, cells, limits, [list(x) for x in x_index])
