"""Tests for gradlab.gradcheck: central differences, relative error, and that
check_network catches a wrong backward pass."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import activations, gradcheck, mlp

# --------------------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_of_quadratic() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    c = rng.standard_normal(4)
    x = rng.standard_normal(4)
    f = lambda t: 0.5 * t @ A @ t + c @ t  # noqa: E731
    # central differences are exact for a quadratic; only rounding remains (~eps |f| / h)
    assert_allclose(gradcheck.numerical_gradient(f, x), 0.5 * (A + A.T) @ x + c, rtol=0, atol=1e-8)


def test_numerical_gradient_of_sum_of_sin_is_second_order() -> None:
    x = np.linspace(-2.0, 2.0, 9)
    f = lambda t: float(np.sum(np.sin(t)))  # noqa: E731
    errors = []
    for h in (1e-2, 5e-3):
        g = gradcheck.numerical_gradient(f, x, h=h)
        # (sin(x+h) - sin(x-h)) / 2h = cos(x) sin(h)/h exactly
        assert_allclose(g, np.cos(x) * math.sin(h) / h, rtol=0, atol=1e-12)
        errors.append(np.max(np.abs(g - np.cos(x))))
        assert errors[-1] == pytest.approx(h * h / 6 * np.max(np.abs(np.cos(x))), rel=1e-3)
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=1e-3)  # halving h quarters the error
    assert_allclose(gradcheck.numerical_gradient(f, x), np.cos(x), rtol=0, atol=1e-9)


def test_numerical_gradient_any_shape_and_input_untouched() -> None:
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    x_before = x.copy()
    seen: list[tuple[tuple[int, ...], Any]] = []

    def f(t: np.ndarray) -> float:
        seen.append((t.shape, t.dtype))
        return float(np.sum(t**3))

    g = gradcheck.numerical_gradient(f, x, h=1e-5)
    assert g.shape == (2, 3)
    assert_allclose(g, 3 * x**2, rtol=1e-8, atol=1e-8)
    assert_array_equal(x, x_before)
    assert len(seen) == 2 * x.size  # two evaluations per entry
    assert set(seen) == {((2, 3), np.dtype(np.float64))}
    # integer input is promoted to float64 (and still not modified)
    xi = np.array([1, 2, 3])
    assert_allclose(gradcheck.numerical_gradient(lambda t: float(t @ t), xi), [2.0, 4.0, 6.0], rtol=1e-8)
    assert xi.dtype.kind == "i"


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(f=3), TypeError, r"f must be callable, got int"),
        (dict(h=0.0), ValueError, r"h must be > 0, got 0\.0"),
        (dict(h=-1e-6), ValueError, r"h must be > 0, got -1e-06"),
        (dict(h=float("nan")), ValueError, r"h must be finite, got nan"),
        (dict(h="small"), TypeError, r"h must be a real number, got str"),
        (dict(x="abc"), TypeError, r"x must be a number or an array of numbers, got str"),
    ],
)
def test_numerical_gradient_errors(kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"f": lambda t: float(np.sum(t)), "x": np.zeros(2), **kwargs}
    h = args.pop("h", 1e-6)
    with pytest.raises(exc, match=match):
        gradcheck.numerical_gradient(args["f"], args["x"], h=h)


# --------------------------------------------------------------------------- relative_error


def test_relative_error_cases() -> None:
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert gradcheck.relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.sqrt(2) / 2, rel=1e-15)
    assert gradcheck.relative_error([1.0, -2.0], [-1.0, 2.0]) == pytest.approx(1.0, rel=1e-15)
    assert gradcheck.relative_error([1.0], [0.0]) == 1.0
    assert gradcheck.relative_error(3.0, 1.0) == pytest.approx(0.5, rel=1e-15)  # |3-1| / (3+1)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4))
    n = a + 1e-3 * rng.standard_normal((3, 4))
    base = gradcheck.relative_error(a, n)
    assert 1e-5 < base < 1e-2
    for scale in (1e-9, 1e3):  # scale-free: tiny (vanishing) and large gradients alike
        assert gradcheck.relative_error(scale * a, scale * n) == pytest.approx(base, rel=1e-12)


def test_relative_error_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"numeric must have the shape of analytic, \(2,\), got \(3,\)"):
        gradcheck.relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"numeric must have the shape of analytic, \(2, 3\), got \(3, 2\)"):
        gradcheck.relative_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"analytic must be a number or an array of numbers, got NoneType"):
        gradcheck.relative_error(None, np.zeros(2))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- check_network


def _net(hidden: Any = "tanh", dtype: Any = np.float64) -> mlp.Network:
    return mlp.init_network((3, 4, 3, 2), hidden=hidden, output="linear", init="xavier_normal",
                            bias_std=0.2, rng=3, dtype=dtype)


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(9)
    return rng.standard_normal((4, 3)), rng.standard_normal((4, 2))


def test_check_network_passes_a_correct_backward() -> None:
    x, y = _batch()
    report = gradcheck.check_network(_net(), x, y, "mse")
    assert len(report.rows) == 6
    assert [(r.layer, r.param) for r in report.rows] == [(1, "W"), (1, "b"), (2, "W"), (2, "b"), (3, "W"), (3, "b")]
    assert report.max_rel_error == max(r.rel_error for r in report.rows)
    assert report.max_rel_error < 1e-7
    assert all(r.max_abs_error < 1e-8 for r in report.rows)
    assert report.passed() and report.passed(1e-7)
    assert not report.passed(0.0)


def test_check_network_detects_a_wrong_derivative() -> None:
    # tanh with its derivative doubled: each hidden layer back-propagates twice
    # the true delta, so layer 2 is off by 2 (|2g - g| / (|2g| + |g|) = 1/3),
    # layer 1 by 4 (3/5), and the output layer is untouched.
    wrong = activations.Activation("tanh_wrong", activations.tanh, lambda z: 2.0 * activations.dtanh(z))
    x, y = _batch()
    report = gradcheck.check_network(_net(wrong), x, y, "mse")
    assert report.max_rel_error > 1e-2
    assert not report.passed()
    by = {(r.layer, r.param): r.rel_error for r in report.rows}
    for p in ("W", "b"):
        assert by[(2, p)] == pytest.approx(1 / 3, rel=1e-5)
        assert by[(1, p)] == pytest.approx(3 / 5, rel=1e-5)
    assert by[(3, "W")] < 1e-7 and by[(3, "b")] < 1e-7


def test_check_network_detects_a_sign_error_in_the_derivative() -> None:
    wrong = activations.Activation("sigmoid_wrong", activations.sigmoid, lambda z: -activations.dsigmoid(z))
    x, y = _batch()
    report = gradcheck.check_network(_net(wrong), x, y, "mse")
    assert report.max_rel_error == pytest.approx(1.0, rel=1e-6)
    assert not report.passed()


def test_check_network_works_on_float64_copy_and_leaves_net_alone() -> None:
    net = _net(dtype=np.float32)
    before = {l: w.copy() for l, w in net.W.items()}
    x, y = _batch()
    report = gradcheck.check_network(net, x, y, "mse")
    # in float32 central differences with h = 1e-6 would be useless; in float64 they pass
    assert report.passed()
    for l in (1, 2, 3):
        assert net.W[l].dtype == np.float32
        assert_array_equal(net.W[l], before[l])


def test_check_network_softmax_cross_entropy() -> None:
    x, _ = _batch()
    report = gradcheck.check_network(_net("softplus"), x, [0, 1, 1, 0], "softmax_cross_entropy")
    assert report.passed()


def test_check_network_errors() -> None:
    x, y = _batch()
    with pytest.raises(TypeError, match=r"net must be a gradlab\.mlp\.Network, got NoneType"):
        gradcheck.check_network(None, x, y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"h must be > 0, got 0\.0"):
        gradcheck.check_network(_net(), x, y, "mse", h=0.0)
    with pytest.raises(ValueError, match=r"y must have the same shape as a, \(4, 2\), got \(4, 3\)"):
        gradcheck.check_network(_net(), x, np.zeros((4, 3)), "mse")
    with pytest.raises(ValueError, match=r"softmax_cross_entropy expects logits"):
        net = mlp.init_network((3, 2), output="sigmoid", rng=0)
        gradcheck.check_network(net, x, [0, 1, 0, 1], "softmax_cross_entropy")
