"""Chapter 6, "Variance propagation and initialisation": the claims its prose makes, asserted on the values its build glued."""

from __future__ import annotations

import math

import pytest

from gradlab import wide

PAGE = "ch6_variance"
pytestmark = pytest.mark.built_book

# Parameters the prose states.
TANH_DEPTH = 8  # all-tanh network of 8 layers: 7 steps from layer 1 to layer 8
HANIN_DEPTH, HANIN_NARROWEST, HANIN_SEEDS = 20, 16, 300
SLOPE_A = 0.2  # the leaky ReLU of the exercise
N_UNIFORM = 256  # the uniform bounds at n_(l-1) = n_l = 256
HE_N1, HE_NL = 64, 512  # first and last hidden widths of the up-and-down ReLU net
LEAKY_SLOPE = 0.01  # PyTorch's default negative slope


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


def test_uniform_bounds_are_glorot_and_he(glue) -> None:
    # a = sqrt(3 Var W): Glorot's sqrt(6/(n_in + n_out)), He's sqrt(6/n_in)
    assert glue["ch6_uniform_a_xavier"] == pytest.approx(math.sqrt(6 / (2 * N_UNIFORM)), rel=1e-12)
    assert glue["ch6_uniform_a_he"] == pytest.approx(math.sqrt(6 / N_UNIFORM), rel=1e-12)
    # sample variance of 65536 uniform entries: relative sd sqrt(0.8/65536) = 0.35 %, bound 5 sd
    assert glue["ch6_uniform_var_relerr"] < 5 * math.sqrt(0.8 / N_UNIFORM**2)


def test_he_one_condition_is_enough(glue) -> None:
    # the backward factors n_l/n_(l-1) range over 1/8 .. 4 and telescope to n_L/n_1 = 8
    assert glue["ch6_he_factor_min"] == pytest.approx(1 / 8, rel=1e-12)
    assert glue["ch6_he_factor_max"] == pytest.approx(4.0, rel=1e-12)
    assert glue["ch6_he_width_ratio"] == HE_NL / HE_N1 == 8
    assert glue["ch6_he_product"] == pytest.approx(glue["ch6_he_width_ratio"], rel=1e-12)
    # measured over 8 seeds: within 3 standard errors and within 25 % of n_L/n_1
    assert abs(glue["ch6_he_measured"] - glue["ch6_he_product"]) < 3 * glue["ch6_he_measured_se"]
    assert glue["ch6_he_measured"] == pytest.approx(glue["ch6_he_product"], rel=0.25)
    # the product is far from the largest factor compounded over the 7 layers
    assert glue["ch6_he_product"] < glue["ch6_he_factor_max"] ** 7 / 100


def test_weight_gradients_are_flat_where_bias_gradients_fall(glue) -> None:
    # seed spread of any cell's log10 ratio is small against every margin below (5 seeds each)
    assert glue["ch6_speed_log10_sd_max"] < 0.15
    # Glorot and Bengio's eq. 14: under the standard init the weight gradients are level (within 25 %)
    # while the bias gradients fall like delta (within a factor 2 of the figure's delta ratio)
    assert 0.8 < glue["ch6_speed_tanh_std_W"] < 1.25
    assert glue["ch6_speed_tanh_std_b"] < 0.05
    assert 0.5 < glue["ch6_speed_tanh_std_b"] / glue["ch6_tanh_std_grad_ratio"] < 2
    # tanh and ReLU under standard and Xavier: weight ratios between min and max, near 1; bias ratios low
    for key in ("ch6_speed_tanh_std_W", "ch6_speed_tanh_xav_W", "ch6_speed_relu_std_W", "ch6_speed_relu_xav_W"):
        assert glue["ch6_speed_cancel_min"] <= glue[key] <= glue["ch6_speed_cancel_max"]
    assert 0.8 < glue["ch6_speed_cancel_min"] and glue["ch6_speed_cancel_max"] < 1.3
    for key in ("ch6_speed_tanh_std_b", "ch6_speed_tanh_xav_b", "ch6_speed_relu_std_b", "ch6_speed_relu_xav_b"):
        assert glue[key] < 0.4
    # ReLU bias ratios follow (n Var W / 2)^(7/2): (1/6)^3.5 and (1/2)^3.5, measured within 25 %
    assert glue["ch6_speed_relu_std_b_theory"] == pytest.approx((1 / 6) ** 3.5, rel=1e-12)
    assert glue["ch6_speed_relu_xav_b_theory"] == pytest.approx(0.5**3.5, rel=1e-12)
    assert glue["ch6_speed_relu_std_b"] == pytest.approx(glue["ch6_speed_relu_std_b_theory"], rel=0.25)
    assert glue["ch6_speed_relu_xav_b"] == pytest.approx(glue["ch6_speed_relu_xav_b_theory"], rel=0.25)
    # He keeps both ReLU ratios near 1; tanh with He keeps the bias ratio level but not the weight ratio
    for key in ("ch6_speed_relu_he_W", "ch6_speed_relu_he_b", "ch6_speed_tanh_he_b"):
        assert 0.8 < glue[key] < 1.25
    assert glue["ch6_speed_tanh_he_W"] > 1.4
    # the sigmoid: both first-layer gradients over a thousand times smaller, under every scheme
    for key in ("ch6_speed_sig_std_W", "ch6_speed_sig_xav_W", "ch6_speed_sig_he_W",
                "ch6_speed_sig_std_b", "ch6_speed_sig_xav_b", "ch6_speed_sig_he_b"):
        assert glue[key] < 1e-3


def test_jacobian_singular_values(glue) -> None:
    # quarter-circle mean 8/(3 pi) sqrt(n Var W): n Var W = 1/3 (standard) and 1 (Xavier)
    assert glue["ch6_jac_sv_std_qc"] == pytest.approx(8 / (3 * math.pi) / math.sqrt(3), rel=1e-12)
    assert glue["ch6_jac_sv_xav_qc"] == pytest.approx(8 / (3 * math.pi), rel=1e-12)
    # the 256 x 256 weight matrices are close to it (within 2 %)
    assert glue["ch6_jac_sv_std_W"] == pytest.approx(glue["ch6_jac_sv_std_qc"], rel=0.02)
    assert glue["ch6_jac_sv_xav_W"] == pytest.approx(glue["ch6_jac_sv_xav_qc"], rel=0.02)
    # diag(tanh') in (0, 1] can only lower singular values, more where z is larger (Xavier)
    assert glue["ch6_jac_sv_std"] <= glue["ch6_jac_sv_std_W"]
    assert glue["ch6_jac_sv_xav"] <= glue["ch6_jac_sv_xav_W"]
    assert glue["ch6_jac_sv_xav"] / glue["ch6_jac_sv_xav_W"] < glue["ch6_jac_sv_std"] / glue["ch6_jac_sv_std_W"]
    # near Glorot and Bengio's reported 0.5 and 0.8
    assert abs(glue["ch6_jac_sv_std"] - 0.5) < 0.1 and abs(glue["ch6_jac_sv_xav"] - 0.8) < 0.1


def test_sigmoid_fixes_no_scale(glue) -> None:
    # q* = (1/4) / (1 - 1/16) = 4/15 for n Var W = 1
    assert glue["ch6_sig_q_star"] == pytest.approx(4 / 15, rel=1e-12)
    # mean of a(8) near 1/2; Var z(8) within 15 % of q*; the same with inputs ten times larger (within 1 %)
    assert abs(glue["ch6_sig_mean_a"] - 0.5) < 0.03
    assert glue["ch6_sig_q"] == pytest.approx(glue["ch6_sig_q_star"], rel=0.15)
    assert glue["ch6_sig_q_x10"] == pytest.approx(glue["ch6_sig_q"], rel=0.01)
    # the input-dependent share of Var z(8) is tiny, within a factor 10 of (1/16)^7
    assert glue["ch6_sig_input_share_pred"] == pytest.approx((1 / 16) ** 7, rel=1e-12)
    assert 0.1 < glue["ch6_sig_input_share"] / glue["ch6_sig_input_share_pred"] < 10


def test_gains(glue) -> None:
    assert glue["ch6_gain_leaky"] == pytest.approx(math.sqrt(2 / (1 + LEAKY_SLOPE**2)), rel=1e-12)
    assert glue["ch6_gain_tanh_sq"] == pytest.approx(25 / 9, rel=1e-12)


def test_orthogonal_preserves_lengths_exactly(glue) -> None:
    # rounding error only, per layer and over all 8 layers
    assert glue["ch6_orth_dev_layer"] < 1e-12 and glue["ch6_orth_dev_net"] < 1e-12
    # Gaussian weights of the same variance: several percent per layer, more over 8 layers
    assert glue["ch6_gauss_dev_layer"] > 0.05
    assert glue["ch6_gauss_dev_net"] > glue["ch6_gauss_dev_layer"]


def test_exact_finite_width_law(glue) -> None:
    # every measured mean and variance within 2.5 seed-calibrated standard errors of the exact law
    assert glue["ch6_exact_z_mean_max"] < 2.5 and glue["ch6_exact_z_var_max"] < 2.5
    # the four means: chi-square against the exact law below the 95 % point of chi2_4, against the
    # leading order well above it
    assert glue["ch6_chi2_4_q95"] == pytest.approx(9.4877, abs=1e-4)
    assert glue["ch6_exact_chi2_mean"] < glue["ch6_chi2_4_q95"]
    assert glue["ch6_lead_chi2_mean"] > 1.3 * glue["ch6_chi2_4_q95"]
    # width 16, depth 20: the exact law (a cheap analytic call) lies beyond the leading order in both moments
    law = wide.relu_log_norm_law((HANIN_NARROWEST,) * (HANIN_DEPTH + 1))
    assert glue["ch6_exact_var_w16"] == pytest.approx(law.var, rel=1e-9)
    assert glue["ch6_exact_mean_w16"] == pytest.approx(law.mean, rel=1e-9)
    lead_var = 5 * HANIN_DEPTH / HANIN_NARROWEST  # 6.25
    assert glue["ch6_exact_var_w16"] > lead_var and glue["ch6_exact_mean_w16"] < -lead_var / 2
    # the measured variance lies between the two laws, below the exact one (on the side of the leading order)
    assert glue["ch6_exact_z_var_w16"] < 0
    assert lead_var < glue["ch6_hanin_sd_w16"] ** 2 < glue["ch6_exact_var_w16"]
    # P(some layer of 16 units all off, in 20 layers)
    assert glue["ch6_exact_p_dead_w16"] == pytest.approx(1 - (1 - 2.0**-16) ** 20, rel=1e-9)


def test_growing_widths_bound_the_sum(glue) -> None:
    h20, h100 = sum(1 / j for j in range(1, 21)), sum(1 / j for j in range(1, 101))
    assert glue["ch6_sched_constant_L20"] == pytest.approx(20 / 16, rel=1e-12)
    assert glue["ch6_sched_constant_L100"] == pytest.approx(100 / 16, rel=1e-12)
    assert glue["ch6_sched_linear_L20"] == pytest.approx(h20 / 16, rel=1e-12)
    assert glue["ch6_sched_linear_L100"] == pytest.approx(h100 / 16, rel=1e-12)
    assert glue["ch6_sched_quadratic_bound"] == pytest.approx(math.pi**2 / 96, rel=1e-12)
    # "fivefold", "by under half", "hardly at all" (under 3 %), and below the limit at any depth
    assert glue["ch6_sched_constant_L100"] / glue["ch6_sched_constant_L20"] == pytest.approx(5, rel=1e-12)
    assert glue["ch6_sched_linear_L100"] / glue["ch6_sched_linear_L20"] < 1.5
    assert glue["ch6_sched_quadratic_L100"] / glue["ch6_sched_quadratic_L20"] < 1.03
    assert glue["ch6_sched_quadratic_L20"] < glue["ch6_sched_quadratic_L100"] < glue["ch6_sched_quadratic_bound"]
    # exact sd at depth 100: orders of magnitude (e^sd > 100) at constant width, a factor of a few (< 5) linear
    assert glue["ch6_sched_constant_sd_L100"] > glue["ch6_sched_linear_sd_L100"] > glue["ch6_sched_quadratic_sd_L100"]
    assert math.exp(glue["ch6_sched_constant_sd_L100"]) > 100
    assert math.exp(glue["ch6_sched_linear_sd_L100"]) < 5
