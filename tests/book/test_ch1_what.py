"""Chapter 1, "What vanishing and exploding gradients are": the claims its prose makes, asserted on the
values its build glued.

Nothing here recomputes the chapter. Each test names the sentence it checks and the margin it uses.
Margins of trained outcomes were chosen from the spread over the chapter's seeds and checked under the
Haswell, Sandybridge and Prescott OpenBLAS kernels.
"""

from __future__ import annotations

import math

import pytest

PAGE = "ch1_what"
pytestmark = pytest.mark.built_book

LN10 = math.log(10)


def test_set_up_of_the_experiments(glue) -> None:
    # The digits set: 1797 images in all, split into training and test images.
    assert glue["ch1_n_train"] + glue["ch1_n_test"] == 1797
    assert glue["ch1_sign_n"] == 100 and glue["ch1_sign_lr"] == 0.1
    assert glue["ch1_n_images"] == 1000 and glue["ch1_n_images"] <= glue["ch1_n_train"]
    assert glue["ch1_n_seeds"] >= 2  # a mean and a spread over seeds
    assert glue["ch1_ln10"] == pytest.approx(LN10, rel=1e-15)


# --- the update rule and the seed note's sign --------------------------------------------------


def test_minus_step_lowers_the_loss_and_plus_step_raises_it(glue) -> None:
    assert glue["ch1_loss_minus"] < glue["ch1_loss_before"] < glue["ch1_loss_plus"]


def test_both_steps_match_the_first_order_prediction(glue) -> None:
    # "Both changes are close to the first-order prediction": within 10 % each.
    before, fo = glue["ch1_loss_before"], glue["ch1_first_order"]
    assert fo > 0
    assert before - glue["ch1_loss_minus"] == pytest.approx(fo, rel=0.1)
    assert glue["ch1_loss_plus"] - before == pytest.approx(fo, rel=0.1)


# --- Nielsen's experiment: speeds at initialisation --------------------------------------------


def test_mean_speed_increases_from_each_layer_to_the_next(glue) -> None:
    # "in every network the mean speed grows from each layer to the next, all the way to the output
    # layer": the smallest layer-to-layer factor over all depths is above 1 (it is about 4.7).
    assert glue["ch1_min_speed_step"] > 2


def test_weight_gradients_also_grow_from_layer_to_layer_here(glue) -> None:
    # In this network the mean ||dL/dW^(l)|| also grows from each layer to the next, in every network
    # (smallest factor ~2.9), and its first-to-fourth ratio is also far below 1.
    assert glue["ch1_min_speed_W_step"] > 1.5
    assert glue["ch1_k4_ratio_W"] < 0.05


def test_weight_gradient_over_speed_is_the_mean_activation_length(glue) -> None:
    # "From layer 2 on, the ratio ||dL/dW|| / speed is between <min> and <max> in every layer and matches
    # ||a_bar^(l-1)|| to within <gap>": sigmoid activations of 30 units have about the same size in every
    # hidden layer (measured 2.92 to 3.06), and the match is within 10 % (measured 2 %).
    lo, hi = glue["ch1_Wb_hidden_min"], glue["ch1_Wb_hidden_max"]
    assert 0 < lo <= hi < 1.2 * lo
    assert glue["ch1_Wb_abar_gap"] < 0.1
    # Layer 1 is the exception: its mean input is close to 0 and its ratio differs from the hidden layers'
    # (measured 5.3 against at most 3.1), so rho from the weight gradients differs from rho.
    assert glue["ch1_abar_input"] < 0.5
    assert glue["ch1_Wb_first"] > 1.3 * hi
    assert abs(math.log(glue["ch1_k4_ratio_W"] / glue["ch1_k4_ratio"])) > 0.2


# --- beside Nielsen's MNIST numbers (quoted in the chapter, not computed) --------------------------


def test_nielsen_output_layer_reproduces_his_speeds(glue) -> None:
    # With Nielsen's output delta sigma(z^(L)) - y, every hidden-layer speed on the digits is within a factor
    # 1.5 of the number quoted from Nielsen (2015, ch. 5) for MNIST (measured: 1.30).
    assert 1 <= glue["ch1_nielsen_factor_max"] < 1.5


def test_softmax_output_scales_every_hidden_layer_alike(glue) -> None:
    # Our softmax speeds are 0.18 to 0.22 times those with Nielsen's output layer: a factor nearly the
    # same for every hidden layer and depth (max/min below 1.4), well below 1.
    lo, hi = glue["ch1_softmax_share_min"], glue["ch1_softmax_share_max"]
    assert 0.1 < lo <= hi < 0.35
    assert hi / lo < 1.4


def test_first_hidden_layer_of_k4_is_over_a_hundred_times_slower(glue) -> None:
    # rho(4) below 1/100 and above 1/1000: "about 131 times more slowly", two orders of magnitude.
    rho4 = glue["ch1_k4_ratio"]
    assert 1e-3 < rho4 < 1e-2
    assert glue["ch1_k4_speed_first"] / glue["ch1_k4_speed_last"] == pytest.approx(rho4, rel=1e-12)
    assert glue["ch1_k4_slower"] == pytest.approx(1 / rho4, rel=1e-12)


def test_rho_shrinks_geometrically_with_depth(glue) -> None:
    # Each extra hidden layer multiplies rho by a roughly constant factor: both steps within
    # 25 % of their geometric mean, which is about one fifth (between 0.15 and 0.25).
    r2, r3, r4, f = glue["ch1_ratio_k2"], glue["ch1_ratio_k3"], glue["ch1_k4_ratio"], glue["ch1_depth_factor"]
    assert f == pytest.approx(math.sqrt(r4 / r2), rel=1e-12)
    assert 0.15 < f < 0.25
    assert r2 > r3 > r4
    for step in (r3 / r2, r4 / r3):
        assert step == pytest.approx(f, rel=0.25)
    # "about ... million times more slowly" for ten hidden layers: rho(4) f^6, extrapolated.
    assert glue["ch1_slower_k10_millions"] == pytest.approx(1 / (r4 * f**6) / 1e6, rel=1e-12)
    assert glue["ch1_slower_k10_millions"] > 1


# --- the ratio of neighbouring layers against 1/4 ----------------------------------------------


def test_no_per_example_ratio_exceeds_the_bound(glue) -> None:
    # The theorem ||delta^(l)_i|| <= max(g') ||W^(l+1)||_2 ||delta^(l+1)_i||, for every depth, seed,
    # layer and image: the largest ratio over its bound is below 1 (it is about 0.84).
    assert 0 < glue["ch1_max_ratio_over_bound"] <= 1
    assert glue["ch1_n_pairs"] == 10 * (1 + 2 + 3 + 4)  # seeds x layers l = 1..L-1 of k = 1..4


def test_the_bound_is_close_to_one_half_for_square_layers(glue) -> None:
    # ||W||_2 of a 30 x 30 matrix with entry variance 1/30 is close to 2 (within 10 %); every
    # bound, at every depth, is above 1/4.
    assert glue["ch1_W_spec_mean"] == pytest.approx(2.0, rel=0.1)
    assert math.isfinite(glue["ch1_bound_min"]) and glue["ch1_bound_min"] > 0.25


def test_one_quarter_is_not_a_bound_but_only_a_few_examples_exceed_it(glue) -> None:
    assert glue["ch1_nbr_ratio_max"] > 0.25
    assert 0 < glue["ch1_n_pairs_max_above_quarter"] <= glue["ch1_n_pairs"]
    assert 0 < glue["ch1_frac_above_quarter"] < 0.1  # "a small share of examples"


def test_every_mean_ratio_is_below_one_quarter_and_about_one_fifth(glue) -> None:
    assert glue["ch1_all_ratio_largest"] < 0.25
    assert glue["ch1_nbr_ratio_mean"] == pytest.approx(0.2, abs=0.02)


def test_mean_ratio_matches_rms_of_the_slope(glue) -> None:
    # "The two columns agree to within a few per cent in every layer": within 5 %.
    assert glue["ch1_ratio_vs_slope_gap"] < 0.05
    assert glue["ch1_rms_slope"] <= glue["ch1_rms_slope_max"] < 0.25


# --- the factor per layer from mean-field theory --------------------------------------------------


def test_mean_field_units_and_prediction(glue) -> None:
    # lecun_normal weights (variance 1/n_(l-1)) and bias_std = 1 are sigma_w^2 = 1, sigma_b^2 = 1.
    from gradlab import theory

    assert glue["ch1_sigma_w2"] == 1.0 and glue["ch1_sigma_b2"] == 1.0
    assert glue["ch1_q_star"] == pytest.approx(theory.fixed_point_q("sigmoid", 1.0, 1.0), rel=1e-9)
    assert glue["ch1_chi1"] == pytest.approx(theory.chi1("sigmoid", 1.0, 1.0), rel=1e-9)
    assert glue["ch1_sqrt_chi1"] == pytest.approx(math.sqrt(glue["ch1_chi1"]), rel=1e-12)
    assert glue["ch1_sqrt_chi1_first"] ** 2 == pytest.approx(
        theory.chi1("sigmoid", 1.0, 1.0, q=glue["ch1_q_first"]), rel=1e-9)
    # "far below 1: deep in the ordered phase"
    assert glue["ch1_chi1"] < 0.1
    # q of the first layer is |x|^2 / n_0 + 1 with standardised pixels: between 1 and 2
    assert 1 < glue["ch1_q_first"] <= 2


def test_mean_field_factor_matches_the_measurements_within_ten_percent(glue) -> None:
    # The stated tolerance is 10 %: the ratio of mean squares in every layer (measured 2.7 %), the
    # hidden-to-hidden steps of the mean speed at every depth (4.2 %), the factor by which rho shrinks per
    # added layer, and the "about one fifth" mean per-example ratio.
    s = glue["ch1_sqrt_chi1"]
    assert glue["ch1_mf_gap"] < 0.1
    assert glue["ch1_mf_speed_gap"] < 0.1
    assert glue["ch1_depth_factor"] == pytest.approx(s, rel=0.1)
    assert glue["ch1_nbr_ratio_mean"] == pytest.approx(s, rel=0.1)


# --- training the three-hidden-layer network (network seed 0) -----------------------------------


def test_training_budget(glue) -> None:
    # "5 passes over the data (675 steps)": ceil(n_train / batch) steps per epoch.
    per_epoch = math.ceil(glue["ch1_n_train"] / glue["ch1_train_batch"])
    assert glue["ch1_train_steps"] == glue["ch1_train_epochs"] * per_epoch
    assert glue["ch1_train_lr"] == 0.5 and glue["ch1_window"] == 50


def test_untrained_network_predicts_one_digit(glue) -> None:
    assert glue["ch1_classes_before"] == 1
    assert glue["ch1_acc_before"] < 0.15


def test_vanishing_pattern_at_the_start_of_training(glue) -> None:
    # Over the first window: speed(1) < speed(2) < speed(3) (smallest step ~4.8), and ratio < 0.1.
    assert glue["ch1_train_start_min_step"] > 2
    assert glue["ch1_train_ratio_start"] < 0.1


def test_loss_plateau_near_ln10_before_it_falls(glue) -> None:
    # "Until step <plateau> the smoothed loss stays between 2 and <max>, close to ln 10": the plateau
    # is long (more than two windows), its highest point within 0.3 of ln 10 (it is 0.21 above), and
    # training ends far below it.
    w = glue["ch1_window"]
    assert 2 * w < glue["ch1_plateau"] < glue["ch1_train_steps"]
    assert 2.0 < LN10 < glue["ch1_plateau_loss_max"] < LN10 + 0.3
    assert glue["ch1_final_loss"] < 1.0


def test_first_layer_speeds_up_and_catches_up(glue) -> None:
    # Over the seeds 0..9 the first layer's growth ranges from 17 to 24 and layer 3's from 0.84 to
    # 1.34, so these margins hold for the run shown (seed 0), not just by luck of one seed.
    assert glue["ch1_speed1_growth"] > 10  # "more than an order of magnitude" (figure alt text)
    assert 2 / 3 < glue["ch1_speed3_growth"] < 3 / 2  # layer 3 "stays nearly level"
    assert glue["ch1_train_ratio_end"] > 10 * glue["ch1_train_ratio_start"]
    assert glue["ch1_acc_after"] > glue["ch1_acc_before"] + 0.5


# --- accuracy against depth, over several seeds ---------------------------------------------------


def test_accuracy_falls_with_depth(glue) -> None:
    # Mean test accuracy over the seeds falls with every hidden layer added. The first step is small,
    # so it must exceed twice the standard error of the paired per-seed drop (it is about 4 times it)
    # and hold in most seeds; the later steps are large (> 5 points, > 50 points).
    acc = [glue["ch1_acc_k1"], glue["ch1_acc_k2"], glue["ch1_acc_k3"], glue["ch1_acc_k4"]]
    n = glue["ch1_n_train_seeds"]
    assert n >= 5
    assert acc[0] - acc[1] > 2 * glue["ch1_acc_drop12_se"] > 0
    assert glue["ch1_n_k1_beats_k2"] > n / 2
    assert acc[1] - acc[2] > 0.05
    assert acc[2] - acc[3] > 0.5


def test_four_hidden_layers_stay_on_the_plateau(glue) -> None:
    # Some networks with four hidden layers end predicting a single digit; none with fewer layers does.
    # Those are still on the plateau: smoothed loss within 0.05 of ln 10 (measured: 0.015), and
    # accuracy no better than always guessing the most common test digit.
    assert 1 <= glue["ch1_n_one_digit_k4"] <= glue["ch1_n_train_seeds"]
    assert glue["ch1_n_one_digit_shallow"] == 0
    assert glue["ch1_one_digit_loss_gap"] < 0.05
    assert glue["ch1_one_digit_acc_max"] <= glue["ch1_majority_share"] + 1e-12
    assert 0.1 <= glue["ch1_majority_share"] < 0.15  # ten digits, roughly balanced


# --- exercises ------------------------------------------------------------------------------------


def test_ex_thousand_prediction_is_six_hidden_layers(glue) -> None:
    # k >= 4 + ln(1000 rho(4)) / ln(1/f), with the glued rho(4) and f; the prediction is its ceiling.
    rho4, f = glue["ch1_k4_ratio"], glue["ch1_depth_factor"]
    k_real = glue["ch1_ex_k_real"]
    assert k_real == pytest.approx(4 + math.log(1000 * rho4) / math.log(1 / f), rel=1e-12)
    assert rho4 * f ** (k_real - 4) == pytest.approx(1e-3, rel=1e-9)  # the bound is where 1/rho = 1000
    assert 5 < k_real < 6 and glue["ch1_ex_k_pred"] == 6 == math.ceil(k_real)
    assert glue["ch1_ex_k_below"] == glue["ch1_ex_k_pred"] - 1
    # the same answer from rho(1) = 1 (first hidden layer = last hidden layer): 1 + ln 1000 / ln(1/f)
    assert math.ceil(1 + math.log(1000) / math.log(1 / f)) == glue["ch1_ex_k_pred"]


def test_ex_thousand_measurement_brackets_one_thousand(glue) -> None:
    # "with k_pred - 1 hidden layers ... below 1000, with k_pred ... above": the prediction holds
    # (measured 565 and 3741, each a factor > 1.7 from 1000).
    below, at = glue["ch1_ex_slower_below"], glue["ch1_ex_slower_pred"]
    assert below < 1000 <= at
    assert below > glue["ch1_k4_slower"]  # and both are slower than the four-layer network


def test_ex_sign_curvature_explains_the_one_sided_misses(glue) -> None:
    before, minus, plus, fo = (glue[k] for k in ("ch1_loss_before", "ch1_loss_minus", "ch1_loss_plus",
                                                 "ch1_first_order"))
    down, up, half = glue["ch1_ex_down_off"], glue["ch1_ex_up_off"], glue["ch1_ex_half_off"]
    # the glued misses are the ones the losses above give
    assert down == pytest.approx(1 - (before - minus) / fo, rel=1e-9)
    assert up == pytest.approx((plus - before) / fo - 1, rel=1e-9)
    assert glue["ch1_ex_curvature"] == pytest.approx(plus + minus - 2 * before, rel=1e-9)
    assert glue["ch1_ex_curv_share"] == pytest.approx(glue["ch1_ex_curvature"] / (2 * fo), rel=1e-12)
    # "the downhill change falls short ... the uphill change exceeds": both misses positive
    assert down > 0 and up > 0
    # the sum is alpha^2 g^T H g > 0, and half of it (relative to the prediction) is the size of
    # each one-sided miss: within 10 % (the rest is the alpha^3 term)
    assert glue["ch1_ex_curvature"] > 0
    for miss in (down, up):
        assert miss == pytest.approx(glue["ch1_ex_curv_share"], rel=0.1)
    # half the difference is at least ten times closer than either one-sided change
    assert half < min(down, up) / 10


# --- separating the causes: forward collapse and the layer-wise learning-rate control --------------


def test_forward_signal_collapses_by_about_chi1_per_layer(glue) -> None:
    # s^(1) is about half (measured 0.51, median over seeds); every step in every layer and seed is below
    # 0.2 (measured at most 0.11); the median step of each layer is within 50 % of chi_c = chi_1 (measured
    # 0.039 to 0.045 against 0.042), and the logits' share is below 1e-4 (measured 2e-6).
    chi_c = glue["ch1_chi_c"]
    assert 0.3 < glue["ch1_share_first"] < 0.7
    assert glue["ch1_share_step_max"] < 0.2
    assert chi_c / 1.5 < glue["ch1_share_step_median_min"] <= glue["ch1_share_step_median_max"] < 1.5 * chi_c
    assert glue["ch1_share_step_geo"] == pytest.approx(chi_c, rel=0.5)
    assert glue["ch1_share_logits"] < 1e-4


def test_ordered_phase_fixed_point_and_slope(glue) -> None:
    # c* = 1 and its slope chi_c equals chi_1 (sigmoid, sigma_w^2 = sigma_b^2 = 1).
    assert glue["ch1_cstar"] == pytest.approx(1.0, abs=1e-9)
    assert glue["ch1_chi_c"] == pytest.approx(glue["ch1_chi1"], rel=1e-6)


def test_correlation_map_predicts_the_shares(glue) -> None:
    # Iterated from the measured s^(1), within a factor 2 of every later median share (measured 1.48).
    assert 1 <= glue["ch1_share_map_factor"] < 2


def test_logits_nearly_the_same_for_every_image(glue) -> None:
    # The logits vary over the images by well under 1 % of their mean in every seed (measured at most 0.24 %).
    assert 0 < glue["ch1_logit_spread_med"] <= glue["ch1_logit_spread_max"] < 0.01


def test_layerwise_learning_rates_lift_the_deep_network_off_the_plateau(glue) -> None:
    # Over the same seeds: no control run predicts a single digit, the worst control run beats the best run
    # with one rate (0.27) by more than 20 points, and the median is far above chance. The control's first
    # layer steps with 131 times the rate, so its runs are sensitive to rounding: under the Haswell,
    # Sandybridge and Prescott kernels its worst run scored 0.70, 0.62, 0.73, its median 0.785, 0.769, 0.777
    # and its best 0.81, 0.87, 0.84 (the runs with one rate were identical under all three).
    assert glue["ch1_control_one_digit"] == 0
    assert glue["ch1_control_acc_min"] > glue["ch1_acc_max_k4"] + 0.2
    assert glue["ch1_control_acc_min"] <= glue["ch1_control_acc_med"] <= glue["ch1_control_acc_max"]
    assert glue["ch1_control_acc_med"] > 0.6
    assert glue["ch1_acc_med_k4"] < 0.3


def test_control_still_below_one_hidden_layer(glue) -> None:
    # "still ends below every run of the network with one hidden layer": best control run (0.81 to 0.87 over
    # the three kernels) below the worst run with one hidden layer (0.95).
    assert glue["ch1_control_acc_max"] < glue["ch1_acc_min_k1"]


# --- the explorable: gradients at initialisation in wide random networks ----------------------------
# Read from the built page (gradlab.explorable): curves are stored with 3 significant digits, readout
# values with 6. Controls: activation, sigma_w2, sigma_b2, L; panel 0 holds (measured, predicted) RMS of
# delta^(l) against l, panel 1 measured / predicted.

ROUNDED = 5e-3  # the stored curves' rounding, with a margin
# Largest |log10(measured / predicted)| over every layer and setting, per activation: measured 0.099
# (sigmoid), 0.202 (tanh), 0.193 (relu) under the Haswell, Sandybridge and Prescott kernels alike; the
# bounds are at least 1.5 times that.
EXPLORE_TOL = {"sigmoid": 0.15, "tanh": 0.31, "relu": 0.3}


@pytest.fixture(scope="module")
def explore():
    from bookglue import explorables

    return explorables(PAGE)["ch1-delta"]


def _settings(explore):
    import itertools

    names = [c["name"] for c in explore["controls"]]
    return [dict(zip(names, combo)) for combo in itertools.product(*(c["values"] for c in explore["controls"]))]


def test_explorable_fits_its_budget(explore, glue) -> None:
    assert explore["bytes"] <= 150_000
    assert [c["name"] for c in explore["controls"]] == ["activation", "sigma_w2", "sigma_b2", "L"]
    assert len(explore["cells"]) == math.prod(len(c["values"]) for c in explore["controls"])
    assert glue["ch1_x_n_settings"] == len(explore["cells"])
    stored = sum(len(y) for cell in explore["cells"] for panel in cell["curves"] for _, y in panel)
    assert stored <= 12_000
    assert glue["ch1_x_width"] >= 100 and glue["ch1_x_batch"] >= 16 and glue["ch1_x_n_seeds"] >= 2


def test_explorable_predictions_are_gradlab_s(explore) -> None:
    import numpy as np
    from bookglue import explorable_cell

    from gradlab import theory

    for act, sw2, sb2, L in (("sigmoid", 1, 1, 20), ("tanh", 1, 0, 30), ("tanh", 0.5, 0.05, 10),
                             ("relu", 4, 1, 30), ("relu", 0.75, 0, 20)):
        cell = explorable_cell(explore, activation=act, sigma_w2=sw2, sigma_b2=sb2, L=L)
        (layers, measured), (_, predicted) = cell["curves"][0]
        v = cell["values"]
        assert layers == list(range(1, L + 1))
        # q^(1) = sigma_w^2 mean(x^2) + sigma_b^2 with standard normal x: mean(x^2) within 5 % of 1
        assert v["q1"] == pytest.approx(sw2 + sb2, abs=0.05 * sw2)
        expected = np.sqrt(theory.delta_profile(act, sw2, sb2, q1=v["q1"], depth=L))
        np.testing.assert_allclose(predicted, expected, rtol=ROUNDED)
        assert v["ratio_pred"] == pytest.approx(expected[0] / expected[-1], rel=1e-4)
        assert v["ratio"] == pytest.approx(measured[0] / measured[-1], rel=3 * ROUNDED)
        q = v["q1"] if act == "relu" else None
        assert v["chi1"] == pytest.approx(theory.chi1(act, sw2, sb2, q=q), rel=1e-5)


def test_explorable_relu_prediction_is_the_closed_form(explore) -> None:
    # ReLU: chi_1 = sigma_w^2 / 2 at every q, so ||delta^(1)|| / ||delta^(L)|| = (sigma_w^2 / 2)^((L - 1) / 2)
    for s, cell in zip(_settings(explore), explore["cells"]):
        if s["activation"] == "relu":
            chi = s["sigma_w2"] / 2
            assert cell["values"]["chi1"] == pytest.approx(chi, rel=1e-5)
            assert cell["values"]["ratio_pred"] == pytest.approx(chi ** ((s["L"] - 1) / 2), rel=1e-4)


def test_explorable_measured_agrees_with_mean_field_everywhere(explore, glue) -> None:
    worst = {act: 0.0 for act in EXPLORE_TOL}
    for s, cell in zip(_settings(explore), explore["cells"]):
        (_, measured), (_, predicted) = cell["curves"][0]
        ((_, quotient),) = cell["curves"][1]
        from_curves = max(abs(math.log10(m / p)) for m, p in zip(measured, predicted))
        assert cell["values"]["err"] == pytest.approx(from_curves, abs=0.005)
        for m, p, r in zip(measured, predicted, quotient):
            assert r == pytest.approx(m / p, rel=3 * ROUNDED)  # three roundings
        worst[s["activation"]] = max(worst[s["activation"]], cell["values"]["err"])
    for act, tol in EXPLORE_TOL.items():
        assert worst[act] < tol, act
    assert glue["ch1_x_worst"] == pytest.approx(max(worst.values()), rel=1e-5)
    assert glue["ch1_x_factor"] == pytest.approx(10 ** glue["ch1_x_worst"], rel=1e-12)


def test_explorable_ratios_span_many_decades(explore, glue) -> None:
    ratios = [cell["values"]["ratio"] for cell in explore["cells"]]
    assert glue["ch1_x_decades"] == pytest.approx(math.log10(max(ratios) / min(ratios)), rel=1e-4)
    assert glue["ch1_x_decades"] > 20  # the prose's span, far beyond the tolerance above


def test_explorable_tanh_keeps_the_gradient_where_sigmoid_loses_it(explore, glue) -> None:
    # At sigma_w^2 = 1, sigma_b^2 = 0: tanh has q* = 0 and chi_1 = 1, and ||delta^(1)|| / ||delta^(L)||
    # stays within a factor 10 at every depth (measured 0.13 to 0.29); sigmoid's is below 1e-5 (measured
    # at most 2.1e-6).
    from bookglue import explorable_cell

    for L in explore["controls"][3]["values"]:
        tanh = explorable_cell(explore, activation="tanh", sigma_w2=1, sigma_b2=0, L=L)["values"]
        sigmoid = explorable_cell(explore, activation="sigmoid", sigma_w2=1, sigma_b2=0, L=L)["values"]
        assert tanh["chi1"] == pytest.approx(1.0, rel=1e-6)
        assert 0.1 < tanh["ratio"] <= 1 and sigmoid["ratio"] < 1e-5
        if L == 30:
            assert glue["ch1_x_tanh_ratio"] == pytest.approx(tanh["ratio"], rel=1e-5)
            assert glue["ch1_x_sigmoid_ratio"] == pytest.approx(sigmoid["ratio"], rel=1e-5)
    # He initialisation (relu, sigma_w^2 = 2): predicted ratio exactly 1, measured within a factor 2 of it
    # at every sigma_b^2 and L (measured 0.92 to 1.41)
    for sb2 in explore["controls"][2]["values"]:
        for L in explore["controls"][3]["values"]:
            v = explorable_cell(explore, activation="relu", sigma_w2=2, sigma_b2=sb2, L=L)["values"]
            assert v["ratio_pred"] == pytest.approx(1.0, rel=1e-5)
            assert 0.5 < v["ratio"] < 2
