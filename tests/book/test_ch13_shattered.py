"""Chapter 13, "Residual connections II: shattered gradients": the claims its prose makes, asserted on
the values its build glued.

Nothing here re-runs the chapter's sweeps. The only gradlab calls are the closed-form decay laws.
"""

from __future__ import annotations

import math

import pytest

from gradlab import shattered

PAGE = "ch13_shattered"
pytestmark = pytest.mark.built_book

B = 256  # inputs in the sweep
BAND = 1.959963984540054 / math.sqrt(B)  # 95% band of white noise's autocorrelation


def test_forward_mode_gradient_matches_residual_backward(glue) -> None:
    assert glue["ch13_check_backward"] < 1e-10


def test_zero_biases_give_a_two_valued_gradient(glue) -> None:
    # positive homogeneity: one kink at x = 0, which is not on the grid, at every depth and seed
    assert glue["ch13_naive_pieces_min"] == 2
    assert glue["ch13_naive_pieces_max"] == 2
    assert glue["ch13_naive_n"] == 2 * 4 * 50
    assert glue["ch13_naive_r1_dev"] < 1e-10  # r1 = 253/256 exactly
    assert glue["ch13_ex_step_r1"] == pytest.approx(253 / 256, abs=1e-12)


def test_band_is_white_noise_95_percent(glue) -> None:
    assert glue["ch13_band"] == pytest.approx(BAND, rel=1e-9)


def test_batch_normalised_feedforward_shatters_to_white_noise(glue) -> None:
    assert 0.2 < glue["ch13_ffbn_r1_10"] < 0.8  # falling at depth 10
    assert 8 <= glue["ch13_ffbn_first_white"] <= 25  # mean r1 inside the band from then on
    assert glue["ch13_ffbn_outside_after"] == 0
    assert abs(glue["ch13_r1_50_ffbn"]) < BAND
    # white noise puts 95% of r_1..r_20 in the band; 160 values (8 seeds x 20 lags) allow a margin
    assert glue["ch13_ffbn_white_frac"] >= 0.85
    assert glue["ch13_ffbn_abs_r1_50_max"] < 0.3
    assert -0.3 < glue["ch13_r1_50_min_ffbn"] <= glue["ch13_r1_50_ffbn"]
    # the model's independence assumption holds in the deep layers: flip rate close to 1/2
    assert 0.4 < glue["ch13_flip_deep_ffbn"] <= 0.5 + 0.02


def test_residual_connections_resist_shattering(glue) -> None:
    assert glue["ch13_order_violations"] == 0
    assert glue["ch13_r1_50_resbn"] > 0.5
    assert glue["ch13_r1_50_min_resbn"] > 0.5
    assert glue["ch13_r1_50_res"] > 0.6
    assert glue["ch13_r1_50_min_res"] > 0.4


def test_bn_resnet_decays_more_slowly_than_the_model(glue) -> None:
    # the model's product between depths 10 and 50 decays with exponent close to 1/2
    assert glue["ch13_law_beta"] == pytest.approx(
        -math.log(shattered.bn_residual_correlation(50) / shattered.bn_residual_correlation(10)) / math.log(5),
        rel=1e-12,
    )
    assert 0.45 < glue["ch13_law_beta"] < 0.5
    assert 0.0 < glue["ch13_resbn_beta"] < 0.5 * glue["ch13_law_beta"]
    assert glue["ch13_flip_deep_resbn"] < 0.1  # far from the model's 1/2


def test_plain_feedforward_does_not_shatter_at_depth_50(glue) -> None:
    assert glue["ch13_r1_50_ff"] > 0.5
    assert glue["ch13_r1_50_min_ff"] > 3 * BAND  # every network far outside the white-noise band
    assert glue["ch13_flip_plain_max"] < 0.02
    assert glue["ch13_flip_deep_ff"] < 0.02
    assert glue["ch13_flip_deep_res"] < 0.02


def test_long_range_structure_at_depth_50(glue) -> None:
    # the plain networks keep a trend over 10 inputs; the BN nets do not
    assert glue["ch13_r10_50_ff"] > BAND
    assert glue["ch13_r10_50_res"] > BAND
    assert abs(glue["ch13_r10_50_resbn"]) < BAND
    assert abs(glue["ch13_r10_50_ffbn"]) < BAND
    assert 2 <= glue["ch13_resbn_first_lag_white"] <= 15


def test_model_laws(glue) -> None:
    assert glue["ch13_law_ff_10"] == 2.0**-10
    assert glue["ch13_law_res_50"] == pytest.approx(0.75**50, rel=1e-12)
    assert glue["ch13_law_bn_50"] == pytest.approx(math.prod((l + 0.5) / (l + 1) for l in range(1, 51)), rel=1e-12)
    assert glue["ch13_law_bn_50"] * math.sqrt(50) == pytest.approx(2 / math.sqrt(math.pi), rel=0.02)


def test_exercises(glue) -> None:
    assert glue["ch13_ex_embed_pieces"] > 50  # an embedding bias alone breaks homogeneity
    assert glue["ch13_ex_ll_spread"] < 1e-10  # looks-linear: constant gradient up to rounding
