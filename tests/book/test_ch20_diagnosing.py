"""Chapter 20, "Diagnosing gradient problems": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's networks or training. The only gradlab call is the mean-field
chi_1 of tanh (an integral), to check the glued theory value. Random and trained outcomes are
asserted over the chapter's three seeds, with margins set from the spread measured under three
OpenBLAS kernels (Haswell, Sandybridge, Prescott).
"""

from __future__ import annotations

import math

import pytest

from gradlab import theory

PAGE = "ch20_diagnosing"
pytestmark = pytest.mark.built_book

VANISH, EXPLODE = 1e-2, 1e2  # diagnose.report's default vanish_ratio and explode_ratio


# ---------------------------------------------------------------------------------------------
# The toolkit on one network
# ---------------------------------------------------------------------------------------------


def test_sigmoid_network_report_flags_only_vanishing(glue) -> None:
    assert glue["ch20_intro_n_findings"] == 1
    assert glue["ch20_intro_mode"] == "vanishing"
    assert glue["ch20_intro_falls"] == pytest.approx(glue["ch20_intro_gL"] / glue["ch20_intro_g1"], rel=1e-9)
    assert glue["ch20_intro_falls"] > 10 / VANISH  # measured ~4.2e3, far past the threshold of 100
    assert glue["ch20_intro_sat_max"] < 0.5  # the saturation flag does not fire (measured 0)


def test_gradient_flow_over_training(glue) -> None:
    assert glue["ch20_flow_steps"] == 300
    # the sigmoid network's last/first ratio stays above the vanishing threshold throughout (measured >= 1.9e3)
    assert glue["ch20_flow_sig_min"] > 3 / VANISH
    assert glue["ch20_flow_sig_median"] > glue["ch20_flow_sig_min"]
    # ReLU + He: within a factor of ten either way at every step (measured 0.19 to 1.6)
    assert 1 / 30 < glue["ch20_flow_relu_min"] <= glue["ch20_flow_relu_max"] < 30


def test_histograms_slide_left_toward_the_input(glue) -> None:
    assert glue["ch20_hist_monotone"] == 1
    assert glue["ch20_hist_median_first"] < glue["ch20_hist_median_last"] - 3  # more than three decades apart
    assert glue["ch20_hist_shift_per_layer"] == pytest.approx(
        (glue["ch20_hist_median_last"] - glue["ch20_hist_median_first"]) / 5, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Failures and remedies (three seeds each, at initialisation unless said otherwise)
# ---------------------------------------------------------------------------------------------


def test_sigmoid_vanishes_and_relu_he_does_not(glue) -> None:
    assert glue["ch20_sig_n_vanish"] == 3
    assert glue["ch20_sig_ratio_min"] <= glue["ch20_sig_ratio_max"] < VANISH / 10
    assert glue["ch20_he_n_flagged"] == 0
    assert 0.2 < glue["ch20_he_ratio_min"] <= glue["ch20_he_ratio_max"] < 5
    # "moved by more than three decades"
    assert glue["ch20_he_ratio_min"] / glue["ch20_sig_ratio_max"] > 1e3


def test_chaotic_tanh_explodes_by_sqrt_chi1_per_layer(glue) -> None:
    assert glue["ch20_chaos_n_explode"] == 3
    assert glue["ch20_chaos_ratio_min"] > 10 * EXPLODE  # measured >= 5e3
    assert glue["ch20_chaos_sqrt_chi1"] == pytest.approx(math.sqrt(theory.chi1("tanh", 16.0, 0.0)), rel=1e-9)
    # over the 20 layer steps the ratio is about sqrt(chi_1)^20 (measured 5.3e3..7.4e3 against 5.8e3)
    assert glue["ch20_chaos_ratio_min"] > glue["ch20_chaos_sqrt_chi1"] ** 20 / 3
    assert glue["ch20_chaos_ratio_max"] < glue["ch20_chaos_sqrt_chi1"] ** 20 * 3
    # per-layer growth toward the input against mean-field theory (measured within 2.5%)
    for key in ("ch20_chaos_growth_min", "ch20_chaos_growth_max"):
        assert glue[key] == pytest.approx(glue["ch20_chaos_sqrt_chi1"], rel=0.06)
    assert glue["ch20_chaos_monotone_min"] >= 0.9  # measured 1.0: every hidden layer above the next
    assert glue["ch20_chaos_sat_max"] < 0.5  # saturation does not fire (measured 0.47)
    assert glue["ch20_chaos_sat_max"] > 0.2


def test_critical_tanh_is_clean(glue) -> None:
    assert glue["ch20_critical_n_flagged"] == 0
    assert 0.3 < glue["ch20_critical_ratio_min"] <= glue["ch20_critical_ratio_max"] < 3
    # chi_1 = 1: the per-layer factor is 1 within finite-width noise (measured 0.99 to 1.02)
    assert glue["ch20_critical_growth_min"] == pytest.approx(1.0, abs=0.06)
    assert glue["ch20_critical_growth_max"] == pytest.approx(1.0, abs=0.06)


def test_learning_rate_divergence_and_its_remedies(glue) -> None:
    assert glue["ch20_lr2_n_nonfinite"] == 3
    assert 0 < glue["ch20_lr2_first_min"] <= glue["ch20_lr2_first_max"] <= 60
    assert glue["ch20_lr2_n_large_step0"] == 3
    assert glue["ch20_lr2_step0_min"] > 0.1  # measured 0.78: far above the 1e-2 threshold
    assert glue["ch20_lr01_n_nonfinite"] == 0
    assert glue["ch20_clip_n_nonfinite"] == 0
    # lr 0.1: the first step is smaller by a factor of ten or so, but still above 1e-2 (measured 0.085)
    assert 1e-2 < glue["ch20_lr01_step0_max"] < glue["ch20_lr2_step0_min"]
    # large_updates fires on most steps of the good run, mostly through the read-out layer
    assert glue["ch20_lr01_share"] > 0.7
    assert glue["ch20_lr01_share_hidden"] < glue["ch20_lr01_share"]
    assert 1e-3 < glue["ch20_lr01_late_hidden_median"] < 1e-2
    assert 1e-3 < glue["ch20_lr01_late_median"] < 1e-2
    # clipping: finite, but every (or almost every) step above 1e-2, ten times the good run's late median
    assert glue["ch20_clip_share"] > 0.9
    assert glue["ch20_lr2_share"] > 0.5  # most finite steps of the lr-2 runs (measured 0.77)
    assert glue["ch20_clip_median"] > 3 * glue["ch20_lr01_late_median"]


def test_batch_norm_explodes_at_depth_and_its_remedies_do_not(glue) -> None:
    assert glue["ch20_bn_n_explode"] == 3
    assert glue["ch20_bn_ratio_min"] > 1.5 * EXPLODE  # measured 261 to 285
    assert glue["ch20_bn_ratio_max"] >= glue["ch20_bn_ratio_min"]
    assert glue["ch20_ln_n_flagged"] == 0
    assert glue["ch20_ln_ratio_max"] < 10
    assert glue["ch20_plain_n_flagged"] == 0
    assert glue["ch20_plain_ratio_max"] < 10
    # at 20 normalised layers the same growth stays below the threshold (measured 30 to 50)
    assert glue["ch20_bn20_n_explode"] == 0
    assert 5 < glue["ch20_bn20_ratio_min"] <= glue["ch20_bn20_ratio_max"] < EXPLODE / 1.5
    assert glue["ch20_bn20_ratio_max"] < glue["ch20_bn_ratio_min"]


def test_dead_relus_grow_with_the_step(glue) -> None:
    assert glue["ch20_dead_n_test"] == 449
    assert glue["ch20_dead_lr5_n_flagged"] == 3
    assert glue["ch20_dead_lr5_max_min"] >= 0.5
    assert glue["ch20_dead_lr002_n_flagged"] == 0
    assert glue["ch20_dead_lr0_n_flagged"] == 0
    # the small step kills no more than initialisation did (worst layer: 11-20% at init, 11-12.5% after)
    assert glue["ch20_dead_lr0_max_min"] <= glue["ch20_dead_lr0_max_max"] < 0.3
    assert glue["ch20_dead_lr002_max_max"] <= glue["ch20_dead_lr0_max_max"] + 0.02
    assert glue["ch20_dead_lr002_max_max"] < 0.3  # measured 0.125
    assert 0 <= glue["ch20_dead_lr1_n_flagged"] <= 3
    # ordering of the worst layer's dead fraction with the step size
    assert glue["ch20_dead_lr002_max_max"] < glue["ch20_dead_lr1_max_min"]
    assert glue["ch20_dead_lr1_max_max"] <= glue["ch20_dead_lr5_max_max"]
    assert glue["ch20_dead_lr002_max_min"] <= glue["ch20_dead_lr002_max_max"]
    assert glue["ch20_dead_lr5_max_max"] <= 1.0


def test_long_lags_vanish_in_the_tanh_rnn_and_lstm_at_bias_1_not_with_the_remedies(glue) -> None:
    assert glue["ch20_lag_tanh_n_vanish"] == 3
    assert glue["ch20_lag_tanh_max"] < VANISH / 5  # measured <= 9e-4
    assert glue["ch20_lag_tanh_min"] > 0
    assert glue["ch20_lag_lstm1_n_vanish"] == 3
    assert glue["ch20_lag_lstm1_min"] <= glue["ch20_lag_lstm1_max"] < VANISH / 2  # measured <= 3.9e-3
    assert glue["ch20_lag_lstm3_n_vanish"] == 0
    assert glue["ch20_lag_lstm3_min"] > 5 * VANISH  # measured >= 0.23
    assert glue["ch20_lag_lstm3_max"] <= 1.5
    assert glue["ch20_lag_irnn_n_vanish"] == 0
    assert 0.2 < glue["ch20_lag_irnn_min"] <= glue["ch20_lag_irnn_max"] < 1.5


# ---------------------------------------------------------------------------------------------
# The update/weight rule of thumb (3 seeds x 4 learning rates x 2 optimisers, five epochs)
# ---------------------------------------------------------------------------------------------


def test_well_trained_runs_and_their_ratios(glue) -> None:
    assert glue["ch20_rule_good_acc"] == 0.9
    assert glue["ch20_rule_n_good"] == 4
    assert glue["ch20_rule_n_bad"] == 4
    assert glue["ch20_rule_good_labels"] == "adam 0.001, adam 0.01, sgd 0.03, sgd 0.3"
    assert glue["ch20_rule_good_acc_min"] >= 0.9
    # good runs span about a decade, from ~1e-3 to ~1e-2 (measured 1.16e-3 to 1.44e-2)
    assert 5e-4 < glue["ch20_rule_good_min"] < 2e-3
    assert 7e-3 < glue["ch20_rule_good_max"] < 3e-2


def test_ratio_separates_too_small_rates(glue) -> None:
    for key in ("ch20_rule_sgd_small_max", "ch20_rule_adam_small_max"):
        assert glue[key] < glue["ch20_rule_good_min"] / 2  # measured factor >= 2.7
    for key in ("ch20_rule_sgd_small_acc_max", "ch20_rule_adam_small_acc_max"):
        assert glue[key] < 0.8


def test_ratio_separates_sgd_too_large_but_not_adam(glue) -> None:
    assert glue["ch20_rule_sgd3_n_overflow"] >= 1
    assert glue["ch20_rule_sgd3_n_overflow"] + glue["ch20_rule_sgd3_n_dead"] == 3  # measured 2 + 1
    assert glue["ch20_rule_sgd3_outside"] == 3
    assert glue["ch20_rule_sgd3_acc_max"] < 0.5
    # Adam at 0.1: inside the good runs' range, about the ratio of Adam at 1e-2, and it trains badly
    assert glue["ch20_rule_good_min"] < glue["ch20_rule_adam_big_min"] <= glue["ch20_rule_adam_big_max"]
    assert glue["ch20_rule_adam_big_max"] < glue["ch20_rule_good_max"]
    assert 0.5 < glue["ch20_rule_adam_big_over_good"] < 2.0  # measured 1.21
    assert glue["ch20_rule_adam_big_acc_max"] < 0.8


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------


def test_exercise_wide_first_layer(glue) -> None:
    assert glue["ch20_ex_wide_n_flagged"] == 0
    assert glue["ch20_ex_wide_ratio_min"] > 0.3  # measured 0.90
    assert glue["ch20_ex_wide_gw_max"] < 0.6  # measured 0.27: the weight norm grows with the width


def test_exercise_threshold_sigma_w(glue) -> None:
    assert glue["ch20_ex_chi_threshold"] == pytest.approx(100 ** (1 / 10), rel=1e-12)
    assert theory.chi1("tanh", glue["ch20_ex_sw_star"] ** 2, 0.0) == pytest.approx(glue["ch20_ex_chi_threshold"],
                                                                                   rel=1e-6)
    assert 2.0 < glue["ch20_ex_sw_star"] < 3.0
    # around the threshold at sw*, below it at 0.8 sw*, above it at 1.25 sw*
    assert 30 < glue["ch20_ex_at_min"] <= glue["ch20_ex_at_max"] < 300
    assert glue["ch20_ex_below_max"] < EXPLODE
    assert glue["ch20_ex_above_min"] > EXPLODE
