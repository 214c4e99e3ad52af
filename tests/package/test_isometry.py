"""Tests for gradlab.isometry: the Jacobian against finite differences, spectra against it,
closed forms, the critical line against gradlab.theory, free probability and the exact
finite-width recursion against simulations, and argument errors."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradlab import activations, isometry, mlp, theory

# --------------------------------------------------------------------------- the Jacobian


def finite_difference_jacobian(net: mlp.Network, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        plus = mlp.forward(net, (x + e)[None, :]).a[net.L][0]
        minus = mlp.forward(net, (x - e)[None, :]).a[net.L][0]
        cols.append((plus - minus) / (2 * h))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("hidden,output", [("tanh", "sigmoid"), ("selu", "linear"), ("gelu", "tanh")])
def test_jacobian_matches_finite_differences(hidden: str, output: str) -> None:
    net = mlp.init_network((4, 6, 5, 3), hidden=hidden, output=output, init="xavier_normal", bias_std=0.3, rng=0)
    x = np.random.default_rng(1).standard_normal(4)
    J = isometry.input_output_jacobian(net, x)
    assert J.shape == (3, 4)
    fd = finite_difference_jacobian(net, x)
    assert np.max(np.abs(J - fd)) < 1e-8 * np.max(np.abs(J))


def test_jacobian_of_one_layer() -> None:
    net = mlp.init_network((3, 5), hidden="tanh", output="tanh", init="xavier_normal", bias_std=0.2, rng=3)
    x = np.array([0.3, -1.0, 2.0])
    z = net.W[1] @ x + net.b[1]
    assert_allclose(isometry.input_output_jacobian(net, x), np.diag(activations.dtanh(z)) @ net.W[1], rtol=1e-14)
    lam = isometry.squared_singular_values(net, x, [1])[1]
    assert lam.shape == (3,) and lam.dtype == np.float64
    assert np.all(np.diff(lam) <= 0)
    assert_allclose(lam, np.linalg.svd(isometry.input_output_jacobian(net, x), compute_uv=False) ** 2, rtol=1e-14)


def test_deep_linear_orthogonal_network_is_an_isometry() -> None:
    # Saxe et al. (2014): a product of orthogonal matrices has every singular value 1, at any depth.
    net = mlp.init_network((20,) * 31, hidden="linear", output="linear", init="orthogonal", rng=5)
    assert_allclose(isometry.squared_singular_values(net, np.ones(20), [30])[30], 1.0, rtol=1e-12)
    gauss = mlp.init_network((20,) * 31, hidden="linear", output="linear", init="xavier_normal", rng=5)
    lam = isometry.squared_singular_values(gauss, np.ones(20), [30])[30]
    assert lam[0] / lam[-1] > 1e12  # Gaussian weights of the same variance: a huge spread instead


def test_jacobian_keeps_float32() -> None:
    net = mlp.init_network((3, 4, 2), hidden="tanh", rng=0, dtype=np.float32)
    assert isometry.input_output_jacobian(net, np.ones(3)).dtype == np.float32


def test_bad_jacobian_arguments() -> None:
    net = mlp.init_network((3, 4, 2), hidden="tanh", rng=0)
    with pytest.raises(TypeError, match="net must be a gradlab.mlp.Network"):
        isometry.input_output_jacobian({1: np.eye(3)}, np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"x must be one input of shape \(n_0,\) = \(3,\), got \(1, 3\)"):
        isometry.input_output_jacobian(net, np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"x must be one input of shape \(n_0,\) = \(3,\), got \(4,\)"):
        isometry.input_output_jacobian(net, np.ones(4))
    with pytest.raises(ValueError, match="x must be finite"):
        isometry.input_output_jacobian(net, [1.0, np.inf, 0.0])
    with pytest.raises(TypeError, match="x must be"):
        isometry.input_output_jacobian(net, "abc")


# --------------------------------------------------------------------------- moments and the critical line


def test_derivative_moments_closed_forms() -> None:
    assert isometry.derivative_moments("linear", 0.7) == pytest.approx((1.0, 1.0), abs=1e-14)
    # relu: g'^2 is 0 or 1 with probability 1/2 each, at every q*
    for q in (1e-3, 1.0, 30.0):
        assert isometry.derivative_moments("relu", q) == pytest.approx((0.5, 0.5), abs=1e-14)
    # leaky relu with slope a: (1 + a^2)/2 and (1 + a^4)/2
    a = 0.3
    leaky = activations.Activation("leaky", partial(activations.leaky_relu, alpha=a),
                                   partial(activations.dleaky_relu, alpha=a))
    assert isometry.derivative_moments(leaky, 2.0) == pytest.approx(((1 + a**2) / 2, (1 + a**4) / 2), rel=1e-13)
    # tanh for small q: sech^4 = 1 - 2 z^2 + 7/3 z^4 ..., so mu1 = 1 - 2q + 7q^2 + O(q^3) (E z^4 = 3 q^2)
    q = 1e-3
    mu1, mu2 = isometry.derivative_moments("tanh", q)
    assert mu1 == pytest.approx(1 - 2 * q + 7 * q * q, abs=50 * q**3)
    assert mu2 < mu1 < 1


def test_critical_point_is_on_the_critical_line_and_has_fixed_point_q_star() -> None:
    # to rounding (the quadrature's weights sum to 1 within an ulp, which depends on the BLAS kernel);
    # sigma_b^2 within a few ulps of q* of 0 is returned as exactly 0
    assert isometry.critical_point("linear", 3.0) == pytest.approx((1.0, 0.0), abs=1e-14)
    assert isometry.critical_point("linear", 3.0)[1] == 0.0
    sw2, sb2 = isometry.critical_point("relu", 0.5)
    assert sw2 == pytest.approx(2.0, abs=1e-14) and sb2 == 0.0
    for act, q in (("tanh", 1 / 64), ("tanh", 1.0), ("tanh", 8.0), ("gelu", 1.0)):
        sw2, sb2 = isometry.critical_point(act, q)
        assert sb2 > 0
        # chi1 = 1 at q (same quadrature: rounding); the length map returns q
        assert theory.chi1(act, sw2, sb2, q=q) == pytest.approx(1.0, abs=1e-13)
        assert float(theory.length_map(q, act, sw2, sb2)) == pytest.approx(q, rel=1e-13)
        if act == "gelu":  # q* = 1 is a fixed point of gelu's map, but a repelling one (see the docstring)
            with pytest.raises(ValueError, match="no finite fixed point"):
                theory.fixed_point_q(act, sw2, sb2)
            continue
        # independent root finders of gradlab.theory agree to 1e-10
        assert theory.critical_sigma_w2(act, sb2) == pytest.approx(sw2, rel=1e-10)
        assert theory.fixed_point_q(act, sw2, sb2) == pytest.approx(q, rel=1e-10)
    # tanh: (1, 0) in the limit q* -> 0
    sw2, sb2 = isometry.critical_point("tanh", 1e-6)
    assert sw2 == pytest.approx(1.0, abs=1e-5) and sb2 == pytest.approx(0.0, abs=1e-11)


def test_critical_point_rejects_unreachable_q_star() -> None:
    with pytest.raises(ValueError, match=r"q_star=1.0 is not on the critical line of 'sigmoid'"):
        isometry.critical_point("sigmoid", 1.0)


def test_jacobian_variance_slope_closed_forms() -> None:
    assert isometry.jacobian_variance_slope("linear", 1.0, "gaussian") == pytest.approx(1.0, abs=1e-14)
    assert isometry.jacobian_variance_slope("linear", 1.0, "orthogonal") == pytest.approx(0.0, abs=1e-14)
    assert isometry.jacobian_variance_slope("relu", 1.0, "gaussian") == pytest.approx(2.0, abs=1e-13)
    assert isometry.jacobian_variance_slope("relu", 1.0, "orthogonal") == pytest.approx(1.0, abs=1e-13)
    # the Gaussian slope is the orthogonal slope plus 1, for any activation
    for q in (0.1, 2.0):
        diff = isometry.jacobian_variance_slope("tanh", q, "gaussian") - isometry.jacobian_variance_slope(
            "tanh", q, "orthogonal")
        assert diff == pytest.approx(1.0, abs=1e-14)
    # tanh: 8 q^2 (1 + O(q)); the ratio at q = 1e-3 within 1 % of 1
    q = 1e-3
    assert isometry.jacobian_variance_slope("tanh", q, "orthogonal") == pytest.approx(8 * q * q, rel=0.01)


# --------------------------------------------------------------------------- the exact finite-width recursion


def test_linear_gaussian_variance_closed_forms() -> None:
    n = 7
    v = isometry.linear_gaussian_variance(n, 3)
    assert v.shape == (3,)
    assert v[0] == pytest.approx(1 + 1 / n - 2 / n**2, rel=1e-14)
    # L = 2 by hand: (E m1^2, E m2) goes (1, 1) -> (1 + 2/n^2, 2 + 1/n)
    x1, y1 = 1 + 2 / n**2, 2 + 1 / n
    assert v[1] == pytest.approx((x1 + (1 + 1 / n) * y1) - (x1 + 2 * y1 / n**2), rel=1e-14)
    # wide: tends to L (relative deviation of order L/n)
    wide = isometry.linear_gaussian_variance(10**6, 50)
    assert_allclose(wide, np.arange(1, 51), rtol=1e-3)


def test_linear_gaussian_variance_against_simulation() -> None:
    # 6000 products of n = 8 Gaussian matrices, depths 1..3: the mean of each
    # network's variance of lambda within 4 standard errors of the recursion.
    n, depth, runs = 8, 3, 6000
    rng = np.random.default_rng(11)
    v = np.empty((runs, depth))
    for r in range(runs):
        J = np.eye(n)
        for l in range(depth):
            J = rng.standard_normal((n, n)) / math.sqrt(n) @ J
            v[r, l] = np.var(np.linalg.svd(J, compute_uv=False) ** 2)
    se = v.std(axis=0, ddof=1) / math.sqrt(runs)
    exact = isometry.linear_gaussian_variance(n, depth)
    assert np.all(np.abs(v.mean(axis=0) - exact) < 4 * se), (v.mean(axis=0), exact, se)
    # and the finite-width excess over L is resolved: more than 4 SE above L at depth 3
    assert v.mean(axis=0)[2] - 3 > 4 * se[2]


# --------------------------------------------------------------------------- networks and spectra


@pytest.mark.parametrize("weights", list(isometry.WEIGHTS))
def test_critical_network_starts_at_its_fixed_point(weights: str) -> None:
    q = 0.25
    net, x = isometry.critical_network("tanh", q, width=64, depth=3, weights=weights, rng=5)
    sw2, sb2 = isometry.critical_point("tanh", q)
    assert net.sizes == (64,) * 4 and net.L == 3
    assert net.hidden.name == net.output.name == "tanh"
    # q(1) = sigma_w^2 |x|^2 / n + sigma_b^2 = q* exactly
    assert sw2 * np.mean(x * x) + sb2 == pytest.approx(q, rel=1e-13)
    if weights == "orthogonal":
        for l in range(1, 4):
            assert_allclose(net.W[l] @ net.W[l].T, sw2 * np.eye(64), atol=1e-12)
    # same seed, same network and input
    net2, x2 = isometry.critical_network("tanh", q, width=64, depth=3, weights=weights, rng=5)
    assert np.array_equal(x, x2) and all(np.array_equal(net.W[l], net2.W[l]) for l in range(1, 4))


def test_critical_network_weight_variance() -> None:
    # Gaussian weights: mean of W^2 = sigma_w^2 / n within 5 standard errors (sqrt(2/N) relative)
    net, _ = isometry.critical_network("relu", 1.0, width=200, depth=2, weights="gaussian", rng=3)
    w = np.concatenate([net.W[1].ravel(), net.W[2].ravel()])
    assert abs(np.mean(w * w) / (2.0 / 200) - 1) < 5 * math.sqrt(2 / w.size)
    assert np.all(net.b[1] == 0)


def svd2(J: np.ndarray) -> np.ndarray:
    return np.linalg.svd(J, compute_uv=False) ** 2


def test_squared_singular_values_match_the_jacobian() -> None:
    net, x = isometry.critical_network("tanh", 1.0, width=20, depth=5, weights="gaussian", rng=1)
    spec = isometry.squared_singular_values(net, x, [5, 2])
    assert list(spec) == [2, 5]
    assert_allclose(spec[5], svd2(isometry.input_output_jacobian(net, x)), rtol=1e-10, atol=1e-14)
    # depth 2 = the network made of the first two layers
    first = mlp.Network({1: net.W[1], 2: net.W[2]}, {1: net.b[1], 2: net.b[2]}, net.hidden, net.output)
    assert_allclose(spec[2], svd2(isometry.input_output_jacobian(first, x)), rtol=1e-10, atol=1e-14)
    assert np.all(np.diff(spec[5]) <= 0)


def test_orthogonal_linear_spectrum_is_exactly_one() -> None:
    net, x = isometry.critical_network("linear", 1.0, width=50, depth=40, weights="orthogonal", rng=2)
    spec = isometry.squared_singular_values(net, x, [1, 40])
    for lam in spec.values():
        assert np.max(np.abs(lam - 1)) < 1e-12


def test_free_probability_against_simulation() -> None:
    # Relative variance Var(lambda)/mean^2 of one network, mean over seeds, width 256,
    # depth 8 (L/n = 1/32), against L (mu2/mu1^2 - 1 + v_W). Tolerance 15 % (about
    # three standard errors of a mean over 3 networks; ReLU's spread is the noisiest).
    L, n = 8, 256
    for act, q, weights, seeds in (("tanh", 0.25, "orthogonal", 3), ("relu", 1.0, "orthogonal", 3),
                                   ("linear", 1.0, "gaussian", 3)):
        rel = []
        for seed in range(seeds):
            net, x = isometry.critical_network(act, q, width=n, depth=L, weights=weights, rng=seed)
            lam = isometry.squared_singular_values(net, x, [L])[L]
            rel.append(lam.var() / lam.mean() ** 2)
        predicted = L * isometry.jacobian_variance_slope(act, q, weights)
        assert np.mean(rel) == pytest.approx(predicted, rel=0.15), (act, weights, np.mean(rel), predicted)


# --------------------------------------------------------------------------- argument errors

NET, X0 = isometry.critical_network("tanh", 0.5, width=4, depth=2, weights="gaussian", rng=0)

BAD: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: isometry.derivative_moments("nope", 1.0), ValueError, "unknown activation 'nope'"),
    (lambda: isometry.derivative_moments("tanh", 0.0), ValueError, "q_star must be > 0"),
    (lambda: isometry.derivative_moments("tanh", "1"), TypeError, "q_star must be a real number"),
    (lambda: isometry.critical_point("tanh", -1.0), ValueError, "q_star must be > 0"),
    (lambda: isometry.critical_point("tanh", math.inf), ValueError, "q_star must be finite"),
    (lambda: isometry.jacobian_variance_slope("tanh", 1.0, "uniform"), ValueError,
     "unknown weights 'uniform'; expected one of: gaussian, orthogonal"),
    (lambda: isometry.jacobian_variance_slope("tanh", 1.0, 1), TypeError, "weights must be a name"),
    (lambda: isometry.linear_gaussian_variance(0, 3), ValueError, "width must be >= 1"),
    (lambda: isometry.linear_gaussian_variance(4, 2.0), TypeError, "depth must be an integer"),
    (lambda: isometry.critical_network("tanh", 1.0, width=4, depth=0, weights="gaussian", rng=0), ValueError,
     "depth must be >= 1"),
    (lambda: isometry.critical_network("tanh", 1.0, width=4, depth=2, weights="he", rng=0), ValueError,
     "unknown weights 'he'"),
    (lambda: isometry.critical_network("tanh", 1.0, width=4, depth=2, weights="gaussian", rng="a"), TypeError,
     "rng must be"),
    (lambda: isometry.critical_network("sigmoid", 1.0, width=4, depth=2, weights="gaussian", rng=0), ValueError,
     "not on the critical line"),
    (lambda: isometry.squared_singular_values("net", X0, [1]), TypeError, "net must be a gradlab.mlp.Network"),
    (lambda: isometry.squared_singular_values(NET, X0[:3], [1]), ValueError, r"x must be one input of shape \(n_0,\)"),
    (lambda: isometry.squared_singular_values(NET, np.full(4, np.nan), [1]), ValueError, "x must be finite"),
    (lambda: isometry.squared_singular_values(NET, X0, []), ValueError, "depths must be a non-empty sequence"),
    (lambda: isometry.squared_singular_values(NET, X0, 2), ValueError, "depths must be a non-empty sequence"),
    (lambda: isometry.squared_singular_values(NET, X0, [1, 3]), ValueError, r"depths must lie in 1..net.L = 1..2"),
    (lambda: isometry.squared_singular_values(NET, X0, [1, 0]), ValueError, r"depths\[1\] must be >= 1"),
    (lambda: isometry.squared_singular_values(NET, X0, [1.5]), TypeError, r"depths\[0\] must be an integer"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
