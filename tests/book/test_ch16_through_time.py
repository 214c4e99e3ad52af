"""Chapter 16, "Through time": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's simulations. The closed forms (the latch's attractor and
folds, Doya's folds and cliff) are written out; the only gradlab calls are analytic ones (the
mean-field chi, the fixed points of a scalar map) that check properties of glued values.
"""

from __future__ import annotations

import math

import pytest

from gradlab import dynamics, theory

PAGE = "ch16_through_time"
pytestmark = pytest.mark.built_book


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(s: float) -> float:
    return math.log(s / (1.0 - s))


def test_bptt_matches_central_differences_and_the_jacobian_product(glue) -> None:
    assert glue["ch16_gradcheck_max"] < 1e-7
    assert glue["ch16_product_dev"] < 1e-12  # dL/dh(s) = (dh(T)/dh(s))^T dL/dh(T)
    assert glue["ch16_power_dev"] < 1e-12  # linear g: the product is W_hh^8


def test_pascanu_bound_holds_and_forces_vanishing(glue) -> None:
    # ln||dh(T)/dh(T-k)|| - k ln(gamma ||W_hh||) <= 0 for every network, lag and sequence
    assert glue["ch16_bound_max_excess"] <= 1e-10
    assert glue["ch16_rate_max_sufficient"] < 0.9  # gamma ||W_hh|| = 0.9 in both settings


def test_the_necessary_condition_is_not_sufficient(glue) -> None:
    # three settings with gamma ||W_hh||_2 > 1: two vanish, one explodes (three networks each)
    assert glue["ch16_gw_tanh12_min"] > 1.5
    assert glue["ch16_rate_tanh12_max"] < 0.97
    assert glue["ch16_gw_sig8"] == pytest.approx(8 * 0.25, rel=1e-12)  # orthogonal: every singular value 8
    assert glue["ch16_rate_sig8_max"] < 0.98
    assert glue["ch16_sig8_mean_slope"] < 0.5  # the slopes sit far below gamma
    assert glue["ch16_gw_tanh2_min"] > 1.5
    assert glue["ch16_rate_tanh2_min"] > 1.05


def test_mean_field_rate_per_step(glue) -> None:
    assert glue["ch16_sigma_x"] == 0.5
    assert glue["ch16_mf_chi_06"] == pytest.approx(theory.chi1("tanh", 0.36, 0.25), rel=1e-12)
    assert glue["ch16_mf_chi_20"] == pytest.approx(theory.chi1("tanh", 4.0, 0.25), rel=1e-12)
    # measured slope of ln||dL/dh||^2 over lags 1..50 against chi, at every sigma_w (finite n = 200)
    assert glue["ch16_mf_max_rel_dev"] < 0.06
    assert glue["ch16_mf_meas_06"] < 0.3
    assert glue["ch16_mf_decay50_06"] == pytest.approx(glue["ch16_mf_chi_06"] ** 50, rel=1e-9)
    assert glue["ch16_mf_decay50_06"] < 1e-25  # "does not propagate a gradient across more than a few steps"
    assert glue["ch16_mf_meas_20"] > 1.2


def test_latch_attractors_contraction_and_fold(glue) -> None:
    a = glue["ch16_latch_astar"]
    assert a == pytest.approx(2 * math.tanh(a), abs=1e-13)  # a* = 2 tanh a*
    assert a == pytest.approx(1.9150080481545, abs=1e-11)
    assert glue["ch16_latch_astar_neg"] == -a
    assert glue["ch16_latch_n_fixed"] == 3
    assert glue["ch16_latch_lambda"] == pytest.approx(2 * (1 - math.tanh(a) ** 2), rel=1e-12)
    assert glue["ch16_latch_lambda"] < 1 < glue["ch16_latch_lambda_zero"] == 2.0
    r = math.sqrt(0.5)  # fold of a -> 2 tanh a + h: 2(1 - tanh^2 a) = 1
    assert glue["ch16_latch_edge"] == pytest.approx(math.atanh(r), rel=1e-12)
    assert glue["ch16_latch_hc"] == pytest.approx(2 * r - math.atanh(r), rel=1e-12)
    assert glue["ch16_latch_lambda_pow"] == pytest.approx(glue["ch16_latch_lambda"] ** 29, rel=1e-12)


def test_robust_latching_forces_the_gradient_to_vanish(glue) -> None:
    assert glue["ch16_latch_kept_min_robust"] == 1.0  # noise below h_c never erased a bit
    assert glue["ch16_latch_min_state_robust"] > glue["ch16_latch_edge"]  # every factor < 1
    assert glue["ch16_latch_log10grad_max_robust"] < -15
    assert glue["ch16_latch_factor_r0"] == pytest.approx(glue["ch16_latch_lambda"], rel=1e-3)
    assert glue["ch16_latch_factor_max_robust"] == pytest.approx(glue["ch16_latch_lambda"], rel=0.1)
    assert glue["ch16_latch_kept_r125"] < 0.95  # noise beyond h_c erases bits


def test_doya_folds_match_the_closed_form(glue) -> None:
    assert glue["ch16_fold_n"] == 2
    s_lo, s_hi = (1 - 1 / math.sqrt(5)) / 2, (1 + 1 / math.sqrt(5)) / 2
    assert glue["ch16_fold_x_lo"] == pytest.approx(_logit(s_lo), rel=1e-12)
    assert glue["ch16_fold_x_hi"] == pytest.approx(_logit(s_hi), rel=1e-12)
    # the fold at sigma = (1 + 1/sqrt5)/2 has the lower bias
    assert glue["ch16_fold_b_lo"] == pytest.approx(_logit(s_hi) - 5 * s_hi, rel=1e-12)
    assert glue["ch16_fold_b_hi"] == pytest.approx(_logit(s_lo) - 5 * s_lo, rel=1e-12)
    assert glue["ch16_n_fixed_inside"] == 3


def test_cliff_where_x0_is_the_repeller(glue) -> None:
    b_c = glue["ch16_cliff_b"]
    assert b_c == pytest.approx(0.5 - 5 * _sigmoid(0.5), rel=1e-14)
    assert glue["ch16_fold_b_lo"] < b_c < glue["ch16_fold_b_hi"]
    lam = 5 * _sigmoid(0.5) * (1 - _sigmoid(0.5))
    assert glue["ch16_cliff_lambda"] == pytest.approx(lam, rel=1e-12)
    assert glue["ch16_cliff_lambda_pow"] == pytest.approx(lam**50, rel=1e-10)
    # on the repeller x_t = 0.5 for all t, so dx_50/db = sum_{k<50} lam^k
    assert glue["ch16_cliff_dxdb_at_bc"] == pytest.approx((lam**50 - 1) / (lam - 1), rel=1e-6)
    # a thousandth either side, x_50 sits on the lower / upper attractor
    lower, _, upper = dynamics.fixed_points(5.0, b_c)
    assert glue["ch16_cliff_xT_below"] == pytest.approx(lower, abs=0.05)
    assert glue["ch16_cliff_xT_above"] == pytest.approx(upper, abs=0.05)
    assert glue["ch16_cliff_max_grad"] > 1000 * glue["ch16_cliff_grad_far"]
    assert glue["ch16_cliff_argmax_dev"] < 1e-3
    assert glue["ch16_cliff_width"] < 1e-2
    assert glue["ch16_cliff_loss_min_dev"] < 1e-3


def test_clipping_stops_the_throw_and_nothing_more(glue) -> None:
    assert glue["ch16_clip_lr_theta"] == pytest.approx(0.05, rel=1e-15)
    assert glue["ch16_clip_thrown_plain"] >= 0.5
    assert glue["ch16_clip_longest_plain"] > 100
    assert glue["ch16_clip_far_plain"] > 10
    assert glue["ch16_clip_maxloss_plain"] > 1e3
    assert glue["ch16_clip_thrown_clipped"] == 0.0
    assert glue["ch16_clip_longest_clipped"] <= glue["ch16_clip_lr_theta"] * (1 + 1e-12)
    b_c = glue["ch16_cliff_b"]
    assert glue["ch16_clip_far_clipped"] <= max(abs(-3.2 - b_c), abs(-2.0 - b_c)) + 1e-9  # never leaves [-3.2, -2]
    assert glue["ch16_clip_maxloss_clipped"] < 10
    # neither converges: the valley is narrower than a step
    assert glue["ch16_clip_late_clipped"] > 0.5
    assert glue["ch16_clip_late_plain"] > 0.5


def test_exercise_latch_tradeoff(glue) -> None:
    assert glue["ch16_ex_latch_monotone"] == 1
    for w, hc, lam in ((1.5, "ch16_ex_latch_hc_w15", "ch16_ex_latch_lam_w15"), (5.0, "ch16_ex_latch_hc_w5", "ch16_ex_latch_lam_w5")):
        r = math.sqrt(1 - 1 / w)
        assert glue[hc] == pytest.approx(w * r - math.atanh(r), rel=1e-10)
        a = glue[lam]
        assert 0 < a < 1
    assert glue["ch16_ex_latch_hc_w15"] < glue["ch16_latch_hc"] < glue["ch16_ex_latch_hc_w5"]


def test_exercise_critical_rate(glue) -> None:
    sw = glue["ch16_ex_sw_crit"]
    assert theory.chi1("tanh", sw**2, 0.25) == pytest.approx(1.0, abs=1e-8)
    assert glue["ch16_ex_rate_crit"] == pytest.approx(1.0, abs=0.05)
    assert glue["ch16_ex_decay_50"] == pytest.approx(glue["ch16_ex_rate_crit"] ** 50, rel=1e-9)


def test_exercise_decaying_step_settles_at_the_wall(glue) -> None:
    assert glue["ch16_ex_decay_final_lr"] == pytest.approx(0.05 / 2**14, rel=1e-15)
    assert glue["ch16_ex_decay_median_loss"] < 0.01
    assert glue["ch16_ex_decay_median_loss"] < glue["ch16_clip_late_clipped"] / 10
    assert glue["ch16_ex_decay_median_dist"] < 1e-3
