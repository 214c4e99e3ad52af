"""Tests for gradlab.theory: the maps against closed forms and scipy, the fixed points and depth
scales against their definitions, mean-field predictions against simulations of wide random
networks (gradlab.wide), and argument errors."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import dblquad, quad
from scipy.optimize import brentq

from gradlab import activations, quadrature, theory, wide

SQRT_2PI = math.sqrt(2 * math.pi)


def quad_expectation(f: Callable[[Any], Any], q: float) -> float:
    """E[f(sqrt(q) xi)] by adaptive quadrature, split at the kink 0; |error estimate| < 1e-12."""

    def integrand(x: float) -> float:
        return float(f(math.sqrt(q) * x)) * math.exp(-0.5 * x * x) / SQRT_2PI

    parts = [quad(integrand, a, b, epsabs=1e-14, epsrel=1e-13, limit=200) for a, b in ((-12, 0), (0, 12))]
    assert sum(p[1] for p in parts) < 1e-12  # the reference itself is good to 1e-12
    return sum(p[0] for p in parts)


def arccos_kernel(c: Any) -> Any:
    """E[relu(u1) relu(u2)] / q at correlation c (Cho & Saul, 2009): (sqrt(1-c^2) + (pi - arccos c) c) / (2 pi)."""
    c = np.asarray(c, dtype=float)
    return (np.sqrt(1 - c * c) + (np.pi - np.arccos(c)) * c) / (2 * np.pi)


# --------------------------------------------------------------------------- length map, q*, chi1


def test_length_map_closed_forms() -> None:
    q = np.array([0.0, 0.3, 1.0, 7.5])
    assert_allclose(theory.length_map(q, "relu", 1.7, 0.1), 1.7 * q / 2 + 0.1, rtol=1e-14)
    assert_allclose(theory.length_map(q, "linear", 0.6, 0.2), 0.6 * q + 0.2, rtol=1e-14)
    ref = [1.3 * quad_expectation(lambda z: np.tanh(z) ** 2, qq) + 0.05 for qq in q[1:]]
    assert_allclose(theory.length_map(q[1:], "tanh", 1.3, 0.05), ref, rtol=0, atol=1e-13)
    assert theory.length_map(0.0, "sigmoid", 2.0, 0.0) == pytest.approx(2.0 * 0.25)  # sigma_w2 g(0)^2


def test_fixed_point_q_closed_forms() -> None:
    assert theory.fixed_point_q("linear", 0.5, 0.1) == pytest.approx(0.1 / (1 - 0.5), rel=1e-12)
    assert theory.fixed_point_q("relu", 1.5, 0.2) == pytest.approx(0.2 / (1 - 1.5 / 2), rel=1e-12)
    # sigma_b2 = 0 and g(0) = 0: q = 0 attracts up to criticality ...
    assert theory.fixed_point_q("tanh", 0.9, 0.0) == 0.0
    assert theory.fixed_point_q("tanh", 1.0, 0.0) == 0.0
    assert theory.fixed_point_q("relu", 2.0, 0.0) == 0.0
    # ... and repels beyond it, where q* > 0 solves q = sigma_w2 E[tanh^2]: small-q expansion
    # E[tanh^2(sqrt(q) xi)] = q - 2 q^2 + O(q^3) gives q* ~ (sigma_w2 - 1) / (2 sigma_w2).
    eps = 1e-3
    assert theory.fixed_point_q("tanh", 1 + eps, 0.0) == pytest.approx(eps / (2 * (1 + eps)), rel=1e-2)


@pytest.mark.parametrize(
    "name,sw2,sb2",
    [
        ("tanh", 1.5, 0.05), ("tanh", 3.0, 0.3), ("sigmoid", 4.0, 0.1),
        ("gelu", 1.2, 0.1), ("selu", 1.0, 0.0), ("softplus", 1.0, 0.0),
    ],
)
def test_fixed_point_q_is_a_fixed_point_reached_by_iteration(name: str, sw2: float, sb2: float) -> None:
    q_star = theory.fixed_point_q(name, sw2, sb2)
    assert q_star > 0
    assert float(theory.length_map(q_star, name, sw2, sb2)) == pytest.approx(q_star, rel=1e-12)
    q = 5.0  # iterate the map from far away: it must converge to the same point
    for _ in range(300):
        q = float(theory.length_map(q, name, sw2, sb2))
    assert q == pytest.approx(q_star, rel=1e-9)


def test_selu_fixed_point_is_unit_variance() -> None:
    # Klambauer et al. chose SELU's constants so that (mean 0, variance 1) is the
    # fixed point at sigma_w2 = 1, sigma_b2 = 0 (their eq. 14).
    assert theory.fixed_point_q("selu", 1.0, 0.0) == pytest.approx(1.0, abs=1e-7)


def test_no_fixed_point_is_an_error() -> None:
    with pytest.raises(ValueError, match="no finite fixed point"):
        theory.fixed_point_q("relu", 3.0, 0.05)
    with pytest.raises(ValueError, match="no finite fixed point"):
        theory.chi1("linear", 1.0, 0.1)


def test_chi1_closed_forms() -> None:
    for sw2, sb2 in ((1.0, 0.0), (1.5, 0.3), (1.9, 1.0)):
        # relu' = 1 half of the time at every q > 0, and in the limit q* = 0 (sigma_b2 = 0).
        assert theory.chi1("relu", sw2, sb2) == pytest.approx(sw2 / 2, rel=1e-14)
    assert theory.chi1("linear", 0.7, 0.1) == pytest.approx(0.7, rel=1e-14)
    assert theory.chi1("tanh", 0.8, 0.0) == pytest.approx(0.8, rel=1e-14)  # q* = 0, tanh'(0) = 1
    assert theory.chi1("leaky_relu", 1.0, 0.0) == pytest.approx((1 + 0.01**2) / 2, rel=1e-14)
    # At a given q instead of q*:
    ref = 1.5 * quad_expectation(lambda z: activations.dtanh(z) ** 2, 2.0)
    assert theory.chi1("tanh", 1.5, 0.05, q=2.0) == pytest.approx(ref, abs=1e-13)


def test_length_map_slope_three_ways() -> None:
    sw2, sb2, q = 1.7, 0.05, 0.8
    # Schoenholz et al.'s form with the analytic tanh'' = -2 tanh sech^2:
    gpp_g = quad_expectation(lambda z: -2 * np.tanh(z) ** 2 / np.cosh(z) ** 2, q)
    schoenholz = theory.chi1("tanh", sw2, sb2, q=q) + sw2 * gpp_g
    slope = float(theory.length_map_slope(q, "tanh", sw2, sb2))
    assert slope == pytest.approx(schoenholz, abs=1e-12)
    # and a central difference of the map itself, for every activation
    h = 1e-5
    for name in activations.NAMES:
        fd = (theory.length_map(q + h, name, sw2, sb2) - theory.length_map(q - h, name, sw2, sb2)) / (2 * h)
        assert float(theory.length_map_slope(q, name, sw2, sb2)) == pytest.approx(float(fd), rel=1e-8), name
    assert_allclose(theory.length_map_slope([0.0, 1.0, 9.0], "relu", 1.2, 0.1), 0.6, rtol=1e-14)


# --------------------------------------------------------------------------- critical sigma_w2


def test_critical_sigma_w2_closed_forms() -> None:
    assert theory.critical_sigma_w2("relu", 0.0) == pytest.approx(2.0, rel=1e-10)
    assert theory.critical_sigma_w2("relu", 0.05) == pytest.approx(2.0, rel=1e-10)
    assert theory.critical_sigma_w2("leaky_relu", 0.0) == pytest.approx(2 / (1 + 0.01**2), rel=1e-10)
    assert theory.critical_sigma_w2("linear", 0.3) == pytest.approx(1.0, rel=1e-10)
    # sigma_b2 = 0, q* -> 0: chi1 -> sigma_w2 g'(0)^2 for smooth g (gelu'(0) = 1/2),
    # sigma_w2 (g'(0+)^2 + g'(0-)^2) / 2 for selu.
    assert theory.critical_sigma_w2("gelu", 0.0) == pytest.approx(4.0, rel=1e-10)
    # Where q* leaves 0, chi1 - 1 may rise only quadratically (tanh: ~(sigma_w2 - 1)^2 / 3),
    # so rounding leaves ~1e-8 (documented), hence 1e-7.
    lam, alpha = activations.SELU_SCALE, activations.SELU_ALPHA
    assert theory.critical_sigma_w2("selu", 0.0) == pytest.approx(2 / (lam**2 * (1 + alpha**2)), rel=1e-7)
    assert theory.critical_sigma_w2("tanh", 0.0) == pytest.approx(1.0, abs=1e-7)


def test_critical_tanh_matches_literature_and_independent_check() -> None:
    sw2 = theory.critical_sigma_w2("tanh", 0.05)
    assert sw2 == pytest.approx(1.76, abs=0.005)  # the value quoted for tanh at sigma_b2 = 0.05
    # Independently of gradlab's quadrature: q* by brentq on scipy-quad expectations, then chi1.
    q_star = brentq(lambda q: sw2 * quad_expectation(lambda z: np.tanh(z) ** 2, q) + 0.05 - q, 1e-3, 10, xtol=1e-14)
    assert sw2 * quad_expectation(lambda z: np.cosh(z) ** -4.0, q_star) == pytest.approx(1.0, abs=1e-10)
    # Larger bias, larger critical weight variance.
    assert theory.critical_sigma_w2("tanh", 0.01) < sw2 < theory.critical_sigma_w2("tanh", 0.1)


# --------------------------------------------------------------------------- correlation map


def test_correlation_map_relu_is_the_arccos_kernel() -> None:
    c = np.array([-1.0, -0.999999, -0.5, 0.0, 0.3, 0.7, 0.9, 0.99, 0.999999, 1 - 1e-12, 1.0])
    # sigma_b2 = 0: q* = 0 and the map is the normalised arc-cosine kernel, whatever sigma_w2;
    # its slope is (pi - arccos c) / pi. Near c = 1 the relu kinks nearly meet (graded outer rule).
    for sw2 in (1.0, 1.9):
        assert_allclose(theory.correlation_map(c, "relu", sw2, 0.0), 2 * arccos_kernel(c), rtol=0, atol=3e-14)
    # Central differences of the map (error ~ 1e-14 / h) match that slope inside (-1, 1), and its
    # value 1 at c = 1 is chi_c (test_depth_scale_closed_forms_and_divergence).
    inner, h = np.linspace(-0.9, 0.9, 7), 1e-6
    up, down = theory.correlation_map(inner + h, "relu", 1.0, 0.0), theory.correlation_map(inner - h, "relu", 1.0, 0.0)
    fd = (up - down) / (2 * h)
    assert_allclose(fd, (np.pi - np.arccos(inner)) / np.pi, rtol=0, atol=1e-7)
    # sigma_b2 > 0 at an explicit length q: (sigma_w2 q k(c) + sigma_b2) / (sigma_w2 q / 2 + sigma_b2).
    sw2, sb2, q = 1.5, 0.2, 1.3
    expected = (sw2 * q * arccos_kernel(c) + sb2) / (sw2 * q / 2 + sb2)
    assert_allclose(theory.correlation_map(c, "relu", sw2, sb2, q=q), expected, rtol=0, atol=1e-14)


def test_correlation_map_special_values() -> None:
    sw2, sb2 = 2.5, 0.05
    q_star = theory.fixed_point_q("tanh", sw2, sb2)
    assert float(theory.correlation_map(1.0, "tanh", sw2, sb2)) == pytest.approx(1.0, abs=1e-14)
    # Odd g: independent inputs share only the bias.
    assert float(theory.correlation_map(0.0, "tanh", sw2, sb2)) == pytest.approx(sb2 / q_star, abs=1e-14)
    # Odd g, sigma_b2 = 0: the map is odd in c.
    m = theory.correlation_map([-0.6, 0.6], "tanh", 2.0, 0.0)
    assert m[0] == pytest.approx(-m[1], abs=1e-14)
    # q -> 0: tanh is linear there and preserves correlations.
    c = np.linspace(-1, 1, 5)
    assert_allclose(theory.correlation_map(c, "tanh", 0.5, 0.0), c, atol=1e-14)
    assert theory.correlation_map(np.zeros((2, 3)), "tanh", sw2, sb2).shape == (2, 3)


def test_correlation_map_matches_scipy_dblquad() -> None:
    sw2, sb2, c = 1.5, 0.05, 0.6
    q = theory.fixed_point_q("tanh", sw2, sb2)
    r, s = math.sqrt(q), math.sqrt(1 - c * c)

    def integrand(z2: float, z1: float) -> float:
        density = math.exp(-0.5 * (z1 * z1 + z2 * z2)) / (2 * math.pi)
        return math.tanh(r * z1) * math.tanh(r * (c * z1 + s * z2)) * density

    e, err = dblquad(integrand, -10, 10, -10, 10, epsabs=1e-13, epsrel=1e-12)
    assert err < 1e-11
    assert float(theory.correlation_map(c, "tanh", sw2, sb2)) == pytest.approx((sw2 * e + sb2) / q, abs=1e-11)


def test_fixed_point_c_ordered_and_chaotic() -> None:
    # Ordered (chi1 < 1): c* = 1 and chi_c = chi1.
    assert theory.chi1("tanh", 1.5, 0.05) < 1
    assert theory.fixed_point_c("tanh", 1.5, 0.05) == 1.0
    assert theory.chi_c("tanh", 1.5, 0.05) == pytest.approx(theory.chi1("tanh", 1.5, 0.05), abs=1e-14)
    assert theory.fixed_point_c("relu", 1.5, 0.2) == 1.0
    assert theory.chi_c("relu", 1.5, 0.2) == pytest.approx(0.75, rel=1e-14)
    # Chaotic (chi1 > 1): 0 < c* < 1 is a fixed point, attracting (chi_c < 1 < chi1).
    sw2, sb2 = 2.5, 0.05
    c_star = theory.fixed_point_c("tanh", sw2, sb2)
    assert 0 < c_star < 1
    assert float(theory.correlation_map(c_star, "tanh", sw2, sb2)) == pytest.approx(c_star, abs=1e-12)
    chi_c = theory.chi_c("tanh", sw2, sb2)
    assert chi_c < 1 < theory.chi1("tanh", sw2, sb2)
    # chi_c is the slope of the map at c*:
    h = 1e-5
    up, down = theory.correlation_map([c_star + h, c_star - h], "tanh", sw2, sb2)
    fd = (up - down) / (2 * h)
    assert chi_c == pytest.approx(float(fd), rel=1e-8)
    # Just above criticality c* is close to 1 (found after shrinking the bracket towards 1).
    c_star = theory.fixed_point_c("tanh", 1.8, 0.05)
    assert 0.9 < c_star < 1
    assert float(theory.correlation_map(c_star, "tanh", 1.8, 0.05)) == pytest.approx(c_star, abs=1e-12)
    # Odd g without bias: c* = 0 exactly, with slope sigma_w2 E[g'(u)]^2 there.
    assert theory.fixed_point_c("tanh", 2.0, 0.0) == 0.0
    q_star = theory.fixed_point_q("tanh", 2.0, 0.0)
    expected = 2.0 * quad_expectation(activations.dtanh, q_star) ** 2
    assert theory.chi_c("tanh", 2.0, 0.0) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------- depth scales


def test_depth_scales_match_the_convergence_of_the_maps() -> None:
    for sw2 in (1.2, 2.5):  # ordered, chaotic
        xi_q, xi_c = theory.depth_scale("tanh", sw2, 0.05)
        q_star = theory.fixed_point_q("tanh", sw2, 0.05)
        # |q^(l) - q*| shrinks by exp(-1/xi_q) per layer once close to q*.
        q = [q_star * 1.001]
        for _ in range(2):
            q.append(float(theory.length_map(q[-1], "tanh", sw2, 0.05)))
        assert (q[2] - q_star) / (q[1] - q_star) == pytest.approx(math.exp(-1 / xi_q), rel=1e-3)
        c_star = theory.fixed_point_c("tanh", sw2, 0.05)
        c1 = c_star - 1e-4
        c2 = float(theory.correlation_map(c1, "tanh", sw2, 0.05))
        assert (c2 - c_star) / (c1 - c_star) == pytest.approx(math.exp(-1 / xi_c), rel=1e-3)
    # Ordered: xi_c = -1/ln chi1. Chaotic: chi1 > 1 would give a negative "depth"; xi_c uses chi_c.
    assert theory.depth_scale("tanh", 1.2, 0.05)[1] == pytest.approx(-1 / math.log(theory.chi1("tanh", 1.2, 0.05)))
    assert theory.depth_scale("tanh", 2.5, 0.05)[1] == pytest.approx(-1 / math.log(theory.chi_c("tanh", 2.5, 0.05)))


def test_depth_scale_closed_forms_and_divergence() -> None:
    xi_q, xi_c = theory.depth_scale("relu", 1.5, 0.2)  # both slopes are sigma_w2 / 2
    assert xi_q == pytest.approx(-1 / math.log(0.75), rel=1e-12)
    assert xi_c == pytest.approx(-1 / math.log(0.75), rel=1e-12)
    # At the edge of chaos xi_c diverges, xi_q does not.
    xi_q, xi_c = theory.depth_scale("tanh", theory.critical_sigma_w2("tanh", 0.05), 0.05)
    assert xi_c > 1e6
    assert 1 < xi_q < 3
    # No bias, below criticality: q* = 0, where the correlation map's slope at c* = 1 is exactly 1
    # (relu: correlations approach 1 only polynomially; tanh: the map is the identity).
    for name, sw2 in (("relu", 0.5), ("relu", 1.5), ("tanh", 0.3), ("tanh", 0.5), ("tanh", 0.9), ("gelu", 3.0)):
        assert theory.fixed_point_q(name, sw2, 0.0) == 0.0
        assert theory.fixed_point_c(name, sw2, 0.0) == 1.0
        assert theory.chi_c(name, sw2, 0.0) == pytest.approx(1.0, abs=1e-14)
        assert theory.depth_scale(name, sw2, 0.0)[1] == math.inf


# --------------------------------------------------------------------------- wide random networks

# Networks of width n = 1000, depth L = 6, weights N(0, sigma_w2 / n), biases N(0, sigma_b2).
WIDTH, DEPTH = 1000, 6


@dataclass
class Runs:
    """Per network k and layer l (rows k, columns l = 1..L) the measured quantities."""

    sw2: float
    sb2: float
    q_in: float
    c_in: float
    q_hat: np.ndarray  # mean of z^(l)^2 for the length probe
    m_hat: np.ndarray  # mean of a^(l)^2 for the length probe
    ratio: np.ndarray  # mean delta^(l)^2 / mean delta^(l+1)^2 over the two inputs at q*, l = 1..L-1
    c_hat: np.ndarray  # correlation of z^(l) between the two inputs at q*


def simulate(sw2: float, sb2: float, *, q_in: float, c_in: float, n_networks: int, seed: int) -> Runs:
    """The probe starts at q^(1) = q_in; two inputs at q^(1) = q*, with correlation c^(1) = c_in.

    The book's own simulation (gradlab.wide.wide_network_signals) builds the inputs so
    that the first layer is exactly where the theory starts. Averaging the gradient over two
    inputs instead of one can only shrink the noise the ratio test's bound allows for.
    """
    res = wide.wide_network_signals("tanh", sw2, sb2, q_in=q_in, c_in=c_in, width=WIDTH, depth=DEPTH,
                                           n_inputs=2, n_networks=n_networks, rng=seed)
    return Runs(sw2, sb2, q_in, c_in, res.q, res.m, res.ratio, res.c)


@pytest.fixture(scope="module")
def ordered() -> Runs:
    return simulate(1.5, 0.05, q_in=3.0, c_in=0.5, n_networks=6, seed=2024)


@pytest.fixture(scope="module")
def chaotic() -> Runs:
    return simulate(4.0, 0.05, q_in=0.2, c_in=0.9, n_networks=4, seed=7)


def E(f: Callable[[Any], Any], q: float) -> float:
    return float(quadrature.gaussian_expectation(f, q))


@pytest.mark.parametrize("which", ["ordered", "chaotic"])
def test_length_map_predicts_wide_networks(which: str, request: pytest.FixtureRequest) -> None:
    runs: Runs = request.getfixturevalue(which)
    sw2, sb2, n, K = runs.sw2, runs.sb2, WIDTH, runs.q_hat.shape[0]
    g = activations.get("tanh").g
    q = [runs.q_in]
    for _ in range(DEPTH - 1):
        q.append(float(theory.length_map(q[-1], "tanh", sw2, sb2)))
    # Monte Carlo noise, to first order. Given the previous layer, z^(l) has n i.i.d. N(0, v_l)
    # entries, v_l = sigma_w2 mean(a^(l-1)^2) + sigma_b2 (v_1 = q_1 exactly), so
    #   Var mean(z^2) = Var v_l + 2 q_l^2 / n,
    #   Var mean(a^2) = (dE[g^2]/dq)^2 Var v_l + Var[g^2] / n,   Var v_(l+1) = sigma_w2^2 Var mean(a^2),
    # and the mean over K networks divides the variance by K. Checked against 40 seeds: the
    # measured z-scores have standard deviation 0.7-1.2 and mean within 0.2 of 0.
    var_v = 0.0
    for l in range(DEPTH):
        ql = q[l]
        m = E(lambda z: g(z) ** 2, ql)
        var_g2 = E(lambda z: g(z) ** 4, ql) - m * m
        dm_dq = float(theory.length_map_slope(ql, "tanh", sw2, sb2)) / sw2
        sd_q = math.sqrt((var_v + 2 * ql * ql / n) / K)
        var_m = dm_dq**2 * var_v + var_g2 / n
        sd_m = math.sqrt(var_m / K)
        assert abs(runs.q_hat[:, l].mean() - ql) < 3 * sd_q, (l, runs.q_hat[:, l].mean(), ql, sd_q)
        assert abs(runs.m_hat[:, l].mean() - m) < 3 * sd_m, (l, runs.m_hat[:, l].mean(), m, sd_m)
        var_v = sw2**2 * var_m


@pytest.mark.parametrize("which", ["ordered", "chaotic"])
def test_chi1_predicts_gradient_growth_in_wide_networks(which: str, request: pytest.FixtureRequest) -> None:
    runs: Runs = request.getfixturevalue(which)
    sw2, sb2, n, K = runs.sw2, runs.sb2, WIDTH, runs.ratio.shape[0]
    dg, g = activations.get("tanh").dg, activations.get("tanh").g
    q_star = theory.fixed_point_q("tanh", sw2, sb2)
    chi = theory.chi1("tanh", sw2, sb2)
    # One ratio is sigma_w2 mean_j(zeta_j^2 g'(z_j)^2), zeta_j ~ N(0, 1) independent of z_j (the
    # gradient-independence assumption): variance A = sigma_w2^2 (3 E[g'^4] - E[g'^2]^2) / n from
    # the sampling, plus B = (dchi1/dq)^2 Var v from the fluctuating length v of z, at most its
    # stationary value sigma_w2^2 Var[g^2] / n / (1 - L'(q*)^2). B is shared by the L-1 ratios of
    # a network, so the mean over ratios and networks has variance at most (A/(L-1) + B) / K.
    # (Checked against 40 seeds: the per-network means scatter 5 % more than this.)
    e2, e4 = E(lambda z: dg(z) ** 2, q_star), E(lambda z: dg(z) ** 4, q_star)
    A = sw2**2 * (3 * e4 - e2 * e2) / n
    h = 1e-5
    dchi = (theory.chi1("tanh", sw2, sb2, q=q_star + h) - theory.chi1("tanh", sw2, sb2, q=q_star - h)) / (2 * h)
    slope = float(theory.length_map_slope(q_star, "tanh", sw2, sb2))
    var_v = sw2**2 * (E(lambda z: g(z) ** 4, q_star) - E(lambda z: g(z) ** 2, q_star) ** 2) / n / (1 - slope**2)
    sd = math.sqrt((A / (DEPTH - 1) + dchi**2 * var_v) / K)
    assert abs(runs.ratio.mean() - chi) < 3 * sd, (runs.ratio.mean(), chi, sd)
    assert (runs.ratio.mean() < 1) == (which == "ordered")  # vanishing vs exploding, as predicted


@pytest.mark.parametrize("which", ["ordered", "chaotic"])
def test_correlation_map_predicts_wide_networks(which: str, request: pytest.FixtureRequest) -> None:
    runs: Runs = request.getfixturevalue(which)
    sw2, sb2, n, K = runs.sw2, runs.sb2, WIDTH, runs.c_hat.shape[0]
    c = [runs.c_in]
    for _ in range(DEPTH - 1):
        c.append(float(theory.correlation_map(c[-1], "tanh", sw2, sb2)))
    # Noise model: per layer the sample correlation of n Gaussian pairs adds (1 - c^2)^2 / n, counted
    # twice for the sampled activations that set the next layer's covariance, and earlier noise is
    # carried forward by the map's slope. Against 40 seeds this overestimates the spread by
    # 20-35 %, so 3 model standard deviations are about 4 measured ones.
    h = 1e-6  # the map's slope at each c, by central differences (accurate to ~1e-8, plenty for a noise model)
    slopes = (theory.correlation_map(np.array(c) + h, "tanh", sw2, sb2)
              - theory.correlation_map(np.array(c) - h, "tanh", sw2, sb2)) / (2 * h)
    var = 0.0
    for l in range(DEPTH):
        if l:
            var *= slopes[l - 1] ** 2
        var += 2 * (1 - c[l] ** 2) ** 2 / n
        sd = math.sqrt(var / K)
        assert abs(runs.c_hat[:, l].mean() - c[l]) < 3 * sd, (l, runs.c_hat[:, l].mean(), c[l], sd)


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: theory.length_map(-0.5, "tanh", 1.0, 0.0), ValueError, "q must be >= 0"),
        (lambda: theory.length_map(1.0, "tanh", 0.0, 0.0), ValueError, "sigma_w2 must be > 0"),
        (lambda: theory.length_map(1.0, "tanh", -1.0, 0.0), ValueError, "sigma_w2 must be > 0"),
        (lambda: theory.length_map(1.0, "tanh", 1.0, -0.1), ValueError, "sigma_b2 must be >= 0"),
        (lambda: theory.length_map(1.0, "tanhh", 1.0, 0.0), ValueError, "unknown activation 'tanhh'"),
        (lambda: theory.length_map(1.0, 3, 1.0, 0.0), TypeError, "activation must be a name"),
        (lambda: theory.fixed_point_q("tanh", "1.5", 0.05), TypeError, "sigma_w2 must be a real number"),
        (lambda: theory.fixed_point_q("tanh", float("inf"), 0.05), ValueError, "sigma_w2 must be finite"),
        (lambda: theory.chi1("tanh", 1.5, 0.05, q=-1.0), ValueError, "q must be >= 0"),
        (lambda: theory.chi1("tanh", 1.5, 0.05, q=[1.0, 2.0]), ValueError, "q must be a single number"),
        (lambda: theory.correlation_map(1.5, "tanh", 1.5, 0.05), ValueError, r"c must be a correlation in \[-1, 1\]"),
        (lambda: theory.correlation_map(np.nan, "tanh", 1.5, 0.05), ValueError, "c must be finite"),
        (lambda: theory.critical_sigma_w2("tanh", -0.05), ValueError, "sigma_b2 must be >= 0"),
        (lambda: theory.critical_sigma_w2("nope", 0.05), ValueError, "unknown activation"),
        (lambda: theory.depth_scale("tanh", 0.0, 0.05), ValueError, "sigma_w2 must be > 0"),
        (lambda: theory.fixed_point_c("relu", 2.5, 0.1), ValueError, "no finite fixed point"),
    ],
)
def test_bad_arguments(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_activation_without_slope() -> None:
    # A constant "activation" passes nothing back: chi1 = 0 for every sigma_w2, so there is no
    # critical point, and lengths settle in one layer (xi_q = 0).
    flat = activations.Activation("flat", lambda z: np.full_like(z, 0.5), lambda z: np.zeros_like(z))
    assert theory.fixed_point_q(flat, 2.0, 0.1) == pytest.approx(2.0 * 0.25 + 0.1)
    assert theory.chi1(flat, 2.0, 0.1) == 0.0
    assert theory.depth_scale(flat, 2.0, 0.1)[0] == 0.0
    with pytest.raises(ValueError, match="chi1 of 'flat' stays < 1"):
        theory.critical_sigma_w2(flat, 0.1)


def test_theory_does_not_depend_on_networks() -> None:
    # The maps are about distributions, not about a Network: theory imports no network code.
    tree = ast.parse(Path(theory.__file__).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {node.module or ""} | {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    assert not {"mlp", "gradlab.mlp", "wide", "isometry"} & names, names


def test_activation_too_steep_for_any_critical_point() -> None:
    # g' = 1e15 everywhere: chi1 >= 1 (and q grows without bound) for every sigma_w2 > 1e-12.
    steep = activations.Activation("steep", lambda z: 1e15 * z, lambda z: np.full_like(z, 1e15))
    with pytest.raises(ValueError, match="chi1 of 'steep' stays >= 1"):
        theory.critical_sigma_w2(steep, 0.0)


# --------------------------------------------------------------------------- delta_profile


def test_delta_profile_closed_forms() -> None:
    # relu: chi1 = sigma_w2 / 2 at every q, so the profile is (sigma_w2/2)^(L-l+1) / sigma_w2.
    L = 7
    for sw2 in (1.0, 2.0, 3.0):
        got = theory.delta_profile("relu", sw2, 0.3, q1=1.7, depth=L)
        assert_allclose(got, (sw2 / 2) ** (L - np.arange(1, L + 1) + 1) / sw2, rtol=1e-12)
    # linear: g' = 1, chi1 = sigma_w2 at every q.
    got = theory.delta_profile("linear", 0.8, 0.0, q1=2.0, depth=5)
    assert_allclose(got, 0.8 ** (5 - np.arange(1, 6) + 1) / 0.8, rtol=1e-12)


def test_delta_profile_at_the_fixed_point_is_a_power_of_chi1() -> None:
    q_star = theory.fixed_point_q("tanh", 1.5, 0.05)
    chi = theory.chi1("tanh", 1.5, 0.05)
    got = theory.delta_profile("tanh", 1.5, 0.05, q1=q_star, depth=12)
    assert_allclose(got, chi ** (12 - np.arange(1, 13) + 1) / 1.5, rtol=1e-9)


def test_delta_profile_follows_the_length_map_layer_by_layer() -> None:
    q, chis = 0.3, []
    for _ in range(6):
        chis.append(theory.chi1("sigmoid", 1.2, 0.4, q=q))
        q = float(theory.length_map(q, "sigmoid", 1.2, 0.4))
    expected = np.cumprod(chis[::-1])[::-1] / 1.2
    assert_allclose(theory.delta_profile("sigmoid", 1.2, 0.4, q1=0.3, depth=6), expected, rtol=1e-13)


def test_delta_profile_matches_a_wide_network() -> None:
    """Measured mean squares of delta in width-400 tanh networks, 3 networks, within 15 % per layer."""
    from gradlab import mlp

    n, L, B, sw2, sb2 = 400, 10, 32, 1.5, 0.05
    rng = np.random.default_rng(7)
    measured = []
    for _ in range(3):
        net = mlp.init_network((n,) * (L + 1), hidden="tanh", output="tanh", init="normal",
                               std=math.sqrt(sw2 / n), bias_std=math.sqrt(sb2), rng=rng)
        x = rng.standard_normal((B, n))
        grads = mlp.backward(net, mlp.forward(net, x), rng.standard_normal((B, n)))
        measured.append([np.mean(grads.delta[l] ** 2) for l in range(1, L + 1)])
    predicted = theory.delta_profile("tanh", sw2, sb2, q1=sw2 * 1.0 + sb2, depth=L)
    assert_allclose(np.mean(measured, axis=0), predicted, rtol=0.15)


def test_delta_profile_errors() -> None:
    with pytest.raises(ValueError, match="q1"):
        theory.delta_profile("tanh", 1.0, 0.0, q1=0.0, depth=3)
    with pytest.raises(ValueError, match="depth"):
        theory.delta_profile("tanh", 1.0, 0.0, q1=1.0, depth=0)
    with pytest.raises(ValueError, match="overflows"):
        theory.delta_profile("relu", 1e6, 0.0, q1=1.0, depth=200)
    with pytest.raises(ValueError, match="sigma_w2"):
        theory.delta_profile("tanh", -1.0, 0.0, q1=1.0, depth=3)
