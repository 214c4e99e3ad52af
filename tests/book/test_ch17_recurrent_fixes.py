"""Chapter 17, "Fixes for recurrent networks": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's training or simulations. The closed forms (memory times,
the arcsine law of the IRNN, mean-field χ₁ through gradlab.theory) are written or called here
to check the glued values against them.
"""

from __future__ import annotations

import math

import pytest

from gradlab import theory

PAGE = "ch17_recurrent_fixes"
pytestmark = pytest.mark.built_book


def tau(b: float) -> float:
    """The memory time -1/log sigma(b) = 1/log(1 + e^-b), written out."""
    return 1.0 / math.log1p(math.exp(-b))


# ---------------------------------------------------------------------------------------------
# Clipping (four seeds per setting; trained outcomes, so aggregates with margins)
# ---------------------------------------------------------------------------------------------


def test_clipping_setup(glue) -> None:
    assert glue["ch17_clip_baseline"] == pytest.approx(1 / 6, rel=1e-15)
    assert glue["ch17_clip_n_seeds"] == 4


def test_clipping_at_a_safe_rate_removes_most_spikes_and_lowers_the_loss(glue) -> None:
    assert glue["ch17_clip_low_n_diverged"] == 0
    # the gradient norm is heavy-tailed: the 99th percentile is several medians (measured ~4.4)
    assert glue["ch17_clip_low_grad_tail"] > 2.0
    # spikes summed over four runs: measured 18 without and 2 with clipping
    assert glue["ch17_clip_low_spikes_none"] >= 8
    assert glue["ch17_clip_low_spikes_none"] > 2 * glue["ch17_clip_low_spikes_clip"] + 4
    # final loss: lower with clipping on average and in at least 3 of 4 seeds (measured 4 of 4)
    assert glue["ch17_clip_low_final_clip"] < glue["ch17_clip_low_final_none"] < glue["ch17_clip_baseline"]
    assert glue["ch17_clip_low_n_seeds_better"] >= 3
    # theta = 1 is near the median gradient norm: a large share of steps is clipped (measured 0.58)
    assert 0.2 < glue["ch17_clip_low_share"] < 0.95


def test_clipping_at_a_large_rate_prevents_blowups_but_does_not_train(glue) -> None:
    assert glue["ch17_clip_high_n_diverged_none"] == 4
    assert glue["ch17_clip_high_last_blowup"] < 500  # every unclipped run overflowed before the end
    assert glue["ch17_clip_high_n_diverged_clip"] == 0
    assert 0 < glue["ch17_clip_high_share"] < 1
    # "at the baseline": no better than the clipped runs at the safe rate, within 0.05 of 1/6 (measured 0.170)
    assert glue["ch17_clip_high_final_clip_mean"] > glue["ch17_clip_low_final_clip"]
    assert glue["ch17_clip_high_final_clip_mean"] == pytest.approx(1 / 6, abs=0.05)
    assert glue["ch17_clip_high_final_clip_max"] >= glue["ch17_clip_high_final_clip_mean"]
    assert glue["ch17_clip_high_spikes_clip"] > glue["ch17_clip_low_spikes_clip"]


# ---------------------------------------------------------------------------------------------
# Orthogonal and identity recurrent weights
# ---------------------------------------------------------------------------------------------


def test_linear_orthogonal_recurrence_is_exactly_norm_preserving(glue) -> None:
    assert glue["ch17_orth_sv_max_dev"] < 1e-12  # all singular values of Q^k, k <= 100
    assert glue["ch17_linear_grad_max_dev"] < 1e-12  # every sequence, every lag


def test_tanh_orthogonal_vanishes_at_the_mean_field_rate(glue) -> None:
    assert glue["ch17_tanh_chi_01"] == pytest.approx(theory.chi1("tanh", 1.0, 0.01), rel=1e-12)
    assert glue["ch17_tanh_chi_1"] == pytest.approx(theory.chi1("tanh", 1.0, 1.0), rel=1e-12)
    assert glue["ch17_tanh_rate_max_rel_dev"] < 0.04  # three input scales; measured 1.3%
    assert glue["ch17_tanh_rate_01"] == pytest.approx(glue["ch17_tanh_chi_01"], rel=0.04)
    assert glue["ch17_tanh_rate_1"] == pytest.approx(glue["ch17_tanh_chi_1"], rel=0.04)
    assert glue["ch17_tanh_rate_1"] < glue["ch17_tanh_rate_01"] < 1  # the larger the input, the faster
    assert glue["ch17_tanh_kept_1"] < 1e-30  # ~0.4^100


def test_relu_orthogonal_halves_and_irnn_follows_the_arcsine_law(glue) -> None:
    assert glue["ch17_relu_orth_rate"] == pytest.approx(0.5, rel=0.03)
    u = [math.comb(2 * k, k) / 4**k for k in range(101)]
    assert glue["ch17_irnn_uT"] == pytest.approx(u[100], rel=1e-12)
    assert glue["ch17_irnn_uT_approx"] == pytest.approx(1 / math.sqrt(100 * math.pi), rel=1e-12)
    half = sum(u[k] * u[100 - k] for k in range(51))
    assert glue["ch17_irnn_half_theory"] == pytest.approx(half, rel=1e-12)
    # 32 sequences x 128 units: sampling error of a share ~0.01; require 0.04 everywhere
    assert glue["ch17_irnn_max_abs_dev"] < 0.04
    assert glue["ch17_irnn_kept_half"] == pytest.approx(half, abs=0.04)
    assert glue["ch17_irnn_kept_T"] == pytest.approx(u[100], abs=0.03)
    assert glue["ch17_irnn_kept_T"] > 1e20 * 0.5**100  # the identity keeps far more than the rotation


# ---------------------------------------------------------------------------------------------
# The LSTM's cell path
# ---------------------------------------------------------------------------------------------


def test_memory_time_closed_forms(glue) -> None:
    assert glue["ch17_tau_b0"] == pytest.approx(1 / math.log(2), rel=1e-12)
    for key, b in (("ch17_tau_b1", 1.0), ("ch17_tau_b2", 2.0), ("ch17_tau_b3", 3.0)):
        assert glue[key] == pytest.approx(tau(b), rel=1e-12)
        assert math.exp(b) < glue[key] < math.exp(b) + 0.5
    assert glue["ch17_log3"] == pytest.approx(math.log(3), rel=1e-15)


def test_quiet_lstm_matches_the_closed_form_where_the_quiet_state_is_stable(glue) -> None:
    # b_f = 0, 1 < log 3: the zero state is stable, the gate constant, tau exact
    assert glue["ch17_lstm_quiet_stable_max_rel_dev"] < 1e-3
    assert glue["ch17_lstm_quiet_stable_v_max"] < 1e-3
    assert glue["ch17_tau_hat_quiet_b0"] == pytest.approx(1 / math.log(2), rel=1e-3)
    assert glue["ch17_tau_hat_quiet_b1"] == pytest.approx(tau(1.0), rel=1e-3)
    # b_f = 2, 3 > log 3: self-excited state, a_f fluctuates, tau-hat shorter (Jensen) by a few percent
    assert glue["ch17_lstm_quiet_unstable_v_min"] > 0.03
    assert 0 < glue["ch17_lstm_quiet_unstable_min_shortfall"] <= glue["ch17_lstm_quiet_unstable_max_shortfall"] < 0.06
    assert tau(2.0) * 0.94 < glue["ch17_tau_hat_quiet_b2"] < tau(2.0)
    assert tau(3.0) * 0.94 < glue["ch17_tau_hat_quiet_b3"] < tau(3.0)


def test_fluctuating_gate_shortens_the_memory_as_jensen_and_the_gaussian_integral_say(glue) -> None:
    assert glue["ch17_lstm_unit_max_ratio"] < 1  # every bias: shorter than the closed form
    assert glue["ch17_lstm_unit_ratio_b3"] < 0.75  # measured 0.60
    assert 0.8 < glue["ch17_lstm_unit_v_b3"] < 1.6
    assert glue["ch17_lstm_gauss_unit_max_rel_dev"] < 0.03  # measured 1.2%
    assert glue["ch17_lstm_gauss_max_rel_dev"] < 0.06  # incl. the self-excited quiet nets; measured 4.5%


def test_chrono_initialisation(glue) -> None:
    t_max = glue["ch17_chrono_T_MAX"]
    assert t_max == 100
    assert 1 <= glue["ch17_chrono_u_min"] < glue["ch17_chrono_u_max"] <= t_max - 1
    # u < tau < u + 1/2 for every unit
    assert 0 < glue["ch17_chrono_excess_min"] <= glue["ch17_chrono_excess_max"] < 0.5
    assert 1 < glue["ch17_chrono_tau_min"] < glue["ch17_chrono_tau_max"] < t_max - 0.5
    assert glue["ch17_chrono_bi_plus_bf"] == 0.0  # b_i = -b_f exactly
    assert glue["ch17_chrono_max_rel_dev"] < 0.005  # every unit's measured memory time
    # u uniform on (1, 99): about half the units below T_max/2 (128 units, sd ~0.044)
    assert 0.35 < glue["ch17_chrono_frac_below_half"] < 0.65


# ---------------------------------------------------------------------------------------------
# The GRU's update gate
# ---------------------------------------------------------------------------------------------


def test_gru_gate_path_memory_time(glue) -> None:
    assert glue["ch17_gru_tau_b3"] == pytest.approx(tau(3.0), rel=1e-12)
    assert glue["ch17_gru_tau_hat_b3"] == pytest.approx(tau(3.0), rel=1e-3)
    assert glue["ch17_gru_max_rel_dev"] < 1e-3


def test_gru_whole_gradient_follows_the_linearised_law_and_exceeds_the_gate_path(glue) -> None:
    assert glue["ch17_gru_linear_max_log_dev"] < 0.4  # within a factor e^0.4 where the law > 1e-3
    assert glue["ch17_gru_whole_over_gate_min"] > 1
    # b_u = 0 at lag 10: linearised mean square (u^2 + c^2 + ...)^10 against u^20 = 2^-20, ratio ~ 600-800
    assert glue["ch17_gru_whole_over_gate_b0"] > 100


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------


def test_exercise_jensen_large_bias(glue) -> None:
    v = glue["ch17_lstm_unit_v_b3"]
    assert glue["ch17_ex_jensen_factor"] == pytest.approx(math.exp(-v / 2), rel=1e-12)
    assert glue["ch17_ex_jensen_measured"] == pytest.approx(glue["ch17_lstm_unit_ratio_b3"], rel=1e-12)
    assert glue["ch17_ex_jensen_gauss"] == pytest.approx(glue["ch17_ex_jensen_measured"], rel=0.03)
    assert glue["ch17_ex_jensen_factor"] == pytest.approx(glue["ch17_ex_jensen_measured"], rel=0.15)  # "rough"


def test_exercise_arcsine_tail(glue) -> None:
    assert glue["ch17_ex_u100_ratio"] == pytest.approx(1 - 1 / 800, abs=1e-5)
    u1000 = math.comb(2000, 1000) / 4**1000
    assert glue["ch17_ex_u1000"] == pytest.approx(u1000, rel=1e-10)
    assert glue["ch17_ex_u1000_ratio"] == pytest.approx(1 - 1 / 8000, abs=1e-6)
    assert glue["ch17_ex_halvings"] == pytest.approx(-math.log2(u1000), rel=1e-10)


def test_exercise_chrono_share(glue) -> None:
    u_half = 1 / math.expm1(1 / 50)  # tau(log u) = 50
    assert glue["ch17_ex_chrono_share_u"] == pytest.approx((99 - u_half) / 98, rel=1e-9)
    assert glue["ch17_ex_chrono_share_b"] == pytest.approx((math.log(99) - math.log(u_half)) / math.log(99), rel=1e-9)
    assert glue["ch17_ex_chrono_share_u"] > 3 * glue["ch17_ex_chrono_share_b"]
