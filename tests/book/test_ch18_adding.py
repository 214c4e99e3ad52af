"""Chapter 18, "Long-range dependencies, measured: the adding problem": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's training. Trained outcomes are asserted over three seeds, on
medians, worst or best runs, with margins of a factor of about two or more from the thresholds
(values seen under the Haswell, Sandybridge and Prescott kernels are in the comments; single
runs moved between them, but of the glued summaries only the tanh RNN's and the IRNN's did); the
success counts near the threshold (tanh at T = 10, IRNN, LSTM at T = 60) are shown in the prose
but only bounded here. Values at initialisation and the exact zeros of truncated BPTT involve no
training and are asserted tightly.
"""

from __future__ import annotations

import math

import pytest

from gradlab import lstm

PAGE = "ch18_adding"
pytestmark = pytest.mark.built_book

BASELINE = 1 / 6
SECOND_ONLY = 1 / 12
SUCCESS = 1 / 60


def test_task_baselines_and_criterion(glue) -> None:
    assert glue["ch18_T_max"] == 60
    assert glue["ch18_n_test"] == 2000
    assert glue["ch18_success_mse"] == pytest.approx(SUCCESS, rel=1e-12)
    # the target is exactly the sum of the two marked values
    assert glue["ch18_base_target_sum_ok"] == 0.0
    # 2000 test sequences: standard errors about 0.0044 (constant) and 0.0017 (second value)
    assert glue["ch18_base_const"] == pytest.approx(BASELINE, abs=0.02)
    assert glue["ch18_base_second"] == pytest.approx(SECOND_ONLY, abs=0.008)
    assert glue["ch18_base_second"] < glue["ch18_base_const"]


def test_budget(glue) -> None:
    assert glue["ch18_steps"] == 400
    assert glue["ch18_batch"] == 32
    assert glue["ch18_sequences_seen"] == 400 * 32
    assert glue["ch18_max_lag"] == 59
    sigma1 = 1 / (1 + math.exp(-1.0))
    assert glue["ch18_lstm_memory_time"] == pytest.approx(-1 / math.log(sigma1), rel=1e-12)


def test_gru_and_lstm_learn_every_length(glue) -> None:
    # GRU worst of nine runs 0.0035 (threshold 0.0167)
    assert glue["ch18_gru_worst_mse"] < SUCCESS / 2
    # LSTM at T = 10, 30: worst 0.0070; at T = 60 the median 0.0085, one run at 0.053 (partly learned)
    assert glue["ch18_lstm_short_worst_mse"] < SUCCESS
    assert glue["ch18_lstm_hi_median_mse"] < SUCCESS
    assert glue["ch18_succ_lstm_hi"] >= 2
    assert glue["ch18_lstm_hi_worst_mse"] < SECOND_ONLY
    assert glue["ch18_lstm_hi_median_mse"] <= glue["ch18_lstm_hi_worst_mse"]


def test_tanh_rnn_learns_only_short_sequences(glue) -> None:
    # T = 10: median 0.0081, worst 0.0135 / 0.0098 / 0.0111 (near the threshold: only bounded by 1/12 here)
    assert glue["ch18_tanh_lo_median_mse"] < SUCCESS
    assert glue["ch18_tanh_lo_worst_mse"] < SECOND_ONLY / 2
    assert glue["ch18_succ_tanh_lo"] >= 2
    # T = 30: best run 0.061 / 0.060 / 0.059; T = 60: best 0.163, no better than the constant
    assert glue["ch18_tanh_mid_best_mse"] > 2 * SUCCESS
    assert glue["ch18_tanh_hi_best_mse"] > SECOND_ONLY
    assert glue["ch18_tanh_hi_best_mse"] == pytest.approx(BASELINE, rel=0.15)


def test_irnn_sits_in_between(glue) -> None:
    # the IRNN is the chaotic one: its counts at T = 30 and 60 changed between kernels
    # (T = 30 medians 0.0092 / 0.0077 / 0.0062, T = 60 medians 0.089 / 0.027 / 0.021 under
    # Haswell / Sandybridge / Prescott); only orderings with margin are asserted
    assert glue["ch18_irnn_lo_median_mse"] < SUCCESS / 5  # 0.0005 under every kernel
    assert glue["ch18_irnn_mid_median_mse"] < SUCCESS
    assert glue["ch18_irnn_hi_median_mse"] > 2 * glue["ch18_irnn_mid_median_mse"]
    assert glue["ch18_irnn_hi_median_mse"] > 4 * glue["ch18_gru_worst_mse"]
    assert glue["ch18_irnn_hi_best_mse"] <= glue["ch18_irnn_hi_median_mse"]
    assert 0 <= glue["ch18_succ_irnn_mid"] <= 3
    assert 0 <= glue["ch18_succ_irnn_hi"] <= 3
    assert glue["ch18_n_diverged"] == 0


def test_precision_is_below_hochreiters(glue) -> None:
    # the share within 0.04 of the sum at T = 60 is far from "all sequences solved"
    assert 0.05 < glue["ch18_gated_hi_median_acc"] < 0.9


def test_gradient_against_lag(glue) -> None:
    assert glue["ch18_half_lag"] == 30
    assert glue["ch18_probe"] == 256
    # at initialisation (no training: tight orderings): IRNN > LSTM > tanh > GRU at lag 30
    assert glue["ch18_half_init_irnn"] > 0.5
    assert glue["ch18_half_init_irnn"] > 10 * glue["ch18_half_init_lstm"]
    assert glue["ch18_half_init_lstm"] > 3 * glue["ch18_half_init_tanh"]
    assert glue["ch18_half_init_tanh"] > 3 * glue["ch18_half_init_gru"]
    assert glue["ch18_half_init_tanh"] < 1e-3
    # after training: the gated models open the path, the tanh RNN's shrinks (medians over seeds)
    assert glue["ch18_half_trained_lstm"] > 10 * glue["ch18_half_init_lstm"]
    assert glue["ch18_half_trained_gru"] > 1e3 * glue["ch18_half_init_gru"]
    assert glue["ch18_half_trained_gru"] > 0.1
    assert glue["ch18_half_trained_tanh"] < glue["ch18_half_init_tanh"]
    assert glue["ch18_half_trained_irnn"] > 0.02  # 0.23: the gradient reaches the first marker


def test_irnn_backward_step_is_a_projection_at_initialisation(glue) -> None:
    # W_hh = I, b_h = 0: the mean gradient norm never increases with the lag (exactly)
    assert glue["ch18_irnn_init_max_increase"] <= 0.0


def test_lstm_cell_path_at_initialisation(glue) -> None:
    half = glue["ch18_half_lag"]
    const = (1 / (1 + math.exp(-1.0))) ** half
    assert glue["ch18_const_gate_half"] == pytest.approx(const, rel=1e-12)
    assert glue["ch18_const_gate_half"] == pytest.approx(math.exp(-half / lstm.memory_time(1.0)), rel=1e-12)
    # at initialisation (no training): the median product of forget gates is the constant-gate value (ratio 0.98)
    assert glue["ch18_cellpath_half_median"] == pytest.approx(const, rel=0.1)
    # the most open unit carries far more, as much as the mean gradient norm
    assert glue["ch18_cellpath_half_max_unit"] > 10 * const
    assert glue["ch18_cellpath_half_max_unit"] > glue["ch18_half_init_lstm"] / 10


def test_truncated_bptt_gradient_is_exactly_zero_beyond_k(glue) -> None:
    assert glue["ch18_tr_T"] == 20
    assert glue["ch18_tr_k"] == 5
    assert glue["ch18_tr_beyond_k_max"] == 0.0
    assert glue["ch18_tr_within_k_min"] > 0.0
    assert glue["ch18_tr_within_k_dev"] <= 1e-15  # the same arithmetic as full BPTT inside the window
    assert glue["ch18_tr_full_beyond_k_min"] > 0.0


def test_truncation_learns_adding_but_not_the_first_value(glue) -> None:
    # adding problem: BPTT(5) worst 0.020, full worst 0.0052; both far below 1/12
    assert glue["ch18_tr_add_trunc_worst"] < SECOND_ONLY / 2
    assert glue["ch18_tr_add_full_worst"] < SUCCESS
    assert glue["ch18_tr_add_full_worst"] < glue["ch18_tr_add_trunc_worst"]
    # first value only: full BPTT worst 0.0012; BPTT(5) best 0.0843 = the baseline 1/12
    assert glue["ch18_tr_first_full_worst"] < SUCCESS / 4
    assert glue["ch18_tr_first_trunc_best"] > 0.9 * SECOND_ONLY
    # the marker weights get exactly zero gradient, so Adam never moves them
    assert glue["ch18_tr_first_trunc_moved"] == 0.0
    assert glue["ch18_tr_first_full_moved"] > 0.1


def test_exercise_window_share(glue) -> None:
    assert glue["ch18_ex_window_theory"] == 0.5  # 2k/T at T = 20, k = 5
    assert glue["ch18_ex_window_measured"] == pytest.approx(0.5, abs=0.02)  # 4 binomial standard errors


def test_exercise_forget_bias_for_a_memory_of_30_steps(glue) -> None:
    assert glue["ch18_ex_bias"] == pytest.approx(-math.log(math.expm1(1 / 30)), rel=1e-12)
    assert glue["ch18_ex_bias_memory"] == pytest.approx(30.0, rel=1e-9)


def test_exercise_hochreiter_criterion(glue) -> None:
    assert glue["ch18_ex_share_008"] >= glue["ch18_ex_share_004"]
    assert glue["ch18_ex_share_008"] > 0.5  # GRU at T = 60: 0.93
    assert 0.0 <= glue["ch18_ex_share_008_lstm"] <= 1.0
    assert glue["ch18_ex_share_008"] < 1.0  # not every sequence solved
