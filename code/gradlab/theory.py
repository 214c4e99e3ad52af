r"""Mean-field theory of signal propagation in wide random networks.

In a network of width :math:`n \to \infty` with weights
:math:`W^{(l)}_{ij} \sim \mathcal N(0, \sigma_w^2 / n_{l-1})` and biases
:math:`b^{(l)}_i \sim \mathcal N(0, \sigma_b^2)`, every pre-activation
:math:`z^{(l)}_i` is Gaussian with mean 0 and a variance :math:`q^{(l)}` that
obeys a deterministic recursion, the *length map* (Poole et al., 2016)

.. math:: q^{(l)} = \sigma_w^2\,\mathbb E\big[g(\sqrt{q^{(l-1)}}\,\xi)^2\big] + \sigma_b^2,
          \qquad \xi \sim \mathcal N(0, 1).

Two inputs with correlation :math:`c` stay correlated by the *correlation map*,
and back-propagated gradients are multiplied, per layer and in mean square, by

.. math:: \chi_1 = \sigma_w^2\,\mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big].

:math:`\chi_1 < 1` is the ordered phase (gradients vanish, inputs become
alike), :math:`\chi_1 > 1` the chaotic phase (gradients explode, inputs
decorrelate); :math:`\chi_1 = 1` is the "edge of chaos", where the depth
scales :math:`\xi_q, \xi_c` of Schoenholz et al. (2017) diverge. Dynamical
isometry (Saxe et al., 2014; Pennington et al., 2017) asks more: that *all*
singular values of the input-output Jacobian stay near 1
(:func:`input_output_jacobian`, :func:`jacobian_singular_values`).

Every Gaussian expectation is computed by one quadrature rule,
:func:`gaussian_expectation` (composite Gauss–Legendre, accurate to about
1e-15 for the book's activations; see there for the measured accuracy and
cost). Nothing here is Monte Carlo; the tests compare it with simulations
of wide random networks.

References
----------
B. Poole, S. Lahiri, M. Raghu, J. Sohl-Dickstein, S. Ganguli (2016),
"Exponential expressivity in deep neural networks through transient chaos".
S. S. Schoenholz, J. Gilmer, S. Ganguli, J. Sohl-Dickstein (2017),
"Deep information propagation".
J. Pennington, S. S. Schoenholz, S. Ganguli (2017), "Resurrecting the
sigmoid in deep learning through dynamical isometry".
A. M. Saxe, J. L. McClelland, S. Ganguli (2014), "Exact solutions to the
nonlinear dynamics of learning in deep linear neural networks".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.polynomial.legendre import leggauss
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from . import activations, mlp
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int

__all__ = [
    "gaussian_expectation",
    "length_map",
    "length_map_slope",
    "fixed_point_q",
    "chi1",
    "correlation_map",
    "correlation_map_slope",
    "fixed_point_c",
    "chi_c",
    "depth_scale",
    "critical_sigma_w2",
    "input_output_jacobian",
    "jacobian_singular_values",
    "N_NODES",
]

Array = NDArray[np.float64]
ActivationLike = str | activations.Activation

#: The default number of quadrature nodes, 40 panels of 16 Gauss–Legendre nodes each.
N_NODES: int = 640

# The rule integrates over xi in [-CUT, CUT]. The Gaussian mass outside is
# 2 Phi(-10) = 1.5e-23, far below float64 rounding even for integrands that
# grow like a polynomial (relu(z)^2: 10^2 * phi(10) ~ 8e-22).
_CUT: float = 10.0
# Nodes per panel. With panels of width 0.5 this order reaches rounding level
# for tanh up to q ~ 20 (see gaussian_expectation); doubling the panels
# (n_nodes=1280) extends that to q ~ 100.
_ORDER: int = 16
# q = 0 in a map that involves g' stands for the limit q -> 0+: g' may jump at
# 0 (relu' does), and the limit, not g'(0), is what a tiny signal feels. The
# limit is evaluated at this q: sqrt(q) = 1e-100 makes every activation
# linear (or piecewise linear) at all nodes, while g(z)^2 ~ 1e-200 still sits
# far above the float64 underflow threshold 2e-308.
_Q_TINY: float = 1e-200
# Search limits for the brackets of the root finders.
_Q_MAX: float = 1e12
_SIGMA_W2_MAX: float = 1e6


class _NoFixedPoint(ValueError):
    """The length map has no finite fixed point: q grows without bound."""


# ---------------------------------------------------------------------------
# quadrature
# ---------------------------------------------------------------------------


def _check_n_nodes(n_nodes: Any) -> int:
    n = check_positive_int(n_nodes, "n_nodes")
    if n % (2 * _ORDER):
        raise ValueError(
            f"n_nodes must be a multiple of {2 * _ORDER} (an even number of {_ORDER}-point panels), got {n}"
        )
    return n


def _panels(edges: Array) -> tuple[Array, Array]:
    """Gauss–Legendre nodes on panels ``edges[..., k] .. edges[..., k+1]``; Gaussian density in the weights.

    ``edges`` has shape (..., P + 1); nodes and weights have shape
    (..., 16 P). The weights are not normalised.
    """
    t, w = leggauss(_ORDER)
    left = edges[..., :-1, None]
    h = np.diff(edges, axis=-1)[..., None]
    x = (left + 0.5 * h * (t + 1.0)).reshape(*edges.shape[:-1], -1)
    return x, (0.5 * h * w).reshape(x.shape) * np.exp(-0.5 * x * x)


@functools.lru_cache(maxsize=8)
def _rule(n_nodes: int) -> tuple[Array, Array, float]:
    """Nodes ξ and weights of the symmetric rule, shape (n_nodes,) each (read-only), and the normaliser.

    The weights are divided by their sum, so E[1] = 1 to rounding (the
    truncated mass, 1.5e-23, is below rounding anyway).
    """
    # An even number of equal panels puts a panel edge at xi = 0, where every
    # gradlab activation has its only kink (relu, leaky_relu, selu).
    x, w = _panels(np.linspace(-_CUT, _CUT, n_nodes // _ORDER + 1))
    total = float(w.sum())
    w = w / total
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w, total


def _shifted_expectations(f: Callable[[Array], ArrayLike], m: Array, sigma: float, n_nodes: int) -> Array:
    r""":math:`\mathbb E[f(m_i + \sigma \xi)]` for each entry of ``m`` (shape (N,)), ``sigma > 0``.

    The rule of :func:`gaussian_expectation`, except that the panel holding
    the kink :math:`\xi = -m_i/\sigma` (where the argument of ``f`` is 0) is
    cut in two there: a kink inside a panel would cost Gauss–Legendre its
    fast convergence (1e-6 instead of 1e-16 for the relu correlation map);
    on an edge it is free. Cost: ``f`` on N x (n_nodes + 32) points.
    """
    x, w, total = _rule(n_nodes)
    values = np.asarray(f(m[:, None] + sigma * x), dtype=np.float64)
    n_panels = n_nodes // _ORDER
    width = 2.0 * _CUT / n_panels
    kink = np.clip(-m / sigma, -_CUT, _CUT)
    k = np.clip(np.floor((kink + _CUT) / width), 0, n_panels - 1).astype(np.intp)
    cols = k[:, None] * _ORDER + np.arange(_ORDER)  # the nodes of panel k, shape (N, 16)
    uncut = np.sum(np.take_along_axis(values, cols, axis=1) * w[cols], axis=1)
    left = -_CUT + k * width
    x2, w2 = _panels(np.stack([left, kink, left + width], axis=1))  # the two halves, shape (N, 32)
    cut = np.sum(np.asarray(f(m[:, None] + sigma * x2), dtype=np.float64) * (w2 / total), axis=1)
    return values @ w - uncut + cut


def gaussian_expectation(f: Callable[[Array], ArrayLike], q: ArrayLike, *, n_nodes: int = N_NODES) -> Array:
    r"""Gaussian expectation :math:`\mathbb E[f(\sqrt q\,\xi)]`, :math:`\xi \sim \mathcal N(0,1)`, for an array of q.

    .. math:: \mathbb E[f(\sqrt q\,\xi)] = \int_{-\infty}^{\infty} f(\sqrt q\,\xi)\,
              \frac{e^{-\xi^2/2}}{\sqrt{2\pi}}\,d\xi
              \approx \sum_k w_k\, f(\sqrt q\,\xi_k)

    Parameters
    ----------
    f : callable
        Elementwise function, array of shape (..., n_nodes) in, same shape out
        (every gradlab activation qualifies).
    q : array_like, shape (...)
        Variances, finite and ``>= 0``. ``q = 0`` gives ``f(0)`` (all nodes
        sit at 0).
    n_nodes : int, default 640
        Total number of nodes, a multiple of 32.

    Returns
    -------
    ndarray of float64, shape (...)

    Notes
    -----
    The scheme is composite Gauss–Legendre on :math:`\xi \in [-10, 10]`
    (Gaussian mass outside: 1.5e-23) with ``n_nodes / 16`` panels of 16
    nodes, panel width 0.5 by default, and the Gaussian density folded into
    the weights. Why not Gauss–Hermite: its error is governed by the
    singularity of :math:`f` nearest the real axis *measured against the
    whole real line*, and :math:`\tanh(\sqrt q\,\xi)` has poles at
    :math:`\xi = \pm i\pi/(2\sqrt q)`; 200 Gauss–Hermite nodes give only 1e-5
    for :math:`\mathbb E[\tanh^2]` and 2e-4 for :math:`\mathbb E[\tanh'^2]`
    over q in [1e-4, 10]. Gauss–Legendre on a panel of half-width h converges
    like :math:`\rho^{-2n}`, with :math:`\rho` set by the pole distance *relative
    to h*, so short panels keep the convergence geometric; and the panel edge
    at :math:`\xi = 0` makes the kinks of relu, leaky relu and selu (all at
    0) cost nothing.

    Measured against :func:`scipy.integrate.quad` (tolerance 1e-14) for
    :math:`f = \tanh, \tanh^2, \tanh'^2, \sigma, \sigma^2, \sigma'^2` on 15 values
    of q in [1e-4, 10]: largest absolute error 8e-16 with the default 640
    nodes (480 nodes: 5e-16; 320 nodes: 2e-13). For larger q the poles come
    closer: :math:`\mathbb E[\tanh'^2]` is off by 8e-16 at q = 20, 3e-12 at
    q = 50, 3e-10 at q = 100 and 1e-6 at q = 1000 with 640 nodes, and by
    2e-15 at q = 100 and 2e-8 at q = 1000 with ``n_nodes=1280``. Cost: one
    call of ``f`` on ``q.size * n_nodes`` points plus a matrix-vector
    product: about 20 µs for one q, 0.6 ms for 100 values of q.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``q`` is not numeric.
    ValueError
        If ``q`` is negative or not finite, ``n_nodes`` is not a positive
        multiple of 32, or ``f`` returns the wrong shape.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    q_arr = _check_q(q)
    x, w, _ = _rule(_check_n_nodes(n_nodes))
    z = np.sqrt(q_arr)[..., None] * x
    values = np.asarray(f(z), dtype=np.float64)
    if values.shape != z.shape:
        raise ValueError(f"f must return an array of its input's shape {z.shape}, got {values.shape}")
    return values @ w


def _check_q(q: ArrayLike, name: str = "q") -> Array:
    arr = check_finite(as_array(q, name, dtype=np.float64), name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (a variance), got minimum {float(arr.min())}")
    return arr


def _outer_rule(n_nodes: int, scale: float) -> tuple[Array, Array]:
    """The rule of :func:`gaussian_expectation`, graded towards 0 down to ``scale``.

    For a kinked ``f2`` the inner expectation, as a function of the outer
    variable :math:`z_1`, is a kink smoothed over a width ``scale`` = s/|c|
    around 0. When that is much narrower than a panel (c near 1), extra
    panel edges at ``±scale * 2^k`` resolve it: without them the relu
    correlation map is off by up to 2e-9, and its slope (a smoothed step)
    by up to 3e-4, for 1 - c between 1e-4 and 1e-6.
    """
    x, w, total = _rule(n_nodes)
    width = 2.0 * _CUT / (n_nodes // _ORDER)
    if not 0.0 < scale < 0.5 * width:
        return x, w
    grading = scale * 2.0 ** np.arange(int(math.log2(width / scale)))  # scale, 2 scale, ... < width
    base = np.linspace(-_CUT, _CUT, n_nodes // _ORDER + 1)
    xg, wg = _panels(np.unique(np.concatenate([base, grading, -grading])))
    return xg, wg / total


def _bivariate_expectation(
    f1: Callable[[Array], ArrayLike], f2: Callable[[Array], ArrayLike], q: float, c: float, n_nodes: int = N_NODES
) -> float:
    r"""Bivariate Gaussian expectation :math:`\mathbb E[f_1(u_1) f_2(u_2)]`.

    .. math:: u_1 = \sqrt q\, z_1, \qquad u_2 = \sqrt q\,(c z_1 + \sqrt{1-c^2}\, z_2),
              \qquad z_1, z_2 \sim \mathcal N(0, 1) \text{ independent}

    A tensor-product rule: the outer sum over :math:`z_1` uses the rule of
    :func:`gaussian_expectation`; for each outer node the inner sum over
    :math:`z_2` uses the same panels with one more edge where :math:`u_2 = 0`,
    so a kink of :math:`f_2` at 0 falls on a panel edge too
    (:func:`_shifted_expectations`); for :math:`|c|` near 1 the outer rule
    is graded towards 0 (:func:`_outer_rule`). About 640 x 672 evaluations
    of ``f2``.
    """
    r = math.sqrt(q)
    # sqrt((1-c)(1+c)) keeps relative accuracy as c -> 1, where 1 - c*c cancels.
    s = math.sqrt(max((1.0 - c) * (1.0 + c), 0.0))
    x, w = _outer_rule(n_nodes, s / max(abs(c), 1e-300))
    outer = np.asarray(f1(r * x), dtype=np.float64)
    if s == 0.0 or r == 0.0:  # u2 = c u1 exactly: nothing left to integrate over z2
        inner = np.asarray(f2(r * c * x), dtype=np.float64)
    else:
        inner = _shifted_expectations(f2, r * c * x, r * s, n_nodes)
    return float(w @ (outer * inner))


# ---------------------------------------------------------------------------
# the length map and its fixed point
# ---------------------------------------------------------------------------


def _params(activation: Any, sigma_w2: Any, sigma_b2: Any) -> tuple[activations.Activation, float, float]:
    return activations.get(activation), check_positive(sigma_w2, "sigma_w2"), check_nonnegative(sigma_b2, "sigma_b2")


def length_map(q: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> Array:
    r"""One layer of the length map, :math:`q^{(l-1)} \mapsto q^{(l)}`.

    .. math:: q^{(l)} = \sigma_w^2\,\mathbb E\big[g(\sqrt{q^{(l-1)}}\,\xi)^2\big] + \sigma_b^2

    :math:`q^{(l)}` is the variance of each pre-activation :math:`z^{(l)}_i`
    of a wide network whose weights have variance :math:`\sigma_w^2 / n_{l-1}`
    and biases variance :math:`\sigma_b^2`; equivalently
    :math:`\tfrac1{n_l}\|z^{(l)}\|^2` for one input.

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
        :math:`q^{(l)}`.

    Notes
    -----
    For relu :math:`\mathbb E[\mathrm{relu}(\sqrt q\,\xi)^2] = q/2`, so the map
    is :math:`\sigma_w^2 q/2 + \sigma_b^2`; for linear :math:`g` it is
    :math:`\sigma_w^2 q + \sigma_b^2`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return sw2 * gaussian_expectation(lambda z: np.square(act.g(z)), q) + sb2


def length_map_slope(q: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> Array:
    r"""Slope :math:`\partial q^{(l)} / \partial q^{(l-1)}` of the length map.

    .. math:: \frac{\partial q^{(l)}}{\partial q^{(l-1)}}
              = \frac{\sigma_w^2}{\sqrt q}\,\mathbb E\big[\xi\, g(\sqrt q\,\xi)\, g'(\sqrt q\,\xi)\big]
              = \chi_1 + \sigma_w^2\,\mathbb E\big[g''(\sqrt q\,\xi)\, g(\sqrt q\,\xi)\big]

    The first form is the derivative of :func:`length_map` under the
    integral; Gaussian integration by parts (Stein's lemma,
    :math:`\mathbb E[\xi h(\xi)] = \mathbb E[h'(\xi)]`) turns it into the
    second, the form in Schoenholz et al. (2017). The first form is the one
    computed: it needs only :math:`g` and :math:`g'`, so it works for every
    gradlab activation, including relu and selu whose :math:`g''` is a delta
    or a jump at 0, and no numerical second derivative is needed.

    Parameters
    ----------
    q : array_like, shape (...)
        Finite and ``>= 0``; ``q = 0`` is the limit :math:`q \to 0^+`
        (:math:`\sigma_w^2 g'(0)^2` for smooth :math:`g` with :math:`g(0)=0`,
        :math:`\sigma_w^2/2` for relu).
    activation, sigma_w2, sigma_b2
        As in :func:`length_map` (``sigma_b2`` does not enter the slope but is
        checked, to keep one signature for every map).

    Returns
    -------
    ndarray of float64, shape (...)

    """
    act, sw2, _ = _params(activation, sigma_w2, sigma_b2)
    qp = np.maximum(_check_q(q), _Q_TINY)
    # With z = sqrt(q) xi: E[xi g g'] / sqrt(q) = E[z g(z) g'(z)] / q.
    return sw2 * gaussian_expectation(lambda z: z * act.g(z) * act.dg(z), qp) / qp


def _q_limit(q: float) -> float:
    return max(q, _Q_TINY)


def _fixed_point_q(act: activations.Activation, sw2: float, sb2: float) -> float:
    def excess(q: float) -> float:  # L(q) - q: positive below the stable fixed point, negative above
        return float(sw2 * gaussian_expectation(lambda z: np.square(act.g(z)), q) + sb2) - q

    lower = 0.0
    if excess(0.0) <= 0.0:  # sigma_b2 = 0 and g(0) = 0: q = 0 is a fixed point
        # ... and it attracts small q if the slope there is below 1 (marginally at 1:
        # tanh at sigma_w2 = 1, where rounding gives 1 + 2e-16, hence the allowance).
        if float(length_map_slope(0.0, act, sw2, sb2)) <= 1.0 + 1e-12:
            return 0.0
        lower = 1.0  # q = 0 repels: the stable fixed point is above 0, find a q below it
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


def fixed_point_q(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""The stable fixed point of the length map, :math:`q^* = \sigma_w^2\,\mathbb E[g(\sqrt{q^*}\xi)^2] + \sigma_b^2`.

    The variance every layer's pre-activations settle to, whatever the input's
    length, after a few layers (:math:`\xi_q` of :func:`depth_scale`).

    Parameters
    ----------
    activation : str or Activation
    sigma_w2 : float
        ``> 0``.
    sigma_b2 : float
        ``>= 0``.

    Returns
    -------
    float
        :math:`q^* \ge 0`. For linear :math:`g` and :math:`\sigma_w^2 < 1`,
        :math:`q^* = \sigma_b^2 / (1 - \sigma_w^2)`; for relu and
        :math:`\sigma_w^2 < 2`, :math:`q^* = \sigma_b^2 / (1 - \sigma_w^2/2)`.

    Raises
    ------
    ValueError
        If there is no finite fixed point: for an unbounded activation with
        :math:`\sigma_w^2` so large that q grows without bound (relu with
        :math:`\sigma_w^2 \ge 2` and :math:`\sigma_b^2 > 0`, or
        :math:`\sigma_w^2 > 2`; linear with :math:`\sigma_w^2 \ge 1` likewise),
        plus the argument errors of :func:`length_map`.

    Notes
    -----
    Found by Brent's method on :math:`L(q) - q` (:math:`L` the length map),
    not by iterating the map: iteration converges only linearly, at the rate
    :math:`L'(q^*)`, which tends to 1 near :math:`\sigma_b^2 = 0`,
    :math:`\sigma_w^2 \to 1^+` for tanh. The bracket is
    :math:`[q_\text{lo}, q_\text{hi}]` with :math:`L(q_\text{lo}) > q_\text{lo}`
    and :math:`L(q_\text{hi}) < q_\text{hi}`; :math:`q_\text{hi}` is doubled from 1
    until that holds (up to 1e12), so the root found is a downward crossing of
    the diagonal, a fixed point the iteration is attracted to. Brent's method
    always converges; it stops at relative tolerance 1e-13, so :math:`q^*` is
    accurate to about :math:`10^{-13} + 10^{-15}/(1 - L'(q^*))` relative.

    When :math:`\sigma_b^2 = 0` and :math:`g(0) = 0` (tanh, relu, gelu,
    selu, linear), :math:`q = 0` is itself a fixed point. It is returned when
    it attracts, i.e. when :math:`L'(0^+) \le 1` (:func:`length_map_slope`):
    tanh with :math:`\sigma_w^2 \le 1`, relu with :math:`\sigma_w^2 \le 2`
    (at :math:`\sigma_w^2 = 2` every q is a fixed point of relu's map and 0
    is returned). Otherwise the positive fixed point is returned.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return _fixed_point_q(act, sw2, sb2)


def _resolve_q(act: activations.Activation, sw2: float, sb2: float, q: Any) -> float:
    if q is None:
        return _fixed_point_q(act, sw2, sb2)
    qq = _check_q(q)
    if qq.ndim != 0:
        raise ValueError(f"q must be a single number, got shape {qq.shape}")
    return float(qq)


def chi1(activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q: float | None = None) -> float:
    r"""Mean-square growth of a back-propagated gradient per layer.

    .. math:: \chi_1 = \sigma_w^2\,\mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big]
              = \frac{\mathbb E\,\|\delta^{(l)}\|^2}{\mathbb E\,\|\delta^{(l+1)}\|^2}
              \quad (n_l = n_{l+1})

    :math:`\chi_1 < 1`: gradients vanish geometrically with depth (ordered
    phase); :math:`\chi_1 > 1`: they explode (chaotic phase). When
    :math:`q^* > 0`, :math:`\chi_1` is also the slope of the correlation map at
    :math:`c = 1`.

    Parameters
    ----------
    activation : str or Activation
    sigma_w2 : float
        ``> 0``.
    sigma_b2 : float
        ``>= 0``.
    q : float, optional
        Evaluate at this pre-activation variance instead of :math:`q^*` (the
        factor a layer whose inputs have length q applies, before the network
        has settled). ``q = 0`` means the limit :math:`q \to 0^+`.

    Returns
    -------
    float
        For relu :math:`\sigma_w^2/2` at every q, so :math:`\chi_1 = 1` at
        :math:`\sigma_w^2 = 2` (He initialisation); for linear :math:`g`,
        :math:`\sigma_w^2`.

    Raises
    ------
    ValueError
        If ``q`` is omitted and :func:`fixed_point_q` finds no fixed point,
        plus the argument errors of :func:`length_map`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    qq = _resolve_q(act, sw2, sb2, q)
    # At q = 0 the limit, not g'(0)^2: relu'(0) = 0 by convention, but a tiny
    # Gaussian signal sees slope 1 half of the time, so chi1 -> sigma_w2 / 2.
    return sw2 * float(gaussian_expectation(lambda z: np.square(act.dg(z)), _q_limit(qq)))


# ---------------------------------------------------------------------------
# the correlation map and its fixed point
# ---------------------------------------------------------------------------


def _check_c(c: ArrayLike) -> Array:
    arr = check_finite(as_array(c, "c", dtype=np.float64), "c")
    if np.any(np.abs(arr) > 1):
        raise ValueError(f"c must be a correlation in [-1, 1], got values in [{float(arr.min())}, {float(arr.max())}]")
    return arr


def _cmap(act: activations.Activation, sw2: float, sb2: float, q: float, c: float) -> float:
    qp = _q_limit(q)
    numerator = sw2 * _bivariate_expectation(act.g, act.g, qp, c) + sb2
    denominator = float(sw2 * gaussian_expectation(lambda z: np.square(act.g(z)), qp) + sb2)
    return numerator / denominator


def _cmap_slope(act: activations.Activation, sw2: float, sb2: float, q: float, c: float) -> float:
    qp = _q_limit(q)
    # d/dc E[g(u1) g(u2)] = q E[g'(u1) g'(u2)] (differentiate under the
    # integral in the covariance q c); divided by L(q), which is q at q*.
    denominator = float(sw2 * gaussian_expectation(lambda z: np.square(act.g(z)), qp) + sb2)
    return sw2 * qp * _bivariate_expectation(act.dg, act.dg, qp, c) / denominator


def correlation_map(
    c: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q: float | None = None
) -> Array:
    r"""One layer of the correlation map, :math:`c^{(l-1)} \mapsto c^{(l)}`, for two inputs of length :math:`q^*`.

    .. math:: c^{(l)} = \frac{\sigma_w^2\,\mathbb E[g(u_1)\,g(u_2)] + \sigma_b^2}{q^*},
              \qquad u_1 = \sqrt{q^*}\,z_1,\quad
              u_2 = \sqrt{q^*}\big(c\,z_1 + \sqrt{1 - c^2}\,z_2\big),

    with :math:`z_1, z_2` independent standard normal, so :math:`u_1, u_2`
    have variance :math:`q^*` and correlation :math:`c = c^{(l-1)}`.
    :math:`c^{(l)}` is the correlation of :math:`z^{(l)}` for the two inputs.

    Parameters
    ----------
    c : array_like, shape (...)
        Correlations in ``[-1, 1]``.
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.
    q : float, optional
        Common length :math:`q^{(l-1)}` of the two inputs, default
        :math:`q^*`. Then the denominator is the next layer's length
        :math:`L(q) = \sigma_w^2\,\mathbb E[g(\sqrt q\,\xi)^2] + \sigma_b^2`
        (equal to :math:`q^*` at the fixed point), so the result is always a
        correlation and ``c = 1`` maps to 1. ``q = 0`` (also when
        :math:`q^* = 0`) is the limit :math:`q \to 0^+`: for tanh the
        identity :math:`c \mapsto c`, for relu the normalised arc-cosine
        kernel :math:`(\sqrt{1-c^2} + (\pi - \arccos c)\,c)/\pi`.

    Returns
    -------
    ndarray of float64, shape (...)

    Notes
    -----
    The two-dimensional expectation is a tensor-product rule: the outer
    variable on the nodes of :func:`gaussian_expectation`, the inner one on
    the same panels plus an edge where :math:`u_2 = 0` (the kink of relu,
    which would otherwise limit the accuracy to 1e-6), and for :math:`|c|`
    near 1 extra outer panels graded towards 0 on the scale
    :math:`\sqrt{1-c^2}`, where the kink of :math:`u_2` crosses that of
    :math:`u_1`. Measured against the relu arc-cosine closed form: error below
    2e-14 for 31 values of c in [-1, 1], down to :math:`1 - c = 10^{-14}`;
    against :func:`scipy.integrate.dblquad` for tanh: below 1e-12. Cost:
    10–30 ms per value of c.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    cc = _check_c(c)
    qq = _resolve_q(act, sw2, sb2, q)
    out = np.array([_cmap(act, sw2, sb2, qq, float(ci)) for ci in cc.reshape(-1)])
    return out.reshape(cc.shape)


def correlation_map_slope(
    c: ArrayLike, activation: ActivationLike, sigma_w2: float, sigma_b2: float, *, q: float | None = None
) -> Array:
    r"""Slope :math:`\partial c^{(l)} / \partial c^{(l-1)}` of :func:`correlation_map`.

    .. math:: \frac{\partial c^{(l)}}{\partial c^{(l-1)}}
              = \frac{\sigma_w^2\, q\, \mathbb E[g'(u_1)\, g'(u_2)]}{L(q)}
              = \sigma_w^2\, \mathbb E[g'(u_1)\, g'(u_2)] \quad \text{at } q = q^*,

    because :math:`\partial_c \mathbb E[g(u_1) g(u_2)] = q\,\mathbb E[g'(u_1) g'(u_2)]`
    (differentiate under the integral with respect to the covariance
    :math:`q c`). At :math:`c = 1` and :math:`q = q^* > 0` it is :math:`\chi_1`.

    Parameters
    ----------
    c, activation, sigma_w2, sigma_b2, q
        As in :func:`correlation_map`.

    Returns
    -------
    ndarray of float64, shape (...)

    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    cc = _check_c(c)
    qq = _resolve_q(act, sw2, sb2, q)
    out = np.array([_cmap_slope(act, sw2, sb2, qq, float(ci)) for ci in cc.reshape(-1)])
    return out.reshape(cc.shape)


def _fixed_point_c(act: activations.Activation, sw2: float, sb2: float, q: float) -> float:
    # The allowance: with q* = 0 the slope at c = 1 is exactly 1 (see
    # fixed_point_c) and comes out as 1 +- 3e-16.
    if _cmap_slope(act, sw2, sb2, q, 1.0) <= 1.0 + 1e-12:
        # c = 1 attracts. On [0, 1] the map is convex (its second derivative
        # is sigma_w2 q^2 E[g''(u1) g''(u2)] / L(q) >= 0 there, by the Hermite
        # expansion), so with slope <= 1 at c = 1 it lies above the diagonal.
        return 1.0

    def excess(c: float) -> float:
        return _cmap(act, sw2, sb2, q, c) - c

    if excess(0.0) <= 0.0:
        # f(0) = (sigma_w2 E[g]^2 + sigma_b2) / q* >= 0: zero only for
        # sigma_b2 = 0 and E[g] = 0 (odd g), and then c = 0 is the fixed point.
        return 0.0
    # Convexity again: f(c) - c >= 0 at 0, = 0 at 1, rising through 1 with
    # slope chi_c - 1 > 0, so it is negative just below 1 and has exactly one
    # root in (0, 1), the attracting c*.
    eps = 0.5
    while excess(1.0 - eps) >= 0.0:
        eps *= 0.5
        if eps < 1e-12:  # slope barely above 1: c* is 1 to within quadrature accuracy
            return 1.0
    return float(brentq(excess, 0.0, 1.0 - eps, xtol=1e-15, rtol=1e-13, maxiter=500))


def fixed_point_c(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""The attracting fixed point :math:`c^*` of the correlation map.

    :math:`c^* = 1` in the ordered phase (:math:`\chi_1 \le 1`: any two inputs
    end up with the same representation); :math:`c^* < 1` in the chaotic
    phase (:math:`\chi_1 > 1`: nearby inputs are pushed apart until their
    correlation is :math:`c^*`).

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    float
        :math:`c^* \in [0, 1]`; :math:`c^* = 0` for an odd activation with
        :math:`\sigma_b^2 = 0` in the chaotic phase.

    Notes
    -----
    The phase is decided by the slope of the map at :math:`c = 1`
    (:math:`\chi_1` when :math:`q^* > 0`). In the chaotic phase :math:`c^*` is
    found by Brent's method on :math:`f(c) - c` over :math:`[0, 1 - \epsilon]`
    with :math:`\epsilon` halved from 1/2 until :math:`f(1-\epsilon) <
    1-\epsilon`; convexity of the map on [0, 1] makes that root unique.
    Tolerance 1e-13; 10–25 evaluations of the map, 0.2 s (2 s for selu with
    :math:`c^*` within 1e-4 of 1). A slope within 1e-12 of 1 counts as 1.

    When :math:`q^* = 0` (:math:`\sigma_b^2 = 0`, below criticality) the map is
    the :math:`q \to 0^+` limit of :func:`correlation_map`, whose slope at
    :math:`c = 1` is exactly 1 for every activation with :math:`g(0) = 0`
    whatever :math:`\sigma_w^2` (the network is linear, or piecewise linear,
    on such small signals), and :math:`c^* = 1` is returned.

    Raises
    ------
    ValueError
        If the length map has no finite fixed point (see
        :func:`fixed_point_q`), plus the argument errors of :func:`length_map`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    return _fixed_point_c(act, sw2, sb2, _fixed_point_q(act, sw2, sb2))


def chi_c(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> float:
    r"""Slope of the correlation map at its fixed point :math:`c^*`.

    .. math:: \chi_c = \frac{\partial c^{(l)}}{\partial c^{(l-1)}}\Big|_{c^*}
              = \sigma_w^2\,\mathbb E\big[g'(u_1)\,g'(u_2)\big],
              \qquad \operatorname{corr}(u_1, u_2) = c^*

    In the ordered phase :math:`c^* = 1` and :math:`\chi_c = \chi_1`; in the
    chaotic phase :math:`\chi_c < 1 < \chi_1`.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As in :func:`length_map`.

    Returns
    -------
    float
        At :math:`q^* = 0` the limit slope (see :func:`fixed_point_c`): 1,
        not :math:`\chi_1`, since the length shrinks geometrically while the
        correlation does not decay exponentially.

    Raises
    ------
    ValueError
        As :func:`fixed_point_c`.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    q_star = _fixed_point_q(act, sw2, sb2)
    return _cmap_slope(act, sw2, sb2, q_star, _fixed_point_c(act, sw2, sb2, q_star))


def _depth(chi: float) -> float:
    # chi = 1 is criticality. The quadrature computes it to ~1e-15 (e.g. 1 - 3e-16
    # for tanh with q* = 0, where the map is exactly the identity), which would
    # read as a depth of 3e15; and chi > 1 can only be rounding, since the fixed
    # points returned attract.
    if chi >= 1.0 - 1e-12:
        return math.inf
    if chi <= 0.0:
        return 0.0
    return -1.0 / math.log(chi)


def depth_scale(activation: ActivationLike, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    r"""Depth scales :math:`(\xi_q, \xi_c)` over which lengths and correlations approach their fixed points.

    .. math:: \xi_q^{-1} = -\ln\Big(\chi_1 + \sigma_w^2\,\mathbb E\big[g''(\sqrt{q^*}\xi)\,g(\sqrt{q^*}\xi)\big]\Big),
              \qquad \xi_c^{-1} = -\ln \chi_c

    (Schoenholz et al., 2017): :math:`|q^{(l)} - q^*| \sim
    e^{-l/\xi_q}` and :math:`|c^{(l)} - c^*| \sim e^{-l/\xi_c}`. The argument
    of the first logarithm is the slope of the length map at :math:`q^*`,
    computed without :math:`g''` (:func:`length_map_slope`); :math:`\chi_c` is
    :func:`chi_c`, which is :math:`\chi_1` in the ordered phase and the slope
    at :math:`c^* < 1` (not :math:`\chi_1`) in the chaotic phase.

    Returns
    -------
    tuple of float
        ``(xi_q, xi_c)``. :math:`\xi = \infty` when the slope is 1 to within
        1e-12 (the rounding level of the quadrature): :math:`\xi_c` at
        criticality, where correlations approach :math:`c^*` only
        polynomially (:math:`\xi_q` stays finite there for tanh with
        :math:`\sigma_b^2 > 0`), and :math:`\xi_c` whenever :math:`q^* = 0`
        (relu or tanh without bias, below criticality), where the slope of
        the correlation map at :math:`c^* = 1` is exactly 1. Both are computed
        for every gradlab activation.
    """
    act, sw2, sb2 = _params(activation, sigma_w2, sigma_b2)
    q_star = _fixed_point_q(act, sw2, sb2)
    slope_q = float(length_map_slope(q_star, act, sw2, sb2))
    slope_c = _cmap_slope(act, sw2, sb2, q_star, _fixed_point_c(act, sw2, sb2, q_star))
    return _depth(slope_q), _depth(slope_c)


def critical_sigma_w2(activation: ActivationLike, sigma_b2: float) -> float:
    r"""The weight variance :math:`\sigma_w^2` on the edge of chaos, :math:`\chi_1(\sigma_w^2, \sigma_b^2) = 1`.

    Parameters
    ----------
    activation : str or Activation
    sigma_b2 : float
        ``>= 0``.

    Returns
    -------
    float
        For relu 2 (He initialisation), for leaky relu :math:`2/(1+\alpha^2)`,
        for linear 1; for tanh 1 at :math:`\sigma_b^2 = 0` (where
        :math:`q^* \to 0`) and 1.76095 at :math:`\sigma_b^2 = 0.05`, the
        :math:`\approx 1.76` quoted for that bias in the mean-field literature.

    Notes
    -----
    Brent's method on :math:`\chi_1(\sigma_w^2) - 1`, with :math:`\chi_1`
    evaluated at :math:`q^*(\sigma_w^2)`. The bracket starts at [1/2, 2] and
    is widened (lower end halved, upper end doubled, up to 1e6) until the
    sign changes; tolerance 1e-12 relative; about 40 fixed-point solves,
    20–200 ms.

    Where the length map has no finite fixed point (an unbounded activation
    with :math:`\sigma_w^2` so large that q grows without bound),
    :math:`\chi_1` counts as above 1. For every gradlab activation both q's
    growth factor at large q and :math:`\chi_1(q \to \infty)` equal
    :math:`\sigma_w^2 (g'(+\infty)^2 + g'(-\infty)^2)/2`, so on the edge of
    that region :math:`\chi_1 \to 1` as :math:`q^* \to \infty`. That edge
    is what is returned when :math:`\chi_1 < 1` at every finite
    :math:`q^*`: relu with :math:`\sigma_b^2 > 0` (2, where :math:`\chi_1 =
    \sigma_w^2/2` exactly) and softplus (2, approached only as
    :math:`q^* \to \infty`).

    Accuracy: the root is found to 1e-12 where :math:`\chi_1` crosses 1 with
    a non-zero slope. At :math:`\sigma_b^2 = 0` for an activation with
    :math:`g(0) = 0` the crossing is where :math:`q^*` leaves 0, and it has a
    slope only from below: for tanh :math:`\chi_1 - 1 = \sigma_w^2 - 1` for
    :math:`\sigma_w^2 \le 1` (:math:`q^* = 0`) but only
    :math:`\approx (\sigma_w^2 - 1)^2/3` above, which drowns in rounding within
    about 3e-8 of the root (measured :math:`1 + 2.8 \cdot 10^{-8}` for tanh,
    relative error 1.1e-8 for selu; gelu, whose :math:`q^*` also leaves 0
    there, comes out to 1e-12).

    Raises
    ------
    ValueError
        If no sign change is found below :math:`\sigma_w^2 = 10^6`, plus the
        argument errors of :func:`length_map`.
    """
    act = activations.get(activation)
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")

    def excess(sw2: float) -> float:
        try:
            q_star = _fixed_point_q(act, sw2, sb2)
        except _NoFixedPoint:
            return 1.0
        return sw2 * float(gaussian_expectation(lambda z: np.square(act.dg(z)), _q_limit(q_star))) - 1.0

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


# ---------------------------------------------------------------------------
# the input-output Jacobian of a finite network
# ---------------------------------------------------------------------------


def check_one_input(net: mlp.Network, x: ArrayLike) -> NDArray[np.floating[Any]]:
    """``x`` as one finite input of ``net``, shape (n_0,), or a TypeError/ValueError naming the problem.

    Shared by the functions that differentiate a network at a single point.
    """
    if not isinstance(net, mlp.Network):
        raise TypeError(f"net must be a gradlab.mlp.Network, got {type(net).__name__}")
    xv = check_finite(as_array(x, "x"), "x")
    if xv.shape != (net.sizes[0],):
        raise ValueError(f"x must be one input of shape (n_0,) = ({net.sizes[0]},), got {xv.shape}")
    return xv


def input_output_jacobian(net: mlp.Network, x: ArrayLike) -> NDArray[np.floating[Any]]:
    r"""Jacobian :math:`J = \partial a^{(L)} / \partial x` of a network at one input.

    .. math:: J = D^{(L)} W^{(L)} D^{(L-1)} W^{(L-1)} \cdots D^{(1)} W^{(1)},
              \qquad D^{(l)} = \operatorname{diag}\big(g'(z^{(l)})\big)

    A gradient is back-propagated by :math:`J^\top`, so its singular values
    say by how much each direction is stretched. Dynamical isometry
    (Saxe et al., 2014; Pennington et al., 2017) is all of them near 1.

    Parameters
    ----------
    net : gradlab.mlp.Network
    x : array_like, shape (n_0,)
        One input.

    Returns
    -------
    ndarray, shape (n_L, n_0)
        In the network's dtype. Cost: :math:`\sum_l n_l n_{l-1} n_0` multiply-adds.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~gradlab.mlp.Network` or ``x`` is not numeric.
    ValueError
        If ``x`` is not one-dimensional of length :math:`n_0`, or not finite.
    """
    xv = check_one_input(net, x)
    fwd = mlp.forward(net, xv[None, :])
    # Row scaling by g'(z) is diag(g'(z)) @ (W J) without forming the diagonal matrix.
    J = net.W[1] * net.g(1).dg(fwd.z[1][0])[:, None]
    for l in range(2, net.L + 1):
        J = (net.W[l] @ J) * net.g(l).dg(fwd.z[l][0])[:, None]
    return J


def jacobian_singular_values(net: mlp.Network, x: ArrayLike) -> NDArray[np.floating[Any]]:
    r"""Singular values of :func:`input_output_jacobian`, largest first.

    Parameters
    ----------
    net : gradlab.mlp.Network
    x : array_like, shape (n_0,)

    Returns
    -------
    ndarray, shape (min(n_L, n_0),)
        Non-negative, in decreasing order. Their squares' mean is
        :math:`\tfrac1{n_0}\|J\|_F^2`, which mean-field theory predicts to be
        about :math:`\chi_1^L` for a square network at the fixed point.

    """
    return np.linalg.svd(input_output_jacobian(net, x), compute_uv=False)
