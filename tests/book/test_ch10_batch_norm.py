"""Chapter 10, "Batch normalisation at initialisation": the claims its prose makes, asserted on the values its
build glued."""

from __future__ import annotations

import math

import pytest

PAGE = "ch10_batch_norm"
pytestmark = pytest.mark.built_book

RELU_LIMIT = math.pi / (math.pi - 1)  # Yang et al.'s large-batch rate for BN-ReLU


def heuristic(lam_inf: float, batch: int) -> float:
    return lam_inf * (batch - 2) / (batch - 3)


# --------------------------------------------------------------------------- forward pass


def test_plain_relu_compounds_the_gain_and_batch_norm_does_not(glue) -> None:
    # layer 1 to layer 29: 28 layers, each multiplying the mean square by gain^2
    assert 0.5 < glue["ch10_fwd_plain_0.5"] / 4.0**-14 < 2
    assert 0.5 < glue["ch10_fwd_plain_2"] / 4.0**14 < 2
    assert abs(glue["ch10_fwd_bn_0.5"] - 1) < 0.02
    assert abs(glue["ch10_fwd_bn_2"] - 1) < 0.02


# --------------------------------------------------------------------------- the rate


def test_mean_field_rate_by_quadrature(glue) -> None:
    assert glue["ch10_lam_inf_relu"] == pytest.approx(RELU_LIMIT, rel=1e-8)
    assert glue["ch10_lam_inf_linear"] == pytest.approx(1.0, abs=1e-9)
    assert 1.1 < glue["ch10_lam_inf_tanh"] < 1.25
    # the Gaussian Poincare inequality: above 1 for every nonlinear activation
    assert 1 < glue["ch10_lam_inf_others_min"] <= glue["ch10_lam_inf_others_max"] <= RELU_LIMIT


def test_simulation_set_up(glue) -> None:
    assert glue["ch10_sim_width"] == 256
    assert glue["ch10_sim_depth"] == 30
    assert glue["ch10_n_batches"] == 5
    assert glue["ch10_rate_pairs"] == 3 * 4


def test_relu_at_large_batch_matches_yang(glue) -> None:
    # within 3 % of pi/(pi - 1) and of the heuristic at B = 128; seeds within 3 % of each other
    assert glue["ch10_relu_b128_mean"] == pytest.approx(RELU_LIMIT, rel=0.03)
    assert glue["ch10_relu_b128_pred"] == pytest.approx(heuristic(RELU_LIMIT, 128), rel=1e-12)
    assert glue["ch10_relu_b128_mean"] == pytest.approx(glue["ch10_relu_b128_pred"], rel=0.03)
    assert glue["ch10_relu_b128_min"] <= glue["ch10_relu_b128_mean"] <= glue["ch10_relu_b128_max"]
    assert glue["ch10_relu_b128_max"] / glue["ch10_relu_b128_min"] < 1.03
    # 28 layer steps from the last hidden layer to the first
    per_layer = glue["ch10_relu_total_growth"] ** (1 / 28)
    assert per_layer == pytest.approx(RELU_LIMIT, rel=0.04)


def test_heuristic_against_simulation(glue) -> None:
    assert glue["ch10_heur_err_large_b"] <= 0.05
    assert glue["ch10_heur_err_relu_linear"] <= 0.08
    # worst case: tanh at B = 5, measured below the heuristic
    assert glue["ch10_heur_err_tanh_b5"] < -0.05
    assert abs(glue["ch10_heur_err_tanh_b5"]) > glue["ch10_heur_err_relu_linear"]


def test_small_batches_explode_faster(glue) -> None:
    assert glue["ch10_relu_b5_mean"] == pytest.approx(heuristic(RELU_LIMIT, 5), rel=0.08)
    assert glue["ch10_relu_b5_mean"] > glue["ch10_relu_b128_mean"] + 0.4
    # even the linear network explodes at B = 5, and hardly at B = 128
    assert glue["ch10_linear_b5_mean"] == pytest.approx(1.5, rel=0.08)
    assert 1 < glue["ch10_linear_b128_mean"] < 1.03
    assert glue["ch10_tanh_b128_mean"] == pytest.approx(glue["ch10_lam_inf_tanh"], rel=0.05)


def test_orderings(glue) -> None:
    assert glue["ch10_rate_falls_with_b"] >= glue["ch10_rate_pairs"] - 1
    assert glue["ch10_rate_order_ok"] == glue["ch10_n_batches"]
    assert glue["ch10_rate_min_all"] > 1


# --------------------------------------------------------------------------- the pitfall


def test_batch_norm_annihilates_a_gradient_equal_for_every_example(glue) -> None:
    assert glue["ch10_pitfall_layer_dx"] < 1e-14
    assert glue["ch10_pitfall_layer_dgamma"] < 1e-13
    assert glue["ch10_pitfall_layer_dbeta"] < 1e-13
    assert glue["ch10_pitfall_linear_weights"] < 1e-13
    assert glue["ch10_pitfall_linear_gamma"] < 1e-13
    assert glue["ch10_pitfall_linear_beta_below"] < 1e-13
    assert glue["ch10_pitfall_linear_beta_top"] > 0.1
    assert glue["ch10_pitfall_linear_db_err"] < 1e-14
    assert glue["ch10_pitfall_relu_hidden_min"] > 1e-2


# --------------------------------------------------------------------------- training with and without warm-up


def test_training_set_up(glue) -> None:
    assert glue["ch10_train_steps"] == 150
    assert glue["ch10_train_n_seeds"] == 5  # the figure's caption says five seeds


def test_warm_up_stops_the_first_layer_from_inflating(glue) -> None:
    assert glue["ch10_w1_growth_nowarm_min"] > 2.0
    assert glue["ch10_w1_growth_warm_max"] < 1.8
    assert glue["ch10_w1_growth_nowarm_min"] > glue["ch10_w1_growth_warm_max"] + 0.5
    assert glue["ch10_wtop_growth_max"] < 1.2
    # ||W_T||^2 = ||W_0||^2 + sum eta^2 ||g||^2, up to epsilon
    assert glue["ch10_norm_identity_dev"] < 1e-4


def test_training_outcomes(glue) -> None:
    assert glue["ch10_acc_min_all"] > 0.5  # chance is 0.1
    for key in ("ch10_loss_nowarm_sd", "ch10_loss_warm_sd", "ch10_acc_nowarm_sd", "ch10_acc_warm_sd"):
        assert 0 < glue[key] < 0.2
    for key in ("ch10_loss_nowarm_mean", "ch10_loss_warm_mean"):
        assert 0 < glue[key] < 1.5
    for key in ("ch10_acc_nowarm_mean", "ch10_acc_warm_mean"):
        assert 0.5 < glue[key] <= 1
    # "too little for this experiment to call either set-up better"
    assert 0 <= glue["ch10_loss_diff_in_sd"] < 3
    assert 0 <= glue["ch10_acc_diff_in_sd"] < 3


# --------------------------------------------------------------------------- exercises


def test_exercise_leaky_relu_closed_form(glue) -> None:
    assert glue["ch10_ex_leaky_err"] < 1e-8
    assert glue["ch10_ex_leaky_02"] == pytest.approx(1 / (1 - 0.8**2 / (math.pi * 1.04)), rel=1e-12)


def test_exercise_scale_invariance(glue) -> None:
    assert glue["ch10_ex_scale_hidden_max"] < 1e-5
    assert glue["ch10_ex_scale_readout"] > 1e-3


def test_exercise_layer_norm(glue) -> None:
    assert glue["ch10_ex_ln_pitfall_min"] > 1e-2
    assert glue["ch10_ex_ln_pred_relu"] == pytest.approx(1.0, abs=1e-9)
    assert glue["ch10_ex_ln_pred_tanh"] == pytest.approx(glue["ch10_lam_inf_tanh"], rel=1e-9)
    assert glue["ch10_ex_ln_rate_relu"] == pytest.approx(1.0, abs=0.08)
    assert glue["ch10_ex_ln_rate_tanh"] == pytest.approx(glue["ch10_ex_ln_pred_tanh"], rel=0.05)


def test_digits_network_explodes_at_initialisation_as_predicted(glue) -> None:
    # 19 layer steps from layer 20 to layer 1; digits, not Gaussian inputs: 8 % tolerance
    assert glue["ch10_digits_pred_rate"] == pytest.approx(heuristic(RELU_LIMIT, 64), rel=1e-12)
    assert glue["ch10_digits_init_rate"] == pytest.approx(glue["ch10_digits_pred_rate"], rel=0.08)
    assert glue["ch10_digits_init_ratio"] == pytest.approx(glue["ch10_digits_init_rate"] ** 19, rel=1e-9)
    assert glue["ch10_digits_init_ratio"] > 1000  # "thousands of times"
