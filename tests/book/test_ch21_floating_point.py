"""Chapter 21, "Floating point and gradients": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's sweeps or training runs. The closed forms of the formats
(IEEE 754 and bfloat16's bit layout), of stagnation and of the float16 overflow thresholds are
written out here; the trained outcomes are asserted over the chapter's three seeds with margins
that the measured spread justifies.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

PAGE = "ch21_floating_point"
pytestmark = pytest.mark.built_book


def first_float16_above(x: float) -> float:
    """The smallest float16 value strictly above x (x positive, in float16's normal range)."""
    v = np.float16(x)
    if float(v) <= x:
        v = np.nextafter(v, np.float16(np.inf))
    return float(v)


# ---------------------------------------------------------------------------------------------
# The formats: computed limits against the closed forms (2 - 2^-m) 2^emax, 2^emin, 2^(emin - m), 2^-m
# ---------------------------------------------------------------------------------------------


def test_float16_limits(glue) -> None:
    assert glue["ch21_f16_max"] == 65504.0 == (2 - 2.0**-10) * 2.0**15
    assert glue["ch21_f16_normal"] == 2.0**-14
    assert glue["ch21_f16_subnormal"] == 2.0**-24
    assert glue["ch21_f16_eps"] == 2.0**-10
    # what the introduction and the sweep call the floor: half the smallest subnormal rounds (ties to even) to 0
    assert glue["ch21_f16_flush"] == 2.0**-25
    assert glue["ch21_f16_decades"] == pytest.approx(math.log10(65504 * 2.0**24), rel=1e-12)


def test_bfloat16_limits(glue) -> None:
    assert glue["ch21_bf16_max"] == (2 - 2.0**-7) * 2.0**127
    assert glue["ch21_bf16_normal"] == 2.0**-126
    assert glue["ch21_bf16_subnormal"] == 2.0**-133
    assert glue["ch21_bf16_eps"] == 2.0**-7


def test_float32_limits_and_the_trade(glue) -> None:
    assert glue["ch21_f32_max"] == (2 - 2.0**-23) * 2.0**127
    assert glue["ch21_f32_normal"] == 2.0**-126
    assert glue["ch21_f32_subnormal"] == 2.0**-149
    assert glue["ch21_f32_eps"] == 2.0**-23
    # bfloat16 has float32's range (same smallest normal) and 8 times float16's epsilon
    assert glue["ch21_bf16_normal"] == glue["ch21_f32_normal"]
    assert glue["ch21_bf16_eps"] == 8 * glue["ch21_f16_eps"]
    assert glue["ch21_bf16_max"] > 1e38 > glue["ch21_f16_max"]


# ---------------------------------------------------------------------------------------------
# The loss-scale sweep (deterministic gradients at initialisation; windows in powers of two)
# ---------------------------------------------------------------------------------------------


def test_deep_sigmoid_gradient_vanishes_below_the_float16_floor(glue) -> None:
    # median |dL/dW| falls about 5-fold per layer over 8 layer steps (measured 4.0e-2 -> 3.9e-8)
    assert glue["ch21_deep_medL"] / glue["ch21_deep_med1"] > 1e5
    assert glue["ch21_deep_med1"] < 2.0**-24  # the median first-layer entry is below float16's smallest subnormal
    # without loss scaling: measured 40% of layer 1, 9.9% overall, none of the output layer
    assert 0.3 < glue["ch21_deep_under1_s1"] < 0.5
    assert 0.05 < glue["ch21_deep_under_all_s1"] < 0.15
    assert glue["ch21_deep_under_last_s1"] == 0.0
    assert glue["ch21_sweep_monotone"] == 1


def test_window_of_good_scales(glue) -> None:
    # deep sigmoid: measured 2^15..2^17; the largest entry 0.31 overflows from 65520/0.31 ~ 2^17.6
    lo, hi = glue["ch21_deep_window_lo"], glue["ch21_deep_window_hi"]
    assert 13 <= lo <= hi <= 18
    assert hi == math.floor(math.log2(65520 / glue["ch21_deep_max"]))
    assert hi - lo <= 4  # "a few powers of two"
    # the tanh network's window is wider and contains the deep one's; GradScaler's 2^16 is in both
    assert glue["ch21_tanh_window_lo"] <= 4 and glue["ch21_tanh_window_hi"] >= 17
    assert glue["ch21_tanh_window_hi"] - glue["ch21_tanh_window_lo"] > 3 * (hi - lo)
    assert lo <= 16 <= hi and glue["ch21_tanh_window_lo"] <= 16 <= glue["ch21_tanh_window_hi"]
    assert glue["ch21_tanh_under_all_s1"] < 1e-3  # "almost nothing underflows at S = 1"
    assert glue["ch21_deep_over_s24"] > 0.0  # a static 2^24 overflows


def test_bfloat16_needs_no_scaling_for_these_gradients(glue) -> None:
    assert glue["ch21_deep_under_all_bf16"] == 0.0 < glue["ch21_deep_under_all_s1"]


def test_exercise_window_ends(glue) -> None:
    assert glue["ch21_ex_low_layer"] == 1  # the most vanished layer sets the lower end
    assert glue["ch21_ex_high_layer"] == 9  # the output layer sets the upper end
    assert glue["ch21_ex_low_span"] > 15  # measured 27 powers of two
    assert glue["ch21_ex_min_layer_width"] > 4 * (glue["ch21_deep_window_hi"] - glue["ch21_deep_window_lo"])


# ---------------------------------------------------------------------------------------------
# Dynamic loss scaling in the training run (three seeds; trained outcomes)
# ---------------------------------------------------------------------------------------------


def test_training_setup(glue) -> None:
    assert glue["ch21_n_seeds"] == 3
    assert glue["ch21_steps"] == 8 * (1347 // 32)  # 8 epochs of full batches of 32 from 1347 training images


def test_dynamic_scale_backs_off_then_follows_the_gradients(glue) -> None:
    # from 2^24 it halves on every skipped first step; the first applied step is at 2^(24 - k) after k skips
    k = glue["ch21_dyn_first_kept"]
    assert 1 <= k <= 10
    assert glue["ch21_dyn_log2_first_kept"] == 24 - k
    assert 15 <= glue["ch21_dyn_log2_min_all"] <= glue["ch21_dyn_log2_final"] <= 19
    assert float(glue["ch21_dyn_log2_final"]).is_integer()
    # measured 8-9 skipped steps per run: a few percent of 336
    assert k <= glue["ch21_dyn_skipped_min"] <= glue["ch21_dyn_skipped_max"] < 0.1 * glue["ch21_steps"]
    assert glue["ch21_dyn_flushed_max"] < 1e-3


def test_float16_with_dynamic_scaling_matches_float32(glue) -> None:
    # seed by seed: measured at most 7.7% in loss (the skipped steps), 0.002 in accuracy; seed sd of float32 0.003
    assert glue["ch21_dyn_max_rel_gap"] < 0.15
    assert glue["ch21_dyn_max_acc_gap"] < 0.02
    assert abs(glue["ch21_dyn_loss"] / glue["ch21_fp32_loss"] - 1) < 0.15
    assert 0.05 < glue["ch21_fp32_loss"] < 0.2
    assert glue["ch21_fp32_loss_sd"] < 0.1 * glue["ch21_fp32_loss"]
    # the float32 control that skips the same steps: measured 7e-5, the rounding of the gradients to float16
    assert glue["ch21_dyn_ctrl_max_rel_gap"] < 2e-3
    assert glue["ch21_dyn_ctrl_max_rel_gap"] < 0.1 * glue["ch21_dyn_max_rel_gap"]


def test_a_static_scale_far_too_small_slows_training(glue) -> None:
    # S = 2^-18: measured 68% of entries flushed, loss at least 16% above float32 in every seed
    assert 0.5 < glue["ch21_small_flushed"] < 0.85
    assert glue["ch21_small_min_rel_excess"] > 0.05
    assert glue["ch21_small_loss"] > glue["ch21_dyn_loss"] > glue["ch21_fp32_loss"]


# ---------------------------------------------------------------------------------------------
# Stagnation and master weights
# ---------------------------------------------------------------------------------------------


def test_one_weight_stagnates_in_float16_and_accumulates_in_float32(glue) -> None:
    assert glue["ch21_ulp1_f16"] == 2.0**-10
    assert glue["ch21_ulp1_bf16"] == 2.0**-7
    assert glue["ch21_one_held"] == 1.0  # 2^-12 < ulp(1)/2 = 2^-11: every update lost
    assert glue["ch21_one_master"] == 1 + 1024 * 2.0**-12 == 1.25  # exact in float32
    assert glue["ch21_one_copy"] == 1.25  # representable in float16
    # 2^-9 lies between float16's 2^-11 and bfloat16's 2^-8
    assert glue["ch21_one_f16_2m9"] == 1 + 2.0**-9
    assert glue["ch21_one_bf16_2m9"] == 1.0


def test_weights_held_in_low_precision_lose_updates(glue) -> None:
    # measured 8.5% (float16) and 41% (bfloat16)
    assert 0.02 < glue["ch21_lost_f16"] < 0.2
    assert 0.25 < glue["ch21_lost_bf16"] < 0.6
    assert glue["ch21_lost_bf16"] > 3 * glue["ch21_lost_f16"]
    # float16 weights: measured within 0.1% of the float16 master-weight runs; bfloat16 weights >= 17.6% worse
    assert glue["ch21_held16_max_rel_gap_dyn"] < 0.02
    assert glue["ch21_held_bf16_min_rel_excess"] > 0.08
    assert glue["ch21_held_bf16_loss"] > glue["ch21_fp32_loss"]


def test_bfloat16_with_master_weights_needs_no_scaling(glue) -> None:
    assert glue["ch21_master_bf16_flushed"] == 0.0
    assert glue["ch21_master_bf16_max_rel_gap"] < 0.02  # measured 0.07%


def test_exercise_stagnation_thresholds(glue) -> None:
    # an increase of 1e-4 is lost from w = 2^(m - 12): 2^-2 in float16 (m = 10), 2^-5 in bfloat16 (m = 7)
    assert glue["ch21_ex_stag_float16"] == 2.0**-2
    assert glue["ch21_ex_stag_bfloat16"] == 2.0**-5
    # the tanh network's typical hidden weight, 1/sqrt(30), lies between the two thresholds
    assert glue["ch21_ex_stag_bfloat16"] < glue["ch21_ex_typical_w"] < glue["ch21_ex_stag_float16"]


# ---------------------------------------------------------------------------------------------
# Stable formulas
# ---------------------------------------------------------------------------------------------


def test_naive_logsumexp_overflows_from_ln_65520(glue) -> None:
    assert glue["ch21_lse_threshold"] == pytest.approx(math.log(65520), rel=1e-15)
    assert glue["ch21_lse_first_inf"] == 11.09375 == first_float16_above(glue["ch21_lse_threshold"])
    assert glue["ch21_lse_stable_finite"] == 1
    assert glue["ch21_lse_stable_max_err"] == 0.0
    assert glue["ch21_lse_1e4"] == float(np.float16(1e4 + math.log(2))) == 10000.0


def test_exercise_logsumexp_with_n_equal_entries(glue) -> None:
    assert glue["ch21_ex_lse_10"] == first_float16_above(math.log(65520 / 10))
    assert glue["ch21_ex_lse_1000"] == first_float16_above(math.log(65520 / 1000))


def test_float16_sigmoid_slope_naive_and_stable(glue) -> None:
    # naive: 1 + e^-z rounds to 1 from e^-z <= 2^-11; stable: sigma(-|z|) underflows from e^-z <= 2^-25
    assert glue["ch21_sig_f64_theory"] == pytest.approx(53 * math.log(2), rel=1e-15)
    assert glue["ch21_sig_naive_theory"] == pytest.approx(11 * math.log(2), rel=1e-15)
    assert glue["ch21_sig_stable_theory"] == pytest.approx(25 * math.log(2), rel=1e-15)
    assert glue["ch21_sig_naive_zero"] == pytest.approx(glue["ch21_sig_naive_theory"], abs=2.0**-8)
    assert glue["ch21_sig_stable_zero"] == pytest.approx(glue["ch21_sig_stable_theory"], abs=2.0**-6)
    # the slope the naive form drops at z = 8: sigma'(8) = e^-8 / (1 + e^-8)^2
    assert glue["ch21_sig_exact_8"] == pytest.approx(math.exp(-8) / (1 + math.exp(-8)) ** 2, rel=1e-12)
    assert glue["ch21_sig_stable_max_rel_err_normal"] < 4 * 2.0**-11  # a few unit roundoffs
    assert glue["ch21_sig_stable_rel_err_7"] < 2.0**-10
    assert glue["ch21_sig_naive_rel_err_7"] > 0.02


def test_gradients_move_during_training(glue) -> None:
    # an overflow after step 100 at a scale that was inside the tanh network's window at initialisation
    assert glue["ch21_dyn_late_overflow_log2"] <= glue["ch21_tanh_window_hi"]
    assert glue["ch21_dyn_late_overflow_log2"] >= glue["ch21_dyn_log2_min_all"]
