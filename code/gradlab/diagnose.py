r"""Per-layer health of a network, from plain numpy arrays of any framework.

The mechanisms of the book leave fingerprints in a few per-layer numbers. For layers
:math:`l = 1, \dots, L` with weights :math:`W^{(l)}`, gradients :math:`\partial L/\partial W^{(l)}`,
an optimiser step :math:`\Delta W^{(l)} = W^{(l)}_{\text{new}} - W^{(l)}_{\text{old}}` and
activations :math:`a^{(l)}` (a batch of :math:`B` rows, :math:`n_l` columns), :func:`report` computes

* the gradient norm :math:`\|\partial L/\partial W^{(l)}\|_F` and the weight norm :math:`\|W^{(l)}\|_F`
  (Frobenius norms, computed in float64 without overflow, whatever the input precision);
* the ratios :math:`\|\partial L/\partial W^{(l)}\|_F / \|W^{(l)}\|_F` and
  :math:`\|\Delta W^{(l)}\|_F / \|W^{(l)}\|_F`: with :math:`\|W\|_F = 0` a ratio is ``inf``
  (``nan`` when the numerator is 0 too);
* the fraction of *dead* units: columns :math:`j` of :math:`a^{(l)}` with
  :math:`a^{(l)}_{bj} \le` ``dead_tol`` on **every** example :math:`b` of the batch (a ReLU unit
  that no example switches on passes no gradient at all);
* the fraction of *saturated* activations: entries within
  :math:`\tfrac{1 - s}{2}(h - \ell)` of either bound of the activation's range :math:`(\ell, h)`, with
  :math:`s` = ``saturation``; for tanh, :math:`(\ell, h) = (-1, 1)` and :math:`s = 0.99` mean
  :math:`|a| \ge 0.99`, where :math:`\tanh' = 1 - a^2 \le 0.02`;
* whether every array of the layer is finite,

and then names the known failure modes (:data:`FAILURE_MODES`) that the numbers point to, each as a
:class:`Finding` with one sentence that quotes the numbers. Thresholds are keyword parameters; their
defaults are conventions, not laws:

* ``"vanishing"`` and ``"exploding"`` compare the *raw* gradient norms of the first and the last layer.
  A Frobenius norm grows with the number of entries, about like :math:`\sqrt{n_l n_{l-1}}` for entries
  of one size, so a wide first layer and a narrow output layer shift the ratio by their shapes alone;
  the default band :math:`[10^{-2}, 10^{2}]` leaves room for that in the book's networks.
* ``"large_updates"`` and ``"small_updates"`` bracket the update/weight ratio by
  :math:`[10^{-4}, 10^{-2}]`. The rule of thumb that a healthy ratio is "about :math:`10^{-3}`" sits in
  the middle of this band; it is practitioners' folklore, from Karpathy's CS231n course notes (2016,
  "Neural Networks Part 3: Learning and Evaluation"), not a result of theory. An adaptive optimiser such as
  Adam takes steps close to the learning rate per entry whatever the gradient's size, so with Adam the
  ratio reflects mostly the learning rate.

Glorot & Bengio (2010) diagnosed deep sigmoid and tanh networks with exactly these per-layer
statistics (activation saturation and gradient spread across layers); Lu et al. (2020, "Dying ReLU and
initialization") study dead ReLU units.

Conventions. Arrays may come from any framework, as float16, float32 or float64 numpy arrays. A layer's
weight array may have any shape, its first axis being the layer's output units :math:`n_l`: numpy's and
PyTorch's (out, in) layout of a dense layer, and the output channels of a convolution kernel. (A Keras
``Dense`` kernel is stored (in, out): pass its transpose.) Per-layer arguments are lists or tuples,
first layer first, or dicts such as :mod:`gradlab.mlp`'s, keyed 1..L, read in sorted key order. Error
messages index a list as Python does, from 0 (``grads[0]`` is the first layer), and a dict by its key
(``grads[1]`` is the first layer of a dict keyed 1..L). Layer *names* in tables and findings are
``"1"`` .. ``"L"`` unless given, so they read like the book's :math:`l`.

Examples
--------
A three-layer network whose gradient norm shrinks about 700-fold from the last layer to the first:

>>> import numpy as np
>>> from gradlab import diagnose
>>> W = [np.full((4, 4), 0.5), np.full((4, 4), 0.5), np.full((2, 4), 0.5)]
>>> dW = [np.full((4, 4), 1e-5), np.full((4, 4), 1e-3), np.full((2, 4), 1e-2)]
>>> rep = diagnose.report(W, dW)
>>> rep.flagged("vanishing"), rep.flagged("exploding")
(True, False)
>>> print(rep.findings[0].message)
gradient norm falls 707-fold from the last layer (3) to the first (1)
>>> [round(g, 5) for g in rep.to_dict()["grad_norm"]]
[4e-05, 0.004, 0.02828]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import check_instance, check_positive, check_positive_int, check_real, lookup, per_layer
from .mlp import Forward, Gradients, Network, check_net

__all__ = [
    "FAILURE_MODES",
    "LayerStats",
    "Finding",
    "Report",
    "report",
    "report_mlp",
    "Monitor",
]

#: Every failure mode a :class:`Finding` can name, with what flags it (thresholds of :func:`report`).
FAILURE_MODES: dict[str, str] = {
    "nonfinite": "a NaN or inf in the gradients, weights, updates or activations of a layer",
    "vanishing": "the first layer's gradient norm is below vanish_ratio times the last layer's",
    "exploding": "the first layer's gradient norm is above explode_ratio times the last layer's, "
                 "or a layer's gradient norm is above max_grad_norm",
    "dead_units": "a layer's fraction of dead units (never above dead_tol on the batch) is at least dead_flag",
    "saturation": "a layer's fraction of activations near a bound of its range is at least saturation_flag",
    "large_updates": "a layer's update/weight ratio is above update_high",
    "small_updates": "a layer's update/weight ratio is below update_low",
}

#: Bounds (lo, hi) of the range of the activations :func:`report_mlp` knows to be bounded.
_MLP_BOUNDS: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}

Array = NDArray[np.floating]


# --------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStats:
    r"""The numbers :func:`report` computed for one layer.

    Attributes
    ----------
    name : str
        The layer's name (``"1"`` .. ``"L"`` by default).
    grad_norm : float
        :math:`\|\partial L/\partial W^{(l)}\|_F` (``nan``/``inf`` when the gradient is not finite).
    weight_norm : float or None
        :math:`\|W^{(l)}\|_F`; ``None`` when :func:`report` was given no weights.
    grad_to_weight : float or None
        ``grad_norm / weight_norm``; ``inf`` if ``weight_norm == 0 < grad_norm``, ``nan`` if both are 0;
        ``None`` without weights.
    update_to_weight : float or None
        :math:`\|\Delta W^{(l)}\|_F / \|W^{(l)}\|_F` with the same conventions; ``None`` when no updates
        were given.
    dead_fraction : float or None
        Fraction of the :math:`n_l` units whose activation is ``<= dead_tol`` on every example of the
        batch; ``None`` without activations.
    saturated_fraction : float or None
        Fraction of the activation entries near a bound of the layer's ``bounds``; ``None`` without
        activations or without bounds for this layer.
    finite : bool
        Whether every array given for this layer is finite.
    """

    name: str
    grad_norm: float
    weight_norm: float | None
    grad_to_weight: float | None
    update_to_weight: float | None
    dead_fraction: float | None
    saturated_fraction: float | None
    finite: bool


@dataclass(frozen=True)
class Finding:
    """One failure mode that the numbers point to.

    Attributes
    ----------
    mode : str
        A key of :data:`FAILURE_MODES`.
    layer : str or None
        The name of the layer concerned (for ``"vanishing"``/``"exploding"`` between the first and
        last layers: the first layer).
    message : str
        One sentence with the numbers, e.g. ``"gradient norm falls 3.2e+04-fold from the last layer
        (fc4) to the first (fc1)"``.
    """

    mode: str
    layer: str | None
    message: str


#: Columns of :meth:`Report.to_dict` and :meth:`Report.summary`: (LayerStats attribute, table heading).
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "layer"),
    ("grad_norm", "grad"),
    ("weight_norm", "weight"),
    ("grad_to_weight", "grad/weight"),
    ("update_to_weight", "update/weight"),
    ("dead_fraction", "dead"),
    ("saturated_fraction", "saturated"),
    ("finite", "finite"),
)


def _fmt(value: Any) -> str:
    # Three significant digits for every number; None is a missing measurement, not a zero.
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if isinstance(value, str):
        return value
    return f"{float(value):.3g}"


@dataclass(frozen=True)
class Report:
    """What :func:`report` found: one :class:`LayerStats` per layer and the :class:`Finding` list.

    ``str(report)`` is :meth:`summary`.

    Attributes
    ----------
    layers : tuple[LayerStats, ...]
        First layer first.
    findings : tuple[Finding, ...]
        In the order of :data:`FAILURE_MODES`, then of the layers; empty when nothing was flagged.
    """

    layers: tuple[LayerStats, ...]
    findings: tuple[Finding, ...]

    def flagged(self, mode: str) -> bool:
        """Whether any finding has failure mode ``mode`` (a key of :data:`FAILURE_MODES`)."""
        lookup(FAILURE_MODES, mode, "mode")
        return any(f.mode == mode for f in self.findings)

    def to_dict(self) -> dict[str, list[Any]]:
        """The table as columns, ``{attribute of LayerStats: [value of layer 1, ..., value of layer L]}``.

        Every attribute is a column, in the order of :class:`LayerStats`, even when all its values are
        ``None``, so a chapter can index the columns it needs.
        """
        return {attr: [getattr(s, attr) for s in self.layers] for attr, _ in _COLUMNS}

    def summary(self) -> str:
        """A compact fixed-width table, one row per layer (3 significant digits), then the findings.

        Columns whose values are all ``None`` (no updates, no activations, no bounds given) are left
        out; a ``-`` is a value that was not measured for that layer. After the table comes one line
        ``flagged mode: message`` per finding, or ``no known failure mode flagged``. The text is
        ASCII only, so it prints in any font, the PDF's code font included.
        """
        cols = self.to_dict()
        shown = [(head, [_fmt(v) for v in cols[attr]]) for attr, head in _COLUMNS
                 if any(v is not None for v in cols[attr])]
        widths = [max(len(head), *(len(c) for c in cells)) for head, cells in shown]
        # Names left-aligned, numbers right-aligned so their exponents line up.
        lines = ["  ".join((h.ljust(w) if i == 0 else h.rjust(w)) for i, ((h, _), w) in enumerate(zip(shown, widths)))]
        for r in range(len(self.layers)):
            lines.append("  ".join((cells[r].ljust(w) if i == 0 else cells[r].rjust(w))
                                   for i, ((_, cells), w) in enumerate(zip(shown, widths))))
        if self.findings:
            lines += [f"flagged {f.mode}: {f.message}" for f in self.findings]
        else:
            lines.append("no known failure mode flagged")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _layers(x: Any, name: str, *, allow_none: bool = False) -> list[tuple[str, Any]]:
    """Per-layer arrays as ``[(label for messages, array), ...]``, first layer first.

    A list or tuple is labelled by position from 0, a dict by its keys in sorted order. With
    ``allow_none`` an entry may be ``None`` (nothing measured for that layer).
    """
    items = per_layer(x, name)
    return [(label, None if (allow_none and v is None) else _float_array(v, label)) for label, v in items]


def _float_array(x: Any, label: str) -> Array:
    """``x`` as a real floating numpy array of any precision, or a TypeError naming ``label``."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{label} must be a real floating array, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{label} must be a real floating array, got {type(x).__name__}: {exc}") from None
    # Integers and booleans are refused rather than promoted: a weight or gradient array of ints is
    # almost always a mistake (e.g. labels passed by position), and the precision is part of the story.
    if arr.dtype.kind != "f":
        raise TypeError(f"{label} must be a real floating array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{label} must have at least one dimension, got a scalar")
    if arr.size == 0:
        raise ValueError(f"{label} must not be empty, got shape {arr.shape}")
    return arr


def _same_layers(items: list[tuple[str, Array]], weights: list[tuple[str, Array]], name: str,
                 x: Any, w: Any, ref: str = "weights") -> None:
    if len(items) != len(weights):
        raise ValueError(f"{name} has {len(items)} layers but {ref} has {len(weights)}")
    if isinstance(x, Mapping) and isinstance(w, Mapping) and sorted(x) != sorted(w):
        raise ValueError(f"{name} has keys {sorted(x)} but {ref} has keys {sorted(w)}")


def _check_names(names: Any, L: int | None, arg: str = "names") -> tuple[str, ...] | None:
    if names is None:
        return None if L is None else tuple(str(l) for l in range(1, L + 1))
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"{arg} must be a sequence of str, one per layer, got {type(names).__name__}")
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise TypeError(f"{arg}[{i}] must be a str, got {type(n).__name__}")
    if L is not None and len(names) != L:
        raise ValueError(f"{arg} has {len(names)} entries but weights has {L} layers")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{arg} must be unique, got {n!r} twice")
        seen.add(n)
    return tuple(names)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_pair(pair: Any, label: str) -> tuple[float, float]:
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise TypeError(f"{label} must be None or a pair (lo, hi), got {pair!r}")
    lo, hi = check_real(pair[0], f"{label} lo"), check_real(pair[1], f"{label} hi")
    if not lo < hi:
        raise ValueError(f"{label} must have lo < hi, got ({lo:g}, {hi:g})")
    return lo, hi


def _check_bounds(bounds: Any, L: int) -> list[tuple[float, float] | None]:
    if bounds is None:
        return [None] * L
    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence):
        raise TypeError(f"bounds must be None, a pair (lo, hi) or a sequence of per-layer pairs, got "
                        f"{type(bounds).__name__}")
    # One pair of numbers applies to every layer; otherwise one entry (a pair or None) per layer.
    if len(bounds) == 2 and all(isinstance(b, numbers.Number) for b in bounds):
        if any(isinstance(b, bool) for b in bounds):
            raise TypeError(f"bounds must hold real numbers, not bool, got {bounds!r}")
        pair = _check_pair(bounds, "bounds")
        return [pair] * L
    if len(bounds) != L:
        raise ValueError(f"bounds has {len(bounds)} entries but weights has {L} layers "
                         "(give one pair (lo, hi) for all layers, or one pair or None per layer)")
    return [None if b is None else _check_pair(b, f"bounds[{i}]") for i, b in enumerate(bounds)]


def _fraction(value: Any, name: str) -> float:
    # A threshold on a fraction: in (0, 1], so that a fraction can reach it.
    v = check_positive(value, name)
    if v > 1:
        raise ValueError(f"{name} must be in (0, 1], got {v:g}")
    return v


@dataclass(frozen=True)
class _Thresholds:
    dead_tol: float
    saturation: float
    vanish_ratio: float
    explode_ratio: float
    max_grad_norm: float | None
    dead_flag: float
    saturation_flag: float
    update_low: float
    update_high: float


def _check_thresholds(dead_tol: Any, saturation: Any, vanish_ratio: Any, explode_ratio: Any, max_grad_norm: Any,
                      dead_flag: Any, saturation_flag: Any, update_low: Any, update_high: Any) -> _Thresholds:
    t = _Thresholds(
        dead_tol=check_real(dead_tol, "dead_tol"),
        saturation=_fraction(saturation, "saturation"),
        vanish_ratio=check_positive(vanish_ratio, "vanish_ratio"),
        explode_ratio=check_positive(explode_ratio, "explode_ratio"),
        max_grad_norm=None if max_grad_norm is None else check_positive(max_grad_norm, "max_grad_norm"),
        dead_flag=_fraction(dead_flag, "dead_flag"),
        saturation_flag=_fraction(saturation_flag, "saturation_flag"),
        update_low=check_positive(update_low, "update_low"),
        update_high=check_positive(update_high, "update_high"),
    )
    if not t.vanish_ratio < t.explode_ratio:
        raise ValueError(f"vanish_ratio must be below explode_ratio, got {t.vanish_ratio:g} and {t.explode_ratio:g}")
    if not t.update_low < t.update_high:
        raise ValueError(f"update_low must be below update_high, got {t.update_low:g} and {t.update_high:g}")
    return t


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def _fro(x: Array) -> float:
    """Frobenius norm in float64: ``nan`` if any entry is NaN, ``inf`` if any is infinite, and no overflow
    for huge finite entries (a float64 entry of 1e200 squared would overflow; the norm itself does not)."""
    v = np.asarray(x, dtype=np.float64).ravel()
    finite = np.isfinite(v)
    if not finite.all():
        return math.nan if np.isnan(v).any() else math.inf
    m = float(np.max(np.abs(v)))
    if m == 0.0:
        return 0.0
    if 1e-150 < m < 1e150:  # squares and their sum stay in float64's range
        return math.sqrt(float(v.dot(v)))
    u = v / m
    return m * math.sqrt(float(u.dot(u)))


def _ratio(num: float, den: float) -> float:
    """``num / den`` with the conventions of :class:`LayerStats`: x/0 = inf for x > 0, 0/0 = nan."""
    if math.isnan(num) or math.isnan(den):
        return math.nan
    if den == 0.0:
        return math.nan if num == 0.0 else math.inf
    if math.isinf(num) and math.isinf(den):
        return math.nan
    return num / den


def _n_nonfinite(x: Array) -> int:
    return int(x.size - np.count_nonzero(np.isfinite(x)))


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def report(
    weights: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | None,
    grads: Sequence[ArrayLike] | Mapping[Any, ArrayLike],
    *,
    updates: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | None = None,
    activations: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | None = None,
    names: Sequence[str] | None = None,
    bounds: Any = None,
    dead_tol: float = 0.0,
    saturation: float = 0.99,
    vanish_ratio: float = 1e-2,
    explode_ratio: float = 1e2,
    max_grad_norm: float | None = None,
    dead_flag: float = 0.5,
    saturation_flag: float = 0.5,
    update_low: float = 1e-4,
    update_high: float = 1e-2,
) -> Report:
    r"""Per-layer statistics of a network and the failure modes they point to.

    Parameters
    ----------
    weights, grads : list, tuple or dict of arrays
        :math:`W^{(l)}` and :math:`\partial L/\partial W^{(l)}`, one array per layer, first layer
        first (a dict keyed 1..L is read in key order); float16, float32 or float64, of one shape per
        layer. ``weights`` may be None: the report then holds the gradient norms and what needs no
        weights (the first/last comparison, activations, non-finite values), for gradients of anything,
        e.g. :math:`\partial L/\partial h^{(t)}` of a recurrent network with the time steps as "layers".
    updates : list, tuple or dict of arrays, optional
        The optimiser's steps :math:`\Delta W^{(l)} = W^{(l)}_{\text{new}} - W^{(l)}_{\text{old}}`, shaped
        like the weights. The update/weight ratio divides by the norm of ``weights`` as given.
    activations : list, tuple or dict of arrays, optional
        :math:`a^{(l)}`, l = 1..L (not the input :math:`a^{(0)}`), each (B, n_l) with
        :math:`n_l` = ``weights[l].shape[0]``; an entry ``None`` leaves that layer's dead and saturated
        fractions unmeasured (e.g. logits, which can be neither). The dead fraction means what its name
        says for rectifiers, whose slope is 0 where :math:`a = 0`; for a bounded activation such as tanh
        read the saturated fraction instead.
    names : sequence of str, optional
        Unique layer names; default ``"1"`` .. ``"L"``.
    bounds : None, (lo, hi), or sequence of (lo, hi) or None, optional
        The range of each layer's activation, for the saturated fraction: one pair for every layer,
        e.g. ``(-1, 1)`` for tanh or ``(0, 1)`` for the sigmoid, or one entry per layer (``None`` for an
        unbounded one, such as a linear output layer).
    dead_tol : float, default 0.0
        A unit is dead if its activation is ``<= dead_tol`` on every example of the batch.
    saturation : float in (0, 1], default 0.99
        An activation entry is saturated within :math:`\tfrac{1 - s}{2}(hi - lo)` of either bound.
    vanish_ratio : float > 0, default 1e-2
        Flag ``"vanishing"`` if :math:`\|\partial L/\partial W^{(1)}\|_F <` ``vanish_ratio``
        :math:`\cdot \|\partial L/\partial W^{(L)}\|_F`.
    explode_ratio : float > vanish_ratio, default 1e2
        Flag ``"exploding"`` if :math:`\|\partial L/\partial W^{(1)}\|_F >` ``explode_ratio``
        :math:`\cdot \|\partial L/\partial W^{(L)}\|_F`.
    max_grad_norm : float > 0 or None, default None
        Also flag ``"exploding"`` for every layer whose gradient norm is above it (off by default).
    dead_flag, saturation_flag : float in (0, 1], default 0.5
        Flag ``"dead_units"`` / ``"saturation"`` for a layer whose fraction is at least this.
    update_low, update_high : float > 0, defaults 1e-4 and 1e-2
        Flag ``"small_updates"`` below ``update_low`` and ``"large_updates"`` above ``update_high``.

    Returns
    -------
    Report

    Notes
    -----
    The first/last comparison needs :math:`L \ge 2`, finite gradient norms and a nonzero last one;
    a NaN or inf is reported as ``"nonfinite"`` only. The comparison uses raw norms, which depend on the
    layers' shapes (see the module's introduction).

    Errors name the argument and index a list from 0, as Python does (``grads[2]`` is the third
    layer), and a dict by its key.
    """
    W = None if weights is None else _layers(weights, "weights")
    G = _layers(grads, "grads")
    if W is not None:
        _same_layers(G, W, "grads", grads, weights)
        for (gl, g), (wl, w) in zip(G, W):
            if g.shape != w.shape:
                raise ValueError(f"{gl} has shape {g.shape} but {wl} has shape {w.shape}")
    # what the other per-layer arguments are checked against: the weights, or without them the gradients
    ref, ref_arg, ref_name = (W, weights, "weights") if W is not None else (G, grads, "grads")
    L = len(G)
    U = None
    if updates is not None and W is None:
        raise ValueError("updates need weights: the update ratio is ||dW||_F / ||W||_F")
    if updates is not None:
        U = _layers(updates, "updates")
        _same_layers(U, ref, "updates", updates, ref_arg, ref_name)
        for (ul, u), (wl, w) in zip(U, ref):
            if u.shape != w.shape:
                raise ValueError(f"{ul} has shape {u.shape} but {wl} has shape {w.shape}")
    A = None
    if activations is not None:
        A = _layers(activations, "activations", allow_none=True)
        _same_layers(A, ref, "activations", activations, ref_arg, ref_name)
        for (al, a), (wl, w) in zip(A, ref):
            if a is None:
                continue
            if a.ndim != 2:
                raise ValueError(f"{al} must be 2-dimensional (B, n_l), got shape {a.shape}")
            if a.shape[1] != w.shape[0]:
                raise ValueError(f"{al} must have {w.shape[0]} columns (rows of {wl}), got shape {a.shape}")
    layer_names = _check_names(names, L)
    assert layer_names is not None
    per_layer_bounds = _check_bounds(bounds, L)
    t = _check_thresholds(dead_tol, saturation, vanish_ratio, explode_ratio, max_grad_norm,
                          dead_flag, saturation_flag, update_low, update_high)

    stats: list[LayerStats] = []
    nonfinite: list[Finding] = []
    for l in range(L):
        g = G[l][1]
        gn = _fro(g)
        wn = None if W is None else _fro(W[l][1])
        un = None if U is None else _fro(U[l][1])
        dead = sat = None
        bad = {"grads": _n_nonfinite(g)}
        if W is not None:
            bad = {"weights": _n_nonfinite(W[l][1]), **bad}
        if U is not None:
            bad["updates"] = _n_nonfinite(U[l][1])
        if A is not None and A[l][1] is not None:
            a = A[l][1]
            bad["activations"] = _n_nonfinite(a)
            # NaN compares False, so a NaN entry neither kills a unit nor saturates it.
            dead = float(np.mean(np.all(a <= t.dead_tol, axis=0)))
            if per_layer_bounds[l] is not None:
                lo, hi = per_layer_bounds[l]
                band = 0.5 * (1.0 - t.saturation) * (hi - lo)
                a64 = a.astype(np.float64, copy=False)
                sat = float(np.mean((a64 >= hi - band) | (a64 <= lo + band)))
        stats.append(LayerStats(
            name=layer_names[l], grad_norm=gn, weight_norm=wn, grad_to_weight=None if wn is None else _ratio(gn, wn),
            update_to_weight=None if un is None or wn is None else _ratio(un, wn),
            dead_fraction=dead, saturated_fraction=sat, finite=not any(bad.values()),
        ))
        if any(bad.values()):
            where = ", ".join(f"{_plural(k, 'entry')} in {arg}" for arg, k in bad.items() if k)
            nonfinite.append(Finding("nonfinite", layer_names[l],
                                     f"layer {layer_names[l]} holds NaN or inf: {where}"))

    findings: dict[str, list[Finding]] = {mode: [] for mode in FAILURE_MODES}
    findings["nonfinite"] = nonfinite
    first, last = stats[0], stats[-1]
    g1, gL = first.grad_norm, last.grad_norm
    if L >= 2 and math.isfinite(g1) and math.isfinite(gL) and gL > 0:
        where = f"from the last layer ({last.name}) to the first ({first.name})"
        if g1 < t.vanish_ratio * gL:
            msg = (f"gradient norm is 0 in the first layer ({first.name}) but {gL:.3g} in the last ({last.name})"
                   if g1 == 0 else f"gradient norm falls {gL / g1:.3g}-fold {where}")
            findings["vanishing"].append(Finding("vanishing", first.name, msg))
        elif g1 > t.explode_ratio * gL:
            findings["exploding"].append(
                Finding("exploding", first.name, f"gradient norm grows {g1 / gL:.3g}-fold {where}"))
    for s in stats:
        if t.max_grad_norm is not None and s.grad_norm > t.max_grad_norm and math.isfinite(s.grad_norm):
            findings["exploding"].append(Finding(
                "exploding", s.name,
                f"gradient norm {s.grad_norm:.3g} in layer {s.name} is above max_grad_norm = {t.max_grad_norm:.3g}"))
    for l, s in enumerate(stats):
        if s.dead_fraction is not None and s.dead_fraction >= t.dead_flag:
            a = A[l][1]  # type: ignore[index]
            n_dead = round(s.dead_fraction * a.shape[1])
            findings["dead_units"].append(Finding(
                "dead_units", s.name,
                f"{n_dead} of the {a.shape[1]} units of layer {s.name} ({s.dead_fraction:.0%}) are dead: "
                f"activation <= {t.dead_tol:g} on all {_plural(a.shape[0], 'example')}"))
        if s.saturated_fraction is not None and s.saturated_fraction >= t.saturation_flag:
            lo, hi = per_layer_bounds[l]  # type: ignore[misc]
            band = 0.5 * (1.0 - t.saturation) * (hi - lo)
            findings["saturation"].append(Finding(
                "saturation", s.name,
                f"{s.saturated_fraction:.0%} of the activations of layer {s.name} lie within {band:.3g} "
                f"of a bound of ({lo:g}, {hi:g})"))
        r = s.update_to_weight
        if r is not None and r > t.update_high:
            findings["large_updates"].append(Finding(
                "large_updates", s.name,
                f"update/weight ratio {r:.3g} in layer {s.name} is above update_high = {t.update_high:.3g}"))
        if r is not None and r < t.update_low:
            findings["small_updates"].append(Finding(
                "small_updates", s.name,
                f"update/weight ratio {r:.3g} in layer {s.name} is below update_low = {t.update_low:.3g}"))
    return Report(tuple(stats), tuple(f for mode in FAILURE_MODES for f in findings[mode]))


_REPORT_KEYWORDS = ("names", "bounds", "dead_tol", "saturation", "vanish_ratio", "explode_ratio", "max_grad_norm",
                    "dead_flag", "saturation_flag", "update_low", "update_high")


def report_mlp(net: Network, grads: Gradients, *, fwd: Forward | None = None, previous: Network | None = None,
               **thresholds: Any) -> Report:
    r""":func:`report` for a :class:`gradlab.mlp.Network`.

    Reads the weights ``net.W[1..L]`` and the gradients ``grads.dW[1..L]``; with ``fwd`` (the
    :class:`gradlab.mlp.Forward` of the batch) the activations ``fwd.a[1..L]``, with bounds taken from
    the hidden activation's name, ``(-1, 1)`` for tanh and ``(0, 1)`` for the sigmoid (no bounds for
    other activations, nor for the output layer L). A ``linear`` output layer's activations are logits,
    neither dead nor saturated whatever their sign, so its fractions are left unmeasured (``None``).
    With ``previous`` (a :meth:`gradlab.mlp.Network.copy` taken before the step) the updates are
    ``net.W - previous.W``, divided by the norm of the current weights (:class:`gradlab.train.History`
    divides by the weights before the step; for ratios near :math:`10^{-3}` the two differ by about
    :math:`10^{-3}` of the ratio).

    Parameters
    ----------
    net : gradlab.mlp.Network
    grads : gradlab.mlp.Gradients
    fwd : gradlab.mlp.Forward, optional
    previous : gradlab.mlp.Network, optional
        Of the same widths as ``net``.
    **thresholds
        Any keyword of :func:`report` other than the arrays: ``names``, ``bounds`` (replaces the
        default bounds) and the thresholds.
    """
    check_net(net)
    check_instance(grads, Gradients, "grads")
    unknown = [k for k in thresholds if k not in _REPORT_KEYWORDS]
    if unknown:
        raise TypeError(f"report_mlp got unexpected keyword argument {unknown[0]!r}; it accepts fwd, previous and "
                        f"{', '.join(_REPORT_KEYWORDS)}")
    L = net.L
    if sorted(grads.dW) != list(range(1, L + 1)):
        raise ValueError(f"grads must hold dW for layers 1..{L} of net, got layers {sorted(grads.dW)}")
    kw: dict[str, Any] = {}
    if fwd is not None:
        check_instance(fwd, Forward, "fwd")
        if any(l not in fwd.a for l in range(1, L + 1)):
            raise ValueError(f"fwd must hold activations a[1..{L}] of net, got layers {sorted(fwd.a)}")
        kw["activations"] = [fwd.a[l] for l in range(1, L)] + [None if net.output.name == "linear" else fwd.a[L]]
        bound = _MLP_BOUNDS.get(net.hidden.name)
        kw["bounds"] = [bound] * (L - 1) + [None]
    if previous is not None:
        check_instance(previous, Network, "previous")
        if previous.sizes != net.sizes:
            raise ValueError(f"previous must have the widths of net, {net.sizes}, got {previous.sizes}")
        with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is a NaN update, reported as nonfinite
            kw["updates"] = [net.W[l] - previous.W[l] for l in range(1, L + 1)]
    kw.update(thresholds)
    return report([net.W[l] for l in range(1, L + 1)], [grads.dW[l] for l in range(1, L + 1)], **kw)


# --------------------------------------------------------------------------------------------
# Monitoring over training
# --------------------------------------------------------------------------------------------


@dataclass
class Monitor:
    r"""Per-layer gradient norms (and ratios) recorded step by step, for the gradient-flow chart.

    Call :meth:`record` once per training step; read :attr:`steps` and :attr:`grad_norms` (e.g. for
    :func:`gradlab.plotting.plot_gradient_flow`). Recording goes on after a NaN or inf appears, so a chart
    shows the blow-up; the norms are then ``nan`` or ``inf``, and :attr:`first_nonfinite` says when and
    where it started.

    Parameters
    ----------
    names : sequence of str, optional
        Unique layer names; default ``"1"`` .. ``"L"``, with L fixed by the first :meth:`record`.
    """

    names: Sequence[str] | None = None
    _steps: list[int] = field(default_factory=list, init=False, repr=False)
    _grad: list[list[float]] = field(default_factory=list, init=False, repr=False)
    _gw: list[list[float]] = field(default_factory=list, init=False, repr=False)
    _uw: list[list[float]] = field(default_factory=list, init=False, repr=False)
    _has_weights: bool = field(default=False, init=False, repr=False)
    _has_updates: bool = field(default=False, init=False, repr=False)
    _first_nonfinite: tuple[int, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.names is not None:
            self.names = _check_names(self.names, None)

    def record(
        self,
        step: int,
        grads: Sequence[ArrayLike] | Mapping[Any, ArrayLike],
        weights: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | None = None,
        updates: Sequence[ArrayLike] | Mapping[Any, ArrayLike] | None = None,
        activations: Sequence[ArrayLike | None] | Mapping[Any, ArrayLike | None] | None = None,
    ) -> None:
        r"""Append step ``step``: :math:`\|\partial L/\partial W^{(l)}\|_F` per layer, and ratios if possible.

        Parameters
        ----------
        step : int
            ``>= 0`` and greater than the last recorded step.
        grads : list, tuple or dict of arrays
            One per layer, as in :func:`report`; the number of layers is fixed by the first call.
        weights : list, tuple or dict of arrays, optional
            Shaped like ``grads``; gives :attr:`grad_to_weight` (and is needed for ``updates``).
        updates : list, tuple or dict of arrays, optional
            :math:`\Delta W^{(l)}`, shaped like ``grads``; gives :attr:`update_ratios`, relative to ``weights``.
        activations : list, tuple or dict of arrays, optional
            The layers' outputs :math:`a^{(l)}` of this step's forward pass, one per layer (``None`` for a
            layer not watched), any shape. Only checked for NaN and inf: in a diverging run the forward
            pass often overflows before any gradient does, and :attr:`first_nonfinite` should say so.
        """
        step = check_positive_int(step, "step", minimum=0)
        if self._steps and step <= self._steps[-1]:
            raise ValueError(f"step must be greater than the last recorded step {self._steps[-1]}, got {step}")
        G = _layers(grads, "grads")
        L = len(G)
        if self._grad:
            if L != len(self._grad[0]):
                raise ValueError(f"grads has {L} layers but the monitor recorded {len(self._grad[0])}")
        elif self.names is not None and len(self.names) != L:
            raise ValueError(f"grads has {L} layers but names has {len(self.names)} entries")
        if updates is not None and weights is None:
            raise ValueError("updates need weights: the update ratio is ||dW||_F / ||W||_F")
        arrays = {"grads": G}
        if weights is not None:
            arrays["weights"] = _layers(weights, "weights")
            _same_layers(arrays["weights"], G, "weights", weights, grads)
        if updates is not None:
            arrays["updates"] = _layers(updates, "updates")
            _same_layers(arrays["updates"], G, "updates", updates, grads)
        for arg, items in arrays.items():
            if arg != "grads":
                for (xl, x), (gl, g) in zip(items, G):
                    if x.shape != g.shape:
                        raise ValueError(f"{xl} has shape {x.shape} but {gl} has shape {g.shape}")
        if activations is not None:
            A = _layers(activations, "activations", allow_none=True)
            if len(A) != L:
                raise ValueError(f"activations has {len(A)} layers but grads has {L}")
            arrays["activations"] = A
        if self.names is None:
            self.names = _check_names(None, L)
        gn = [_fro(g) for _, g in G]
        nan_row = [math.nan] * L
        gw = uw = nan_row
        if weights is not None:
            wn = [_fro(w) for _, w in arrays["weights"]]
            gw = [_ratio(a, b) for a, b in zip(gn, wn)]
            self._has_weights = True
            if updates is not None:
                uw = [_ratio(_fro(u), b) for (_, u), b in zip(arrays["updates"], wn)]
                self._has_updates = True
        if self._first_nonfinite is None:
            for l in range(L):
                if any(items[l][1] is not None and _n_nonfinite(items[l][1]) for items in arrays.values()):
                    self._first_nonfinite = (step, self.names[l])
                    break
        self._steps.append(step)
        self._grad.append(gn)
        self._gw.append(gw)
        self._uw.append(uw)

    @property
    def steps(self) -> NDArray[np.int64]:
        """The recorded steps, shape (S,)."""
        return np.asarray(self._steps, dtype=np.int64)

    @property
    def grad_norms(self) -> NDArray[np.float64]:
        r""":math:`\|\partial L/\partial W^{(l)}\|_F`, shape (S, L): row s is step ``steps[s]``, column l - 1 layer l."""
        return np.asarray(self._grad, dtype=np.float64).reshape(len(self._steps), -1 if self._grad else 0)

    @property
    def grad_to_weight(self) -> NDArray[np.float64] | None:
        """Gradient/weight ratios, shape (S, L), ``nan`` at steps recorded without weights; ``None`` if never given."""
        return np.asarray(self._gw, dtype=np.float64) if self._has_weights else None

    @property
    def update_ratios(self) -> NDArray[np.float64] | None:
        r""":math:`\|\Delta W^{(l)}\|_F / \|W^{(l)}\|_F`, shape (S, L), ``nan`` at steps recorded without updates;
        ``None`` if updates were never given."""
        return np.asarray(self._uw, dtype=np.float64) if self._has_updates else None

    @property
    def first_nonfinite(self) -> tuple[int, str] | None:
        """``(step, layer name)`` of the first recorded step at which any given array held a NaN or inf
        (the first such layer), or ``None``."""
        return self._first_nonfinite
