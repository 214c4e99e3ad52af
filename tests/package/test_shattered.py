"""Tests for gradlab.shattered: the autocorrelation against closed forms and white noise, piece and
flip counts on constructed sequences, the decay laws against their products and limits, and
argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab.shattered import (
    autocorrelation,
    bn_residual_correlation,
    count_pieces,
    feedforward_correlation,
    flip_rate,
    residual_correlation,
)


# --------------------------------------------------------------------------- autocorrelation


def test_autocorrelation_lag_zero_is_one_and_bounded() -> None:
    g = np.random.default_rng(0).standard_normal(100).cumsum()
    r = autocorrelation(g)
    assert r.shape == (100,)
    assert r[0] == pytest.approx(1.0, abs=1e-15)
    assert np.all(np.abs(r) <= 1 + 1e-12)


@pytest.mark.parametrize("B", [4, 10, 256])
@pytest.mark.parametrize("values", [(3.0, -1.0), (0.0, 5.0), (-2.0, -7.5)])
def test_autocorrelation_of_a_step_is_b_minus_3_over_b(B: int, values: tuple[float, float]) -> None:
    g = np.r_[np.full(B // 2, values[0]), np.full(B // 2, values[1])]
    r = autocorrelation(g, max_lag=2)
    assert r[1] == pytest.approx((B - 3) / B, abs=1e-13)
    assert r[2] == pytest.approx((B - 6) / B, abs=1e-13)  # 2 pairs straddle the jump


def test_autocorrelation_of_alternating_signs() -> None:
    B = 50
    g = (-1.0) ** np.arange(B)
    assert autocorrelation(g, max_lag=1)[1] == pytest.approx(-(B - 1) / B, abs=1e-13)


def test_autocorrelation_is_invariant_to_shift_and_scale() -> None:
    g = np.random.default_rng(1).standard_normal(64)
    np.testing.assert_allclose(autocorrelation(3.0 - 7.0 * g, 10), autocorrelation(g, 10), atol=1e-13)


def test_white_noise_autocorrelation_is_within_its_band() -> None:
    B, lags = 4096, 20
    r = autocorrelation(np.random.default_rng(2).standard_normal(B), lags)[1:]
    assert np.all(np.abs(r) < 4.0 / math.sqrt(B))  # each ~ N(0, 1/B)


def test_random_walk_autocorrelation_stays_high() -> None:
    r = autocorrelation(np.random.default_rng(3).standard_normal(256).cumsum(), 1)
    assert r[1] > 0.8


@pytest.mark.parametrize(
    "g, max_lag, exc, match",
    [
        (np.ones(10), None, ValueError, "constant"),
        (np.full(10, 1e300), None, ValueError, "constant"),
        ([1.0], None, ValueError, "at least 2"),
        (np.ones((3, 3)), None, ValueError, "g must be 1-dimensional"),
        ([0.0, np.nan, 1.0], None, ValueError, "g must be finite"),
        ("abc", None, TypeError, "g must"),
        ([0.0, 1.0, 2.0], 3, ValueError, "max_lag must be <= B - 1"),
        ([0.0, 1.0, 2.0], -1, ValueError, "max_lag must be >= 0"),
        ([0.0, 1.0, 2.0], 1.5, TypeError, "max_lag must be an integer"),
    ],
)
def test_autocorrelation_rejects_bad_input(g, max_lag, exc, match) -> None:
    with pytest.raises(exc, match=match):
        autocorrelation(g, max_lag)


# --------------------------------------------------------------------------- pieces and flips


def test_count_pieces() -> None:
    assert count_pieces([1.0, 1.0, 2.0, 2.0, 2.0, -1.0]) == 3
    assert count_pieces(np.ones(7)) == 1
    # rounding-size differences are not jumps, real ones are
    assert count_pieces([1.0, 1.0 + 1e-15, 1.0 - 1e-15]) == 1
    assert count_pieces([1.0, 1.0 + 1e-15, 1.0 - 1e-15], rtol=0.0) == 3
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        count_pieces([1.0, 2.0], rtol=-1.0)


def test_flip_rate_counts_sign_changes() -> None:
    z = np.array([[1.0, -1.0], [1.0, 2.0], [-3.0, 2.0], [-3.0, 2.0]])
    # unit 1 flips once (rows 2-3), unit 2 once (rows 1-2): 2 flips of 3 * 2
    assert flip_rate(z) == pytest.approx(2 / 6)
    assert flip_rate(np.ones((5, 3))) == 0.0


def test_flip_rate_of_independent_patterns_is_one_half() -> None:
    z = np.random.default_rng(4).standard_normal((2000, 50))
    assert flip_rate(z) == pytest.approx(0.5, abs=0.01)


def test_flip_rate_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="z must be 2-dimensional"):
        flip_rate(np.ones(5))
    with pytest.raises(ValueError, match="at least 2 rows"):
        flip_rate(np.ones((1, 5)))
    with pytest.raises(ValueError, match="z must be finite"):
        flip_rate([[0.0, np.inf], [1.0, 1.0]])


# --------------------------------------------------------------------------- decay laws


def test_feedforward_law() -> None:
    assert feedforward_correlation(0) == 1.0
    assert feedforward_correlation(1) == 0.5
    assert feedforward_correlation(50) == pytest.approx(2.0**-50, rel=1e-15)


def test_residual_law_limits() -> None:
    assert residual_correlation(0) == 1.0
    assert residual_correlation(1) == pytest.approx(0.75)
    assert residual_correlation(10) == pytest.approx(0.75**10)
    assert residual_correlation(7, alpha=0.0) == 1.0  # no branch: the identity
    # a huge branch behaves like a feedforward layer, factor -> 1/2
    assert residual_correlation(3, alpha=1e4) == pytest.approx(0.125, rel=1e-6)
    # alpha = 1/sqrt(L) tends to exp(-1/2)
    L = 10**6
    assert residual_correlation(L, alpha=1 / math.sqrt(L)) == pytest.approx(math.exp(-0.5), rel=1e-5)
    assert residual_correlation(5, alpha=-2.0) == residual_correlation(5, alpha=2.0)


def test_bn_residual_law_is_the_product_and_decays_like_inverse_sqrt() -> None:
    assert bn_residual_correlation(0) == pytest.approx(1.0, rel=1e-14)
    for L in (1, 2, 7, 50):
        product = math.prod((l + 0.5) / (l + 1) for l in range(1, L + 1))
        assert bn_residual_correlation(L) == pytest.approx(product, rel=1e-12)
    L = 10**6
    assert bn_residual_correlation(L) * math.sqrt(L) == pytest.approx(2 / math.sqrt(math.pi), rel=1e-5)
    # sublinear and slower than the plain resnet's (3/4)^L from L = 2 on
    assert all(bn_residual_correlation(L) > residual_correlation(L) for L in range(2, 60))


@pytest.mark.parametrize(
    "fn, args, exc, match",
    [
        (feedforward_correlation, (-1,), ValueError, "L must be >= 0"),
        (feedforward_correlation, (2.0,), TypeError, "L must be an integer"),
        (residual_correlation, (True,), TypeError, "L must be an integer"),
        (residual_correlation, (3, float("nan")), ValueError, "alpha must be finite"),
        (residual_correlation, (3, "1"), TypeError, "alpha must be a real number"),
        (bn_residual_correlation, (-5,), ValueError, "L must be >= 0"),
        (bn_residual_correlation, (None,), TypeError, "L must be an integer"),
    ],
)
def test_laws_reject_bad_input(fn, args, exc, match) -> None:
    with pytest.raises(exc, match=match):
        fn(*args)
