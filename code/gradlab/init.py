r"""Weight initialisation schemes: one table, one variance formula per scheme.

The variance of the initial weights decides how the size of activations and
gradients changes from layer to layer: too small and signals vanish, too large
and they explode. :data:`SCHEMES` lists every scheme once, with the law of its
entries and the per-entry variance :math:`\operatorname{Var} W_{ij}` it is
designed to produce; :func:`draw` samples from that row and :func:`variance`
reads it, so theory and samples cannot disagree.

================  ==========  =====================================================
scheme            law         :math:`\operatorname{Var} W_{ij}` (times gain²)
================  ==========  =====================================================
normal            normal      :math:`\text{std}^2` (ignores the width)
standard          uniform     :math:`1 / (3 n_\text{in})` (Glorot & Bengio's heuristic)
xavier_uniform    uniform     :math:`2 / (n_\text{in} + n_\text{out})` (Glorot & Bengio, 2010)
xavier_normal     normal      :math:`2 / (n_\text{in} + n_\text{out})`
he_uniform        uniform     :math:`2 / n_\text{in}` (He et al., 2015: ReLU halves it)
he_normal         normal      :math:`2 / n_\text{in}`
lecun_normal      normal      :math:`1 / n_\text{in}` (Nielsen's ``network2``)
orthogonal        orthogonal  :math:`1 / \max(n_\text{in}, n_\text{out})` (Saxe et al., 2014)
================  ==========  =====================================================

A uniform law :math:`U[-a, a]` has variance :math:`a^2/3`, so its bound is
:math:`a = \sqrt{3 \operatorname{Var}}`. Every scheme returns ``W`` of shape
``(n_out, n_in)`` (the book's :math:`W^{(l)}` is :math:`n_l \times n_{l-1}`),
float64, mean 0. ``rng`` is required (a ``Generator`` or an integer seed), so
there is no hidden global randomness. ``gain`` multiplies the same draw: with one
seed, ``gain=2`` gives exactly twice the ``gain=1`` matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._validate import check_nonnegative, check_positive, check_positive_int, check_rng, lookup

__all__ = [
    "Scheme",
    "SCHEMES",
    "Initialiser",
    "draw",
    "sample",
    "check_arguments",
    "normal",
    "standard",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "orthogonal",
    "variance",
    "uniform_bound",
    "INITIALISERS",
    "NAMES",
    "get",
]


@dataclass(frozen=True)
class Scheme:
    """One row of the table: the law of the entries and their variance at ``gain = 1``.

    ``var(n_in, n_out, std)`` is :math:`\\operatorname{Var} W_{ij}`; only the
    ``"normal"`` scheme reads ``std``.
    """

    name: str
    law: str  # "normal", "uniform" or "orthogonal"
    var: Callable[[int, int, float], float]


#: Every scheme by name, each variance formula written once.
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("normal", "normal", lambda n_in, n_out, std: std * std),
        Scheme("standard", "uniform", lambda n_in, n_out, std: 1.0 / (3.0 * n_in)),
        Scheme("xavier_uniform", "uniform", lambda n_in, n_out, std: 2.0 / (n_in + n_out)),
        Scheme("xavier_normal", "normal", lambda n_in, n_out, std: 2.0 / (n_in + n_out)),
        Scheme("he_uniform", "uniform", lambda n_in, n_out, std: 2.0 / n_in),
        Scheme("he_normal", "normal", lambda n_in, n_out, std: 2.0 / n_in),
        Scheme("lecun_normal", "normal", lambda n_in, n_out, std: 1.0 / n_in),
        Scheme("orthogonal", "orthogonal", lambda n_in, n_out, std: 1.0 / max(n_in, n_out)),
    )
}


def check_arguments(name: Any, n_in: Any, n_out: Any, gain: Any, std: Any) -> tuple[Scheme, int, int, float, float]:
    """The checked arguments of :func:`draw`: ``(scheme, n_in, n_out, gain, std)``, ``std = 1`` if None."""
    scheme = lookup(SCHEMES, name, "initialiser")
    n_in, n_out = check_positive_int(n_in, "n_in"), check_positive_int(n_out, "n_out")
    gain = check_positive(gain, "gain")
    if std is None:
        std = 1.0
    elif scheme.name != "normal":
        raise ValueError(f"std only applies to the 'normal' scheme, got std={std} for {scheme.name!r}")
    return scheme, n_in, n_out, gain, check_nonnegative(std, "std")


def _haar(n_in: int, n_out: int, gen: np.random.Generator) -> NDArray[np.float64]:
    # Haar-distributed semi-orthogonal Q: QR of a Gaussian matrix, with column signs
    # flipped by sign(diag R); without that, Q is biased by the QR routine's sign
    # convention (Mezzadri, 2007). np.sign would zero a column on a 0 pivot.
    big, small = max(n_in, n_out), min(n_in, n_out)
    q, r = np.linalg.qr(gen.standard_normal((big, small)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return np.ascontiguousarray(q if n_out >= n_in else q.T)


def draw(
    name: str, n_in: int, n_out: int, *, gain: float = 1.0, std: float | None = None, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    """A weight matrix of shape ``(n_out, n_in)`` from the scheme ``name`` of :data:`SCHEMES`.

    ``std`` is only accepted by ``"normal"`` (elsewhere it would be silently
    ignored, so it raises a ValueError).
    """
    scheme, n_in, n_out, gain, std = check_arguments(name, n_in, n_out, gain, std)
    return sample(scheme, n_in, n_out, gain, std, check_rng(rng, "rng"))


def sample(scheme: Scheme, n_in: int, n_out: int, gain: float, std: float, gen: np.random.Generator) -> NDArray[np.float64]:
    """:func:`draw` without the argument checks, for callers that checked them once (e.g. per network)."""
    v = scheme.var(n_in, n_out, std)
    if scheme.law == "normal":
        # the same numbers as gen.normal(0, sqrt(v)), a quarter faster (no loc to add); scaled in
        # place because a 1000 x 1000 draw is dominated by memory traffic, not by the arithmetic
        W = gen.standard_normal((n_out, n_in))
        W *= math.sqrt(v)
    elif scheme.law == "uniform":
        a = math.sqrt(3.0 * v)
        W = gen.uniform(-a, a, size=(n_out, n_in))
    else:  # orthogonal: every singular value is 1, so every entry has variance 1/max(n_in, n_out)
        W = _haar(n_in, n_out, gen)
    if gain != 1.0:  # gain * W is W itself for gain 1, to the bit
        W *= gain
    return W


def variance(name: str, n_in: int, n_out: int, *, gain: float = 1.0, std: float | None = None) -> float:
    r"""Per-entry variance :math:`\operatorname{Var} W_{ij}` that the scheme ``name`` is designed for.

    The table's formula times ``gain**2``. For ``orthogonal``: the
    ``min(n_in, n_out)`` orthonormal vectors have ``max(n_in, n_out)`` entries
    and unit length, and by the symmetry of the Haar measure every entry has the
    same mean square.
    """
    scheme, n_in, n_out, gain, std = check_arguments(name, n_in, n_out, gain, std)
    return gain * gain * scheme.var(n_in, n_out, std)


def uniform_bound(name: str, n_in: int, n_out: int, *, gain: float = 1.0) -> float:
    r"""Half-width :math:`a` of the interval :math:`U[-a, a]` that the uniform scheme ``name`` draws from.

    A uniform law on :math:`[-a, a]` has variance :math:`a^2/3`, so :math:`a = \sqrt{3 \operatorname{Var} W}`:
    :math:`1/\sqrt{n_\text{in}}` for ``"standard"``, Glorot & Bengio's
    :math:`\sqrt{6/(n_\text{in} + n_\text{out})}` for ``"xavier_uniform"`` and He et al.'s
    :math:`\sqrt{6/n_\text{in}}` for ``"he_uniform"``, all times ``gain``.

    Raises
    ------
    ValueError
        If the scheme ``name`` does not draw from a uniform law (naming ``name``), or the errors of
        :func:`variance`.
    """
    scheme, n_in, n_out, gain, std = check_arguments(name, n_in, n_out, gain, None)
    if scheme.law != "uniform":
        uniform = ", ".join(s.name for s in SCHEMES.values() if s.law == "uniform")
        raise ValueError(f"name must be a uniform scheme ({uniform}), got {name!r} whose law is {scheme.law}")
    return gain * math.sqrt(3.0 * scheme.var(n_in, n_out, std))


class Initialiser(Protocol):
    """Signature shared by every scheme: ``(n_in, n_out, *, gain, rng) -> W``."""

    def __call__(
        self, n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
    ) -> NDArray[np.float64]: ...


def normal(
    n_in: int, n_out: int, *, std: float = 1.0, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    """Gaussian entries of a fixed standard deviation ``gain * std``, whatever the width.

    The "naive" scheme: the signal grows or shrinks by ``n * std**2`` per layer.
    """
    return draw("normal", n_in, n_out, gain=gain, std=std, rng=rng)


def standard(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    r""":math:`U[-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}}]`, the heuristic with which Glorot & Bengio
    (2010) showed back-propagated gradients shrinking layer by layer (:math:`n_\text{in}\operatorname{Var} W = 1/3`)."""
    return draw("standard", n_in, n_out, gain=gain, rng=rng)


def xavier_uniform(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """Glorot & Bengio's uniform scheme: a compromise between constant forward
    (``n_in Var W = 1``) and backward (``n_out Var W = 1``) signals in tanh or linear layers."""
    return draw("xavier_uniform", n_in, n_out, gain=gain, rng=rng)


def xavier_normal(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """The variance of :func:`xavier_uniform`, Gaussian entries."""
    return draw("xavier_normal", n_in, n_out, gain=gain, rng=rng)


def he_uniform(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """He et al. (2015), fan-in mode: the factor 2 makes up for ReLU zeroing half of its inputs."""
    return draw("he_uniform", n_in, n_out, gain=gain, rng=rng)


def he_normal(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """The variance of :func:`he_uniform`, Gaussian entries."""
    return draw("he_normal", n_in, n_out, gain=gain, rng=rng)


def lecun_normal(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """Gaussian entries of standard deviation ``1/sqrt(n_in)``, the default of Nielsen's ``network2``."""
    return draw("lecun_normal", n_in, n_out, gain=gain, rng=rng)


def orthogonal(n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int) -> NDArray[np.float64]:
    """A Haar-random semi-orthogonal matrix times ``gain`` (Saxe et al., 2014).

    Every singular value equals ``gain``, so a linear layer keeps the norm of
    every vector in its row space: products of many such layers neither vanish
    nor explode.
    """
    return draw("orthogonal", n_in, n_out, gain=gain, rng=rng)


#: Every scheme's function by name (the same names as :data:`SCHEMES`).
INITIALISERS: dict[str, Initialiser] = {
    f.__name__: f
    for f in (normal, standard, xavier_uniform, xavier_normal, he_uniform, he_normal, lecun_normal, orthogonal)
}

#: Registry names, in a fixed order for tables and plots.
NAMES: tuple[str, ...] = tuple(SCHEMES)


def get(name: str) -> Initialiser:
    """The scheme called ``name``, as ``scheme(n_in, n_out, *, gain=1.0, rng=...)``."""
    return lookup(INITIALISERS, name, "initialiser")
