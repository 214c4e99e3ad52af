"""One figure style for the whole book, and the plotting helpers chapters use.

The palette is Okabe & Ito's, distinguishable with the common forms of colour
blindness; lines also differ by marker so a figure survives greyscale
printing. Figures have an opaque white background so they stay readable in
the theme's dark mode, and a 6.4 × 4 inch size with 12 pt text that stays
legible at phone width. Every helper returns the ``Figure`` and leaves
showing it to the notebook.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ._validate import as_array, check_positive_int, per_layer

__all__ = [
    "PALETTE", "MARKERS", "RC", "SEQUENTIAL_CMAP", "style", "figure", "plot_lines",
    "plot_heatmap", "draw_network", "plot_gradient_flow", "plot_layer_histograms",
]

#: Okabe–Ito colours, most distinct first (yellow last, as it is weak on white).
PALETTE: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
#: The colour map of heat maps, cividis, which is monotone in lightness and readable with every
#: common colour-vision deficiency (Nuñez, Anderton & Renslow 2018).
SEQUENTIAL_CMAP: str = "cividis"

RC: dict[str, object] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    # 12 pt on a 6.4-inch figure stays about 7 pt when a phone shrinks it to
    # 360 px wide; smaller text would not survive that.
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    # Reproducible output: fixed ids in SVG, no timestamps in any format.
    "svg.hashsalt": "gradlab",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply the book's style inside a ``with`` block (nothing leaks outside it).
    """
    with matplotlib.rc_context(RC):
        yield


def figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.4, height: float = 4.0) -> tuple[Figure, np.ndarray]:
    """A new styled figure and a 2-d array of its axes (always 2-d, so indexing is uniform).
    """
    nrows = check_positive_int(nrows, "nrows")
    ncols = check_positive_int(ncols, "ncols")
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, layout="constrained")
    plt.close(fig)  # the notebook displays the returned figure once; pyplot must not show it again
    return fig, axes


def _figure_and_axes(ax: plt.Axes | None) -> tuple[Figure, plt.Axes]:
    # Draw into the caller's axes (a panel of a larger figure) or into a new styled figure.
    if ax is None:
        fig, axes = figure()
        return fig, axes[0, 0]
    return ax.figure, ax


def plot_lines(
    x: ArrayLike,
    ys: Mapping[str, ArrayLike],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    logy: bool = False,
    markers: bool = False,
    hlines: Mapping[str, float] | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """Curves sharing one x axis, one per entry of ``ys`` (label → values).

    ``hlines`` draws labelled dashed reference lines, e.g. a bound of ¼.
    """
    x_arr = as_array(x, "x", ndim=1)
    if not ys:
        raise ValueError("ys must hold at least one curve")
    fig, ax = _figure_and_axes(ax)
    with style():
        for i, (label, y) in enumerate(ys.items()):
            y_arr = as_array(y, f"ys[{label!r}]", ndim=1)
            if y_arr.shape != x_arr.shape:
                raise ValueError(f"ys[{label!r}] must have the shape of x, {x_arr.shape}, got {y_arr.shape}")
            ax.plot(
                x_arr,
                y_arr,
                label=label,
                color=PALETTE[i % len(PALETTE)],
                marker=MARKERS[i % len(MARKERS)] if markers else None,
            )
        for j, (label, value) in enumerate((hlines or {}).items()):
            ax.axhline(value, ls="--", lw=1.2, color=PALETTE[-2], alpha=0.8 - 0.2 * j, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.legend()
    return fig


def plot_heatmap(
    x: ArrayLike,
    y: ArrayLike,
    values: ArrayLike,
    *,
    xlabel: str,
    ylabel: str,
    cbar_label: str,
    curves: Mapping[str, tuple[ArrayLike, ArrayLike]] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """A grid of values, ``values[i, j]`` at ``(x[j], y[i])``, with a colour bar and labelled curves on top.

    Cells are centred on the grid points (``pcolormesh`` with ``shading="nearest"``), so unequal
    spacing is drawn as it is. ``curves`` maps a label to ``(x, y)`` points, drawn as dashed lines
    in the palette's contrasting colours (the colour map itself uses :data:`SEQUENTIAL_CMAP`).
    """
    x_arr = as_array(x, "x", ndim=1)
    y_arr = as_array(y, "y", ndim=1)
    v = as_array(values, "values", ndim=2)
    if v.shape != (y_arr.size, x_arr.size):
        raise ValueError(f"values must have shape (len(y), len(x)) = ({y_arr.size}, {x_arr.size}), got {v.shape}")
    fig, ax = _figure_and_axes(ax)
    with style():
        mesh = ax.pcolormesh(x_arr, y_arr, v, shading="nearest", cmap=SEQUENTIAL_CMAP, vmin=vmin, vmax=vmax)
        fig.colorbar(mesh, ax=ax, label=cbar_label)
        # White and orange stand out against both ends of cividis (dark blue to yellow).
        for i, (label, (cx, cy)) in enumerate((curves or {}).items()):
            cx_arr, cy_arr = as_array(cx, f"curves[{label!r}] x", ndim=1), as_array(cy, f"curves[{label!r}] y", ndim=1)
            if cx_arr.shape != cy_arr.shape:
                raise ValueError(f"curves[{label!r}] must have x and y of one shape, got {cx_arr.shape} and {cy_arr.shape}")
            ax.plot(cx_arr, cy_arr, ls=("--", ":", "-.")[i % 3], lw=2.2, color=("white", PALETTE[1], PALETTE[3])[i % 3],
                    label=label)
        ax.set_xlim(x_arr.min() - 0.5 * _step(x_arr), x_arr.max() + 0.5 * _step(x_arr))
        ax.set_ylim(y_arr.min() - 0.5 * _step(y_arr), y_arr.max() + 0.5 * _step(y_arr))
        ax.grid(False)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if curves:
            ax.legend(loc="lower right", frameon=True, framealpha=0.85)
    return fig


def _step(arr: np.ndarray) -> float:
    # half a cell of margin at each end, as pcolormesh's "nearest" shading draws it
    return float(np.diff(arr[:2])[0]) if arr.size > 1 else 1.0


def draw_network(sizes: Sequence[int], *, max_units: int = 5, output: str = "g") -> Figure:
    r"""A labelled diagram of a fully connected network with widths ``sizes``.

    Columns are layers l = 0..L; each column is labelled :math:`a^{(l)}`
    (:math:`a^{(0)} = x`), each set of edges :math:`W^{(l)}, b^{(l)}`, and
    each hidden column :math:`z^{(l)} \to g`. Columns wider than
    ``max_units`` are drawn with ``max_units`` units and their true width
    written below. ``output`` names the output layer's activation in its
    label: ``"g"`` (the same as the hidden layers), ``"linear"`` (then
    :math:`a^{(L)} = z^{(L)}`), or any other name, e.g. ``"softmax"``.
    """
    if not isinstance(output, str) or not output:
        raise TypeError(f"output must be a non-empty activation name (str), got {output!r}")
    if isinstance(sizes, (str, bytes)) or len(sizes) < 2:
        raise ValueError(f"sizes must list at least two layer widths, got {sizes!r}")
    widths = [check_positive_int(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    L = len(widths) - 1
    fig, axes = figure(width=6.4, height=3.8)
    ax = axes[0, 0]
    with style():
        ax.set_axis_off()
        ax.grid(False)

        def ys(n: int) -> np.ndarray:
            shown = min(n, max_units)
            return np.linspace(-(shown - 1) / 2, (shown - 1) / 2, shown) * 0.8

        cols = [ys(n) for n in widths]
        for l in range(1, L + 1):
            for y0 in cols[l - 1]:
                for y1 in cols[l]:
                    ax.plot([l - 1, l], [y0, y1], color="#999999", lw=0.6, zorder=1)
            top = max(cols[l - 1].max(), cols[l].max())
            ax.text(l - 0.5, top + 0.75, f"$W^{{({l})}},\\ b^{{({l})}}$", ha="center", fontsize=11)
        # One baseline for every column's labels, so they read as a row.
        bottom = min(c.min() for c in cols) - 0.75
        for l, col in enumerate(cols):
            colour = PALETTE[0] if 0 < l < L else (PALETTE[2] if l == 0 else PALETTE[1])
            ax.scatter(np.full(col.size, l), col, s=260, color=colour, zorder=2, edgecolors="black", linewidths=0.8)
            if l == 0:
                label = "$a^{(0)} = x$"
            elif l == L and output == "linear":
                label = f"$a^{{({l})}} = z^{{({l})}}$"
            elif l == L and output != "g":
                label = f"$a^{{({l})}} = \\mathrm{{{output}}}(z^{{({l})}})$"
            else:
                label = f"$a^{{({l})}} = g(z^{{({l})}})$"
            ax.text(l, bottom, label, ha="center", va="top", fontsize=10)
            ax.text(l, bottom - 0.5, f"$n_{{{l}}} = {widths[l]}$", ha="center", va="top", fontsize=10, color="#444444")
        ax.set_xlim(-0.6, L + 0.6)
        span = max(c.max() for c in cols)
        ax.set_ylim(-span - 2.0, span + 1.3)
    return fig


def _layer_names(names: Any, L: int, default: str) -> list[str]:
    # One label per layer: the caller's names, or "layer 1" .. "layer L".
    if names is None:
        return [f"{default} {l}" for l in range(1, L + 1)]
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"names must be a sequence of str, one per layer, got {type(names).__name__}")
    if len(names) != L:
        raise ValueError(f"names has {len(names)} entries but there are {L} layers")
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise TypeError(f"names[{i}] must be a str, got {type(n).__name__}")
    return list(names)


def _depth_colours(L: int) -> list[tuple[float, ...]]:
    # Layer 1 darkest, layer L lightest. The light end of cividis is a pale yellow that vanishes on
    # white, so the ramp stops at 85 % of the map.
    cmap = matplotlib.colormaps[SEQUENTIAL_CMAP]
    return [tuple(cmap(v)) for v in np.linspace(0.0, 0.85, L)] if L > 1 else [tuple(cmap(0.0))]


def _legend_layers(L: int, most: int = 8) -> list[int]:
    # At most `most` evenly spaced layers (0-based), always the first and the last.
    return sorted({int(i) for i in np.round(np.linspace(0, L - 1, min(L, most)))})


def plot_gradient_flow(
    steps: ArrayLike,
    grad_norms: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    ax: plt.Axes | None = None,
    ylabel: str = "gradient norm ‖∂L/∂W⁽ˡ⁾‖",
    xlabel: str = "step",
) -> Figure:
    r"""The "gradient-flow" chart: each layer's gradient norm over training, on a log scale.

    One line per layer, coloured from dark (layer 1) to light (layer L) along :data:`SEQUENTIAL_CMAP`,
    so depth reads as lightness in colour and in greyscale, with a marker every ~S/8 steps. The legend
    lists at most 8 layers, evenly spaced and always the first and the last. Values that a log axis
    cannot show (NaN, inf, 0 and below) are not drawn: the line stops there. If any value is NaN or
    inf, a dashed vertical line labelled "first non-finite" marks the first such step.

    Parameters
    ----------
    steps : array_like, shape (S,)
        Finite training steps, e.g. :attr:`gradlab.diagnose.Monitor.steps`.
    grad_norms : array_like, shape (S, L)
        Row s holds the layers' gradient norms at ``steps[s]``, e.g.
        :attr:`gradlab.diagnose.Monitor.grad_norms` or :attr:`gradlab.train.History.grad_W`.
    names : sequence of str, optional
        Legend labels, one per layer; default ``"layer 1"`` .. ``"layer L"``.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes instead of a new figure.
    ylabel, xlabel : str
        The axis labels (e.g. ``xlabel="lag T - t"`` when the rows are time lags, not steps).
    """
    s = as_array(steps, "steps", ndim=1)
    if s.size == 0:
        raise ValueError("steps must hold at least one step")
    if not np.all(np.isfinite(s)):
        raise ValueError("steps must be finite")
    g = as_array(grad_norms, "grad_norms", ndim=2)
    if g.shape[0] != s.size or g.shape[1] == 0:
        raise ValueError(f"grad_norms must have shape (len(steps), L) = ({s.size}, L) with L >= 1, got {g.shape}")
    L = g.shape[1]
    labels = _layer_names(names, L, "layer")
    g = g.astype(np.float64)
    finite = np.isfinite(g)
    shown = np.where(finite & (g > 0), g, np.nan)  # NaN breaks the line; a log axis cannot show 0
    in_legend = set(_legend_layers(L))
    fig, ax = _figure_and_axes(ax)
    with style():
        for l, colour in enumerate(_depth_colours(L)):
            ax.plot(s, shown[:, l], color=colour, marker=MARKERS[l % len(MARKERS)], markevery=max(1, s.size // 8),
                    label=labels[l] if l in in_legend else "_nolegend_")
        ax.set_yscale("log")
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        if bad_rows.size:
            x_bad = float(s[bad_rows[0]])
            ax.axvline(x_bad, ls="--", lw=1.4, color="black", label="_nolegend_", gid="first-non-finite")
            # Above the plotting area, centred on the line, so it hides no curve.
            ax.text(x_bad, 1.01, "first non-finite", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def plot_layer_histograms(
    arrays: Sequence[ArrayLike] | Mapping[Any, ArrayLike],
    *,
    names: Sequence[str] | None = None,
    bins: int = 40,
    log: bool = False,
    xlabel: str = "value",
    ncols: int | None = None,
) -> Figure:
    r"""Small multiples: one histogram per layer, over a shared x range.

    For activations :math:`a^{(l)}` or gradients :math:`\partial L/\partial W^{(l)}` (any shapes: every
    entry counts). With ``log=True`` the x axis is :math:`\log_{10}|v|` of the nonzero entries, the
    view in which a gradient that shrinks layer by layer shows as histograms sliding left, and each
    panel's title says how many entries were exactly zero (they have no logarithm). NaN and inf
    entries are left out, and a title counts them when there are any. Panels on the bottom edge carry
    the x label, panels on the left edge the y label ("count").

    Parameters
    ----------
    arrays : list, tuple or dict of array_like
        One array per layer, first layer first (a dict keyed 1..L is read in key order).
    names : sequence of str, optional
        Panel titles; default ``"layer 1"`` .. ``"layer L"``.
    bins : int, default 40
        Number of bins, shared by all panels.
    log : bool, default False
        Histogram :math:`\log_{10}|v|` of the nonzero entries instead of :math:`v`.
    xlabel : str, default ``"value"``
        Name of the quantity; with ``log=True`` the axis reads ``log₁₀|xlabel|``.
    ncols : int, optional
        Panels per row; default ``min(L, 3)``.
    """
    items = per_layer(arrays, "arrays")
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"log must be a bool, got {type(log).__name__}")
    if not isinstance(xlabel, str):
        raise TypeError(f"xlabel must be a str, got {type(xlabel).__name__}")
    bins = check_positive_int(bins, "bins")
    L = len(items)
    titles = _layer_names(names, L, "layer")
    ncols = min(L, 3) if ncols is None else check_positive_int(ncols, "ncols")
    ncols = min(ncols, L)
    nrows = math.ceil(L / ncols)

    values, notes = [], []
    for label, x in items:
        v = as_array(x, label).astype(np.float64).ravel()
        if v.size == 0:
            raise ValueError(f"{label} must not be empty")
        ok = np.isfinite(v)
        extra = []
        if log:
            zeros = int(np.count_nonzero(v[ok] == 0))
            extra.append(f"{zeros} zero" + ("" if zeros == 1 else "s"))
            keep = ok & (v != 0)
            v = np.log10(np.abs(v[keep]))
        else:
            v = v[ok]
        if not ok.all():
            extra.append(f"{int(ok.size - np.count_nonzero(ok))} non-finite")
        values.append(v)
        notes.append(f"\n{', '.join(extra)}" if extra else "")  # a second title line: panels are narrow
    drawn = [v for v in values if v.size]
    lo = min(float(v.min()) for v in drawn) if drawn else 0.0
    hi = max(float(v.max()) for v in drawn) if drawn else 1.0
    if hi - lo < 1e-12 * max(1.0, abs(lo)):  # one value everywhere: give its bin a visible width
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)

    fig, axes = figure(nrows, ncols, width=6.4, height=max(2.8, 2.3 * nrows + 0.5))
    label_x = f"log₁₀|{xlabel}|" if log else xlabel
    with style():
        for i, ax in enumerate(axes.ravel()):
            if i >= L:
                ax.set_axis_off()
                continue
            ax.hist(values[i], bins=edges, color=PALETTE[0], edgecolor="white", linewidth=0.3)
            if values[i].size == 0:
                ax.text(0.5, 0.5, "no entries to show", transform=ax.transAxes, ha="center", va="center", fontsize=10)
            ax.set_xlim(lo, hi)
            ax.set_title(titles[i] + notes[i], fontsize=10)
            if i + ncols >= L:  # nothing below this panel: it is on the bottom edge
                ax.set_xlabel(label_x)
            if i % ncols == 0:
                ax.set_ylabel("count")
    return fig
