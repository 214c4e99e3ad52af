"""Tests for gradlab.isometry: closed forms, the critical line against gradlab.theory,
spectra against theory.input_output_jacobian, free probability and the exact
finite-width recursion against simulations, the deep linear trainer against
gradlab.mlp.backward, and argument errors."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradlab import activations, isometry, losses, mlp, theory

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
    assert isometry.critical_point("linear", 3.0) == (1.0, 0.0)
    sw2, sb2 = isometry.critical_point("relu", 0.5)
    assert sw2 == 2.0 and sb2 == 0.0
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


def test_squared_singular_values_match_theory_jacobian() -> None:
    net, x = isometry.critical_network("tanh", 1.0, width=20, depth=5, weights="gaussian", rng=1)
    spec = isometry.squared_singular_values(net, x, [5, 2])
    assert list(spec) == [2, 5]
    assert_allclose(spec[5], theory.jacobian_singular_values(net, x) ** 2, rtol=1e-10, atol=1e-14)
    # depth 2 = the network made of the first two layers
    first = mlp.Network({1: net.W[1], 2: net.W[2]}, {1: net.b[1], 2: net.b[2]}, net.hidden, net.output)
    assert_allclose(spec[2], theory.jacobian_singular_values(first, x) ** 2, rtol=1e-10, atol=1e-14)
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


# --------------------------------------------------------------------------- deep linear networks


def test_linear_teacher_is_white_and_exact() -> None:
    X, Y, M = isometry.linear_teacher(6, 3, 40, rng=4)
    assert X.shape == (40, 6) and Y.shape == (40, 3) and M.shape == (3, 6)
    assert_allclose(X.T @ X / 40, np.eye(6), atol=1e-13)
    assert_allclose(Y, X @ M.T, atol=1e-13)
    X2, _, M2 = isometry.linear_teacher(6, 3, 40, rng=4)
    assert np.array_equal(X, X2) and np.array_equal(M, M2)


def _linear_net(depth: int, scheme: str = "lecun_normal", seed: int = 0) -> mlp.Network:
    return mlp.init_network((5,) * depth + (3,), hidden="linear", output="linear", init=scheme, rng=seed)


def test_one_step_equals_mlp_backward() -> None:
    # non-white inputs, so that Sigma_xx enters: the correlations must reproduce backward exactly
    rng = np.random.default_rng(9)
    X = rng.standard_normal((30, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    Y = rng.standard_normal((30, 3))
    net = _linear_net(4)
    lr = 0.01
    run = isometry.train_deep_linear(net, X, Y, lr=lr, target_loss=0.0, max_steps=1)
    fwd = mlp.forward(net, X)
    assert run.loss[0] == pytest.approx(losses.mse(fwd.a[net.L], Y), rel=1e-12)
    grads = mlp.backward(net, fwd, losses.dmse(fwd.a[net.L], Y))
    for l in range(1, net.L + 1):
        assert_allclose(run.network.W[l], net.W[l] - lr * grads.dW[l], rtol=1e-12, atol=1e-14)
    # the second recorded loss is the loss of the updated network; the input network is untouched
    assert run.loss[1] == pytest.approx(losses.mse(mlp.forward(run.network, X).a[net.L], Y), rel=1e-12)
    assert run.loss.shape == (2,) and run.steps is None and not run.diverged
    assert not np.array_equal(net.W[1], run.network.W[1])


def test_training_reaches_target_and_reports_the_step() -> None:
    X, Y, M = isometry.linear_teacher(5, 3, 50, rng=1)
    target = 1e-6
    run = isometry.train_deep_linear(_linear_net(3, "orthogonal"), X, Y, lr=0.2, target_loss=target, max_steps=5000)
    assert run.steps is not None and not run.diverged
    assert run.loss[run.steps] <= target < run.loss[run.steps - 1]
    assert run.loss.shape == (run.steps + 1,)
    # with white inputs the loss is 1/2 ||W - M||_F^2
    W = run.network.W[3] @ run.network.W[2] @ run.network.W[1]
    assert run.loss[-1] == pytest.approx(0.5 * np.sum((W - M) ** 2), rel=1e-6, abs=1e-12)


def test_divergence_is_detected_without_warnings() -> None:
    X, Y, _ = isometry.linear_teacher(5, 3, 50, rng=1)
    run = isometry.train_deep_linear(_linear_net(6), X, Y, lr=50.0, target_loss=0.0, max_steps=1000)
    assert run.diverged and run.steps is None
    assert len(run.loss) < 1000
    assert not np.isfinite(run.loss[-1]) or run.loss[-1] > 1e10 * run.loss[0]


# --------------------------------------------------------------------------- argument errors

NET, X0 = isometry.critical_network("tanh", 0.5, width=4, depth=2, weights="gaussian", rng=0)
LIN = _linear_net(2)
XL, YL, _ = isometry.linear_teacher(5, 3, 10, rng=0)
TANH_NET = mlp.init_network((5, 5, 3), hidden="tanh", output="linear", rng=0)
BIASED = mlp.init_network((5, 5, 3), hidden="linear", output="linear", bias_std=0.1, rng=0)

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
    (lambda: isometry.linear_teacher(5, 3, 4, rng=0), ValueError, "n_samples must be >= n_in = 5"),
    (lambda: isometry.linear_teacher(5, 0, 10, rng=0), ValueError, "n_out must be >= 1"),
    (lambda: isometry.train_deep_linear("net", XL, YL, lr=0.1, target_loss=0.0, max_steps=1), TypeError,
     "net must be a gradlab.mlp.Network"),
    (lambda: isometry.train_deep_linear(TANH_NET, XL, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "net must be a deep linear network"),
    (lambda: isometry.train_deep_linear(BIASED, XL, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "net must have zero biases"),
    (lambda: isometry.train_deep_linear(LIN, XL[:, :4], YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     r"X must have shape \(N, n_0\) = \(N, 5\)"),
    (lambda: isometry.train_deep_linear(LIN, XL, YL[:9], lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     r"Y must have shape \(N, n_L\) = \(10, 3\)"),
    (lambda: isometry.train_deep_linear(LIN, XL, YL, lr=-0.1, target_loss=0.0, max_steps=1), ValueError,
     "lr must be >= 0"),
    (lambda: isometry.train_deep_linear(LIN, XL, YL, lr=0.1, target_loss=-1.0, max_steps=1), ValueError,
     "target_loss must be >= 0"),
    (lambda: isometry.train_deep_linear(LIN, XL, YL, lr=0.1, target_loss=0.0, max_steps=0), ValueError,
     "max_steps must be >= 1"),
    (lambda: isometry.train_deep_linear(LIN, XL * np.inf, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "X must be finite"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
