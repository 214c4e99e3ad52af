"""Chapter 4, "The sigmoid derivative": every glued number, and the claims the prose makes.

``expected_glue()`` repeats the page's computations with the same gradlab calls,
grids and seeds; ``tests/test_built_book.py`` compares it with the built page.
The other tests check the claims themselves (analytic values, bounds, formula
against brute force), each with its tolerance stated where it is used.
"""

from __future__ import annotations

import itertools
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit, ndtr

from gradlab import activations, init, saturation

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch4_sigmoid_derivative.md"

# The page's grids and parameters (keep in step with book/ch4_sigmoid_derivative.md).
Z = np.linspace(-8, 8, 1601)          # sigma, sigma' and tanh' grid, step 0.01, contains 0
H = 1e-5                              # central-difference step
A_GRID = np.linspace(-4, 4, 80001)    # brute-force window grid, step 1e-4
WEIGHTS = np.arange(-30.0, 31.0)
BIASES = (0.0, 1.0, -2.5)
N = 256                               # layer width for the initialisation statistics
SCHEMES: dict[str, tuple[dict[str, float], int]] = {
    "standard": ({}, 1),
    "xavier_uniform": ({}, 2),
    "xavier_normal": ({}, 3),
    "he_normal": ({}, 4),
    "normal": ({"std": 1.0}, 5),
}
EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------- the page's computations


@lru_cache(maxsize=None)
def _window_bruteforce() -> dict[str, Any]:
    """Measured width (count of grid points with factor >= 1, times da) and area, per (w, b)."""
    da = A_GRID[1] - A_GRID[0]
    w_col, b_col, measured, predicted, areas, edge = [], [], [], [], [], []
    for w, b in itertools.product(WEIGHTS, BIASES):
        factor = np.abs(w) * activations.dsigmoid(w * A_GRID + b)
        w_col.append(w)
        b_col.append(b)
        measured.append(np.count_nonzero(factor >= 1) * da)
        predicted.append(float(saturation.window_width(w)))
        edge.append(max(factor[0], factor[-1]))
        if abs(w) >= 4:
            areas.append(factor.sum() * da)
    return {
        "da": da,
        "w": np.array(w_col),
        "b": np.array(b_col),
        "measured": np.array(measured),
        "predicted": np.array(predicted),
        "areas": np.array(areas),
        "edge": np.array(edge),
    }


@lru_cache(maxsize=None)
def _init_stats() -> dict[str, dict[str, Any]]:
    stats = {}
    for name, (kwargs, seed) in SCHEMES.items():
        W = init.get(name)(N, N, rng=seed, **kwargs)
        stats[name] = {
            "in01": np.mean((W > 0) & (W < 1)),
            "neg": np.mean(W < 0),
            "gt1": np.mean(np.abs(W) > 1),
            "median": np.median(np.abs(W)),
            "maxabs": np.max(np.abs(W)),
            "ge4": int(np.count_nonzero(np.abs(W) >= 4)),
        }
    return stats


@lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    """Every key that book/ch4_sigmoid_derivative.md glues, with the value the page must show."""
    s = activations.sigmoid(Z)
    ds = activations.dsigmoid(Z)
    central = (activations.sigmoid(Z + H) - activations.sigmoid(Z - H)) / (2 * H)
    i_max = int(np.argmax(ds))
    t = activations.tanh(Z)
    dt = activations.dtanh(Z)
    relu_values = sorted({int(v) for v in activations.drelu(Z)})
    bf = _window_bruteforce()
    best = saturation.max_window_width()
    stats = _init_stats()

    g: dict[str, Any] = {
        "ch4_err_formula": float(np.max(np.abs(ds - s * (1 - s)))),
        "ch4_err_fd": float(np.max(np.abs(ds - central))),
        "ch4_fd_truncation": float(H**2 / 48),
        "ch4_fd_rounding": float(np.finfo(float).eps / H),
        "ch4_dsig_max": float(ds[i_max]),
        "ch4_dsig_argmax": float(Z[i_max]),
        "ch4_z_one_percent": float(np.min(np.abs(Z[ds < 0.01]))),
        "ch4_quarter_pow10": float(0.25**10),
        "ch4_layers_below_1e6": int(next(L for L in itertools.count(1) if 0.25**L < 1e-6)),
        "ch4_window_pairs": len(bf["measured"]),
        "ch4_window_da": float(bf["da"]),
        "ch4_window_err": float(np.max(np.abs(bf["measured"] - bf["predicted"]))),
        "ch4_area_err": float(np.max(np.abs(bf["areas"] - 1))),
        "ch4_wmax_w": best.w,
        "ch4_wmax_width": best.width,
        "ch4_width_w30": float(saturation.window_width(30.0)),
        "ch4_tanh_err": float(np.max(np.abs(dt - (1 - t**2)))),
        "ch4_dtanh_max": float(dt.max()),
        "ch4_dtanh_argmax": float(Z[np.argmax(dt)]),
        "ch4_relu_values": "{" + ", ".join(map(str, relu_values)) + "}",
        "ch4_init_n": N,
        "ch4_init_count": N * N,
        "ch4_std_bound": float(1 / np.sqrt(N)),
        "ch4_xav_median": float(stats["xavier_normal"]["median"]),
        "ch4_nrm_gt1": float(stats["normal"]["gt1"]),
        "ch4_nrm_ge4": stats["normal"]["ge4"],
    }
    for key, name in [("std", "standard"), ("xav", "xavier_normal"), ("nrm", "normal")]:
        for stat in ("in01", "neg", "maxabs"):
            g[f"ch4_{key}_{stat}"] = float(stats[name][stat])
    # the exercises at the end of the chapter
    s2 = activations.sigmoid(2 * Z)
    wide = ex_widest()
    g.update({
        "ch4_ex_tanh_id_err": float(np.max(np.abs((1 - np.tanh(Z) ** 2) - 4 * s2 * (1 - s2)))),
        "ch4_ex_tanh_one_percent": float(np.min(np.abs(Z[4 * activations.dsigmoid(2 * Z) < 0.01]))),
        "ch4_ex_r_star": wide["r"],
        "ch4_ex_w_star": wide["w"],
        "ch4_ex_width_star": wide["width"],
        "ch4_ex_w_star_diff": float(abs(wide["w"] - best.w)),
        "ch4_ex_tanh_window_err": ex_tanh_window_err(),
        "ch4_ex_tanh_w_star": float(wide["w"] / 4),
        "ch4_ex_tanh_width_star": float(2 * wide["width"]),
    })
    return g


# --------------------------------------------------------------------------- the page and the tests agree


def test_glued_values_are_plain_python_types() -> None:
    for key, value in expected_glue().items():
        assert key.startswith("ch4_"), key
        assert type(value) in (int, float, str), f"{key}: {type(value).__name__}"


def test_page_glues_exactly_the_expected_keys() -> None:
    # A static check that runs without building the book; test_built_book compares the values.
    text = PAGE.read_text(encoding="utf-8")
    literal = set(re.findall(r'glue\(\s*"(ch4_\w+)"', text))
    # The page glues the per-scheme statistics in a loop over these f-string keys.
    looped = {f"ch4_{k}_{s}" for k in ("std", "xav", "nrm") for s in ("in01", "neg", "maxabs")}
    assert 'glue(f"ch4_{key}_{stat}"' in text
    assert literal | looped == set(expected_glue())
    shown = set(re.findall(r"\{glue:text\}`(ch4_\w+)", text))
    assert shown <= set(expected_glue()), f"prose shows unglued keys: {sorted(shown - set(expected_glue()))}"


# --------------------------------------------------------------------------- sigma' = sigma (1 - sigma)


def test_dsigmoid_matches_the_derived_formula_to_rounding() -> None:
    # A few units in the last place of 1/4 (one ulp of 0.25 is 5.6e-17): at most 4 ulps.
    assert expected_glue()["ch4_err_formula"] <= 4 * np.spacing(0.25)


def test_central_difference_error_is_the_rounding_term() -> None:
    g = expected_glue()
    # Total error bound: truncation h^2/48 plus a generous rounding allowance 4 eps/h.
    assert g["ch4_err_fd"] <= g["ch4_fd_truncation"] + 4 * EPS / H
    # "The gap we see is the rounding term": larger than the truncation bound, of the order eps/h.
    assert g["ch4_err_fd"] > g["ch4_fd_truncation"]
    assert 0.1 * g["ch4_fd_rounding"] <= g["ch4_err_fd"] <= 10 * g["ch4_fd_rounding"]


def test_third_derivative_bounds_used_for_the_truncation_error() -> None:
    # sigma''' = sigma'(1 - 6 sigma') lies in [-1/8, 1/24]; check against a finite difference of sigma''.
    z = np.linspace(-10, 10, 2001)
    ds = activations.dsigmoid(z)
    s3 = ds * (1 - 6 * ds)
    d2 = lambda x: activations.dsigmoid(x) * (1 - 2 * activations.sigmoid(x))  # noqa: E731
    fd = (d2(z + 1e-5) - d2(z - 1e-5)) / 2e-5
    np.testing.assert_allclose(s3, fd, atol=1e-9)
    assert s3.min() >= -1 / 8 - 1e-15 and s3.max() <= 1 / 24 + 1e-15
    assert s3.min() == pytest.approx(-1 / 8, abs=1e-12)  # attained at z = 0


def test_sigmoid_derivative_maximum_is_one_quarter_at_zero() -> None:
    g = expected_glue()
    assert activations.dsigmoid(0.0) == 0.25
    assert g["ch4_dsig_max"] == 0.25 and g["ch4_dsig_argmax"] == 0.0
    # Completing the square: 1/4 - s(1 - s) = (s - 1/2)^2 >= 0, zero only at z = 0.
    s = activations.sigmoid(Z)
    ds = activations.dsigmoid(Z)
    np.testing.assert_allclose(0.25 - s * (1 - s), (s - 0.5) ** 2, atol=1e-16)
    assert np.all(ds <= 0.25)
    assert np.count_nonzero(ds == 0.25) == 1
    # Even (the float grid is symmetric only to rounding), and decreasing in |z|.
    np.testing.assert_allclose(ds, ds[::-1], rtol=1e-12)
    assert np.all(np.diff(ds[Z >= 0]) < 0)


def test_one_percent_point_on_the_grid_matches_the_exact_crossing() -> None:
    # sigma'(z) = 0.01 at z = ln(s+/s-), s+- = (1 +- sqrt(1 - 0.04)) / 2; the grid step is 0.01.
    r = math.sqrt(1 - 4 * 0.01)
    exact = math.log((1 + r) / (1 - r))
    got = expected_glue()["ch4_z_one_percent"]
    assert exact <= got < exact + 0.01 + 1e-12
    assert activations.dsigmoid(got) < 0.01 <= activations.dsigmoid(got - 0.01)


# --------------------------------------------------------------------------- (1/4)^L


def test_quarter_powers() -> None:
    g = expected_glue()
    assert g["ch4_quarter_pow10"] == 2.0**-20
    assert g["ch4_layers_below_1e6"] == 10
    assert 0.25**9 >= 1e-6 > 0.25**10
    # The table: (1/4)^L and 4^L are reciprocal for L = 1..10.
    for L in range(1, 11):
        assert 0.25**L * 4**L == 1.0


# --------------------------------------------------------------------------- the window


def test_window_width_formula_equals_brute_force_count() -> None:
    # A count of grid points resolves an interval only to one step da; one more step is allowed for
    # a boundary point whose factor rounds to the other side of 1. Tolerance: 2 da = 2e-4.
    bf = _window_bruteforce()
    g = expected_glue()
    assert g["ch4_window_err"] <= 2 * bf["da"]
    # Not vacuous: the windows really are inside the grid and really are non-empty.
    assert np.all(bf["edge"] < 1), "a window reaches the edge of the a-grid"
    assert np.all(bf["edge"][np.abs(bf["w"]) >= 4] < 1e-3)  # bumps inside the grid, for the area check
    wide = np.abs(bf["w"]) >= 5
    assert np.all(bf["measured"][wide] > 0.1)
    # The bias only shifts the window: the same width for every b.
    for w in WEIGHTS:
        widths = bf["measured"][bf["w"] == w]
        assert np.ptp(widths) <= 2 * bf["da"]


def test_window_is_empty_below_four() -> None:
    w = np.linspace(-3.999, 3.999, 4001)
    assert np.all(saturation.window_width(w) == 0.0)
    assert np.all(saturation.max_factor(w) < 1)
    bf = _window_bruteforce()
    assert np.all(bf["measured"][np.abs(bf["w"]) < 4] == 0.0)
    assert float(saturation.window_width(4.0)) == 0.0


def test_window_formula_follows_from_the_quadratic() -> None:
    # Solve s(1 - s) = 1/|w| numerically and build the width from the roots, as in the derivation.
    for w in (4.2, 5.0, 6.9, 10.0, 30.0, -12.0):
        s_minus, s_plus = sorted(np.roots([1.0, -1.0, 1 / abs(w)]).real)
        assert s_minus + s_plus == pytest.approx(1.0)            # 1 - s+ = s-
        width = 2 / abs(w) * math.log(s_plus / s_minus)
        assert float(saturation.window_width(w)) == pytest.approx(width, rel=1e-9)
        lo, hi = saturation.window_bounds(w, 0.7)
        assert float(hi - lo) == pytest.approx(width, rel=1e-9)
        # At the ends the factor is exactly 1.
        for end in (lo, hi):
            assert abs(w) * float(activations.dsigmoid(w * end + 0.7)) == pytest.approx(1.0, rel=1e-9)


def test_window_maximum_is_where_the_derivative_vanishes() -> None:
    best = saturation.max_window_width()
    delta = lambda w: float(saturation.window_width(w))  # noqa: E731
    step = 1e-4
    slope = (delta(best.w + step) - delta(best.w - step)) / (2 * step)
    # Central difference at a point ~1e-10 from the maximiser; |Delta''| is about 0.03, so the
    # slope there is ~1e-11, and rounding in the quotient is ~eps/step ~ 1e-12.
    assert abs(slope) < 1e-8
    # A maximum, not a minimum or an inflexion: rising before, falling after.
    for d in (0.05, 0.5):
        assert (delta(best.w - d + step) - delta(best.w - d - step)) > 0
        assert (delta(best.w + d + step) - delta(best.w + d - step)) < 0
    # And the global maximum over a dense grid of |w| in [4, 30] (and far beyond).
    w = np.linspace(4, 1000, 200001)
    assert np.max(saturation.window_width(w)) <= best.width + 1e-12
    assert 4 < best.w < 30
    assert best.width == expected_glue()["ch4_wmax_width"]


def test_window_is_narrow_and_narrows_for_large_weights() -> None:
    g = expected_glue()
    assert g["ch4_wmax_width"] < 0.5                       # "less than half a unit of a at best"
    assert g["ch4_width_w30"] < g["ch4_wmax_width"]
    w = np.linspace(g["ch4_wmax_w"] + 1e-3, 1e4, 100001)
    assert np.all(np.diff(saturation.window_width(w)) < 0)  # decreasing beyond the maximum
    # Delta(w) ~ 2 ln|w| / |w| for large |w|.
    for big in (1e4, 1e6, 1e8):
        assert float(saturation.window_width(big)) == pytest.approx(2 * math.log(big) / big, rel=1e-3)


def test_area_under_the_factor_is_one_and_its_mean_over_unit_inputs_below_one() -> None:
    # Riemann sum on the page's grid: the bumps' tails beyond |a| = 4 and the sum's error, < 1e-5.
    assert expected_glue()["ch4_area_err"] < 1e-5
    for w, b in [(4.0, 0.0), (7.0, -3.0), (-20.0, 5.0), (60.0, -30.0), (0.3, 0.1)]:
        area, _ = integrate.quad(lambda a: abs(w) * float(activations.dsigmoid(w * a + b)), -np.inf, np.inf,
                                 points=None)
        assert area == pytest.approx(1.0, abs=1e-7)
        mean01, _ = integrate.quad(lambda a: abs(w) * float(activations.dsigmoid(w * a + b)), 0.0, 1.0)
        assert mean01 == pytest.approx(abs(expit(w + b) - expit(b)), abs=1e-9)
        assert mean01 < 1


# --------------------------------------------------------------------------- tanh and ReLU


def test_tanh_and_relu_derivatives() -> None:
    g = expected_glue()
    assert g["ch4_tanh_err"] < 1e-15
    assert g["ch4_dtanh_max"] == 1.0 and g["ch4_dtanh_argmax"] == 0.0
    np.testing.assert_allclose(activations.dtanh(Z), 4 * activations.dsigmoid(2 * Z), rtol=1e-15)
    np.testing.assert_allclose(activations.tanh(Z), 2 * activations.sigmoid(2 * Z) - 1, atol=1e-15)
    assert g["ch4_relu_values"] == "{0, 1}"
    assert np.all(activations.drelu(Z[Z > 0]) == 1) and np.all(activations.drelu(Z[Z <= 0]) == 0)


# --------------------------------------------------------------------------- initialisation


def test_initial_weights_are_not_in_zero_one() -> None:
    stats = _init_stats()
    n = N * N
    se_half = math.sqrt(0.25 / n)  # standard error of a fraction near 1/2; 4 SE is the tolerance
    for name in SCHEMES:
        st = stats[name]
        assert abs(st["neg"] - 0.5) < 4 * se_half, name        # about half negative
        assert st["in01"] < 0.6, name                           # far from "all in (0, 1)"
    for name in ("standard", "xavier_uniform", "xavier_normal", "he_normal"):
        st = stats[name]
        assert st["maxabs"] < 1 and st["gt1"] == 0 and st["ge4"] == 0, name
        assert abs(st["in01"] - 0.5) < 4 * se_half, name        # all |w| < 1: positive = in (0, 1)
    # The standard scheme stays inside +-1/sqrt(n).
    assert stats["standard"]["maxabs"] < 1 / math.sqrt(N)
    assert stats["standard"]["maxabs"] > 0.99 / math.sqrt(N)
    # Xavier normal: median |w| = 0.6745 * sqrt(2 / (2n)), within a few per cent.
    assert stats["xavier_normal"]["median"] == pytest.approx(0.6745 * math.sqrt(1 / N), rel=0.03)


def test_unscaled_normal_statistics_match_the_gaussian() -> None:
    st = _init_stats()["normal"]
    n = N * N
    p01 = float(ndtr(1.0) - 0.5)                # P(0 < w < 1) for w ~ N(0, 1)
    assert abs(st["in01"] - p01) < 4 * math.sqrt(p01 * (1 - p01) / n)
    pgt1 = float(2 * ndtr(-1.0))
    assert abs(st["gt1"] - pgt1) < 4 * math.sqrt(pgt1 * (1 - pgt1) / n)
    # |w| >= 4 is rare: expected count n * 2 Phi(-4) ~ 4; a Poisson count within 4 + 4 sqrt(4).
    expected = n * float(2 * ndtr(-4.0))
    assert st["ge4"] <= expected + 4 * math.sqrt(expected)
    assert st["ge4"] / n < 1e-3
    assert (st["maxabs"] >= 4) == (st["ge4"] > 0)
    assert st["maxabs"] < 5.5  # P(max of 65536 |N(0,1)| draws > 5.5) is about 0.3 %


# --------------------------------------------------------------------------- exercises

TANH_WEIGHTS = (0.5, 1.5, 2.0, 3.0, -2.5, 5.0, 8.0)  # the weights of exercise ex-ch4-tanh-window


@lru_cache(maxsize=None)
def ex_widest() -> dict[str, float]:
    """Exercise ex-ch4-widest: the root of 2 artanh(r) = 1/r, and the weight and width it gives."""
    from scipy.optimize import brentq

    r = brentq(lambda r: 2 * np.arctanh(r) - 1 / r, 0.1, 0.99, xtol=1e-15)
    return {"r": float(r), "w": float(4 / (1 - r**2)), "width": float((1 - r**2) / (2 * r))}


@lru_cache(maxsize=None)
def ex_tanh_window_err() -> float:
    """Exercise ex-ch4-tanh-window: grid count of |w tanh'(wa + 0.3)| >= 1 against 2 Delta(4w)."""
    da = A_GRID[1] - A_GRID[0]
    err = 0.0
    for w in TANH_WEIGHTS:
        counted = np.count_nonzero(abs(w) * activations.dtanh(w * A_GRID + 0.3) >= 1) * da
        err = max(err, abs(counted - 2 * float(saturation.window_width(4 * w))))
    return float(err)


def test_ex_tanh_is_a_rescaled_sigmoid() -> None:
    g = expected_glue()
    assert g["ch4_ex_tanh_id_err"] < 4 * EPS  # rounding in numbers of size up to 1
    np.testing.assert_allclose(np.tanh(Z), 2 * activations.sigmoid(2 * Z) - 1, atol=4 * EPS)
    # tanh' < 0.01 exactly where sigma'(2z) < 0.0025: the exact crossing, and the grid point after it
    r = math.sqrt(1 - 4 * 0.0025)
    exact = math.log((1 + r) / (1 - r)) / 2
    assert exact <= g["ch4_ex_tanh_one_percent"] < exact + 0.01 + 1e-12
    # "tanh saturates sooner in z than the sigmoid, but its slope starts four times higher"
    assert g["ch4_ex_tanh_one_percent"] < g["ch4_z_one_percent"]
    assert float(activations.dtanh(0.0)) == 4 * float(activations.dsigmoid(0.0)) == 1.0


def test_ex_widest_window_solves_the_stationarity_equation() -> None:
    g = expected_glue()
    r, w, width = g["ch4_ex_r_star"], g["ch4_ex_w_star"], g["ch4_ex_width_star"]
    assert 2 * math.atanh(r) == pytest.approx(1 / r, rel=1e-14)
    assert r == pytest.approx(math.sqrt(1 - 4 / w), rel=1e-12)
    # the closed form (1 - r^2)/(2r) is the window formula at w*, and equals 2/(r w*)
    assert width == pytest.approx(float(saturation.window_width(w)), rel=1e-13)
    assert width == pytest.approx(2 / (r * w), rel=1e-14)
    # d Delta/dw = (2/w^2)(1/r - u*): by central differences, and zero at w*
    du = lambda ww: 2 * math.atanh(math.sqrt(1 - 4 / ww))  # noqa: E731
    for ww in (5.0, 6.0, 8.0, 12.0):
        h = 1e-6
        fd = (float(saturation.window_width(ww + h)) - float(saturation.window_width(ww - h))) / (2 * h)
        rr = math.sqrt(1 - 4 / ww)
        assert fd == pytest.approx(2 / ww**2 * (1 / rr - du(ww)), rel=1e-6)
        assert (fd > 0) == (ww < w)
    # the optimiser agrees to about sqrt(eps) in the weight, exactly in the width
    best = saturation.max_window_width()
    assert g["ch4_ex_w_star_diff"] < 10 * math.sqrt(EPS)
    assert best.width == pytest.approx(width, rel=1e-14)


def test_ex_tanh_window_is_twice_the_sigmoid_window_at_four_times_the_weight() -> None:
    g = expected_glue()
    da = A_GRID[1] - A_GRID[0]
    # counting grid points resolves the width to one step (two for a boundary point that rounds over)
    assert g["ch4_ex_tanh_window_err"] <= 2 * da
    # the threshold |w| >= 1: empty below, open above
    assert float(saturation.window_width(4 * 0.999)) == 0.0 < float(saturation.window_width(4 * 1.001))
    assert np.count_nonzero(0.999 * activations.dtanh(0.999 * A_GRID) >= 1) == 0
    # widest at |w*|/4, twice as wide as the sigmoid's widest window
    assert g["ch4_ex_tanh_w_star"] == pytest.approx(g["ch4_wmax_w"] / 4, rel=1e-8)
    assert g["ch4_ex_tanh_width_star"] == pytest.approx(2 * g["ch4_wmax_width"], rel=1e-13)
    # the tanh factor is the sigmoid factor of weight 4w, bias 2b, input a/2 (pointwise identity)
    for w, b in ((1.5, 0.3), (-2.5, 1.0), (8.0, -0.7)):
        lhs = abs(w) * activations.dtanh(w * A_GRID[::97] + b)
        rhs = abs(4 * w) * activations.dsigmoid(4 * w * A_GRID[::97] / 2 + 2 * b)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-13, atol=1e-300)
