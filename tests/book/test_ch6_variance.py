"""Chapter 6, "Variance propagation and initialisation": the claims its prose makes, asserted on the values its build glued."""

from __future__ import annotations

import math

import pytest

PAGE = "ch6_variance"
pytestmark = pytest.mark.built_book

# Parameters the prose states.
TANH_DEPTH = 8  # all-tanh network of 8 layers: 7 steps from layer 1 to layer 8
HANIN_DEPTH, HANIN_NARROWEST, HANIN_SEEDS = 20, 16, 300
SLOPE_A = 0.2  # the leaky ReLU of the exercise


def test_variance_factors_are_the_textbook_values(glue) -> None:
    assert glue["ch6_factor_standard"] == pytest.approx(1 / 3, rel=1e-12)  # n Var W = n / (3n)
    assert glue["ch6_factor_xavier"] == pytest.approx(1.0, rel=1e-12)
    # unequal widths: forward 2 n_in/(n_in + n_out) = 0.4, backward 2 n_out/(n_in + n_out) = 1.6
    assert glue["ch6_factor_xavier_unequal"] == pytest.approx(2 * 128 / (128 + 512), rel=1e-12)
    assert glue["ch6_factor_xavier_unequal_bwd"] == pytest.approx(2 * 512 / (128 + 512), rel=1e-12)
    # "between the 1 and 4 of Var W = 1/n_{l-1} and the 1/4 and 1 of Var W = 1/n_l"
    assert 0.25 < glue["ch6_factor_xavier_unequal"] < 1 < glue["ch6_factor_xavier_unequal_bwd"] < 4
    assert glue["ch6_factor_he_relu"] == pytest.approx(1.0, rel=1e-12)  # (1/2) n (2/n)
    assert glue["ch6_factor_xavier_relu"] == pytest.approx(0.5, rel=1e-12)  # (1/2) n (1/n)


def test_tanh_standard_shrinks_both_directions_and_xavier_much_less(glue) -> None:
    steps = TANH_DEPTH - 1
    # "close to sqrt(3) per layer": the 7-step geometric mean of the activation std ratio within 10 %
    assert glue["ch6_tanh_std_act_ratio"] ** (1 / steps) == pytest.approx(math.sqrt(3), rel=0.1)
    # "gradients shrink just as fast in the other direction": delta(1)/delta(8) within 10 % per layer of 1/sqrt(3)
    assert glue["ch6_tanh_std_grad_ratio"] ** (1 / steps) == pytest.approx(1 / math.sqrt(3), rel=0.1)
    # normalised: ratios much closer to 1, but "not exactly 1" (each layer still loses a little)
    assert 1.2 < glue["ch6_tanh_xav_act_ratio"] < 5
    assert glue["ch6_tanh_xav_act_ratio"] < glue["ch6_tanh_std_act_ratio"] / 10
    assert 0.2 < glue["ch6_tanh_xav_grad_ratio"] < 0.8
    assert glue["ch6_tanh_xav_grad_ratio"] > 10 * glue["ch6_tanh_std_grad_ratio"]


def test_relu_slopes_match_theory(glue) -> None:
    # log2 of the factors 1/2 (Xavier) and 1 (He)
    assert glue["ch6_relu_xav_theory"] == -1.0 and glue["ch6_relu_he_theory"] == 0.0
    # mean fitted slope over five seeds within 0.1 of the theory, and the seeds' spread small (sd < 0.1)
    assert abs(glue["ch6_relu_xav_slope"] - glue["ch6_relu_xav_theory"]) < 0.1
    assert abs(glue["ch6_relu_he_slope"] - glue["ch6_relu_he_theory"]) < 0.1
    assert glue["ch6_relu_xav_slope_sd"] < 0.1 and glue["ch6_relu_he_slope_sd"] < 0.1
    # "the Xavier curve is the He curve minus exactly l", seed for seed (so the slopes differ by
    # exactly 1 and their standard deviations agree)
    assert glue["ch6_relu_shift_err"] < 1e-9
    assert glue["ch6_relu_he_slope"] - glue["ch6_relu_xav_slope"] == pytest.approx(1.0, abs=1e-9)
    assert glue["ch6_relu_xav_slope_sd"] == pytest.approx(glue["ch6_relu_he_slope_sd"], rel=1e-6)


def test_hanin_variance_and_mean_scale_with_sum_of_reciprocal_widths(glue) -> None:
    # no dead network among the seeds (a zero output would make the log -inf)
    assert glue["ch6_hanin_nonfinite"] == 0
    # the variance grows with sum 1/n_j (it falls as the width rises, at every step)
    assert glue["ch6_hanin_var_rising_steps"] == 0
    # fitted slope within 30 % of the leading-order 5, every point within 35 % of the fitted line
    assert glue["ch6_hanin_var_slope"] == pytest.approx(5.0, rel=0.3)
    assert glue["ch6_hanin_var_max_relerr"] < 0.35
    # the mean drifts below log E||a||^2 = log||x||^2 at every width, with slope within 30 % of -5/2
    assert glue["ch6_hanin_mean_max"] < 0
    assert glue["ch6_hanin_mean_slope"] == pytest.approx(-2.5, rel=0.3)
    # "both a little more steeply than the theory" (figure's alt text)
    assert glue["ch6_hanin_var_slope"] > 5 and glue["ch6_hanin_mean_slope"] < -2.5
    # "the excess over the theory is clearest in the narrowest net", where sum 1/n_j = 20/16 > 1:
    # more than twice the relative standard error sqrt(2 / (seeds - 1)) of a sample variance
    # (normal samples), and more than the widest net's excess
    assert glue["ch6_hanin_inv_sum_w16"] == HANIN_DEPTH / HANIN_NARROWEST > 1
    assert glue["ch6_hanin_var_rel_se"] == pytest.approx(math.sqrt(2 / (HANIN_SEEDS - 1)), rel=1e-12)
    assert glue["ch6_hanin_excess_w16"] > 2 * glue["ch6_hanin_var_rel_se"]
    assert glue["ch6_hanin_excess_w16"] > glue["ch6_hanin_excess_w128"] + 0.1
    assert glue["ch6_hanin_excess_w16"] == pytest.approx(
        glue["ch6_hanin_sd_w16"] ** 2 / (5 * glue["ch6_hanin_inv_sum_w16"]) - 1, rel=1e-9)
    # the widest three alone fit within 15 % of 5, closer than all four
    assert glue["ch6_hanin_var_slope_wide3"] == pytest.approx(5.0, rel=0.15)
    assert abs(glue["ch6_hanin_var_slope_wide3"] - 5) < abs(glue["ch6_hanin_var_slope"] - 5)
    # width 16 spreads much more than width 128, and shrinks the typical squared length
    assert glue["ch6_hanin_sd_w16"] > 2 * glue["ch6_hanin_sd_w128"]
    assert glue["ch6_hanin_shrink_w16"] == pytest.approx(math.exp(-glue["ch6_hanin_mean_w16"]), rel=1e-12)
    assert glue["ch6_hanin_shrink_w16"] > 1


def test_exercises(glue) -> None:
    # leaky ReLU: 10^6 samples, sampling error of the ratio well below 0.005
    assert glue["ch6_ex_leaky_theory"] == pytest.approx((1 + SLOPE_A**2) / 2, rel=1e-12)
    assert abs(glue["ch6_ex_leaky_meas"] - glue["ch6_ex_leaky_theory"]) < 0.005
    assert glue["ch6_ex_leaky_gain"] == pytest.approx(2 / (1 + SLOPE_A**2), rel=1e-12)
    # depth: 3^-12 > 1e-6 >= 3^-13
    assert glue["ch6_ex_depth"] == 13 and 3.0**-12 > 1e-6 >= 3.0**-13
    assert glue["ch6_ex_depth_exact"] == pytest.approx(6 / math.log10(3), rel=1e-12)
    assert glue["ch6_ex_depth_theory_ratio"] == pytest.approx(3.0**-13, rel=1e-12)
    # the linear net of width 256 measures the predicted ratio within 25 %
    assert glue["ch6_ex_depth_meas_ratio"] == pytest.approx(glue["ch6_ex_depth_theory_ratio"], rel=0.25)
    # width: 5 * 100 / n <= (1/2)^2
    assert glue["ch6_ex_width"] == 2000 and 5 * 100 / glue["ch6_ex_width"] <= 0.25
    # "the fitted slope above, rather than 5, would ask for somewhat more"
    assert glue["ch6_hanin_var_slope"] > 5
