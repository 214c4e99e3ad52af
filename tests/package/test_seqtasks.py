"""Tests for gradlab.seqtasks: the layout of the adding problem and the copy task, their seeds, the
baselines (1/6 and log S) against the loss of the baseline predictors, loss gradients against finite
differences, stability for huge logits, accuracy by hand, and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import gradcheck
from gradlab import seqtasks as S


@pytest.mark.parametrize("T", [2, 3, 10, 51])
def test_adding_problem_layout(T: int) -> None:
    b = S.adding_problem(200, T, rng=0)
    assert b.x.shape == (200, T, 2) and b.name == "adding" and b.n_out == 1 and (b.B, b.T, b.n_in) == (200, T, 2)
    values, markers = b.x[:, :, 0], b.x[:, :, 1]
    assert np.all((values >= 0) & (values < 1))
    assert_array_equal(markers.sum(axis=1), 2.0)
    half = T // 2
    assert_array_equal(markers[:, :half].sum(axis=1), 1.0)  # one marker in each half
    assert_array_equal(markers[:, half:].sum(axis=1), 1.0)
    assert_allclose(b.target[:, -1], (values * markers).sum(axis=1), rtol=1e-15)
    assert_array_equal(b.mask, np.arange(T)[None, :].repeat(200, 0) == T - 1)
    assert not b.target[:, :-1].any()


def test_adding_problem_seeds_and_marker_positions_cover_each_half() -> None:
    a, b = S.adding_problem(50, 20, rng=3), S.adding_problem(50, 20, rng=3)
    assert_array_equal(a.x, b.x) and not np.array_equal(a.x, S.adding_problem(50, 20, rng=4).x)
    pos = np.argwhere(S.adding_problem(4000, 20, rng=1).x[:, :, 1] == 1)[:, 1]
    assert set(pos) == set(range(20))


def test_adding_baseline_is_one_sixth() -> None:
    assert S.ADDING_BASELINE_MSE == 1 / 6
    b = S.adding_problem(200_000, 4, rng=2)
    value, _ = S.loss(b, np.ones((b.B, b.T, 1)))
    # the mean of (s-1)^2 over n draws, E(s-1)^4 = 1/15: standard error sqrt((1/15 - 1/36)/n) = 4.4e-4
    assert abs(value - 1 / 6) < 5 * 4.4e-4


@pytest.mark.parametrize(("delay", "length", "n_symbols"), [(1, 1, 1), (5, 3, 4), (20, 10, 8)])
def test_copy_task_layout(delay: int, length: int, n_symbols: int) -> None:
    b = S.copy_task(30, delay, n_symbols=n_symbols, length=length, rng=0)
    T = 2 * length + delay
    assert b.x.shape == (30, T, n_symbols + 2) and b.name == "copy" and b.n_out == n_symbols + 1
    assert_array_equal(b.x.sum(axis=2), 1.0)  # one-hot
    ids = b.x.argmax(axis=2)
    assert np.all((ids[:, :length] >= 1) & (ids[:, :length] <= n_symbols))
    assert_array_equal(ids[:, length : length + delay - 1], 0)
    assert_array_equal(ids[:, length + delay - 1], n_symbols + 1)  # the cue at the last blank
    assert_array_equal(ids[:, length + delay :], 0)
    assert_array_equal(b.target[:, -length:], ids[:, :length])
    assert_array_equal(b.target[:, :-length], 0)
    assert b.target.dtype == np.int64
    assert_array_equal(b.mask.sum(axis=1), length) and b.mask[:, -length:].all()


def test_copy_baseline_is_the_loss_of_uniform_symbols() -> None:
    b = S.copy_task(10, 7, n_symbols=8, length=5, rng=1)
    Y = np.zeros((b.B, b.T, b.n_out))
    Y[:, :, 0] = -1e300  # blank ruled out; the symbols uniform
    value, _ = S.loss(b, Y)
    assert value == pytest.approx(math.log(8), rel=1e-14) and S.copy_baseline(8) == math.log(8)
    assert S.copy_baseline(8, length=10, delay=100) == pytest.approx(10 * math.log(8) / 120, rel=1e-15)
    assert S.copy_baseline(1) == 0.0


@pytest.mark.parametrize("task", ["adding", "copy"])
def test_loss_gradient_against_finite_differences(task: str) -> None:
    b = S.adding_problem(3, 6, rng=0) if task == "adding" else S.copy_task(3, 3, n_symbols=3, length=2, rng=0)
    n_out = b.n_out + (task == "copy")  # copy also accepts an extra logit (e.g. for the cue)
    Y = np.random.default_rng(1).standard_normal((b.B, b.T, n_out))
    _, dY = S.loss(b, Y)
    num = gradcheck.numerical_gradient(lambda y: S.loss(b, y)[0], Y)
    assert gradcheck.relative_error(dY, num) <= 1e-8
    assert not dY[~b.mask].any()


def test_copy_loss_by_hand_and_stable_for_huge_logits() -> None:
    b = S.copy_task(1, 1, n_symbols=2, length=1, rng=0)  # T = 3, one output step
    y = int(b.target[0, -1])
    Y = np.zeros((1, 3, 3))
    Y[0, -1] = [0.0, 1.0, 2.0]
    expected = math.log(1 + math.e + math.e**2) - Y[0, -1, y]
    assert S.loss(b, Y)[0] == pytest.approx(expected, rel=1e-14)
    with np.errstate(all="raise"):
        value, dY = S.loss(b, 1e300 * Y)
    assert np.isfinite(value) and np.all(np.isfinite(dY))


def test_non_finite_read_outs_give_a_non_finite_loss_without_warnings() -> None:
    for b in (S.adding_problem(2, 4, rng=0), S.copy_task(2, 2, n_symbols=3, length=2, rng=0)):
        Y = np.full((b.B, b.T, b.n_out), np.inf)
        with np.errstate(all="raise"):
            value, _ = S.loss(b, Y)
        assert not np.isfinite(value)


def test_accuracy_by_hand() -> None:
    b = S.adding_problem(4, 6, rng=0)
    Y = np.zeros((4, 6, 1))
    Y[:, -1, 0] = b.target[:, -1] + np.array([0.0, 0.039, -0.041, 0.5])
    assert S.accuracy(b, Y) == 0.5
    c = S.copy_task(2, 2, n_symbols=3, length=2, rng=0)
    Y = np.zeros((2, c.T, 4))
    for i in range(2):
        for t in range(c.T - 2, c.T):
            Y[i, t, c.target[i, t]] = 1.0
    Y[1, -1] = [5.0, 0.0, 0.0, 0.0]  # one of four outputs wrong
    assert S.accuracy(c, Y) == 0.75


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="T must be >= 2"):
        S.adding_problem(3, 1, rng=0)
    with pytest.raises(TypeError, match="n must be an integer"):
        S.adding_problem(3.0, 5, rng=0)
    with pytest.raises(ValueError, match="delay must be >= 1"):
        S.copy_task(3, 0, rng=0)
    with pytest.raises(ValueError, match="n_symbols must be >= 1"):
        S.copy_task(3, 2, n_symbols=0, rng=0)
    with pytest.raises(ValueError, match="length must be >= 1"):
        S.copy_task(3, 2, length=0, rng=0)
    with pytest.raises(TypeError, match="rng must be"):
        S.copy_task(3, 2, rng=None)
    with pytest.raises(ValueError, match="give both length and delay"):
        S.copy_baseline(8, length=10)
    b = S.adding_problem(2, 4, rng=0)
    with pytest.raises(TypeError, match="batch must be"):
        S.loss("adding", np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="Y must have shape"):
        S.loss(b, np.zeros((2, 5, 1)))
    with pytest.raises(ValueError, match="Y must have n_out = 1"):
        S.accuracy(b, np.zeros((2, 4, 2)))
    c = S.copy_task(2, 2, n_symbols=3, length=2, rng=0)
    with pytest.raises(ValueError, match="Y must have n_out >= 4"):
        S.loss(c, np.zeros((2, c.T, 3)))
    with pytest.raises(ValueError, match="Y must be 3-dimensional"):
        S.loss(c, np.zeros((2, c.T)))
