"""Chapter 11, "Layer normalisation and where to put it": the claims its prose makes, asserted on the values its
build glued.

Nothing here re-runs the chapter's networks or training; every tolerance is stated next to its assert, with the
spread that justifies it.
"""

from __future__ import annotations

import math

import pytest

PAGE = "ch11_layer_norm"
pytestmark = pytest.mark.built_book


def test_pre_ln_stream_grows_like_v0_plus_l(glue) -> None:
    # E v_l = v_0 + l exactly (c = 1 for ReLU branches with 1/n then 2/n weights): checked on the mean of 48 seeds.
    # Measured: at most 5 % and 3.1 standard errors off (48 seeds; one seed's v_64 has sd ~7 around ~65 and a
    # right-skewed distribution, so the mean of a few dozen seeds tends to fall below it; 600 seeds at L = 16
    # agree within 0.4 %, |t| < 1.2).
    assert glue["ch11_n_seeds"] >= 40
    assert 0.8 < glue["ch11_v0"] < 1.4  # 64 test digits standardised with the training statistics
    assert glue["ch11_vpre_L_theory"] == pytest.approx(glue["ch11_v0"] + 64, rel=1e-12)
    assert glue["ch11_vpre_max_rel_err"] < 0.08
    assert glue["ch11_vpre_max_t"] < 4.5
    assert abs(glue["ch11_vpre_L"] / glue["ch11_vpre_L_theory"] - 1) <= glue["ch11_vpre_max_rel_err"] + 1e-12
    assert 1 < glue["ch11_vpre_L_sd"] < 15


def test_post_ln_stream_is_renormalised(glue) -> None:
    # v_l = sigma^2 / (sigma^2 + eps) with eps = 1e-5: 1 to within 1e-4 in every block of every seed
    assert glue["ch11_vpost_max_dev"] < 1e-4


def test_last_block_gradient_against_depth(glue) -> None:
    # pre-LN: log-log slope against v_0 + L is -1/2 (Xiong et al.'s O(sqrt(1/L))); single seeds scatter by ~0.07,
    # so the mean of 10 has a standard error ~0.02: tolerance 0.1
    assert glue["ch11_slope_pre"] == pytest.approx(-0.5, abs=0.1)
    assert glue["ch11_slope_pre_seed_sd"] < 0.2
    # post-LN does not fall with depth; it grows mildly (measured slope ~0.1, factor ~1.5 from L = 2 to 64)
    assert -0.05 < glue["ch11_slope_post"] < 0.3
    assert 1.0 < glue["ch11_last_post_growth"] < 3.0
    # at L = 64 post-LN's last-block gradient is several times pre-LN's (sqrt((v0 + 64)/(v0 + 2)) ~ 4.7)
    assert glue["ch11_last_ratio_Lmax"] > 4


def test_pre_ln_profile_follows_one_over_sqrt_v(glue) -> None:
    # ||dW^(l,2)|| falls ~4.7-fold from block 1 to 64, but times sqrt(v_0 + l) it varies by ~1.3 only
    assert glue["ch11_pre_profile_ratio"] > 3
    assert glue["ch11_pre_flat_ratio"] < 1.5
    assert glue["ch11_pre_flat_ratio"] < glue["ch11_pre_profile_ratio"] / 2
    assert glue["ch11_pre_delta_flat_ratio"] < 1.4
    assert glue["ch11_pre_delta_ratio"] > 5  # ~sqrt((v0 + 64)/(v0 + 1)) = 5.7


def test_post_ln_profile_is_largest_near_the_output(glue) -> None:
    # the last eight blocks get more than the first eight (measured 1.8-2.8), the stream gradient changes little
    # (block 1 over block 64: measured 1.2-1.7, against pre-LN's ~6)
    assert glue["ch11_post_profile_ratio"] > 1.3
    assert 0.7 < glue["ch11_post_delta_ratio"] < 2.5
    assert glue["ch11_post_delta_ratio"] < glue["ch11_pre_delta_ratio"] / 2
    # the examples' deep representations align in post-LN, not in pre-LN
    assert glue["ch11_cos_post_Lmax"] > 0.9
    assert glue["ch11_cos_post_2"] < 0.6
    assert glue["ch11_cos_pre_Lmax"] < 0.8


def test_training_failures_are_post_ln_at_large_rates(glue) -> None:
    assert glue["ch11_fail_threshold"] == 0.3
    assert glue["ch11_n_runs"] == 36
    assert glue["ch11_n_train_seeds"] >= 3
    # exactly the post-LN runs at 1e-2 and 3e-2 fail, with or without warm-up; the others are far from the threshold
    assert glue["ch11_post_big_runs"] == 12
    assert glue["ch11_post_big_failed"] == 12
    assert glue["ch11_n_failed"] == 12
    assert glue["ch11_pre_failed"] == 0
    # failed runs end at a loss of at least ~0.6, the others at most ~0.09: threshold 0.3 with margins both sides
    assert glue["ch11_post_big_loss_min"] > 0.4
    assert glue["ch11_ok_loss_max"] < 0.2
    assert glue["ch11_pre_loss_max"] <= glue["ch11_ok_loss_max"]
    assert glue["ch11_pre_acc_min"] > 0.9
    assert glue["ch11_post_small_acc_min"] > 0.9


def test_warm_up_helps_post_ln_only_partly(glue) -> None:
    # 1e-2 without warm-up: chance (accuracy ~0.1, loss ~ln 10)
    assert glue["ch11_post_mid_nowu_acc"] < 0.3
    assert glue["ch11_post_mid_nowu_loss_min"] > 1.5
    # with warm-up: better in every seed, but far from pre-LN
    assert glue["ch11_post_mid_wu_better"] == glue["ch11_n_train_seeds"]
    assert glue["ch11_post_mid_nowu_acc"] + 0.2 < glue["ch11_post_mid_wu_acc"] < 0.85
    # 3e-2: post-LN near chance either way, pre-LN trains
    assert glue["ch11_post_top_nowu_acc"] < 0.3
    assert glue["ch11_post_top_wu_acc"] < 0.5
    assert glue["ch11_pre_top_acc"] > 0.9


def test_exercises(glue) -> None:
    # LN(10 x) = LN(x) up to eps; the input gradient is divided by 10
    assert glue["ch11_ex_scale_out_diff"] < 1e-3
    assert glue["ch11_ex_scale_grad_ratio"] == pytest.approx(0.1, rel=1e-4)
    # alpha = 1/sqrt(L): v_L = v_0 + 1; 8 seeds, within 4 standard errors of the mean
    assert glue["ch11_ex_alpha_theory"] == pytest.approx(glue["ch11_v0"] + 1, rel=1e-12)
    assert abs(glue["ch11_ex_alpha_v"] - glue["ch11_ex_alpha_theory"]) < 4 * glue["ch11_ex_alpha_sd"] / math.sqrt(8)
    # without the final layer norm the last block's gradient no longer falls with depth
    assert glue["ch11_ex_nofinal_ratio"] > 1
    assert glue["ch11_ex_final_ratio"] < 0.5
