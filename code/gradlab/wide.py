r"""Wide random networks, simulated: what mean-field theory (:mod:`gradlab.theory`) predicts, measured.

:func:`wide_network_signals` sends inputs through networks of width n with weights
:math:`\mathcal N(0, \sigma_w^2/n)` and biases :math:`\mathcal N(0, \sigma_b^2)`, built so that
the first layer starts exactly where the theory's maps start, and records per layer the length
:math:`q^{(l)}`, the correlation :math:`c^{(l)}` of two inputs and the mean square of
:math:`\delta^{(l)}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, gammaln, polygamma

from . import activations, theory
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng, check_widths
from .mlp import backward, forward, init_network

__all__ = ["WideSignals", "wide_network_signals", "ReluLogNormLaw", "relu_log_norm_law"]


@dataclass(frozen=True)
class WideSignals:
    r"""What :func:`wide_network_signals` measured, one row per network and one column per layer l = 1..L.

    Attributes
    ----------
    q : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1n\sum_i (z^{(l)}_i)^2` for the *length probe*, the
        input that starts at :math:`q^{(1)} = q_\text{in}`. Mean-field theory predicts the
        length map's iterates.
    m : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1n\sum_i (a^{(l)}_i)^2` for the length probe.
    c : numpy.ndarray
        Shape (n_networks, L): the correlation :math:`z^{(l)}\cdot z'^{(l)} / (|z^{(l)}|\,|z'^{(l)}|)`
        of two inputs that start at :math:`q^{(1)} = q^*` with correlation :math:`c_\text{in}`.
    delta2 : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1{nB}\sum_{i,k} (\delta^{(l)}_{ik})^2` over the units i
        and the B inputs k that start at :math:`q^*`, for a standard normal
        :math:`\partial L/\partial a^{(L)}`. Mean-field theory predicts that it grows by
        :math:`\chi_1` per layer from the output towards the input.
    """

    q: NDArray[np.float64]
    m: NDArray[np.float64]
    c: NDArray[np.float64]
    delta2: NDArray[np.float64]

    @property
    def ratio(self) -> NDArray[np.float64]:
        r"""The per-layer gradient ratios :math:`\overline{(\delta^{(l)})^2} / \overline{(\delta^{(l+1)})^2}`, l = 1..L-1.

        One row per network, shape (n_networks, L - 1); mean-field theory predicts :math:`\chi_1`.
        """
        return self.delta2[:, :-1] / self.delta2[:, 1:]


def wide_network_signals(
    activation: str | activations.Activation,
    sigma_w2: float,
    sigma_b2: float,
    *,
    q_in: float,
    c_in: float,
    width: int = 1000,
    depth: int = 10,
    n_inputs: int = 16,
    n_networks: int = 3,
    rng: np.random.Generator | int,
) -> WideSignals:
    r"""Send inputs through wide random networks and measure what mean-field theory predicts.

    Every layer has width n = ``width``, activation g (output layer included), weights
    :math:`\mathcal N(0, \sigma_w^2/n)` and biases :math:`\mathcal N(0, \sigma_b^2)`. The inputs are
    built so that the first layer's statistics are exactly what the theory starts from: with
    orthonormal directions :math:`u_k` scaled to length :math:`\sqrt n`, an input
    :math:`x = s\,u` has :math:`q^{(1)} = \sigma_w^2 s^2 + \sigma_b^2` in expectation. Row 0 is the
    length probe (:math:`q^{(1)} = q_\text{in}`); rows 1..``n_inputs`` start at :math:`q^*`, rows 1
    and 2 with correlation :math:`c_\text{in}`, the rest orthogonal. A standard normal
    :math:`\partial L/\partial a^{(L)}` is back-propagated from rows 1..``n_inputs``.

    Raises
    ------
    ValueError
        If ``q_in`` is not above ``sigma_b2``, if :math:`q^* \le \sigma_b^2` (no input can start at
        the fixed point), if ``c_in`` is outside [-1, 1] or cannot be reached by the first layer
        (:math:`c_\text{in} q^*` must lie within :math:`q^* - 2\sigma_b^2` of :math:`\sigma_b^2`),
        if ``n_inputs < 2`` or ``width < n_inputs + 1``, plus the errors of
        :func:`gradlab.theory.fixed_point_q`.
    """
    act = activations.get(activation)
    sw2 = check_positive(sigma_w2, "sigma_w2")
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")
    q_in = check_positive(q_in, "q_in")
    c_in = float(check_finite(as_array(c_in, "c_in", ndim=0), "c_in"))
    n = check_positive_int(width, "width")
    L = check_positive_int(depth, "depth", minimum=2)
    B = check_positive_int(n_inputs, "n_inputs", minimum=2)
    K = check_positive_int(n_networks, "n_networks")
    gen = check_rng(rng)
    if n < B + 1:
        raise ValueError(f"width must be at least n_inputs + 1 = {B + 1} (one direction per input), got {n}")
    if q_in <= sb2:
        raise ValueError(f"q_in must exceed sigma_b2 = {sb2} (the bias alone gives q = sigma_b2), got {q_in}")
    if not -1.0 <= c_in <= 1.0:
        raise ValueError(f"c_in must be a correlation in [-1, 1], got {c_in}")
    q_star = theory.fixed_point_q(act, sw2, sb2)
    if q_star <= sb2:
        raise ValueError(f"q* = {q_star:g} is not above sigma_b2 = {sb2}: no input can start at the fixed point")
    p = (q_star - sb2) / sw2  # s^2 for inputs at q*
    # The first layer's correlation is (sigma_w2 p rho + sigma_b2) / q*: solve for the inputs' rho.
    rho = (c_in * q_star - sb2) / (sw2 * p)
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"c_in = {c_in} cannot be reached at the first layer with sigma_b2 = {sb2} (needs input correlation {rho:.3g})")
    q_out, m_out, c_out, d_out = [], [], [], []
    for _ in range(K):
        net = init_network((n,) * (L + 1), hidden=act, output=act, init="normal",
                           std=float(np.sqrt(sw2 / n)), bias_std=float(np.sqrt(sb2)), rng=gen)
        u = np.linalg.qr(gen.standard_normal((n, B + 1)))[0].T * np.sqrt(n)
        x = np.sqrt(p) * u
        x[0] = np.sqrt((q_in - sb2) / sw2) * u[0]
        x[2] = np.sqrt(p) * (rho * u[1] + np.sqrt(1.0 - rho * rho) * u[2])
        fwd = forward(net, x)
        # The length probe (row 0) sends no gradient: its z is not at q*.
        grads = backward(net, fwd, np.vstack([np.zeros((1, n)), gen.standard_normal((B, n))]))
        layers = range(1, L + 1)
        z1, z2 = (fwd.z[l][1] for l in layers), (fwd.z[l][2] for l in layers)
        q_out.append([np.mean(fwd.z[l][0] ** 2) for l in layers])
        m_out.append([np.mean(fwd.a[l][0] ** 2) for l in layers])
        c_out.append([a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) for a, b in zip(z1, z2)])
        d_out.append([np.mean(grads.delta[l][1:] ** 2) for l in layers])
    return WideSignals(*(np.array(v, dtype=np.float64) for v in (q_out, m_out, c_out, d_out)))


@dataclass(frozen=True)
class ReluLogNormLaw:
    r"""The law of :math:`\log(\|a^{(L)}\|^2/\|a^{(0)}\|^2)` computed by :func:`relu_log_norm_law`.

    Attributes
    ----------
    mean : float
        Its mean, conditioned on :math:`a^{(L)} \ne 0` (every layer keeps a unit on).
    var : float
        Its variance, conditioned on the same event.
    p_alive : float
        :math:`P(a^{(L)} \ne 0) = \prod_l (1 - 2^{-n_l})`.
    mean_layer : numpy.ndarray
        Shape (L,): the mean of each layer's :math:`\log R_l`; ``mean`` is their sum.
    var_layer : numpy.ndarray
        Shape (L,): the variance of each layer's :math:`\log R_l`; ``var`` is their sum (the layers
        are independent).
    """

    mean: float
    var: float
    p_alive: float
    mean_layer: NDArray[np.float64]
    var_layer: NDArray[np.float64]


def relu_log_norm_law(widths: Sequence[int], *, sigma_w2: float = 2.0) -> ReluLogNormLaw:
    r"""Exact mean and variance of :math:`\log(\|a^{(L)}\|^2/\|a^{(0)}\|^2)` in a random ReLU network.

    The network has widths ``widths`` :math:`= (n_0, \dots, n_L)`, ReLU at every layer (output
    included), zero biases and weights :math:`W^{(l)}_{jk} \sim \mathcal N(0, \sigma_w^2/n_{l-1})`
    (He initialisation is :math:`\sigma_w^2 = 2`); the input :math:`a^{(0)} \ne 0` is fixed.

    Given :math:`a^{(l-1)} \ne 0`, the entries of :math:`z^{(l)} = W^{(l)} a^{(l-1)}` are independent
    :math:`\mathcal N(0, \sigma_w^2 \|a^{(l-1)}\|^2 / n_{l-1})`. The number :math:`K_l` of them that
    are positive is :math:`\mathrm{Bin}(n_l, \tfrac12)`, and given :math:`K_l = k` the squares of the
    positive ones are :math:`k` independent :math:`\chi^2_1` variables (a half-normal squared), so

    .. math:: R_l = \frac{\|a^{(l)}\|^2}{\|a^{(l-1)}\|^2} = \frac{\sigma_w^2}{n_{l-1}}\,\chi^2_{K_l},
              \qquad \chi^2_0 = 0 .

    This law does not depend on :math:`a^{(l-1)}`, so :math:`R_1, \dots, R_L` are independent, and
    :math:`\log(\|a^{(L)}\|^2/\|a^{(0)}\|^2) = \sum_l \log R_l`. The sum is finite only if every
    :math:`K_l \ge 1`, an event of probability :math:`\prod_l (1 - 2^{-n_l})`; conditioned on it (a
    product of independent events, so the layers stay independent), with
    :math:`\mathbb E \log \chi^2_k = \psi(k/2) + \log 2` and
    :math:`\operatorname{Var} \log \chi^2_k = \psi'(k/2)` (:math:`\psi` the digamma function),

    .. math::
        \mathbb E \log R_l = \log\frac{2\sigma_w^2}{n_{l-1}} + \mathbb E\big[\psi(K_l/2)\big],
        \qquad
        \operatorname{Var} \log R_l = \mathbb E\big[\psi'(K_l/2)\big] + \operatorname{Var}\big[\psi(K_l/2)\big],

    the expectations over :math:`K_l \sim \mathrm{Bin}(n_l, \tfrac12)` conditioned on :math:`K_l \ge 1`.
    For equal widths n and large n these are :math:`-\tfrac5{2n}` and :math:`\tfrac5n` to leading
    order (with :math:`\sigma_w^2 = 2`).

    Parameters
    ----------
    widths : sequence of int
        :math:`(n_0, \dots, n_L)`, at least two entries, each >= 1.
    sigma_w2 : float
        :math:`n_{l-1} \operatorname{Var} W^{(l)}_{jk}`; changing it shifts the mean by
        :math:`\log(\sigma_w^2/2)` per layer and leaves the variance unchanged.

    Raises
    ------
    TypeError
        If ``widths`` is not a sequence of integers or ``sigma_w2`` is not a real number.
    ValueError
        If ``widths`` has fewer than two entries, an entry below 1, or ``sigma_w2 <= 0``.
    """
    ns = check_widths(widths, "widths")
    sw2 = check_positive(sigma_w2, "sigma_w2")
    means, variances = [], []
    for n_in, n in zip(ns[:-1], ns[1:]):
        # K lies within 20 standard deviations (10 sqrt(n)) of n/2 except with probability below
        # exp(-800), which underflows anyway: the truncated sums are exact in double precision.
        half_band = int(np.ceil(10 * np.sqrt(n))) + 1
        k = np.arange(max(1, n // 2 - half_band), min(n, n // 2 + half_band) + 1)
        log_pmf = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)  # Bin(n, 1/2) up to a constant
        p = np.exp(log_pmf - log_pmf.max())
        p /= p.sum()  # normalising over k >= 1 is the conditioning on K >= 1
        psi = digamma(k / 2)
        m = float(p @ psi)
        means.append(np.log(2 * sw2 / n_in) + m)
        variances.append(float(p @ polygamma(1, k / 2) + p @ (psi - m) ** 2))
    p_alive = float(np.prod([-np.expm1(-n * np.log(2.0)) for n in ns[1:]]))
    mean_layer, var_layer = np.array(means), np.array(variances)
    return ReluLogNormLaw(float(mean_layer.sum()), float(var_layer.sum()), p_alive, mean_layer, var_layer)
