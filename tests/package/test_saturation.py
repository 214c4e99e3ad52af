"""gradlab.saturation: the window where a sigmoid layer can amplify a gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit

from gradlab import activations, saturation


def brute_force_width(w: float, b: float = 0.0, *, step: float = 1e-5) -> float:
    """Measure of {a : |w σ'(w a + b)| >= 1} on a grid of spacing ``step``."""
    a = np.arange(-5, 5, step)
    return float(np.count_nonzero(np.abs(w * activations.dsigmoid(w * a + b)) >= 1) * step)


@pytest.mark.parametrize("w", [4.5, 6.9, 10.0, -8.0, 25.0])
def test_width_formula_matches_brute_force(w: float) -> None:
    # The grid resolves the two end points to within one step each.
    assert saturation.window_width(w) == pytest.approx(brute_force_width(w), abs=3e-5)


def test_bias_shifts_but_does_not_change_the_window() -> None:
    lo0, hi0 = saturation.window_bounds(8.0, 0.0)
    lo, hi = saturation.window_bounds(8.0, 2.0)
    assert hi - lo == pytest.approx(hi0 - lo0)
    assert lo == pytest.approx(lo0 - 2.0 / 8.0)
    assert brute_force_width(8.0, 2.0) == pytest.approx(float(hi - lo), abs=3e-5)


def test_factor_is_exactly_one_at_the_window_edges() -> None:
    for w, b in [(5.0, 0.3), (-12.0, 1.0)]:
        for edge in saturation.window_bounds(w, b):
            assert abs(w * activations.dsigmoid(w * edge + b)) == pytest.approx(1.0, rel=1e-9)


def test_no_window_below_four() -> None:
    w = np.array([0.0, 1.0, -3.99, 3.999999])
    assert np.all(saturation.window_width(w) == 0.0)
    lo, hi = saturation.window_bounds(w)
    assert np.all(np.isnan(lo)) and np.all(np.isnan(hi))
    assert saturation.window_width(4.0) == 0.0  # a single point has width zero
    assert np.all(saturation.window_width(np.linspace(-3.999, 3.999, 4001)) == 0.0)
    assert saturation.window_width(4.004) > 0.0  # and it opens just above


def test_width_formula_follows_from_the_quadratic() -> None:
    # Solve s(1 - s) = 1/|w| numerically and build the width from the roots, as the derivation does.
    for w in (4.2, 5.0, 6.9, 10.0, 30.0, -12.0):
        s_minus, s_plus = sorted(np.roots([1.0, -1.0, 1 / abs(w)]).real)
        assert s_minus + s_plus == pytest.approx(1.0)  # 1 - s+ = s-
        width = 2 / abs(w) * math.log(s_plus / s_minus)
        assert float(saturation.window_width(w)) == pytest.approx(width, rel=1e-9)
        lo, hi = saturation.window_bounds(w, 0.7)
        assert float(hi - lo) == pytest.approx(width, rel=1e-9)


def test_maximum_is_a_stationary_point_and_matches_nielsen() -> None:
    best = saturation.max_window_width()
    h = 1e-4
    slope = (saturation.window_width(best.w + h) - saturation.window_width(best.w - h)) / (2 * h)
    assert abs(slope) < 1e-6
    assert best.width > saturation.window_width(best.w * 0.9)
    assert best.width > saturation.window_width(best.w * 1.1)
    # Nielsen (2015, ch. 5) quotes a largest width of about 0.45 at |w| about 6.9.
    assert best.width == pytest.approx(0.45, abs=0.005)
    assert best.w == pytest.approx(6.9, abs=0.05)


def test_maximum_is_global() -> None:
    best = saturation.max_window_width()
    assert 4 < best.w < 30
    w = np.linspace(4, 1000, 200001)
    assert np.max(saturation.window_width(w)) <= best.width + 1e-12


def test_slope_of_the_width_and_its_root() -> None:
    # With r = sqrt(1 - 4/w) and u* = 2 artanh r, dDelta/dw = (2/w^2)(1/r - u*): positive below the
    # widest window, negative above it; zero where 2 artanh r = 1/r.
    best = saturation.max_window_width()
    h = 1e-6
    for w in (5.0, 6.0, 8.0, 12.0):
        fd = (float(saturation.window_width(w + h)) - float(saturation.window_width(w - h))) / (2 * h)
        r = math.sqrt(1 - 4 / w)
        assert fd == pytest.approx(2 / w**2 * (1 / r - 2 * math.atanh(r)), rel=1e-6)
        assert (fd > 0) == (w < best.w)


def test_window_shrinks_for_large_weights() -> None:
    w = np.array([10.0, 20.0, 50.0, 100.0])
    assert np.all(np.diff(saturation.window_width(w)) < 0)
    best = saturation.max_window_width()
    w = np.linspace(best.w + 1e-3, 1e4, 100001)
    assert np.all(np.diff(saturation.window_width(w)) < 0)  # decreasing all the way beyond the maximum
    for big in (1e4, 1e6, 1e8):  # Delta(w) ~ 2 ln|w| / |w|
        assert float(saturation.window_width(big)) == pytest.approx(2 * math.log(big) / big, rel=1e-3)


@pytest.mark.parametrize(("w", "b"), [(4.0, 0.0), (7.0, -3.0), (-20.0, 5.0), (60.0, -30.0), (0.3, 0.1)])
def test_factor_has_area_one_and_mean_below_one_over_unit_inputs(w: float, b: float) -> None:
    # int |w| sigma'(wa + b) da = 1 for every w != 0 and b; over a in (0, 1) it is |sigma(w + b) - sigma(b)|.
    def factor(a: float) -> float:
        return abs(w) * float(activations.dsigmoid(w * a + b))

    area, _ = integrate.quad(factor, -np.inf, np.inf)
    assert area == pytest.approx(1.0, abs=1e-7)
    mean01, _ = integrate.quad(factor, 0.0, 1.0)
    assert mean01 == pytest.approx(abs(expit(w + b) - expit(b)), abs=1e-9)
    assert mean01 < 1


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="w must be finite"):
        saturation.window_width([1.0, np.nan])
    with pytest.raises(TypeError, match="w must be a number or an array of numbers"):
        saturation.window_width("8")
    with pytest.raises(ValueError, match="b must be finite"):
        saturation.window_bounds(8.0, np.inf)
