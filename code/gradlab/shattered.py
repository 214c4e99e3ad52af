r"""Shattered gradients: how the gradient of a network varies along a sweep of its input.

Balduzzi et al. (2017) take a network :math:`f:\mathbb R \to \mathbb R` with a one-dimensional
input, sweep the input over a grid :math:`x_1 < \dots < x_B` and look at the *sequence* of
gradients :math:`g_i = f'(x_i)`. In a shallow ReLU network the sequence is piecewise constant with
few jumps and resembles brown noise (a random walk); in a deep feedforward network it can
resemble white noise, every value nearly independent of its neighbour: the gradients are
*shattered*. This module holds the pieces of that analysis that are ideas, not a chapter's script:

* :func:`autocorrelation`, the normalised autocorrelation of a sequence, the statistic that
  tells brown from white noise;
* :func:`count_pieces` and :func:`flip_rate`, which count where a piecewise-linear network
  changes its linear piece along the sweep;
* the paper's decay laws for the correlation between the gradients at two inputs whose ReLU
  activation patterns are independent (each unit is on with probability ½ at each input,
  independently): :func:`feedforward_correlation` (:math:`2^{-L}`), :func:`residual_correlation`
  (:math:`((1 + \alpha^2/2)/(1 + \alpha^2))^L`) and :func:`bn_residual_correlation`
  (:math:`\sim 1/\sqrt{L}`).

Everything is float64. A bad argument raises a TypeError or ValueError naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ._validate import as_array, check_finite, check_nonnegative, check_positive_int, check_real

__all__ = [
    "autocorrelation",
    "count_pieces",
    "flip_rate",
    "feedforward_correlation",
    "residual_correlation",
    "bn_residual_correlation",
]

Array = NDArray[np.float64]


def _sequence(g: Any, name: str) -> Array:
    arr = check_finite(as_array(g, name, ndim=1, dtype=np.float64), name)
    if arr.size < 2:
        raise ValueError(f"{name} must hold at least 2 values, got {arr.size}")
    return arr


def _depth(L: Any) -> int:
    return check_positive_int(L, "L", minimum=0)


def autocorrelation(g: ArrayLike, max_lag: int | None = None) -> Array:
    r"""Normalised autocorrelation of the sequence ``g`` at lags :math:`k = 0, \dots,` ``max_lag``.

    .. math:: r_k = \frac{\sum_{i=1}^{B-k} (g_i - \bar g)(g_{i+k} - \bar g)}{\sum_{i=1}^{B} (g_i - \bar g)^2},
              \qquad \bar g = \frac1B \sum_i g_i,

    the usual (biased) estimator: :math:`r_0 = 1` and :math:`|r_k| \le 1`. For white noise
    :math:`r_k` is approximately :math:`\mathcal N(0, 1/B)` at every lag :math:`k \ge 1`; for brown
    noise (a random walk) it stays close to 1 at small lags. A sequence that takes one value on
    its first half and another on its second half has :math:`r_1 = (B - 3)/B` whatever the two values.

    Parameters
    ----------
    g : array, shape (B,)
        The sequence, e.g. the gradients :math:`f'(x_i)` along a sweep; finite, ``B >= 2``, and
        not constant (a constant sequence has no autocorrelation).
    max_lag : int, optional
        Largest lag, ``0 <= max_lag <= B - 1``; default ``B - 1``.

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
    """
    g = _sequence(g, "g")
    B = g.size
    if max_lag is None:
        max_lag = B - 1
    max_lag = check_positive_int(max_lag, "max_lag", minimum=0)
    if max_lag > B - 1:
        raise ValueError(f"max_lag must be <= B - 1 = {B - 1}, got {max_lag}")
    scale = float(np.max(np.abs(g)))
    if scale == 0.0 or float(np.ptp(g)) <= 1e-14 * scale:  # constant, up to rounding
        raise ValueError("g is constant (zero variance): its autocorrelation is undefined")
    d = g / scale  # no overflow for huge values
    d = d - d.mean()
    denom = float(np.dot(d, d))
    return np.array([float(np.dot(d[: B - k], d[k:])) / denom for k in range(max_lag + 1)])


def count_pieces(g: ArrayLike, *, rtol: float = 1e-9) -> int:
    r"""Number of constant pieces of the sequence ``g``: one plus the number of jumps.

    A ReLU network is piecewise linear in its input, so its gradient along a sweep is piecewise
    constant; a jump between :math:`g_i` and :math:`g_{i+1}` means that the grid crossed at least
    one boundary between linear pieces. A jump is counted where
    :math:`|g_{i+1} - g_i| > \mathrm{rtol} \cdot \max_j |g_j|`, so rounding errors do not count.

    Parameters
    ----------
    g : array, shape (B,)
        Finite, ``B >= 2``.
    rtol : float
        Relative size of a jump, ``>= 0``.
    """
    g = _sequence(g, "g")
    rtol = check_nonnegative(rtol, "rtol")
    scale = float(np.max(np.abs(g)))
    return 1 + int(np.count_nonzero(np.abs(np.diff(g)) > rtol * scale))


def flip_rate(z: ArrayLike) -> float:
    r"""Fraction of (unit, neighbouring pair) whose ReLU state differs between neighbouring inputs.

    .. math:: p = \frac{1}{(B-1)\,n} \sum_{i=1}^{B-1} \sum_{j=1}^{n}
                  \big[\,\mathbb 1\{z_{ij} > 0\} \ne \mathbb 1\{z_{i+1,j} > 0\}\,\big]

    for pre-activations :math:`z` of shape (B, n) at B inputs in sweep order. Balduzzi et al.'s
    decay laws assume that the activation patterns at the two inputs are independent, each unit
    on with probability ½: then a unit's state differs with probability :math:`p = 1/2`. A unit
    on at one input is on at the other with probability :math:`1 - p` in general, which makes the
    per-layer factor of the gradient correlation in a feedforward ReLU network :math:`1 - p`
    instead of :math:`1/2`.

    Parameters
    ----------
    z : array, shape (B, n)
        Finite, ``B >= 2``.
    """
    z = check_finite(as_array(z, "z", ndim=2, dtype=np.float64), "z")
    if z.shape[0] < 2:
        raise ValueError(f"z must have at least 2 rows (inputs), got shape {z.shape}")
    on = z > 0
    return float(np.mean(on[1:] != on[:-1]))


def feedforward_correlation(L: int) -> float:
    r"""Correlation :math:`2^{-L}` of the gradients at two inputs in Balduzzi et al.'s model of an L-layer ReLU net.

    With He weights (:math:`\sigma_w^2 = 2`) each layer multiplies the gradient's mean square by
    :math:`\sigma_w^2\, \mathbb E[g'(z)^2] = 2 \cdot \tfrac12 = 1` at each input, and the covariance
    of the gradients at two inputs by :math:`\sigma_w^2\, P(\text{unit on at both}) = 2 \cdot \tfrac14`
    when the activation patterns are independent: their Theorem 1, covariance :math:`2^{-L}` at
    variance 1.

    Parameters
    ----------
    L : int
        Depth, ``>= 0``.
    """
    return 2.0 ** (-_depth(L))


def residual_correlation(L: int, alpha: float = 1.0) -> float:
    r"""Correlation of the gradients at two inputs in the model of an L-block ReLU resnet with branch scale alpha.

    A block :math:`a \mapsto a + \alpha F(a)` whose branch alone would keep the gradient's mean
    square (He weights) multiplies it by :math:`1 + \alpha^2`, and the covariance at two inputs with
    independent activation patterns by :math:`1 + \alpha^2/2` (the branch term is shared only when
    its unit is on at both inputs, probability ¼ against ½). The correlation is

    .. math:: \left(\frac{1 + \alpha^2/2}{1 + \alpha^2}\right)^L,

    :math:`(3/4)^L` for :math:`\alpha = 1` (Balduzzi et al.'s Theorem 2): still exponential, at a
    far slower rate than :math:`2^{-L}`; with :math:`\alpha = 1/\sqrt L` it tends to
    :math:`e^{-1/2}` as :math:`L \to \infty`.

    Parameters
    ----------
    L : int
        Number of blocks, ``>= 0``.
    alpha : float
        Branch scale, finite.
    """
    L = _depth(L)
    a2 = check_real(alpha, "alpha") ** 2
    return float(((1.0 + a2 / 2.0) / (1.0 + a2)) ** L)


def bn_residual_correlation(L: int) -> float:
    r"""Correlation of the gradients at two inputs in the model of an L-block resnet with batch norm on its branches.

    Batch normalisation gives every branch output the same variance, so the residual stream's
    variance grows by one unit per block and block :math:`l` adds a branch of relative size
    :math:`\alpha_l^2 = 1/l` (the input counting as the first unit). With
    :func:`residual_correlation`'s per-block factor at that :math:`\alpha_l`,

    .. math:: \prod_{l=1}^{L} \frac{1 + 1/(2l)}{1 + 1/l} = \prod_{l=1}^{L} \frac{l + 1/2}{l + 1}
              = \frac{\Gamma(L + 3/2)}{\Gamma(3/2)\,\Gamma(L + 2)} \sim \frac{2}{\sqrt{\pi L}},

    a decay like :math:`1/\sqrt L`, sublinear, as Balduzzi et al. find for batch-normalised resnets.

    Parameters
    ----------
    L : int
        Number of blocks, ``>= 0``.
    """
    L = _depth(L)
    return float(math.exp(gammaln(L + 1.5) - gammaln(1.5) - gammaln(L + 2.0)))
