r"""When can one sigmoid layer *amplify* a gradient?

A one-unit sigmoid layer multiplies the back-propagated gradient by
:math:`w\,\sigma'(wa + b)`. Since :math:`\sigma' \le \tfrac14`, the factor can
reach 1 only if :math:`|w| \ge 4`, and then only while the input :math:`a`
stays in an interval of width

.. math:: \Delta(w) = \frac{2}{|w|}\,
          \ln\!\Big(\frac{|w|\,(1 + \sqrt{1 - 4/|w|})}{2} - 1\Big)

(Nielsen, *Neural Networks and Deep Learning*, ch. 5, problem). Large
weights also push :math:`wa + b` into the flat tails where :math:`\sigma'`
vanishes, so the window first widens and then shrinks as :math:`|w|` grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar

from ._validate import as_array, check_finite

__all__ = ["window_width", "window_bounds", "WindowMaximum", "max_window_width"]


def window_bounds(w: ArrayLike, b: ArrayLike = 0.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""End points of the interval of :math:`a` on which :math:`|w\,\sigma'(wa+b)| \ge 1`.

    Solves :math:`s(1-s) = 1/|w|` for :math:`s = \sigma(u)`, giving
    :math:`u_\pm = \pm\ln(s_+/s_-)`, then :math:`a = (u - b)/w`. For
    :math:`|w| < 4` the interval is empty and both ends are NaN.
    """
    w_arr = check_finite(as_array(w, "w"), "w")
    b_arr = check_finite(as_array(b, "b"), "b")
    aw = np.abs(w_arr)
    ok = aw >= 4
    safe = np.where(ok, aw, 4.0)  # keeps sqrt and log quiet where the window is empty
    r = np.sqrt(1 - 4 / safe)
    u = np.log((1 + r) / np.maximum(1 - r, np.finfo(float).tiny))
    ends = ((-u - b_arr) / np.where(w_arr == 0, 1.0, w_arr), (u - b_arr) / np.where(w_arr == 0, 1.0, w_arr))
    lo, hi = np.minimum(*ends), np.maximum(*ends)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def window_width(w: ArrayLike) -> NDArray[np.float64]:
    r""":math:`\Delta(w)`, the width of the amplifying window; 0 where :math:`|w| < 4`.

    Does not depend on :math:`b` (the bias only shifts the window).
    """
    return _width(np.abs(check_finite(as_array(w, "w"), "w")))


def _width(aw: NDArray[np.float64]) -> NDArray[np.float64]:
    r""":math:`\Delta` for weight sizes :math:`|w|` already checked by the caller."""
    safe = np.where(aw >= 4, aw, 4.0)  # keeps sqrt and log real where the window is empty
    width = 2 / safe * np.log(safe * (1 + np.sqrt(1 - 4 / safe)) / 2 - 1)
    return np.where(aw >= 4, width, 0.0)


@dataclass(frozen=True)
class WindowMaximum:
    r"""Where the window is widest: weight ``w`` and width ``width``.

    Attributes
    ----------
    w : float
        The weight :math:`|w|` at which :math:`\Delta(w)` is largest.
    width : float
        That largest width.
    """

    w: float
    width: float


def max_window_width() -> WindowMaximum:
    r"""Maximise :math:`\Delta(w)` over :math:`w \ge 4` (bounded Brent search, to ~1e-10).
    """
    res = minimize_scalar(lambda w: -float(_width(np.float64(w))), bounds=(4.0, 50.0), method="bounded",
                          options={"xatol": 1e-10})
    return WindowMaximum(float(res.x), float(-res.fun))
