r"""Gradient checking by central differences.

.. math:: \frac{\partial L}{\partial \theta_i} \approx
          \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h},

whose error is :math:`O(h^2)`; in float64 with :math:`h = 10^{-6}` a correct
analytic gradient agrees to a relative error of about :math:`10^{-8}` or better,
a wrong one typically to no better than :math:`10^{-2}`.

Public so that readers can check their own backward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_positive
from .mlp import DEFAULT_LOSS, Network, forward, loss_and_gradients, resolve_loss

__all__ = ["numerical_gradient", "relative_error", "GradCheckRow", "GradCheckReport", "check_network"]


def numerical_gradient(f: Callable[[NDArray[np.float64]], float], x: ArrayLike, *, h: float = 1e-6) -> NDArray[np.float64]:
    """Central-difference gradient of a scalar function ``f`` at ``x`` (any shape).

    ``f`` is called with a float64 array of ``x``'s shape; ``x`` itself is not modified.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    h = check_positive(h, "h")
    x = np.array(as_array(x, "x"), dtype=np.float64)  # private copy we perturb
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + h
        f_plus = float(f(x))
        flat[i] = orig - h
        f_minus = float(f(x))
        flat[i] = orig
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(analytic: ArrayLike, numeric: ArrayLike) -> float:
    r""":math:`\|a - n\| / (\|a\| + \|n\|)`, and 0 when both are exactly zero.

    Scale-free, so the same threshold serves a gradient of size 1e-9 (deep in a
    vanishing network) and one of size 1e3.
    """
    a = as_array(analytic, "analytic")
    n = as_array(numeric, "numeric")
    if a.shape != n.shape:
        raise ValueError(f"numeric must have the shape of analytic, {a.shape}, got {n.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - n) / denom)


@dataclass(frozen=True)
class GradCheckRow:
    """One parameter of one layer: ``param`` is ``"W"`` or ``"b"``.

    Attributes
    ----------
    layer : int
        The layer l.
    param : str
        ``"W"`` for :math:`W^{(l)}`, ``"b"`` for :math:`b^{(l)}`.
    rel_error : float
        Relative error of the analytic gradient, see :func:`relative_error`.
    max_abs_error : float
        Largest absolute difference of one entry.
    """

    layer: int
    param: str
    rel_error: float
    max_abs_error: float


@dataclass(frozen=True)
class GradCheckReport:
    """Per-parameter relative errors of back-propagation against central differences.
    """

    rows: tuple[GradCheckRow, ...]

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over all rows."""
        return max(r.rel_error for r in self.rows)

    def passed(self, tol: float = 1e-6) -> bool:
        """Whether every relative error is below ``tol``."""
        return self.max_rel_error < tol


def check_network(
    net: Network, x: ArrayLike, y: ArrayLike, loss: Any = DEFAULT_LOSS, *, h: float = 1e-6
) -> GradCheckReport:
    """Compare :func:`gradlab.mlp.backward` with central differences for every W⁽ˡ⁾ and b⁽ˡ⁾.

    Runs in float64 on a copy of ``net``; cost is two forward passes per
    parameter, so use a small network.
    """
    lo = resolve_loss(net, loss)  # also checks net
    work = Network(
        {l: W.astype(np.float64) for l, W in net.W.items()},
        {l: b.astype(np.float64) for l, b in net.b.items()},
        net.hidden,
        net.output,
    )
    _, _, grads = loss_and_gradients(work, x, y, lo)
    rows = []
    for l in range(1, work.L + 1):
        for param, store, analytic in (("W", work.W, grads.dW[l]), ("b", work.b, grads.db[l])):
            original = store[l]

            def f(theta: NDArray[np.float64], store: dict[int, Any] = store, l: int = l) -> float:
                store[l] = theta
                return lo.value(forward(work, x).a[work.L], y)

            numeric = numerical_gradient(f, original, h=h)
            store[l] = original
            rows.append(
                GradCheckRow(l, param, relative_error(analytic, numeric), float(np.max(np.abs(analytic - numeric))))
            )
    return GradCheckReport(tuple(rows))
