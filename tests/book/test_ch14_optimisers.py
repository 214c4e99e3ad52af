"""Chapter 14, "Optimisers and clipping": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's training or simulations; the closed forms are written out.
Training outcomes are judged over the chapter's three seeds, with margins wider than the spread
seen under three BLAS kernels (Haswell, Sandybridge, Prescott).
"""

from __future__ import annotations

import math

import pytest

PAGE = "ch14_optimisers"
pytestmark = pytest.mark.built_book


# --- Adam under a scaled loss -------------------------------------------------------------------

def test_sgd_feels_the_loss_scale(glue) -> None:
    assert glue["ch14_scale_sgd_big_n_diverged"] == 3  # c = 2^10: every run overflows
    # c = 2^-10: the loss barely moves from its start, and stays far above the c = 1 runs
    assert glue["ch14_scale_sgd_small_loss_min"] > 0.6 * glue["ch14_scale_first_loss_max"]
    assert glue["ch14_scale_sgd_small_loss_min"] > math.log(10)  # worse than a uniform guess
    assert glue["ch14_scale_sgd_small_loss_min"] > 5 * glue["ch14_scale_sgd_one_loss_max"]
    assert 0 < glue["ch14_scale_sgd_big_diverged_at_max"] < 43  # c = 2^10 overflows in the first epoch (43 minibatches)


def test_adam_is_blind_to_the_loss_scale_down_to_eps(glue) -> None:
    assert glue["ch14_scale_adam_n_diverged"] == 0
    assert glue["ch14_scale_adam_big_dev"] < 1e-2
    assert glue["ch14_scale_adam_small_dev"] < 0.2
    assert glue["ch14_scale_adam_loss_spread"] < 0.02
    # the deviation grows as c shrinks (eps/c grows) ...
    assert glue["ch14_scale_adam_big_dev"] < glue["ch14_scale_adam_small_dev"] < glue["ch14_scale_adam_tiny_dev"]
    # ... and at c = 2^-20 eps/c ~ 1e-2 costs training
    assert glue["ch14_scale_adam_tiny_loss_min"] > glue["ch14_scale_adam_one_loss_max"]


# --- update-to-weight ratios ---------------------------------------------------------------------

def test_sgd_ratios_span_orders_of_magnitude_adam_ratios_do_not(glue) -> None:
    assert glue["ch14_ratio_span_sgd_min"] > 2.5  # decades, in every seed
    assert glue["ch14_ratio_span_adam_max"] < 1.0
    assert glue["ch14_ratio_span_sgd_mean"] > 3 * glue["ch14_ratio_span_adam_mean"]
    assert glue["ch14_ratio_span_sgd_sd"] < 0.3 and glue["ch14_ratio_span_adam_sd"] < 0.3
    # SGD's ratio rises from layer to layer (vanishing towards the input), in every seed
    assert glue["ch14_ratio_sgd_n_decreasing"] == 0
    assert glue["ch14_ratio_sgd_first"] < glue["ch14_ratio_sgd_last"] / 100
    # with Adam the first layer moves faster, relative to its weights, than the last
    assert glue["ch14_ratio_adam_first_over_last_min"] > 1


def test_eps_takes_over_at_the_computed_layer(glue) -> None:
    s = glue["ch14_eps_decades_per_layer"]
    assert 0.5 < s < 0.8  # decades lost per sigmoid layer
    assert glue["ch14_eps_slope_spread"] < 0.05
    # computed l* against the measured half-step layer, in every run
    assert glue["ch14_eps_gap_absmax"] < 0.75
    assert glue["ch14_eps_lhalf_default"] == pytest.approx(glue["ch14_eps_lstar_default"], abs=0.75)
    assert glue["ch14_eps_lhalf_big"] == pytest.approx(glue["ch14_eps_lstar_big"], abs=0.75)
    # 1000 times larger eps moves l* up by 3/s layers
    assert glue["ch14_eps_shift_vs_closed_maxrelerr"] < 0.05
    assert glue["ch14_eps_lhalf_shift_min"] > 3
    # the output layer is layer 21 of the 20-hidden-layer network
    assert glue["ch14_eps_below_output_default"] == pytest.approx(21 - glue["ch14_eps_lstar_default"], abs=1e-12)
    assert 8 < glue["ch14_eps_below_output_default"] < 12
    # p g/(g + eps) within a fraction of a decade of the measured step, which spans more than four
    assert glue["ch14_eps_pred_err_decades"] < 0.6
    assert glue["ch14_eps_first_step_default"] < 1e-5


# --- clipping by norm and by value ----------------------------------------------------------------

def test_norm_clipping_keeps_the_direction_value_clipping_does_not(glue) -> None:
    assert glue["ch14_cos_n_entries"] == 3 * 64 * 64 + 64 * 10 + 3 * 64 + 10
    assert glue["ch14_cos_norm_maxdev"] < 1e-12
    assert glue["ch14_cos_value_at_max"] == pytest.approx(1.0, abs=1e-12)
    assert glue["ch14_cos_tau_max_over_gmax"] > 1  # the largest tau caps nothing
    assert glue["ch14_cos_n_rising"] == 0  # the cosine never rises as tau shrinks
    # the tau -> 0 limit is the sign vector's cosine, ||g||_1 / (sqrt(N) ||g||_2)
    assert glue["ch14_cos_limit_relerr"] < 1e-10
    assert glue["ch14_cos_value_min"] == pytest.approx(glue["ch14_cos_sign_limit"], rel=1e-10)
    assert 0 < glue["ch14_cos_sign_limit"] < 0.7
    assert glue["ch14_cos_half_share"] == pytest.approx(0.5, abs=0.1)
    assert glue["ch14_cos_sign_limit"] < glue["ch14_cos_half_capped"] < 0.9
    assert glue["ch14_cos_grad_norm"] > 0


def test_clipping_rescues_the_learning_rate_2_run(glue) -> None:
    assert glue["ch14_lr2_plain_n_diverged"] == 3
    assert glue["ch14_lr2_plain_diverged_at_max"] < 43  # within the first epoch (43 minibatches)
    assert glue["ch14_lr2_clipped_n_diverged"] == 0
    # every clipped run with theta <= 1 or tau <= 1e-2 trains (lowest seen over three BLAS kernels: 0.93)
    assert glue["ch14_lr2_rescued_acc_min"] > 0.85
    for mean, sd in (("ch14_lr2_n025_acc_mean", "ch14_lr2_n025_acc_sd"), ("ch14_lr2_n1_acc_mean", "ch14_lr2_n1_acc_sd"),
                     ("ch14_lr2_v1e2_acc_mean", "ch14_lr2_v1e2_acc_sd"), ("ch14_lr2_v1e3_acc_mean", "ch14_lr2_v1e3_acc_sd")):
        assert glue[mean] > 0.9
        assert glue[sd] < 0.05
    assert 0 < glue["ch14_lr2_n025_share"] < 1


def test_a_large_clipping_threshold_prevents_overflow_but_not_the_damage(glue) -> None:
    assert glue["ch14_lr2_n4_n_trained"] == 0
    assert glue["ch14_lr2_n4_acc_max"] < 0.3  # about chance for ten classes
    assert glue["ch14_lr2_n4_share"] < 0.1
    assert glue["ch14_lr2_n4_share"] < glue["ch14_lr2_n025_share"]


# --- (L0, L1)-smoothness ---------------------------------------------------------------------------

def test_the_example_is_1_3_smooth(glue) -> None:
    # max of f'' - 3|f'| = 1 + 3x^2 - 3|x + x^3| is L0 = 1, at x = 0
    assert glue["ch14_smooth_L0_on_grid"] == pytest.approx(1.0, abs=1e-12)


def test_gradient_descent_diverges_exactly_beyond_the_threshold(glue) -> None:
    assert glue["ch14_smooth_n_misclassified"] == 0
    assert glue["ch14_smooth_eta_maxrelerr"] <= glue["ch14_smooth_grid_ratio"] + 1e-12
    assert glue["ch14_smooth_grid_ratio"] == pytest.approx(10 ** (4.5 / 450) - 1, rel=1e-9)
    # eta_c / (2/f''(x0)) = (1 + 3 x0^2)/(1 + x0^2) at x0 = 50, tending to 3
    assert glue["ch14_smooth_local_ratio_max"] == pytest.approx((1 + 3 * 50**2) / (1 + 50**2), rel=1e-12)
    assert glue["ch14_smooth_xc_clip"] == pytest.approx(math.sqrt(2 / 0.5 - 1), rel=1e-12)


def test_clipped_descent_converges_from_every_start_and_faster(glue) -> None:
    assert glue["ch14_smooth_clip_all_converged"] == 1
    assert glue["ch14_smooth_race_gd_2"] > glue["ch14_smooth_race_clip_2"]
    assert glue["ch14_smooth_race_gd_100"] > 1000 * glue["ch14_smooth_race_clip_100"]
    # from 50 to 100: fixed step ~ x0^2 (factor 4), clipped ~ x0 (factor 2)
    assert glue["ch14_smooth_gd_growth"] == pytest.approx(4.0, rel=0.05)
    assert 1.5 < glue["ch14_smooth_clip_growth"] < 2.2


# --- exercises ---------------------------------------------------------------------------------------

def test_ex_scaled_loss_is_eps_over_c_bit_for_bit(glue) -> None:
    assert glue["ch14_ex_eps_maxdiff"] == 0.0
    assert 0 < glue["ch14_ex_eps_dev_default"] < 0.1


def test_ex_quartic(glue) -> None:
    assert glue["ch14_ex_quartic_xc"] == pytest.approx(1 / math.sqrt(2 * 0.01), rel=1e-12)
    assert glue["ch14_ex_quartic_n_outside_diverged"] == 2
    assert glue["ch14_ex_quartic_inside_max"] < 0.1
    assert glue["ch14_ex_quartic_slow_pred"] == pytest.approx(1 / math.sqrt(8 * 0.01 * 2000), rel=1e-12)
    assert glue["ch14_ex_quartic_slow_relerr"] < 0.02


def test_ex_rmsprop_first_step(glue) -> None:
    closed = 1 / math.sqrt(1 - 0.9)
    assert glue["ch14_ex_rms_closed"] == pytest.approx(closed, rel=1e-12)
    assert glue["ch14_ex_rms_ratio_max"] == pytest.approx(closed, rel=1e-3)
    assert 0.9 * closed < glue["ch14_ex_rms_ratio_min"] <= glue["ch14_ex_rms_ratio_max"]
    assert glue["ch14_ex_rms_min_layer"] == 1  # the shortfall is largest where the gradients are smallest
