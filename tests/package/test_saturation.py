"""gradlab.saturation: the window where a sigmoid layer can amplify a gradient."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_window_shrinks_for_large_weights() -> None:
    w = np.array([10.0, 20.0, 50.0, 100.0])
    assert np.all(np.diff(saturation.window_width(w)) < 0)


def test_max_factor() -> None:
    assert saturation.max_factor([-8.0, 2.0]) == pytest.approx([2.0, 0.5])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="w must be finite"):
        saturation.window_width([1.0, np.nan])
    with pytest.raises(TypeError, match="w must be a number or an array of numbers"):
        saturation.window_width("8")
    with pytest.raises(ValueError, match="b must be finite"):
        saturation.window_bounds(8.0, np.inf)
