"""Chapter 4, "The sigmoid derivative": the claims its prose makes, asserted on the values its build glued.

Nothing here recomputes the chapter. Generic behaviour of ``gradlab.activations`` and
``gradlab.saturation`` (the window formula, its maximum, the area under the factor) is
unit-tested in tests/package.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab import activations, saturation, theory

PAGE = "ch4_sigmoid_derivative"
pytestmark = pytest.mark.built_book

EPS = 2.0**-52
H = 1e-5  # the page's central-difference step
N = 256  # the page's layer width for the initialisation statistics
ULP_QUARTER = 2.0**-54  # np.spacing(0.25)


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def one_percent_crossing(level: float) -> float:
    """The z > 0 where sigma'(z) = level: sigma(z) = s+ with s+- = (1 +- sqrt(1 - 4 level)) / 2."""
    r = math.sqrt(1 - 4 * level)
    return math.log((1 + r) / (1 - r))


# --------------------------------------------------------------------------- sigma' = sigma (1 - sigma)


def test_dsigmoid_matches_the_derived_formula_to_rounding(glue) -> None:
    # "a few units in the last place of numbers near 1/4": at most 4 ulps
    assert glue["ch4_err_formula"] <= 4 * ULP_QUARTER


def test_central_difference_error_is_the_rounding_term(glue) -> None:
    assert glue["ch4_fd_truncation"] == pytest.approx(H**2 / 48, rel=1e-15)
    assert glue["ch4_fd_rounding"] == pytest.approx(EPS / H, rel=1e-15)
    # total error bound: truncation h^2/48 plus a generous rounding allowance 4 eps/h
    assert glue["ch4_err_fd"] <= glue["ch4_fd_truncation"] + 4 * glue["ch4_fd_rounding"]
    # "The gap we see is the rounding term": above the truncation bound, of the order eps/h
    assert glue["ch4_err_fd"] > glue["ch4_fd_truncation"]
    assert 0.1 * glue["ch4_fd_rounding"] <= glue["ch4_err_fd"] <= 10 * glue["ch4_fd_rounding"]


def test_third_derivative_bounds_used_for_the_truncation_error() -> None:
    # sigma''' = sigma'(1 - 6 sigma'): a central difference of sigma'' = sigma'(1 - 2 sigma) agrees ...
    for z in (-6.0, -1.3, 0.0, 0.7, 2.5):
        s = sigma(z)
        d1 = s * (1 - s)
        d2 = lambda x: sigma(x) * (1 - sigma(x)) * (1 - 2 * sigma(x))  # noqa: E731
        fd = (d2(z + 1e-4) - d2(z - 1e-4)) / 2e-4
        assert fd == pytest.approx(d1 * (1 - 6 * d1), abs=1e-8)
    # ... and so max |sigma'''| = max |p(1 - 6p)| over p = sigma' in (0, 1/4] is 1/8, at p = 1/4 (z = 0):
    # the constant of the h^2/48 bound
    p = [sigma(z) * (1 - sigma(z)) for z in [i / 100 for i in range(-2000, 2001)]]
    assert max(abs(v * (1 - 6 * v)) for v in p) == pytest.approx(1 / 8, rel=1e-12)


def test_sigmoid_derivative_maximum_is_one_quarter_at_zero(glue) -> None:
    assert glue["ch4_dsig_max"] == 0.25 and glue["ch4_dsig_argmax"] == 0.0
    # an even function (the float grid is symmetric only to rounding) that falls off on both sides
    assert glue["ch4_dsig_asym"] < 1e-15
    assert glue["ch4_dsig_n_not_falling"] == 0


def test_one_percent_point_on_the_grid_matches_the_exact_crossing(glue) -> None:
    # sigma'(z) = 0.01 at z = ln(s+/s-); the grid step is 0.01
    exact = one_percent_crossing(0.01)
    got = glue["ch4_z_one_percent"]
    assert exact <= got < exact + 0.01 + 1e-12
    assert activations.dsigmoid(got) < 0.01 <= activations.dsigmoid(got - 0.01)


# --------------------------------------------------------------------------- (1/4)^L


def test_quarter_powers(glue) -> None:
    assert glue["ch4_quarter_pow10"] == 2.0**-20
    assert glue["ch4_layers_below_1e6"] == 10
    assert 0.25**9 >= 1e-6 > 0.25**10  # 10 is the first L with (1/4)^L below one millionth


# --------------------------------------------------------------------------- the window


def test_window_width_formula_equals_brute_force_count(glue) -> None:
    da = glue["ch4_window_da"]
    assert da == pytest.approx(1e-4, rel=1e-9)
    assert glue["ch4_window_pairs"] == 61 * 3  # integer w from -30 to 30, three biases
    # A count of grid points resolves an interval only to one step da; one more step is allowed
    # for a boundary point whose factor rounds to the other side of 1.
    assert glue["ch4_window_err"] <= 2 * da
    # Not vacuous: every bump lies inside the a-grid (so does the area below), and windows are open
    assert glue["ch4_window_edge"] < 1e-3
    assert glue["ch4_window_min_w5"] > 0.1
    # "the bias indeed only moves it": the same counted width for every b
    assert glue["ch4_window_bias_spread"] <= 2 * da


def test_window_is_empty_below_four(glue) -> None:
    # "The weights below 4 in size give an empty window": no grid point with factor >= 1
    assert glue["ch4_window_max_below4"] == 0.0
    # because the factor is at most |w|/4 (< 1 there): the proof's |w sigma'(wa + b)| <= |w|/4,
    # reached at wa + b = 0 ("Larger weights do raise the peak factor, |w|/4")
    assert glue["ch4_peak_below4"] == pytest.approx(3 / 4, rel=1e-15)
    assert glue["ch4_peak_ratio_max"] <= 1 + 1e-15
    assert glue["ch4_peak_ratio_min_b0"] == pytest.approx(1.0, rel=1e-15)


def test_widest_window(glue) -> None:
    w, width = glue["ch4_wmax_w"], glue["ch4_wmax_width"]
    assert 4 < w < 30
    assert float(saturation.window_width(w)) == pytest.approx(width, rel=1e-15)
    # Nielsen (2015, ch. 5) quotes a largest width of about 0.45 at |w| about 6.9
    assert width == pytest.approx(0.45, abs=0.005) and w == pytest.approx(6.9, abs=0.05)


def test_window_is_narrow_and_narrows_for_large_weights(glue) -> None:
    assert glue["ch4_wmax_width"] < 0.5  # "less than half a unit wide at best"
    assert glue["ch4_width_w30"] < glue["ch4_wmax_width"]
    assert glue["ch4_width_w30"] == pytest.approx(2 * math.log(30 * (1 + math.sqrt(1 - 4 / 30)) / 2 - 1) / 30,
                                                  rel=1e-14)


def test_area_under_the_factor_is_one(glue) -> None:
    # Riemann sums on the page's grid: the bumps' tails beyond |a| = 4 and the sum's error, < 1e-5
    assert glue["ch4_area_err"] < 1e-5


# --------------------------------------------------------------------------- tanh and ReLU


def test_tanh_and_relu_derivatives(glue) -> None:
    assert glue["ch4_tanh_err"] < 1e-15
    assert glue["ch4_dtanh_max"] == 1.0 and glue["ch4_dtanh_argmax"] == 0.0
    assert glue["ch4_relu_values"] == "{0, 1}"


# --------------------------------------------------------------------------- initialisation
# One seeded draw per scheme; numpy's Generator gives the same numbers on every machine. The
# statistical claims are asserted with a margin of 4 standard errors.

SE_HALF = math.sqrt(0.25 / (N * N))  # standard error of a fraction near 1/2 over n^2 draws


def test_initial_weights_are_not_in_zero_one(glue) -> None:
    assert glue["ch4_init_n"] == N and glue["ch4_init_count"] == N * N
    # "They are centred on zero, so about half are negative"
    assert glue["ch4_init_neg_maxdev"] < 4 * SE_HALF
    for key in ("ch4_std_neg", "ch4_xav_neg", "ch4_nrm_neg"):
        assert abs(glue[key] - 0.5) < 4 * SE_HALF, key
    # "None of them puts the weights in (0, 1)"
    assert glue["ch4_init_in01_max"] < 0.6
    # the scaled schemes: every |w| < 1, so in (0, 1) means positive, about half
    assert glue["ch4_scaled_maxabs"] < 1 and glue["ch4_scaled_gt1"] == 0 and glue["ch4_scaled_ge4"] == 0
    assert glue["ch4_scaled_in01_maxdev"] < 4 * SE_HALF
    for key in ("ch4_std_in01", "ch4_xav_in01"):
        assert abs(glue[key] - 0.5) < 4 * SE_HALF, key


def test_scaled_schemes_are_far_below_one(glue) -> None:
    # the standard scheme never leaves +-1/sqrt(n), and its largest draw comes close to that edge
    assert glue["ch4_std_bound"] == pytest.approx(1 / 16, rel=1e-15)
    assert 0.99 * glue["ch4_std_bound"] < glue["ch4_std_maxabs"] < glue["ch4_std_bound"]
    # Xavier normal, std sqrt(2/(2n)) = 1/16: median |w| = 0.6745/16 within a few per cent
    assert glue["ch4_xav_median"] == pytest.approx(0.6745 / 16, rel=0.03)
    assert glue["ch4_xav_median"] < glue["ch4_xav_maxabs"] < 1


def test_unscaled_normal_statistics_match_the_gaussian(glue) -> None:
    n = N * N
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    p01 = phi(1.0) - 0.5  # P(0 < w < 1) for w ~ N(0, 1)
    assert abs(glue["ch4_nrm_in01"] - p01) < 4 * math.sqrt(p01 * (1 - p01) / n)
    pgt1 = 2 * phi(-1.0)
    assert abs(glue["ch4_nrm_gt1"] - pgt1) < 4 * math.sqrt(pgt1 * (1 - pgt1) / n)
    # "many weights above 1 in size"
    assert glue["ch4_nrm_gt1"] > 0.3
    # |w| >= 4 is rare: expected count n * 2 Phi(-4) ~ 4; a Poisson count within 4 + 4 sqrt(4)
    expected = n * 2 * phi(-4.0)
    assert glue["ch4_nrm_ge4"] <= expected + 4 * math.sqrt(expected)
    assert glue["ch4_nrm_ge4"] / n < 1e-3
    assert (glue["ch4_nrm_maxabs"] >= 4) == (glue["ch4_nrm_ge4"] > 0)
    assert glue["ch4_nrm_maxabs"] < 5.5  # P(max of 65536 |N(0,1)| draws > 5.5) is about 0.3 %


# --------------------------------------------------------------------------- a wide layer
# The chapter computes chi1 with gradlab.theory; a single cheap call checks a glued property of it.

TOL_WIDE = 0.05  # the page's stated tolerance between the measured median growth and chi1


def test_critical_weight_variance_of_the_sigmoid_without_biases(glue) -> None:
    crit = glue["ch4_sig_crit"]
    assert theory.chi1("sigmoid", crit, 0.0) == pytest.approx(1.0, abs=1e-9)
    # "far above the scaled schemes' (sigma_w^2 about 1) but below n": N(0, 1) at width 256 explodes
    assert 10 < crit < N
    assert glue["ch4_sig_crit_s"] == pytest.approx(math.sqrt(crit / N), rel=1e-12)
    assert glue["ch4_sig_crit_s"] < 1 < 4  # "far below the |w| >= 4 that the chain needs"
    # Xavier normal, n_in = n_out: sigma_w^2 = 1, deep in the ordered phase
    assert glue["ch4_chi1_xavier"] < 0.1
    assert glue["ch4_chi1_xavier_inv"] == pytest.approx(1 / glue["ch4_chi1_xavier"], rel=1e-12)


def test_asymptote_of_chi1_for_large_weight_variance(glue) -> None:
    # int sigma'^2 du = int_0^1 s(1 - s) ds = 1/6 (a Riemann sum over [-40, 40] with step 1e-3)
    assert glue["ch4_int_dsig2"] == pytest.approx(1 / 6, abs=1e-9)
    # q* / sigma_w^2 -> 1/2 from below, as E[sigma^2] = 1/2 - 1/sqrt(2 pi q*) + O(q^-3/2)
    r = glue["ch4_q_ratio_1e3"]
    assert 0.45 < r < 0.5
    assert r == pytest.approx(0.5 - 1 / math.sqrt(2 * math.pi * 1000 * r), abs=1e-3)
    assert glue["ch4_chi1_1e3"] == pytest.approx(theory.chi1("sigmoid", 1000.0, 0.0), rel=1e-12)
    assert glue["ch4_asym_1e3"] == pytest.approx(math.sqrt(1000) / (6 * math.sqrt(math.pi)), rel=1e-14)
    assert glue["ch4_asym_ratio_1e3"] == pytest.approx(glue["ch4_chi1_1e3"] / glue["ch4_asym_1e3"], rel=1e-12)
    # the ratio tends to 1 from above, like 1 + 1/(sqrt(pi) sigma_w)
    assert 1 < glue["ch4_asym_ratio_1e3"] < glue["ch4_asym_ratio_1e2"]
    assert glue["ch4_asym_ratio_1e3"] - 1 < 0.02
    assert glue["ch4_one_over_sqrt_pi"] == pytest.approx(1 / math.sqrt(math.pi), rel=1e-15)
    assert glue["ch4_asym_corr_1e3"] == pytest.approx(1 / math.sqrt(math.pi), rel=0.05)
    assert glue["ch4_asym_corr_1e3"] == pytest.approx((glue["ch4_asym_ratio_1e3"] - 1) * math.sqrt(1000), rel=1e-9)


def test_measured_growth_of_the_normal_network_matches_chi1(glue) -> None:
    assert glue["ch4_wide_depth"] == 20 and glue["ch4_wide_seeds"] == 16
    chi1, median = glue["ch4_wide_chi1"], glue["ch4_wide_median"]
    assert chi1 == pytest.approx(theory.chi1("sigmoid", float(N), 0.0), rel=1e-12)
    assert glue["ch4_wide_q_star"] == pytest.approx(theory.fixed_point_q("sigmoid", float(N), 0.0), rel=1e-12)
    # both exceed 1, and so does every seed
    assert chi1 > 1 and median > 1 and glue["ch4_wide_min"] > 1
    assert glue["ch4_wide_min"] <= median <= glue["ch4_wide_max"]
    # the tolerance is justified by the spread: more than four standard errors of the median
    assert glue["ch4_wide_se_median"] == pytest.approx(1.2533 * glue["ch4_wide_spread"] / 4, rel=1e-9)
    assert 4 * glue["ch4_wide_se_median"] < TOL_WIDE
    assert glue["ch4_wide_dev"] == pytest.approx(abs(median / chi1 - 1), rel=1e-9)
    assert glue["ch4_wide_dev"] < TOL_WIDE
    # the reviewer's "about 1.5 per layer in mean square", and the asymptote sigma_w/(6 sqrt pi) nearby
    assert median == pytest.approx(1.5, abs=0.1)
    assert chi1 == pytest.approx(math.sqrt(N) / (6 * math.sqrt(math.pi)), rel=0.05)


def test_most_units_of_the_normal_network_are_saturated(glue) -> None:
    sat = glue["ch4_wide_sat"]
    assert sat == pytest.approx(math.erfc(glue["ch4_z_one_percent"] / math.sqrt(2 * glue["ch4_wide_q_star"])), rel=1e-12)
    assert sat > 0.5  # "The units are mostly saturated"


def test_chain_factor_stays_below_one_where_the_wide_layer_explodes(glue) -> None:
    # steady state of the chain with w = 1, b = 0: z = sigma(z), factor sigma'(z*)
    z = 0.0
    for _ in range(200):
        z = sigma(z)
    assert glue["ch4_chain_at1"] == pytest.approx(sigma(z) * (1 - sigma(z)), rel=1e-12)
    assert glue["ch4_chain_at1_sq"] == pytest.approx(glue["ch4_chain_at1"] ** 2, rel=1e-12)
    # "the chain never reaches 1": its largest factor, on the grid from 0.05 to 30, is far below it
    assert glue["ch4_chain_at1"] <= glue["ch4_chain_max"] < 0.5
    assert 1 < glue["ch4_chain_argmax"] < 2.5
    # at the same per-weight scale s = 1: chain far below 1, wide layer above 1
    assert glue["ch4_chain_at1_sq"] < 0.1 < 1 < glue["ch4_wide_chi1"]
    # at s = 1/sqrt(n) = 1/16 the chain's z settles near s/2 = 1/32, where sigma' is almost 1/4:
    # factor (s/4)^2 = (1/64)^2, far below the wide layer's chi1 (the chain exaggerates vanishing)
    assert glue["ch4_chain_xavier_sq"] == pytest.approx((1 / 64) ** 2, rel=1e-3)
    assert glue["ch4_chain_xavier_sq"] < glue["ch4_chi1_xavier"] / 100 < 1


def test_sigmoid_inputs_make_weight_updates_share_one_sign(glue) -> None:
    # rows of outer(delta, a) share one sign whenever every a_k > 0: exactly 1 for sigmoid inputs
    assert glue["ch4_sign_sig_4"] == 1.0 and glue["ch4_sign_sig_n"] == 1.0
    # tanh inputs: probability 2^(1 - n) per example; 2^-3 within 4 binomial standard errors ...
    m = glue["ch4_sign_examples"]
    assert m == 2000
    p = 2.0**-3
    assert abs(glue["ch4_sign_tanh_4"] - p) < 4 * math.sqrt(p * (1 - p) / m)
    # ... and 2^-255 for n = 256: never seen
    assert glue["ch4_sign_tanh_n"] == 0.0


# --------------------------------------------------------------------------- exercises


def test_ex_tanh_is_a_rescaled_sigmoid(glue) -> None:
    assert glue["ch4_ex_tanh_id_err"] < 4 * EPS  # rounding in numbers of size up to 1
    # tanh' < 0.01 exactly where sigma'(2z) < 0.0025: the exact crossing, and the grid point after it
    exact = one_percent_crossing(0.0025) / 2
    assert exact <= glue["ch4_ex_tanh_one_percent"] < exact + 0.01 + 1e-12
    # "tanh saturates sooner in z than the sigmoid, but its slope starts four times higher"
    assert glue["ch4_ex_tanh_one_percent"] < glue["ch4_z_one_percent"]
    assert float(activations.dtanh(0.0)) == 4 * float(activations.dsigmoid(0.0)) == 1.0


def test_ex_widest_window_solves_the_stationarity_equation(glue) -> None:
    r, w, width = glue["ch4_ex_r_star"], glue["ch4_ex_w_star"], glue["ch4_ex_width_star"]
    assert 2 * math.atanh(r) == pytest.approx(1 / r, rel=1e-14)
    assert r == pytest.approx(math.sqrt(1 - 4 / w), rel=1e-12)
    # the closed form (1 - r^2)/(2r) is the window formula at w*, and equals 2/(r w*)
    assert width == pytest.approx(float(saturation.window_width(w)), rel=1e-13)
    assert width == pytest.approx(2 / (r * w), rel=1e-14)
    # the optimiser agrees to about sqrt(eps) in the weight, and to full precision in the width
    assert glue["ch4_ex_w_star_diff"] < 10 * math.sqrt(EPS)
    assert glue["ch4_ex_w_star_diff"] == pytest.approx(abs(w - glue["ch4_wmax_w"]), rel=1e-6, abs=1e-15)
    assert glue["ch4_wmax_width"] == pytest.approx(width, rel=1e-14)


def test_ex_tanh_window_is_twice_the_sigmoid_window_at_four_times_the_weight(glue) -> None:
    # counting grid points resolves the width to one step (two for a boundary point that rounds over)
    assert glue["ch4_ex_tanh_window_err"] <= 2 * glue["ch4_window_da"]
    # widest at |w*|/4, twice as wide as the sigmoid's widest window
    assert glue["ch4_ex_tanh_w_star"] == pytest.approx(glue["ch4_wmax_w"] / 4, rel=1e-8)
    assert glue["ch4_ex_tanh_width_star"] == pytest.approx(2 * glue["ch4_wmax_width"], rel=1e-13)
    assert glue["ch4_ex_tanh_w_star"] == pytest.approx(glue["ch4_ex_w_star"] / 4, rel=1e-15)


# ---------------------------------------------------------------- the explorable (gradlab.explorable)
# Read from the built page. Curves are stored with 3 significant digits (relative error <= 5e-4 after
# rounding), readout values with 6.

ROUNDED = 5e-3  # the stored curves' rounding, with a margin


@pytest.fixture(scope="module")
def explore():
    from bookglue import explorables

    return explorables(PAGE)["ch4-factor"]


def test_explorable_fits_its_budget(explore) -> None:
    assert explore["bytes"] <= 150_000
    assert len(explore["cells"]) == len(explore["controls"][0]["values"]) * len(explore["controls"][1]["values"])


def test_explorable_factor_and_window_are_gradlab_s(explore) -> None:
    from bookglue import explorable_cell

    for w, b in ((8, 0), (16, -4), (2, 1), (4, -2)):
        cell = explorable_cell(explore, w=w, b=b)
        (a, factor), (ends, level) = cell["curves"][0]
        expected = abs(w) * activations.dsigmoid(w * np.asarray(a) + b)
        np.testing.assert_allclose(factor, expected, rtol=ROUNDED, atol=1e-300)
        assert cell["values"]["width"] == pytest.approx(float(saturation.window_width(w)), rel=1e-5, abs=1e-12)
        assert cell["values"]["peak"] == pytest.approx(abs(w) / 4, rel=1e-6)
        if abs(w) >= 4:  # the factor reaches 1 exactly inside the drawn window
            lo, hi = ends
            inside = np.asarray(factor) >= 1 + ROUNDED
            assert np.all((np.asarray(a)[inside] >= lo) & (np.asarray(a)[inside] <= hi))
            assert hi - lo == pytest.approx(cell["values"]["width"], rel=1e-2, abs=1e-2)


def test_explorable_chain_stays_under_its_ceiling_and_meets_it_at_b_minus_w_over_2(explore, glue) -> None:
    ws, bs = explore["controls"][0]["values"], explore["controls"][1]["values"]
    L = 12
    met = 0
    for i, w in enumerate(ws):
        for j, b in enumerate(bs):
            cell = explore["cells"][i * len(bs) + j]
            ceiling = (abs(w) / 4) ** L
            assert cell["values"]["product"] <= ceiling * (1 + 1e-5)
            (_, product), (_, roof) = cell["curves"][1]
            assert all(p <= r * (1 + ROUNDED) for p, r in zip(product, roof))
            if b == -w / 2:
                assert cell["values"]["product"] == pytest.approx(ceiling, rel=1e-5)
                met += 1
            else:
                assert cell["values"]["product"] < 0.99 * ceiling
    assert met >= 3   # w = 2, 4, 8 with b = -1, -2, -4
    assert glue["ch4_explore_fixed"] == pytest.approx(2.0**12, rel=1e-12)
    assert glue["ch4_explore_off"] < 1e-3 * glue["ch4_explore_fixed"]
