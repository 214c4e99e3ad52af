"""Tests for gradlab.losses: values and gradients by hand, numerical stability,
label handling and argument errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import losses
from gradlab.gradcheck import numerical_gradient

# --------------------------------------------------------------------------- mean squared error


def test_mse_value_and_gradient_by_hand() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0]])
    # differences [[1, 0], [2, 3]]: sum of squares 14, L = 14 / (2 * B) with B = 2
    assert losses.mse(a, y) == 3.5
    assert_array_equal(losses.dmse(a, y), [[0.5, 0.0], [1.0, 1.5]])
    assert losses.mse(a, a) == 0.0
    assert_array_equal(losses.dmse(a, a), np.zeros((2, 2)))


def test_mse_relates_to_the_usual_conventions_by_the_documented_factors() -> None:
    rng = np.random.default_rng(4)
    a, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))  # B = 6, n_L = 3
    mean_over_entries = float(np.mean((a - y) ** 2))
    sum_over_outputs_mean_over_batch = float(np.sum((a - y) ** 2) / 6)
    assert losses.mse(a, y) == pytest.approx(3 / 2 * mean_over_entries, rel=1e-14)
    assert losses.mse(a, y) == pytest.approx(0.5 * sum_over_outputs_mean_over_batch, rel=1e-14)


def test_mse_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(0)
    a, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    num = numerical_gradient(lambda t: losses.mse(t, y), a)
    assert_allclose(losses.dmse(a, y), num, rtol=1e-7, atol=1e-10)


def test_mse_keeps_float32() -> None:
    a = np.ones((2, 2), dtype=np.float32)
    assert losses.dmse(a, np.zeros((2, 2))).dtype == np.float32


# --------------------------------------------------------------------------- softmax cross-entropy


def naive_ce(z: np.ndarray, labels: np.ndarray) -> float:
    return -sum(math.log(math.exp(z[i, k]) / sum(math.exp(v) for v in z[i])) for i, k in enumerate(labels)) / len(z)


def test_softmax_cross_entropy_matches_naive_formula() -> None:
    rng = np.random.default_rng(1)
    z = 3.0 * rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, size=6)
    assert losses.softmax_cross_entropy(z, labels) == pytest.approx(naive_ce(z, labels), rel=1e-12)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert_allclose(losses.dsoftmax_cross_entropy(z, labels), (p - np.eye(4)[labels]) / 6, rtol=1e-12, atol=1e-15)


def test_uniform_logits_give_log_k() -> None:
    assert losses.softmax_cross_entropy(np.zeros((3, 5)), [0, 2, 4]) == pytest.approx(math.log(5), rel=1e-15)
    assert_allclose(losses.dsoftmax_cross_entropy(np.zeros((1, 4)), [1]), [[0.25, -0.75, 0.25, 0.25]], rtol=1e-15)


def test_softmax_cross_entropy_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(2)
    z = rng.standard_normal((5, 3))
    for y in (rng.integers(0, 3, size=5), rng.dirichlet(np.ones(3), size=5)):
        num = numerical_gradient(lambda t: losses.softmax_cross_entropy(t, y), z)
        assert_allclose(losses.dsoftmax_cross_entropy(z, y), num, rtol=1e-6, atol=1e-10)


def test_softmax_cross_entropy_is_stable_for_huge_logits() -> None:
    z = np.array([[1e4, -1e4]])
    # exp(1e4) overflows: a naive formula would give inf or nan with a warning.
    # Underflow of exp(-2e4) to 0 is the correct answer, so only it is allowed.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert losses.softmax_cross_entropy(z, [0]) == 0.0
        assert losses.softmax_cross_entropy(z, [1]) == 2e4
        assert losses.softmax_cross_entropy(-z, [0]) == 2e4
        assert_array_equal(losses.dsoftmax_cross_entropy(z, [0]), [[0.0, 0.0]])
        assert_array_equal(losses.dsoftmax_cross_entropy(z, [1]), [[1.0, -1.0]])
        # two huge logits close together: L = log(1 + e^-1), not 0 or inf
        z3 = np.array([[1e4, 1e4 - 1.0, -1e4]])
        assert losses.softmax_cross_entropy(z3, [0]) == pytest.approx(math.log1p(math.exp(-1.0)), rel=1e-12)
        assert losses.softmax_cross_entropy(z3, [1]) == pytest.approx(1.0 + math.log1p(math.exp(-1.0)), rel=1e-12)
        # float32 logits too
        assert losses.softmax_cross_entropy(z.astype(np.float32), [1]) == 2e4


def test_softmax_gradient_rows_sum_to_zero() -> None:
    rng = np.random.default_rng(3)
    z = 5.0 * rng.standard_normal((8, 6))
    for y in (rng.integers(0, 6, size=8), rng.dirichlet(np.ones(6), size=8)):
        g = losses.dsoftmax_cross_entropy(z, y)
        assert_allclose(g.sum(axis=1), np.zeros(8), atol=1e-16)
        assert np.all(np.abs(g) <= 1.0 / 8 + 1e-15)  # |p - y| / B <= 1 / B


def test_integer_labels_equal_one_hot_targets() -> None:
    rng = np.random.default_rng(4)
    z = rng.standard_normal((5, 3))
    labels = np.array([2, 0, 1, 1, 2])
    onehot = losses.one_hot(labels, 3)
    assert losses.softmax_cross_entropy(z, labels) == losses.softmax_cross_entropy(z, onehot)
    assert_array_equal(losses.dsoftmax_cross_entropy(z, labels), losses.dsoftmax_cross_entropy(z, onehot))
    # unsigned labels are integers too
    assert losses.softmax_cross_entropy(z, labels.astype(np.uint8)) == losses.softmax_cross_entropy(z, labels)


def test_one_hot() -> None:
    assert_array_equal(losses.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert losses.one_hot(np.array([], dtype=int), 4).shape == (0, 4)
    assert losses.one_hot([1], 2).dtype == np.float64


@pytest.mark.parametrize(
    ("labels", "exc", "match"),
    [
        ([0.0, 1.0], TypeError, r"labels must be a 1-d array of integers, got dtype float64"),
        ([[0, 1]], TypeError, r"labels must be a 1-d array of integers, got dtype int64 and shape \(1, 2\)"),
        ([True, False], TypeError, r"labels must be a 1-d array of integers, got dtype bool"),
        ([0, 3], ValueError, r"labels must lie in \[0, 2\], got values in \[0, 3\]"),
        ([-1, 2], ValueError, r"labels must lie in \[0, 2\], got values in \[-1, 2\]"),
    ],
)
def test_one_hot_errors(labels: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        losses.one_hot(labels, 3)


def test_out_of_range_label_in_cross_entropy() -> None:
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\], got values in \[0, 2\]"):
        losses.softmax_cross_entropy(np.zeros((2, 2)), [0, 2])


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize("fn", [losses.mse, losses.dmse], ids=["mse", "dmse"])
@pytest.mark.parametrize(
    ("a", "y", "match"),
    [
        (np.zeros((2, 3)), np.zeros((2, 2)), r"y must have the same shape as a, \(2, 3\), got \(2, 2\)"),
        (np.zeros((2, 3)), np.zeros(2), r"y must have the same shape as a, \(2, 3\), got \(2,\)"),
        (np.zeros(3), np.zeros(3), r"a must be 2-dimensional, got shape \(3,\)"),
        (np.array([[np.nan, 0.0]]), np.zeros((1, 2)), r"a must be finite, but 1 entry is NaN or inf"),
        (np.zeros((1, 2)), np.array([[0.0, np.inf]]), r"y must be finite, but 1 entry is NaN or inf"),
    ],
)
def test_mse_errors(fn: Any, a: Any, y: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn(a, y)


@pytest.mark.parametrize("fn", [losses.softmax_cross_entropy, losses.dsoftmax_cross_entropy], ids=["ce", "dce"])
@pytest.mark.parametrize(
    ("z", "y", "exc", "match"),
    [
        (np.zeros((3, 2)), [0, 1], ValueError, r"y must have one label per row of z \(3\), got 2"),
        (np.zeros((3, 2)), np.zeros((3, 3)), ValueError,
         r"y must be integer labels of shape \(3,\) or rows of shape \(3, 2\), got \(3, 3\)"),
        (np.zeros((3, 2)), [0.0, 1.0, 1.0], ValueError, r"y must be integer labels of shape \(3,\)"),
        (np.zeros(2), [0], ValueError, r"z must be 2-dimensional, got shape \(2,\)"),
        (np.array([[0.0, np.nan]]), [0], ValueError, r"z must be finite, but 1 entry is NaN or inf"),
        (np.zeros((1, 2)), np.array([[np.nan, 1.0]]), ValueError, r"y must be finite, but 1 entry is NaN or inf"),
        ("logits", [0], TypeError, r"z must be a number or an array of numbers, got str"),
    ],
)
def test_softmax_cross_entropy_errors(fn: Any, z: Any, y: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        fn(z, y)


def test_get_and_registry() -> None:
    assert losses.NAMES == ("mse", "softmax_cross_entropy")
    mse = losses.get("mse")
    assert mse.value is losses.mse and mse.grad is losses.dmse
    assert losses.get(mse) is mse
    assert mse(np.ones((1, 1)), np.zeros((1, 1))) == 0.5  # calling a Loss gives its value
    ce = losses.get("softmax_cross_entropy")
    assert ce.value is losses.softmax_cross_entropy and ce.grad is losses.dsoftmax_cross_entropy


def test_get_errors_list_names() -> None:
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'; expected one of: mse, softmax_cross_entropy"):
        losses.get("cross_entropy")
    with pytest.raises(TypeError, match=r"loss must be a name \(str\) or a Loss, got NoneType"):
        losses.get(None)  # type: ignore[arg-type]
