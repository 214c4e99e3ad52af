"""Tests for gradlab.deeplinear: the teacher task is white and exact, one step of the trainer equals
gradlab.mlp.backward, training stops at the target or on divergence, Saxe et al.'s learning time
agrees with its closed forms and with a numerical integration of the mode's ODE, and argument errors."""

from __future__ import annotations

from typing import Any, Callable

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp

from gradlab import deeplinear, losses, mlp

# --------------------------------------------------------------------------- the teacher and the trainer


def test_linear_teacher_is_white_and_exact() -> None:
    X, Y, M = deeplinear.linear_teacher(6, 3, 40, rng=4)
    assert X.shape == (40, 6) and Y.shape == (40, 3) and M.shape == (3, 6)
    assert_allclose(X.T @ X / 40, np.eye(6), atol=1e-13)
    assert_allclose(Y, X @ M.T, atol=1e-13)
    X2, _, M2 = deeplinear.linear_teacher(6, 3, 40, rng=4)
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
    run = deeplinear.train_deep_linear(net, X, Y, lr=lr, target_loss=0.0, max_steps=1)
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
    X, Y, M = deeplinear.linear_teacher(5, 3, 50, rng=1)
    target = 1e-6
    run = deeplinear.train_deep_linear(_linear_net(3, "orthogonal"), X, Y, lr=0.2, target_loss=target, max_steps=5000)
    assert run.steps is not None and not run.diverged
    assert run.loss[run.steps] <= target < run.loss[run.steps - 1]
    assert run.loss.shape == (run.steps + 1,)
    # with white inputs the loss is 1/2 ||W - M||_F^2
    W = run.network.W[3] @ run.network.W[2] @ run.network.W[1]
    assert run.loss[-1] == pytest.approx(0.5 * np.sum((W - M) ** 2), rel=1e-6, abs=1e-12)


def test_divergence_is_detected_without_warnings() -> None:
    X, Y, _ = deeplinear.linear_teacher(5, 3, 50, rng=1)
    run = deeplinear.train_deep_linear(_linear_net(6), X, Y, lr=50.0, target_loss=0.0, max_steps=1000)
    assert run.diverged and run.steps is None
    assert len(run.loss) < 1000
    assert not np.isfinite(run.loss[-1]) or run.loss[-1] > 1e10 * run.loss[0]


# --------------------------------------------------------------------------- Saxe et al.'s learning time


@pytest.mark.parametrize("s, u0, uf", [(1.5, 0.01, 1.4), (0.7, 1.0, 0.71), (2.0, 1e-6, 1.0)])
def test_learning_time_closed_forms_for_one_and_two_layers(s: float, u0: float, uf: float) -> None:
    lr = 0.05
    # L = 1: du/dt = alpha (s - u), a linear ODE
    t1 = deeplinear.learning_time(s, u0, uf, depth=1, lr=lr)
    assert t1 == pytest.approx(math.log((s - u0) / (s - uf)) / lr, rel=1e-10)
    # L = 2: Saxe et al.'s one-hidden-layer solution, t = tau/(2s) ln(uf (s - u0) / (u0 (s - uf)))
    t2 = deeplinear.learning_time(s, u0, uf, depth=2, lr=lr)
    assert t2 == pytest.approx(math.log(uf * (s - u0) / (u0 * (s - uf))) / (2 * s * lr), rel=1e-10)


@pytest.mark.parametrize("depth", [3, 8, 64])
@pytest.mark.parametrize("s, u0", [(1.3, 0.05), (0.5, 1.0)])
def test_learning_time_matches_integration_of_the_mode_ode(depth: int, s: float, u0: float) -> None:
    # integrate (1/alpha) du/dt = L u^(2 - 2/L) (s - u) numerically and read off u at the predicted times
    lr = 0.5 / depth
    ufs = [u0 + f * (s - u0) for f in (0.3, 0.9, 0.999)]
    times = [deeplinear.learning_time(s, u0, uf, depth=depth, lr=lr) for uf in ufs]
    assert times == sorted(times) and times[0] > 0
    sol = solve_ivp(lambda t, u: lr * depth * u ** (2 - 2 / depth) * (s - u), (0, times[-1]), [u0],
                    t_eval=times, rtol=1e-11, atol=1e-14, method="DOP853")
    assert_allclose(sol.y[0], ufs, rtol=1e-7)


def test_learning_time_has_a_finite_deep_limit() -> None:
    # with alpha L = c fixed, L -> infinity gives (1/c) int du / (u^2 (s - u)) in closed form
    s, u0, uf, c = 1.2, 0.3, 1.1, 0.5
    limit = ((1 / u0 - 1 / uf) / s + math.log(uf * (s - u0) / (u0 * (s - uf))) / s**2) / c
    t = deeplinear.learning_time(s, u0, uf, depth=10**6, lr=c / 10**6)
    assert t == pytest.approx(limit, rel=1e-5)
    # here most of the path has u < 1, where u^-(2 - 2/L) grows with L: the times grow towards the limit
    ts = [deeplinear.learning_time(s, u0, uf, depth=L, lr=c / L) for L in (2, 8, 64)]
    assert ts[0] < ts[1] < ts[2] < limit


def test_learning_time_edge_cases() -> None:
    assert deeplinear.learning_time(1.0, 0.5, 0.5, depth=4, lr=0.1) == 0.0
    assert deeplinear.learning_time(1.0, 1.0, 1.0, depth=4, lr=0.1) == 0.0
    # halving the learning rate doubles the time
    t = deeplinear.learning_time(1.0, 0.1, 0.9, depth=4, lr=0.1)
    assert deeplinear.learning_time(1.0, 0.1, 0.9, depth=4, lr=0.05) == pytest.approx(2 * t, rel=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 16])
@pytest.mark.parametrize("s, u0", [(1.3, 0.05), (0.5, 1.0)])
def test_mode_strength_inverts_learning_time(depth: int, s: float, u0: float) -> None:
    lr = 0.5 / depth
    for uf in (u0 + 0.5 * (s - u0), u0 + 0.99 * (s - u0)):
        t = deeplinear.learning_time(s, u0, uf, depth=depth, lr=lr)
        assert deeplinear.mode_strength(t, s, u0, depth=depth, lr=lr) == pytest.approx(uf, rel=1e-9)
    assert deeplinear.mode_strength(0.0, s, u0, depth=depth, lr=lr) == u0
    # monotone towards s, and s itself long after
    us = [deeplinear.mode_strength(t, s, u0, depth=depth, lr=lr) for t in (1.0, 10.0, 100.0)]
    assert all(abs(s - a) > abs(s - b) for a, b in zip([u0] + us[:-1], us))
    assert deeplinear.mode_strength(1e7, s, u0, depth=depth, lr=lr) == pytest.approx(s, rel=1e-15)


def test_decoupled_gradient_descent_follows_the_formula_for_small_steps() -> None:
    # one mode, layer strength a in every layer: a <- a + alpha (s - a^L) a^(L-1); the step count to uf
    # tends to learning_time as alpha -> 0 (first-order error in alpha)
    s, u0, uf, L = 1.5, 0.2, 1.4, 4
    errors = []
    for c in (0.2, 0.02):
        lr, a, steps = c / L, u0 ** (1 / L), 0
        while a**L < uf:
            a += lr * (s - a**L) * a ** (L - 1)
            steps += 1
        errors.append(abs(steps - deeplinear.learning_time(s, u0, uf, depth=L, lr=lr)) / steps)
    assert errors[1] < 0.02 and errors[1] < errors[0] / 3


# --------------------------------------------------------------------------- argument errors

LIN = _linear_net(2)
XL, YL, _ = deeplinear.linear_teacher(5, 3, 10, rng=0)
TANH_NET = mlp.init_network((5, 5, 3), hidden="tanh", output="linear", rng=0)
BIASED = mlp.init_network((5, 5, 3), hidden="linear", output="linear", bias_std=0.1, rng=0)

BAD: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: deeplinear.linear_teacher(5, 3, 4, rng=0), ValueError, "n_samples must be >= n_in = 5"),
    (lambda: deeplinear.linear_teacher(5, 0, 10, rng=0), ValueError, "n_out must be >= 1"),
    (lambda: deeplinear.train_deep_linear("net", XL, YL, lr=0.1, target_loss=0.0, max_steps=1), TypeError,
     "net must be a gradlab.mlp.Network"),
    (lambda: deeplinear.train_deep_linear(TANH_NET, XL, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "net must be a deep linear network"),
    (lambda: deeplinear.train_deep_linear(BIASED, XL, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "net must have zero biases"),
    (lambda: deeplinear.train_deep_linear(LIN, XL[:, :4], YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     r"X must have shape \(N, n_0\) = \(N, 5\)"),
    (lambda: deeplinear.train_deep_linear(LIN, XL, YL[:9], lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     r"Y must have shape \(N, n_L\) = \(10, 3\)"),
    (lambda: deeplinear.train_deep_linear(LIN, XL, YL, lr=-0.1, target_loss=0.0, max_steps=1), ValueError,
     "lr must be >= 0"),
    (lambda: deeplinear.train_deep_linear(LIN, XL, YL, lr=0.1, target_loss=-1.0, max_steps=1), ValueError,
     "target_loss must be >= 0"),
    (lambda: deeplinear.train_deep_linear(LIN, XL, YL, lr=0.1, target_loss=0.0, max_steps=0), ValueError,
     "max_steps must be >= 1"),
    (lambda: deeplinear.train_deep_linear(LIN, XL * np.inf, YL, lr=0.1, target_loss=0.0, max_steps=1), ValueError,
     "X must be finite"),
    (lambda: deeplinear.learning_time(0.0, 0.5, 0.6, depth=2, lr=0.1), ValueError, "s must be > 0"),
    (lambda: deeplinear.learning_time(1.0, -0.5, 0.6, depth=2, lr=0.1), ValueError, "u0 must be > 0"),
    (lambda: deeplinear.learning_time(1.0, 0.5, 1.0, depth=2, lr=0.1), ValueError, "uf must lie between u0"),
    (lambda: deeplinear.learning_time(1.0, 0.5, 0.4, depth=2, lr=0.1), ValueError, "uf must lie between u0"),
    (lambda: deeplinear.learning_time(1.0, 0.5, "0.6", depth=2, lr=0.1), TypeError, "uf must be a real number"),
    (lambda: deeplinear.learning_time(1.0, 0.5, 0.6, depth=2.0, lr=0.1), TypeError, "depth must be an integer"),
    (lambda: deeplinear.learning_time(1.0, 0.5, 0.6, depth=2, lr=0.0), ValueError, "lr must be > 0"),
    (lambda: deeplinear.mode_strength(-1.0, 1.0, 0.5, depth=2, lr=0.1), ValueError, "t must be >= 0"),
    (lambda: deeplinear.mode_strength(1.0, 1.0, 0.5, depth=0, lr=0.1), ValueError, "depth must be >= 1"),
    (lambda: deeplinear.mode_strength(1.0, np.nan, 0.5, depth=2, lr=0.1), ValueError, "s must be finite"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
