"""Chapter 12, "Residual connections I: variance and scale": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's simulations. The only gradlab call is the analytic
path-length law (a binomial distribution), to check glued values of it.
"""

from __future__ import annotations

import math

import pytest

from gradlab import residual

PAGE = "ch12_residual"
pytestmark = pytest.mark.built_book


def test_growth_law_per_block_forward_and_backward(glue) -> None:
    # (mean over six networks)^(1/L) against 1 + alpha^2 c (residual) or c (plain), every setting, both passes
    assert glue["ch12_L"] == 50
    assert glue["ch12_factor_max_rel_dev"] < 0.02
    assert glue["ch12_factor_seed_max_rel_dev"] < 0.04  # single networks
    for key in ("ch12_relu_fw_factor", "ch12_relu_bw_factor", "ch12_lin_fw_factor", "ch12_lin_bw_factor"):
        assert glue[key] == pytest.approx(2.0, rel=0.02)  # c = 1 for the linear and the He-ReLU branch
    assert glue["ch12_half_fw_factor"] == pytest.approx(1.5, rel=0.02)
    assert glue["ch12_plain_half_bw_factor"] == pytest.approx(0.5, rel=0.02)
    assert glue["ch12_compound_1pc"] == pytest.approx(1.01**50 - 1, rel=1e-12)


def test_identity_path_trades_vanishing_for_growth(glue) -> None:
    # residual alpha = 1, c = 1: 2^50 ~ 10^15.05; plain c = 1/2: 2^-50 ~ 10^-15.05 (a 2% per-block margin ~ 0.43 decades)
    assert glue["ch12_relu_fw_end_log10"] == pytest.approx(50 * math.log10(2), abs=0.45)
    assert glue["ch12_plain_half_bw_end_log10"] == pytest.approx(-50 * math.log10(2), abs=0.45)
    assert glue["ch12_half_fw_factor"] > 1 > glue["ch12_plain_half_bw_factor"]


def test_plain_network_lengths_spread_more_than_the_scaled_residual_ones(glue) -> None:
    # plain c = 1 keeps the mean square only in expectation; single networks spread widely (Hanin & Rolnick)
    assert glue["ch12_plain_end_spread"] > 2.0
    assert glue["ch12_sqrtL_end_spread"] < 1.2
    assert glue["ch12_plain_end_spread"] > 3 * glue["ch12_sqrtL_end_spread"]
    assert 0.3 < glue["ch12_plain_end_fw"] < 2.0


def test_one_over_root_L_bounds_the_growth(glue) -> None:
    assert glue["ch12_e_limit"] == pytest.approx(math.e, rel=1e-15)
    assert glue["ch12_sqrtL_max_rel_dev"] < 0.12
    assert glue["ch12_sqrtL_max"] < 1.12 * math.e
    # alpha = 1 at L = 200 explodes like 2^200 ~ 10^60.2
    assert glue["ch12_alpha1_L200_log10"] == pytest.approx(200 * math.log10(2), abs=2.0)
    assert glue["ch12_alpha1_per_block_L200"] == pytest.approx(2.0, rel=0.02)


def test_rezero_and_fixup_start_as_the_identity_and_only_some_gradients_are_nonzero(glue) -> None:
    assert glue["ch12_identity_max_dev"] == 0.0  # the stream and the gradient pass unchanged, exactly
    assert glue["ch12_rezero_dW_max"] == 0.0  # every weight gradient carries the factor alpha = 0
    assert glue["ch12_rezero_dalpha_min_abs"] > 0.01  # what starts training
    assert glue["ch12_fixup_dW1_max"] == 0.0  # the zero last layer blocks the first layers' gradient


def test_fixup_depth_rule_keeps_the_update_independent_of_depth(glue) -> None:
    ratio = glue["ch12_depth_ratio"]
    assert ratio == 20
    # with L^(-1/2): flat within 10% from L = 10 to 200; without it: proportional to L (within 20%)
    assert glue["ch12_fixup_grad2_ratio"] == pytest.approx(1.0, abs=0.1)
    assert glue["ch12_fixup_step_ratio"] == pytest.approx(1.0, abs=0.1)
    assert glue["ch12_fixup_step_spread"] < 1.1
    assert glue["ch12_nofix_grad2_ratio"] == pytest.approx(ratio, rel=0.2)
    assert glue["ch12_nofix_step_ratio"] == pytest.approx(ratio, rel=0.2)


def test_path_shares_match_the_binomial_law(glue) -> None:
    assert glue["ch12_LP"] == 54
    assert glue["ch12_n_paths"] == 2.0**54
    assert glue["ch12_path_max_abs_dev"] < 0.015
    assert glue["ch12_path_cross_max_dev"] < 0.10  # linear branches: squared parts add up to the squared whole
    assert 0.5 < glue["ch12_path_cross_relu"] < 2.0  # ReLU: only under the independence assumption
    # alpha = 1, c = 1: Binomial(54, 1/2), mean 27
    assert glue["ch12_path_mean_alpha1"] == pytest.approx(27, abs=1.0)
    assert glue["ch12_path_mean_lin_alpha1"] == pytest.approx(27, abs=1.0)
    count_short = sum(math.comb(54, k) for k in range(18)) / 2**54
    assert glue["ch12_path_count_short"] == pytest.approx(count_short, rel=1e-12)
    assert glue["ch12_path_short_alpha1"] == pytest.approx(count_short, rel=1e-9)
    assert glue["ch12_path_short_alpha1"] < 0.01  # short paths carry almost nothing at alpha = 1
    # alpha = 1/sqrt(L): Binomial(54, 1/55), mean 54/55; lengths 0-1 close to 2/e
    assert glue["ch12_path_mean_sqrtL_theory"] == pytest.approx(54 / 55, rel=1e-12)
    assert glue["ch12_path_mean_sqrtL"] == pytest.approx(54 / 55, abs=0.05)
    assert glue["ch12_poisson01"] == pytest.approx(2 / math.e, rel=1e-15)
    # pi_0 + pi_1 = (54/55)^54 + 54 (1/55) (54/55)^53 = 2 (54/55)^54, near the Poisson(1) limit 2/e
    assert glue["ch12_path_len01_sqrtL"] == pytest.approx(2 * (54 / 55) ** 54, rel=1e-9)
    assert abs(glue["ch12_path_len01_sqrtL"] - 2 / math.e) < 0.01
    assert 0 < glue["ch12_path_long_sqrtL"] < 1e-12


def test_path_law_values_are_the_binomial(glue) -> None:
    pi = residual.path_length_shares(54, 1.0)
    assert glue["ch12_path_veit_band_alpha1"] == pytest.approx(float(pi[5:18].sum()), rel=1e-9)


def test_exercise_veit_band(glue) -> None:
    r = 11 / 43
    assert glue["ch12_ex_veit_r"] == pytest.approx(r, rel=1e-15)
    assert glue["ch12_ex_veit_alpha"] == pytest.approx(math.sqrt(r), rel=1e-15)
    assert glue["ch12_ex_veit_mean"] == pytest.approx(11.0, rel=1e-9)
    assert glue["ch12_ex_veit_band"] > 0.9  # most of the mean-square gradient in lengths 5-17
    assert glue["ch12_ex_veit_band"] > 100 * glue["ch12_path_veit_band_alpha1"]
    assert glue["ch12_ex_veit_growth"] == pytest.approx((1 + r) ** 54, rel=1e-12)


def test_exercise_he_on_both_layers(glue) -> None:
    assert glue["ch12_ex_he_theory"] == pytest.approx(1.02**100, rel=1e-12)
    assert glue["ch12_ex_he_limit"] == pytest.approx(math.e**2, rel=1e-15)
    assert glue["ch12_ex_he_theory"] < glue["ch12_ex_he_limit"]
    assert glue["ch12_ex_he_measured"] == pytest.approx(glue["ch12_ex_he_theory"], rel=0.15)
