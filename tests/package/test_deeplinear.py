"""Tests for gradlab.deeplinear: the teacher task is white and exact, one step of the trainer equals
gradlab.mlp.backward, training stops at the target or on divergence, and argument errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose

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
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments(call: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()
