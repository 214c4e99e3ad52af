r"""Mean-field theory of signal propagation in wide random networks.

In a network of width :math:`n \to \infty` with weights
:math:`W^{(l)}_{ij} \sim \mathcal N(0, \sigma_w^2 / n_{l-1})` and biases
:math:`b^{(l)}_i \sim \mathcal N(0, \sigma_b^2)`, every pre-activation :math:`z^{(l)}_i` is
Gaussian with mean 0 and a variance :math:`q^{(l)}` that obeys the *length map* (Poole et al.,
2016)

.. math:: q^{(l)} = \sigma_w^2\,\mathbb E\big[g(\sqrt{q^{(l-1)}}\,\xi)^2\big] + \sigma_b^2,
          \qquad \xi \sim \mathcal N(0, 1).

Two inputs stay correlated according to the *correlation map*, and a back-propagated gradient
is multiplied, per layer and in mean square, by

.. math:: \chi_1 = \sigma_w^2\,\mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big].

:math:`\chi_1 < 1` is the ordered phase (gradients vanish, inputs become alike), :math:`\chi_1 > 1`
the chaotic phase (gradients explode, inputs decorrelate); at :math:`\chi_1 = 1`, the edge of
chaos, the depth scales of Schoenholz et al. (2017) diverge. The spectrum of a finite network's
Jacobian, beyond its mean :math:`\chi_1^L`, is in :mod:`gradlab.isometry`.

.. rubric:: Numerics

Every expectation is a deterministic quadrature (:mod:`gradlab.quadrature`), accurate to about
1e-15; nothing here is Monte Carlo. Fixed points and the critical :math:`\sigma_w^2` are found by
Brent's method on a bracket that is widened until the sign changes, not by iterating the maps,
which converge only linearly and arbitrarily slowly near criticality. A slope within 1e-12 of 1
(the rounding level of the quadrature) counts as 1. Where a map involves :math:`g'` at
:math:`q = 0`, the limit :math:`q \to 0^+` is meant (relu' jumps at 0, and a tiny Gaussian
signal sees slope 1 half of the time); it is evaluated at :math:`q = 10^{-200}`. The tests
compare every function with closed forms, with :mod:`scipy.integrate`, and with simulations of
wide networks (:mod:`gradlab.wide`).

References
----------
B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli (2016),
"Exponential expressivity in deep neural networks through transient chaos".
S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein (2017),
"Deep information propagation".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from . import activations
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int
from .quadrature import _bivariate_expectation, _check_variance, _expectation

__all__ = [
    "length_map",
    "length_map_slope",
    "fixed_point_q",
    "chi1",
    "delta_profile",
    "correlation_map",
    "fixed_point_c",
    "chi_c",
    "depth_scale",
    "critical_sigma_w2",
]

Array = NDArray[np.float64]
Act = activations.Activation
ActivationLike = str | activations.Activation

# q = 0 in a map that involves g' stands for the limit q -> 0+: at sqrt(q) = 1e-100 every
# activation is linear (or piecewise linear) on all nodes, while g(z)^2 ~ 1e-200 stays far
# above the float64 underflow threshold.
_Q_TINY: float = 1e-200
# Search limits for the brackets of the root finders.
_Q_MAX: float = 1e12
_SIGMA_W2_MAX: float = 1e6
# A slope within this of 1 is 1: the quadrature's rounding level.
_ONE: float = 1e-12


class _NoFixedPoint(ValueError):
    """The length map has no finite fixed point: q grows without bound."""


# ---------------------------------------------------------------------------
# the maps on checked arguments
# ---------------------------------------------------------------------------


def _params(activation: Any, sigma_w2: Any, sigma_b2: Any) -> tuple[Act, float, float]:
    return activations.get(activation), check_positive(sigma_w2, "sigma_w2"), check_nonnegative(sigma_b2, "sigma_b2")


def _length(act: Act, sw2: float, sb2: float, q: ArrayLike) -> Array:
    """The length map L(q)."""
    return sw2 * _expectation(lambda z: np.square(act.g(z)), q) + sb2


def _length_slope(act: Act, sw2: float, q: ArrayLike) -> Array:
    """L'(q) = sigma_w2 E[z g(z) g'(z)] / q with z = sqrt(q) xi: only g and g' are needed."""
    qp = np.maximum(q, _Q_TINY)
    return sw2 * _expectation(lambda z: z * act.g(z) * act.dg(z), qp) / qp


def _chi1(act: Act, sw2: float, q: float) -> float:
    return sw2 * float(_expectation(lambda z: np.square(act.dg(z)), max(q, _Q_TINY)))


def _fixed_point_q(act: Act, sw2: float, sb2: float) -> float:
    def excess(q: float) -> float:  # L(q) - q: positive below the stable fixed point, negative above
        return float(_length(act, sw2, sb2, q)) - q

    lower = 0.0
    if excess(0.0) <= 0.0:  # sigma_b2 = 0 and g(0) = 0: q = 0 is a fixed point ...
        if float(_length_slope(act, sw2, 0.0)) <= 1.0 + _ONE:  # ... and it attracts
            return 0.0
        lower = 1.0  # q = 0 repels: find a q below the stable fixed point
        while excess(lower) <= 0.0:
            lower *= 0.5
            if lower < 1e-30:  # slope barely above 1: q* is 0 to within rounding
                return 0.0
    upper = max(1.0, 2.0 * lower)
    while excess(upper) >= 0.0:
        upper *= 2.0
        if upper > _Q_MAX:
            raise _NoFixedPoint(
                f"the length map of {act.name!r} with sigma_w2={sw2}, sigma_b2={sb2} has no finite fixed point: "
                f"q grows without bound (beyond {_Q_MAX:g})"
            )
    return float(brentq(excess, lower, upper, xtol=1e-300, rtol=1e-13, maxiter=500))


def _resolve_q(act: Act, sw2: float, sb2: float, q: Any) -> float:
    if q is None:
        return _fixed_point_q(act, sw2, sb2)
    qq = _check_variance(q)
    if qq.ndim != 0:
        raise ValueError(f"q must be a single number, got shape {qq.shape}")
    return float(qq)


def _cmap(act: Act, sw2: float, sb2: float, q: float, c: float) -> float:
    qp = max(q, _Q_TINY)
    return (sw2 * _bivariate_expectation(act.g, act.g, qp, c) + sb2) / float(_length(act, sw2, sb2, qp))


def _cmap_slope(act: Act, sw2: float, sb2: float, q: float, c: float) -> float:
    # d/dc E[g(u1) g(u2)] = q E[g'(u1) g'(u2)] (differentiate under the integral in the covariance q c).
    qp = max(q, _Q_TINY)
    return sw2 * qp * _bivariate_expectation(act.dg, act.dg, qp, c) / float(_length(act, sw2, sb2, qp))


def _fixed_point_c(act: Act, sw2: float, sb2: float, q: float) -> float:
    if _cmap_slope(act, sw2, sb2, q, 1.0) <= 1.0 + _ONE:
        # c = 1 attracts: on [0, 1] the map is convex (Hermite expansion), so with slope <= 1
        # at c = 1 it lies above the diagonal.
        return 1.0

    def excess(c: float) -> float:
        return _cmap(act, sw2, sb2, q, c) - c

    if excess(0.0) <= 0.0:  # sigma_b2 = 0 and odd g: c = 0 is the fixed point
        return 0.0
    # Convexity again: f(c) - c is >= 0 at 0, 0 at 1 and rises through 1, so it has exactly
    # one root in (0, 1). Find a point just below 1 where it is negative.
    eps = 0.5
    while excess(1.0 - eps) >= 0.0:
        eps *= 0.5
        if eps < 1e-12:  # slope barely above 1: c* is 1 to within quadrature accuracy
            return 1.0
    return float(brentq(excess, 0.0, 1.0 - eps, xtol=1e-15, rtol=1e-13, maxiter=500))


def _depth(slope: float) -> float:
    # A slope of 1 (to rounding) is criticality; above 1 can only be rounding, since the
    # fixed points returned attract.
    if slope >= 1.0 - _ONE:
        return math.inf
    if slope <= 0.0:
        return 0.0
    return -1.0 / math.log(slope)


# ---------------------------------------------------------------------------
# the length map, q* and chi1
# ---------------------------------------------------------------------------


def length_map(q: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> Array:
    r"""One layer of the length map, :math:`q^{(l-1)} \mapsto q^{(l)}`.

    .. math:: q^{(l)} = \sigma_w^2\,\mathbb E\big[g(\sqrt{q^{(l-1)}}\,\xi)^2\big] + \sigma_b^2

    :math:`q^{(l)}` is the variance of each :math:`z^{(l)}_i`, or :math:`\tfrac1{n_l}\|z^{(l)}\|^2`
    for one input, in a wide network. For relu the map is :math:`\sigma_w^2 q/2 + \sigma_b^2`.

    Parameters
    ----------
    q : array_like, shape (...)
        :math:`q^{(l-1)}`, finite and ``>= 0``.
    activation : str or Activation
        :math:`g`, e.g. ``"tanh"``.
    sigma_w2 : float
        Weight variance times fan-in, ``> 0``.
    sigma_b2 : float
        Bias variance, ``>= 0``.

    Returns
    -------
    ndarray of float64, shape (...)
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return _length(act, sw2, sb2, _check_variance(q))


def length_map_slope(q: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> Array:
    r"""Slope :math:`\partial q^{(l)} / \partial q^{(l-1)}` of the length map; at :math:`q^*` it sets :math:`\xi_q`.

    .. math:: \frac{\partial q^{(l)}}{\partial q^{(l-1)}}
              = \frac{\sigma_w^2}{\sqrt q}\,\mathbb E\big[\xi\, g(\sqrt q\,\xi)\, g'(\sqrt q\,\xi)\big]
              = \chi_1 + \sigma_w^2\,\mathbb E\big[g''(\sqrt q\,\xi)\, g(\sqrt q\,\xi)\big]

    The first form (the derivative under the integral) is computed: it needs no :math:`g''`,
    which for relu and selu is a delta or a jump. Stein's lemma turns it into the second, the
    form of Schoenholz et al. (2017). ``q = 0`` is the limit :math:`q \to 0^+`; ``sigma_b2``
    does not enter but is checked, so that every map has one signature.

    Parameters
    ----------
    q, activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    ndarray of float64, shape (...)
    """
    act, sw2, _ = _params(activation, sigma_w2, sigma_b2)
    return _length_slope(act, sw2, _check_variance(q))


def fixed_point_q(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""The stable fixed point :math:`q^* = \sigma_w^2\,\mathbb E[g(\sqrt{q^*}\xi)^2] + \sigma_b^2` of the length map.

    The variance every layer's pre-activations settle to after a few layers, whatever the
    input's length. When :math:`\sigma_b^2 = 0` and :math:`g(0) = 0`, :math:`q = 0` is a fixed
    point, returned when it attracts (tanh with :math:`\sigma_w^2 \le 1`, relu with
    :math:`\sigma_w^2 \le 2`). Accurate to about :math:`10^{-13} + 10^{-15}/(1 - L'(q^*))`
    relative.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    float
        :math:`q^* \ge 0`; for relu and :math:`\sigma_w^2 < 2`,
        :math:`\sigma_b^2 / (1 - \sigma_w^2/2)`.

    Raises
    ------
    ValueError
        If q grows without bound (e.g. relu with :math:`\sigma_w^2 > 2`), plus the argument
        errors of :func:`length_map`.
    """
    return _fixed_point_q(*_params(activation, sigma_w2, sigma_b2))


def chi1(activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q: float | None = None) -> float:
    r"""Mean-square growth factor of a back-propagated gradient per layer.

    .. math:: \chi_1 = \sigma_w^2\,\mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big]
              = \frac{\mathbb E\,\|\delta^{(l)}\|^2}{\mathbb E\,\|\delta^{(l+1)}\|^2}
              \quad (n_l = n_{l+1})

    :math:`\chi_1 < 1`: gradients vanish geometrically with depth; :math:`\chi_1 > 1`: they
    explode. For relu it is :math:`\sigma_w^2/2` at every q (He initialisation: 1).

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.
    q : float, optional
        Evaluate at this variance instead of :math:`q^*`; ``q = 0`` is the limit
        :math:`q \to 0^+`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``q`` is omitted and there is no fixed point (:func:`fixed_point_q`), plus the
        argument errors of :func:`length_map`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return _chi1(act, sw2, _resolve_q(act, sw2, sb2, q))


def delta_profile(
    activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q1: float, depth: int
) -> Array:
    r"""Mean square of :math:`\delta^{(l)}` in each layer of a wide network, predicted layer by layer.

    Forward, the variances follow the length map from :math:`q^{(1)}`:
    :math:`q^{(l+1)} = \sigma_w^2\,\mathbb E[g(\sqrt{q^{(l)}}\xi)^2] + \sigma_b^2`. Backward,
    :math:`\delta^{(l)} = g'(z^{(l)}) \odot W^{(l+1)\top}\delta^{(l+1)}` multiplies the mean square
    by :math:`\chi_1(q^{(l)}) = \sigma_w^2\,\mathbb E[g'(\sqrt{q^{(l)}}\xi)^2]` when all widths are
    equal, and :math:`\delta^{(L)} = g'(z^{(L)}) \odot \partial\mathcal L/\partial a^{(L)}`, so

    .. math:: \frac{\mathbb E[(\delta^{(l)}_i)^2]}{\mathbb E[(\partial\mathcal L/\partial a^{(L)}_i)^2]}
              = \frac{1}{\sigma_w^2} \prod_{k=l}^{L} \chi_1(q^{(k)}).

    Unlike :math:`\chi_1^{L-l}` this holds before :math:`q^{(l)}` has settled at :math:`q^*`, and where
    there is no :math:`q^*` at all (relu with :math:`\sigma_w^2 > 2`). It rests on the mean-field
    assumption that the backward weights are independent of the forward ones.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.
    q1 : float
        :math:`q^{(1)}`, the variance of :math:`z^{(1)}`, ``> 0``.
    depth : int
        L, the number of layers with weights, ``>= 1``.

    Returns
    -------
    ndarray of float64, shape (L,)
        Entry ``l - 1`` is the predicted mean square of :math:`\delta^{(l)}`, per unit mean square of
        :math:`\partial\mathcal L/\partial a^{(L)}`.

    Raises
    ------
    ValueError
        If ``q1`` is not positive and finite, ``depth`` is not a positive integer, or the variance
        overflows on the way up, plus the argument errors of :func:`length_map`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    q = check_positive(q1, "q1")
    L = check_positive_int(depth, "depth")
    chi = np.empty(L)
    for l in range(L):
        chi[l] = _chi1(act, sw2, q)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported just below
            q = float(_length(act, sw2, sb2, q))
        if not math.isfinite(q):
            raise ValueError(f"the variance q overflows after {l + 1} layers (q1={q1}, sigma_w2={sw2}): use fewer layers")
    return np.cumprod(chi[::-1])[::-1] / sw2


# ---------------------------------------------------------------------------
# the correlation map, c* and chi_c
# ---------------------------------------------------------------------------


def correlation_map(
    c: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q: float | None = None
) -> Array:
    r"""One layer of the correlation map, :math:`c^{(l-1)} \mapsto c^{(l)}`, for two inputs of length q.

    .. math:: c^{(l)} = \frac{\sigma_w^2\,\mathbb E[g(u_1)\,g(u_2)] + \sigma_b^2}{L(q)},
              \qquad u_1 = \sqrt q\,z_1,\quad u_2 = \sqrt q\big(c\,z_1 + \sqrt{1 - c^2}\,z_2\big),

    with :math:`z_1, z_2` independent standard normal and :math:`L(q)` the length map (which is
    :math:`q^*` at the fixed point), so the result is a correlation and 1 maps to 1. Its slope
    at :math:`c = 1` is :math:`\chi_1` (for :math:`q > 0`); at :math:`c^*` it is :func:`chi_c`.

    Parameters
    ----------
    c : array_like, shape (...)
        Correlations in ``[-1, 1]``.
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.
    q : float, optional
        The inputs' common length :math:`q^{(l-1)}`, default :math:`q^*`. ``q = 0`` is the limit
        :math:`q \to 0^+`: the identity for tanh, the normalised arc-cosine kernel
        :math:`(\sqrt{1-c^2} + (\pi - \arccos c)\,c)/\pi` for relu.

    Returns
    -------
    ndarray of float64, shape (...)
        10–30 ms per value of c.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    cc = check_finite(as_array(c, "c", dtype=np.float64), "c")
    if np.any(np.abs(cc) > 1):
        raise ValueError(f"c must be a correlation in [-1, 1], got values in [{float(cc.min())}, {float(cc.max())}]")
    qq = _resolve_q(act, sw2, sb2, q)
    return np.array([_cmap(act, sw2, sb2, qq, float(ci)) for ci in cc.reshape(-1)]).reshape(cc.shape)


def fixed_point_c(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""The attracting fixed point :math:`c^*` of the correlation map.

    :math:`c^* = 1` in the ordered phase (any two inputs end up alike); :math:`c^* < 1` in the
    chaotic phase (nearby inputs are pushed apart until their correlation is :math:`c^*`). The
    phase is read from the map's slope at :math:`c = 1`; when :math:`q^* = 0` that slope is
    exactly 1 (the network is linear on tiny signals) and :math:`c^* = 1`.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    float
        :math:`c^* \in [0, 1]`, to 1e-13; 0 for an odd activation without bias in the chaotic
        phase.

    Raises
    ------
    ValueError
        As :func:`fixed_point_q`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return _fixed_point_c(act, sw2, sb2, _fixed_point_q(act, sw2, sb2))


def chi_c(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""Slope of the correlation map at its fixed point :math:`c^*`.

    .. math:: \chi_c = \frac{\partial c^{(l)}}{\partial c^{(l-1)}}\Big|_{c^*}
              = \sigma_w^2\,\mathbb E\big[g'(u_1)\,g'(u_2)\big],
              \qquad \operatorname{corr}(u_1, u_2) = c^*

    In the ordered phase :math:`\chi_c = \chi_1`; in the chaotic phase :math:`\chi_c < 1 < \chi_1`.
    At :math:`q^* = 0` it is 1 (see :func:`fixed_point_c`), not :math:`\chi_1`.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        As :func:`fixed_point_q`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    q_star = _fixed_point_q(act, sw2, sb2)
    return _cmap_slope(act, sw2, sb2, q_star, _fixed_point_c(act, sw2, sb2, q_star))


def depth_scale(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    r"""Depth scales :math:`(\xi_q, \xi_c)` over which lengths and correlations approach their fixed points.

    .. math:: \xi_q^{-1} = -\ln L'(q^*), \qquad \xi_c^{-1} = -\ln \chi_c

    (Schoenholz et al., 2017): :math:`|q^{(l)} - q^*| \sim e^{-l/\xi_q}` and
    :math:`|c^{(l)} - c^*| \sim e^{-l/\xi_c}`, with :math:`L'` from :func:`length_map_slope`
    and :math:`\chi_c` from :func:`chi_c`.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    tuple of float
        ``(xi_q, xi_c)``; infinite where the slope is 1 (to 1e-12): :math:`\xi_c` at
        criticality and whenever :math:`q^* = 0`.

    Raises
    ------
    ValueError
        As :func:`fixed_point_q`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    q_star = _fixed_point_q(act, sw2, sb2)
    slope_c = _cmap_slope(act, sw2, sb2, q_star, _fixed_point_c(act, sw2, sb2, q_star))
    return _depth(float(_length_slope(act, sw2, q_star))), _depth(slope_c)


def critical_sigma_w2(activation: ActivationLike, sigma_b2: float) -> float:
    r"""The weight variance :math:`\sigma_w^2` on the edge of chaos, :math:`\chi_1(\sigma_w^2, \sigma_b^2) = 1`.

    Brent's method on :math:`\chi_1(\sigma_w^2) - 1` at :math:`q^*(\sigma_w^2)`, relative
    tolerance 1e-12. Where q grows without bound, :math:`\chi_1` counts as above 1: for relu
    with :math:`\sigma_b^2 > 0` (and softplus) :math:`\chi_1 < 1` at every finite :math:`q^*` and
    the edge of that region, 2, is returned. At :math:`\sigma_b^2 = 0`, where :math:`q^*` leaves
    0 at the root, :math:`\chi_1 - 1` may rise only quadratically and the root is accurate to
    about 1e-8 (tanh, selu) instead of 1e-12.

    Parameters
    ----------
    activation : str or Activation
    sigma_b2 : float
        ``>= 0``.

    Returns
    -------
    float
        2 for relu, 1 for linear, 1.76095 for tanh at :math:`\sigma_b^2 = 0.05`.

    Raises
    ------
    ValueError
        If :math:`\chi_1` does not cross 1 for :math:`\sigma_w^2` in :math:`(10^{-12}, 10^6)`, plus
        the argument errors of :func:`length_map`.
    """
    act = activations.get(activation)
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")

    def excess(sw2: float) -> float:
        try:
            return _chi1(act, sw2, _fixed_point_q(act, sw2, sb2)) - 1.0
        except _NoFixedPoint:
            return 1.0

    lower, upper = 0.5, 2.0
    while excess(lower) >= 0.0:
        lower *= 0.5
        if lower < 1e-12:
            raise ValueError(f"chi1 of {act.name!r} stays >= 1 for every sigma_w2 > 1e-12 at sigma_b2={sb2}")
    while excess(upper) < 0.0:
        upper *= 2.0
        if upper > _SIGMA_W2_MAX:
            raise ValueError(f"chi1 of {act.name!r} stays < 1 for every sigma_w2 < {_SIGMA_W2_MAX:g} at sigma_b2={sb2}")
    return float(brentq(excess, lower, upper, xtol=1e-300, rtol=1e-12, maxiter=500))
