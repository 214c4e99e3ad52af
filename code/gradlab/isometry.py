r"""Dynamical isometry: the input–output Jacobian of a finite network, and its whole spectrum.

Mean-field theory (:mod:`gradlab.theory`) controls the *mean* squared singular value of the
Jacobian :math:`J = \partial a^{(L)}/\partial x`: at criticality, :math:`\chi_1 = 1`, it is 1 at
every depth. Dynamical isometry (Saxe et al., 2014; Pennington et al., 2017) asks that *all*
squared singular values :math:`\lambda` of :math:`J` stay near 1. This module computes
:math:`J` (:func:`input_output_jacobian`) and its spectra at several depths in one pass
(:func:`squared_singular_values`), builds networks and inputs that sit exactly at a chosen fixed
point :math:`q^*` on the critical line (:func:`critical_point`, :func:`critical_network`), and
gives the free-probability prediction for the variance of :math:`\lambda`
(:func:`jacobian_variance_slope`) with its exact finite-width counterpart for Gaussian linear
networks (:func:`linear_gaussian_variance`). Deep linear networks, the exactly isometric case,
are trained in :mod:`gradlab.deeplinear`.

References
----------
A. M. Saxe, J. L. McClelland, S. Ganguli (2014), "Exact solutions to the nonlinear dynamics of
learning in deep linear neural networks".
J. Pennington, S. S. Schoenholz, S. Ganguli (2017), "Resurrecting the sigmoid in deep learning
through dynamical isometry: theory and practice".
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, mlp
from ._validate import as_array, check_finite, check_positive, check_positive_int, check_rng
from .quadrature import _expectation

__all__ = [
    "input_output_jacobian",
    "squared_singular_values",
    "WEIGHTS",
    "derivative_moments",
    "critical_point",
    "critical_network",
    "jacobian_variance_slope",
    "linear_gaussian_variance",
]

Array = NDArray[np.float64]
Act = activations.Activation
ActivationLike = str | activations.Activation

#: The two weight distributions and the :mod:`gradlab.init` scheme that draws each: i.i.d.
#: Gaussian :math:`\mathcal N(0, \sigma_w^2/n)` and :math:`\sigma_w` times a Haar-random
#: orthogonal matrix.
WEIGHTS: dict[str, str] = {"gaussian": "lecun_normal", "orthogonal": "orthogonal"}

# sigma_b^2 = q* - sigma_w^2 E[g^2] is exactly 0 for linear and relu, but rounding leaves a few
# ulps of q* of either sign; within this many q* of 0 it is returned as 0. (tanh's true
# sigma_b^2, about 1.2 q*^3, is larger than that for q* > 1e-7.)
_SB2_ROUNDING: float = 1e-14


# ---------------------------------------------------------------------------
# the Jacobian of a finite network
# ---------------------------------------------------------------------------


def _one_input(net: Any, x: ArrayLike) -> NDArray[np.floating[Any]]:
    mlp.check_net(net)
    xv = check_finite(as_array(x, "x"), "x")
    if xv.shape != (net.sizes[0],):
        raise ValueError(f"x must be one input of shape (n_0,) = ({net.sizes[0]},), got {xv.shape}")
    return xv


def _jacobians(net: mlp.Network, x: NDArray[Any], depths: Collection[int]) -> dict[int, NDArray[Any]]:
    """``{l: J_l}`` for each l in ``depths``, J_l = da(l)/dx at one input x, by J_l = D(l) W(l) J_{l-1}."""
    fwd = mlp.forward(net, x[None, :])
    out = {}
    J = np.eye(net.sizes[0], dtype=net.dtype)  # J_0 = da(0)/dx = I
    for l in range(1, max(depths) + 1):
        # D(l) W(l) J_{l-1}: scaling row j by g'(z_j) is the product with the diagonal matrix D(l)
        J = (net.W[l] @ J) * net.g(l).dg(fwd.z[l][0])[:, None]
        if l in depths:
            out[l] = J
    return out


def input_output_jacobian(net: mlp.Network, x: ArrayLike) -> NDArray[np.floating[Any]]:
    r"""Jacobian :math:`J = \partial a^{(L)} / \partial x` of a network at one input.

    .. math:: J = D^{(L)} W^{(L)} D^{(L-1)} W^{(L-1)} \cdots D^{(1)} W^{(1)},
              \qquad D^{(l)} = \operatorname{diag}\big(g'(z^{(l)})\big)

    A gradient is carried back by :math:`J^\top`, so its singular values say by how much each
    direction is stretched.

    Parameters
    ----------
    net : gradlab.mlp.Network
    x : array_like, shape (n_0,)
        One input.

    Returns
    -------
    ndarray, shape (n_L, n_0)
        In the network's dtype; :math:`\sum_l n_l n_{l-1} n_0` multiply-adds.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~gradlab.mlp.Network` or ``x`` is not numeric.
    ValueError
        If ``x`` is not one finite input of length :math:`n_0`.
    """
    return _jacobians(net, _one_input(net, x), {net.L})[net.L]


def squared_singular_values(net: mlp.Network, x: ArrayLike, depths: Sequence[int]) -> dict[int, Array]:
    r"""Squared singular values of :math:`J_l = \partial a^{(l)}/\partial x` for each l in ``depths``, in one pass.

    :math:`J_l = D^{(l)} W^{(l)} J_{l-1}` is the Jacobian of the network made of the first l
    layers, so one deep network gives the spectra at every smaller depth.

    Parameters
    ----------
    net : gradlab.mlp.Network
    x : array_like, shape (n_0,)
        One input.
    depths : sequence of int
        Layers l with ``1 <= l <= net.L``.

    Returns
    -------
    dict[int, ndarray]
        ``{l: lam}`` in increasing l, ``lam`` (float64, shape (min(n_l, n_0),)) in decreasing
        order, :math:`\lambda_i = s_i(J_l)^2`. Values below about
        :math:`10^{-32}\lambda_\text{max}` are rounding.

    Raises
    ------
    TypeError
        If ``net`` is not a Network, ``x`` is not numeric or a depth is not an integer.
    ValueError
        If ``x`` is not one finite input, or ``depths`` is empty or outside ``1..net.L``.
    """
    xv = _one_input(net, x)
    if isinstance(depths, (str, bytes)) or not isinstance(depths, Sequence) or len(depths) == 0:
        raise ValueError(f"depths must be a non-empty sequence of layer numbers, got {depths!r}")
    wanted = {check_positive_int(d, f"depths[{i}]") for i, d in enumerate(depths)}
    if max(wanted) > net.L:
        raise ValueError(f"depths must lie in 1..net.L = 1..{net.L}, got {max(wanted)}")
    J = _jacobians(net, xv, wanted)
    return {l: np.square(np.linalg.svd(J[l], compute_uv=False)).astype(np.float64) for l in sorted(J)}


# ---------------------------------------------------------------------------
# networks on the critical line
# ---------------------------------------------------------------------------


def _check_weights(weights: Any) -> str:
    if not isinstance(weights, str):
        raise TypeError(f"weights must be a name (str), got {type(weights).__name__}")
    if weights not in WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}; expected one of: {', '.join(WEIGHTS)}")
    return weights


def _moments(act: Act, q: float) -> tuple[float, float]:
    mu1 = float(_expectation(lambda z: np.square(act.dg(z)), q))
    mu2 = float(_expectation(lambda z: np.square(np.square(act.dg(z))), q))
    return mu1, mu2


def _critical_point(act: Act, q: float) -> tuple[float, float]:
    sw2 = 1.0 / _moments(act, q)[0]
    sb2 = q - sw2 * float(_expectation(lambda z: np.square(act.g(z)), q))
    if abs(sb2) <= _SB2_ROUNDING * q:
        return sw2, 0.0
    if sb2 < 0.0:
        raise ValueError(
            f"q_star={q} is not on the critical line of {act.name!r}: it would need sigma_b2 = {sb2:.4g} < 0"
        )
    return sw2, sb2


def derivative_moments(activation: ActivationLike, q_star: float) -> tuple[float, float]:
    r"""The first two moments of :math:`g'(z)^2` for :math:`z \sim \mathcal N(0, q^*)`.

    .. math:: \mu_1 = \mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big], \qquad
              \mu_2 = \mathbb E\big[g'(\sqrt{q^*}\,\xi)^4\big]

    The mean and mean square of the entries of :math:`D^{(l)2}`, the factor a layer's
    activation contributes to :math:`JJ^\top`; :math:`\chi_1 = \sigma_w^2 \mu_1`.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        Variance of the pre-activations, ``> 0``.

    Returns
    -------
    tuple of float
        ``(mu1, mu2)``: ``(1, 1)`` for linear, ``(1/2, 1/2)`` for relu.

    Raises
    ------
    TypeError, ValueError
        On a bad activation, or ``q_star`` not a finite number ``> 0``.
    """
    return _moments(activations.get(activation), check_positive(q_star, "q_star"))


def critical_point(activation: ActivationLike, q_star: float) -> tuple[float, float]:
    r"""The point :math:`(\sigma_w^2, \sigma_b^2)` on the critical line whose fixed point is :math:`q^*`.

    .. math:: \sigma_w^2 = \frac{1}{\mathbb E\big[g'(\sqrt{q^*}\xi)^2\big]}, \qquad
              \sigma_b^2 = q^* - \sigma_w^2\,\mathbb E\big[g(\sqrt{q^*}\xi)^2\big]

    The first equation is :math:`\chi_1 = 1`, the second makes :math:`q^*` a fixed point of the
    length map; this is how Pennington et al. (2017) parametrise the critical line. The fixed
    point need not attract: it does for tanh, but not for gelu at :math:`q^* = 1`, where a
    network started at :math:`q^*` stays there only on average.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        ``> 0``.

    Returns
    -------
    tuple of float
        ``(sigma_w2, sigma_b2)``: ``(1, 0)`` for linear and ``(2, 0)`` for relu at every
        :math:`q^*`; for tanh, tending to ``(1, 0)`` as :math:`q^* \to 0`.

    Raises
    ------
    TypeError, ValueError
        On a bad activation or ``q_star``; ValueError if :math:`\sigma_b^2` would be negative
        (e.g. sigmoid for :math:`q^* < 4`, whose :math:`g(0) = 1/2` keeps :math:`\mathbb E[g^2]`
        large).
    """
    return _critical_point(activations.get(activation), check_positive(q_star, "q_star"))


def critical_network(
    activation: ActivationLike,
    q_star: float,
    *,
    width: int,
    depth: int,
    weights: str,
    rng: np.random.Generator | int,
) -> tuple[mlp.Network, Array]:
    r"""A square network at the critical point of :math:`q^*`, and one input whose pre-activations sit at :math:`q^*`.

    Every layer, the last included, applies ``activation``; weights are drawn with the scheme
    ``WEIGHTS[weights]`` and gain :math:`\sigma_w`, biases :math:`\mathcal N(0, \sigma_b^2)`,
    with :math:`(\sigma_w^2, \sigma_b^2)` from :func:`critical_point`. The input is a Gaussian
    direction scaled to :math:`\tfrac1n\|x\|^2 = (q^* - \sigma_b^2)/\sigma_w^2`, so that
    :math:`q^{(1)} = q^*`: the network starts at its fixed point.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        ``> 0``, on the activation's critical line.
    width, depth : int
        :math:`n` of every layer (input included) and :math:`L`, each ``>= 1``.
    weights : {"gaussian", "orthogonal"}
    rng : numpy.random.Generator or int
        The weights are drawn first, then the input.

    Returns
    -------
    tuple
        ``(net, x)``: a :class:`~gradlab.mlp.Network` of widths ``(width,) * (depth + 1)`` and
        ``x`` of shape (width,).

    Raises
    ------
    TypeError, ValueError
        As :func:`critical_point`, plus a bad ``width``, ``depth``, ``weights`` or ``rng``.
    """
    act = activations.get(activation)
    q = check_positive(q_star, "q_star")
    w = _check_weights(weights)
    n = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    gen = check_rng(rng)
    sw2, sb2 = _critical_point(act, q)
    net = mlp.init_network(
        (n,) * (depth + 1), hidden=act, output=act, init=WEIGHTS[w], gain=math.sqrt(sw2),
        bias_std=math.sqrt(sb2), rng=gen,
    )
    x = gen.standard_normal(n)
    x *= math.sqrt((q - sb2) / sw2 / np.mean(x * x))
    return net, x


# ---------------------------------------------------------------------------
# the spread of the spectrum
# ---------------------------------------------------------------------------


def jacobian_variance_slope(activation: ActivationLike, q_star: float, weights: str) -> float:
    r"""Growth per layer of the variance of the squared singular values of :math:`J` at criticality.

    .. math:: \operatorname{Var}\lambda = L\Big(\frac{\mu_2}{\mu_1^2} - 1 + v_W\Big),
              \qquad v_W = \begin{cases} 1 & \text{Gaussian} \\ 0 & \text{orthogonal} \end{cases}

    For asymptotically free factors the relative variances :math:`\operatorname{Var}/\text{mean}^2`
    add (Pennington et al., 2017): each :math:`\sigma_w^2 D^{(l)2}` contributes
    :math:`\mu_2/\mu_1^2 - 1` (:func:`derivative_moments`), each
    :math:`W^{(l)\top}W^{(l)}/\sigma_w^2` the variance :math:`v_W` of the Marchenko–Pastur law of
    ratio 1 or of a point mass. The limit :math:`n \to \infty` at fixed depth.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        The fixed point, ``> 0``.
    weights : {"gaussian", "orthogonal"}

    Returns
    -------
    float
        Linear 1 (Gaussian) and 0 (orthogonal); relu 2 and 1; tanh about
        :math:`1 + 8q^{*2}` and :math:`8q^{*2}` for small :math:`q^*`.

    Raises
    ------
    TypeError, ValueError
        On a bad activation, ``q_star`` or ``weights``.
    """
    act, q = activations.get(activation), check_positive(q_star, "q_star")
    w = _check_weights(weights)
    mu1, mu2 = _moments(act, q)
    return mu2 / mu1**2 - 1.0 + (1.0 if w == "gaussian" else 0.0)


def linear_gaussian_variance(width: int, depth: int) -> Array:
    r"""Exact expected variance of the squared singular values of a product of Gaussian matrices, per depth.

    For :math:`J_l = W^{(l)} \cdots W^{(1)}` with i.i.d. :math:`\mathcal N(0, 1/n)` entries and
    the moments :math:`m_k = \tfrac1n \operatorname{tr}\big((J_l J_l^\top)^k\big)`, Wick's theorem
    gives the linear recursion

    .. math:: \mathbb E\, m_2^{(l)} = \mathbb E\big(m_1^{(l-1)}\big)^2
                  + \Big(1 + \frac1n\Big) \mathbb E\, m_2^{(l-1)},
              \qquad
              \mathbb E\,\big(m_1^{(l)}\big)^2 = \mathbb E\big(m_1^{(l-1)}\big)^2
                  + \frac{2}{n^2} \mathbb E\, m_2^{(l-1)}

    from :math:`(1, 1)` at :math:`l = 0`; the value is :math:`\mathbb E[m_2 - m_1^2]`, which
    tends to :math:`l` as :math:`n \to \infty`.

    Parameters
    ----------
    width, depth : int
        :math:`n \ge 1` and the number of layers :math:`L \ge 1`.

    Returns
    -------
    ndarray of float64, shape (depth,)
        Entry ``l - 1`` is the value at depth l; :math:`1 + 1/n - 2/n^2` at l = 1.

    Raises
    ------
    TypeError, ValueError
        If ``width`` or ``depth`` is not a positive integer.
    """
    n = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    m1_sq, m2 = 1.0, 1.0
    out = np.empty(depth)
    for l in range(depth):
        m1_sq, m2 = m1_sq + 2.0 * m2 / n**2, m1_sq + (1.0 + 1.0 / n) * m2
        out[l] = m2 - m1_sq
    return out
