"""Chapter 5, "When gradients explode": the claims its prose makes, asserted on the values its build glued."""

from __future__ import annotations

import math

import pytest

from gradlab import activations, products

PAGE = "ch5_exploding"
pytestmark = pytest.mark.built_book

# Parameters the prose states.
W_BIG, EPS, DEEPEST = 8.0, 1e-6, 40  # sigmoid weight, input error, deepest chain
N, DEPTH, RUNS = 4, 100, 400  # matrix products: n x n factors, products of DEPTH, RUNS runs
GAIN, W6 = 2.0, 6.0
F32_MAX = 3.4028234663852886e38  # the largest float32, (2 - 2**-23) * 2**127
SIG = activations.get("sigmoid")


# ---------------------------------------------------------------------------
# 1. the scalar chain
# ---------------------------------------------------------------------------


def test_large_sigmoid_weights_with_zero_biases_vanish(glue) -> None:
    # The seed note's argument: the best factor w sigma'(0) = w/4 = 2 exceeds one ...
    assert W_BIG * 0.25 == 2.0
    # ... but every pre-activation sits just below w = 8, where each factor is below 1/100.
    assert 7.99 < glue["ch5_sat_z_min"] <= glue["ch5_sat_z_max"] <= W_BIG
    assert glue["ch5_sat_z_min"] <= glue["ch5_sat_z"] <= glue["ch5_sat_z_max"]
    assert glue["ch5_sat_gprime"] == pytest.approx(float(SIG.dg(glue["ch5_sat_z"])), rel=1e-12)
    assert glue["ch5_sat_factor_max"] < 0.01
    assert glue["ch5_sat_factor"] < 0.01 and glue["ch5_sat_shrink"] > 100
    assert glue["ch5_sat_shrink"] == pytest.approx(1 / glue["ch5_sat_factor"], rel=1e-12)
    # the gradient falls with every extra layer, to below 1e-100 at depth 40
    assert glue["ch5_sat_rising_steps"] == 0
    assert 0 < glue["ch5_sat_dw1"] < 1e-100


def test_tuned_biases_give_a_factor_of_exactly_two(glue) -> None:
    assert glue["ch5_tuned_z_absmax"] == 0.0  # exact: 8 * 1/2 - 4 = 0 in floating point
    # every factor is w sigma'(0) = w/4, exactly
    assert glue["ch5_tuned_factor_min"] == glue["ch5_tuned_factor_max"] == W_BIG / 4 == 2.0
    # dL/dw(1) = (1/2)(1/4) 2^(L-1) x = 2^(L-4) at every depth, exactly (powers of two)
    assert glue["ch5_tuned_dw1_maxrelerr"] == 0.0
    assert glue["ch5_tuned_growth"] == 2.0
    assert glue["ch5_tuned_dw1"] == 2.0 ** (DEEPEST - 4)


def test_relu_chain_grows_by_one_and_a_half(glue) -> None:
    assert glue["ch5_relu_a_min"] == glue["ch5_relu_a_max"] == 1.0  # the biases hold a(l) = 1
    assert glue["ch5_relu_factor_min"] == glue["ch5_relu_factor_max"] == 1.5
    assert glue["ch5_relu_dw1_maxrelerr"] < 1e-12  # dL/dw(1) = 1.5^(L-1) at every depth
    assert glue["ch5_relu_growth"] == pytest.approx(1.5, rel=1e-12)
    assert glue["ch5_relu_dw1"] == pytest.approx(1.5 ** (DEEPEST - 1), rel=1e-12)
    # Without biases the forward signal grows too: 1.5 (backward) x 1.5 (forward) per layer.
    assert glue["ch5_linear_growth"] == pytest.approx(2.25, rel=1e-12)


def test_the_three_groupings_of_the_per_layer_factor_agree_on_these_chains(glue) -> None:
    # growth per layer (depth 40 over depth 39) = w(L) g'(z(L)) a(L)/a(L-1), to rounding, in all four chains
    assert glue["ch5_growth_vs_top_maxrelerr"] < 1e-12
    # chapter 3's factor w(L) g'(z(L-1)) equals chapter 4's w(L) g'(z(L)) where the chains have settled
    assert glue["ch5_ch3_vs_ch4_maxrelerr"] < 1e-12


def test_tuned_chain_is_a_knife_edge(glue) -> None:
    z_star, pred, layer = glue["ch5_window_z"], glue["ch5_edge_pred"], glue["ch5_edge_layer"]
    # the window of chapter 4: w sigma'(z) = 1 at |z| = z*
    assert W_BIG * float(SIG.dg(z_star)) == pytest.approx(1.0, rel=1e-9)
    # the doubling error w eps reaches z* after 1 + log2(z*/(w eps)) layers
    assert pred == pytest.approx(1 + math.log2(z_star / (W_BIG * EPS)), rel=1e-12)
    # The linearised doubling predicts where the factor drops below one; the chain
    # leaves the window at most two layers later (the doubling slows as z grows).
    assert 0 <= layer - pred < 2, (layer, pred)
    # before that layer every factor is at least one, from it on every factor is below one
    assert glue["ch5_edge_misplaced"] == 0
    # It settles at the stable fixed point z = w sigma(z) - w/2, where the slope w sigma'(z) < 1.
    z = glue["ch5_edge_z"]
    assert z == pytest.approx(W_BIG * float(SIG.g(z)) - W_BIG / 2, abs=1e-9)
    assert W_BIG * float(SIG.dg(z)) < 1
    # ... so the gradient at depth 40 is tiny instead of 2^36.
    assert glue["ch5_edge_dw1"] < 1e-6 < 1e10 < glue["ch5_tuned_dw1"]


# ---------------------------------------------------------------------------
# 2. products of random matrices
# ---------------------------------------------------------------------------


def test_growth_rate_matches_lyapunov_exponent(glue) -> None:
    # lambda_1 = (ln(2 s^2) + psi(n/2)) / 2 with n = 4, s = 1: psi(2) = 1 - Euler's gamma
    assert glue["ch5_lam_pred"] == pytest.approx((math.log(2) + 1 - 0.5772156649015329) / 2, rel=1e-12)
    # ln||v_100|| / 100 averaged over 400 runs: within 3 standard errors of lambda_1.
    assert abs(glue["ch5_lam_diff_se"]) < 3
    assert abs(glue["ch5_lam_meas"] - glue["ch5_lam_pred"]) < 3 * glue["ch5_lam_se"]
    assert glue["ch5_lam_diff_se"] == pytest.approx(
        (glue["ch5_lam_meas"] - glue["ch5_lam_pred"]) / glue["ch5_lam_se"], rel=1e-9)
    assert glue["ch5_typical_log10"] == pytest.approx(glue["ch5_lam_meas"] * DEPTH / math.log(10), rel=1e-12)


def test_spread_matches_random_walk(glue) -> None:
    # sd of ln||v_100|| = sqrt(100) * sqrt(psi'(2)) / 2, psi'(2) = pi^2/6 - 1
    assert glue["ch5_sd_pred"] == pytest.approx(math.sqrt(DEPTH) * math.sqrt(math.pi**2 / 6 - 1) / 2, rel=1e-12)
    # within 4 standard errors of a sample sd, sigma / sqrt(2 (RUNS - 1)) (~3.5 % here);
    # the sum of 100 steps is close to normal (excess kurtosis ~0.01).
    assert abs(glue["ch5_sd_diff_se"]) < 4
    assert abs(glue["ch5_sd_meas"] / glue["ch5_sd_pred"] - 1) < 4 / math.sqrt(2 * (RUNS - 1))
    # The range of 400 near-normal values is about 6 sd (sd of the range ~0.6 sd): allow 4 to 8 sd.
    sd_decades = glue["ch5_sd_pred"] / math.log(10)
    assert 4 * sd_decades < glue["ch5_spread_decades"] < 8 * sd_decades
    assert glue["ch5_spread_decades"] > 5  # "orders of magnitude" between runs


def test_typical_growth_is_below_rms_growth(glue) -> None:
    assert glue["ch5_exp_lam"] == pytest.approx(math.exp(glue["ch5_lam_pred"]), rel=1e-12)
    assert glue["ch5_rms_factor"] == math.sqrt(N * 1.0) == 2.0  # sqrt(n s^2)
    assert glue["ch5_exp_lam"] < glue["ch5_rms_factor"]  # Jensen


def test_variance_preserving_products_drift_down(glue) -> None:
    assert glue["ch5_lam4_scaled"] < 0 and glue["ch5_lam256_scaled"] < 0
    assert glue["ch5_lam4_scaled"] == pytest.approx(products.lyapunov_gaussian(4, s2=1 / 4), rel=1e-12)
    assert abs(glue["ch5_lam4_scaled_diff_se"]) < 3  # simulation within 3 standard errors
    assert glue["ch5_lam4_scaled_meas"] < 0
    assert glue["ch5_lam4_typical"] == pytest.approx(math.exp(DEPTH * glue["ch5_lam4_scaled"]), rel=1e-12)
    assert glue["ch5_lam4_typical"] < 1e-5
    assert glue["ch5_lam256_approx"] == -1 / 512
    assert glue["ch5_lam256_scaled"] == pytest.approx(glue["ch5_lam256_approx"], rel=0.01)


def test_the_zero_lyapunov_scale(glue) -> None:
    euler = 0.5772156649015329
    # n s0^2 = n / (2 exp(psi(n/2))); psi(2) = 1 - gamma, so 2 exp(gamma - 1) for n = 4
    assert glue["ch5_typ_ns2"] == pytest.approx(2 * math.exp(euler - 1), rel=1e-12)
    assert glue["ch5_typ_ns2"] == pytest.approx(N * products.zero_lyapunov_s2(N), rel=1e-12)
    assert abs(glue["ch5_typ_lam"]) < 1e-12  # lambda_1 = 0 there
    # "slightly larger than the mean-square rule": n s0^2 > e^(1/n) > 1, and close to 1 + 1/n for n = 256
    assert glue["ch5_typ_ns2"] > math.exp(1 / N) > 1
    assert math.exp(1 / 256) < glue["ch5_typ_ns2_256"] < 1 + 1 / 256 + 1 / 256**2
    assert glue["ch5_typ_ns2_256"] == pytest.approx(1 + 1 / 256, abs=2e-5)


def test_typical_size_stays_while_the_mean_square_grows(glue) -> None:
    se = glue["ch5_typ_mean100_se"]
    # standard error of the mean of ln||v_100|| over 2000 runs: sqrt(100) sd(step) / sqrt(2000)
    assert se == pytest.approx(glue["ch5_sd_pred"] / math.sqrt(2000), rel=1e-12)
    # the typical size stays put: mean ln||v_100|| within 3 standard errors of 0 ...
    assert abs(glue["ch5_typ_mean100_diff_se"]) < 3
    assert glue["ch5_typ_mean100_diff_se"] == pytest.approx(glue["ch5_typ_mean100"] / se, rel=1e-9)
    # ... while the mean-square scaling drifts to about 100 lambda_1(1/n) < -10, far outside that
    assert glue["ch5_msp_mean100"] < -10 < -100 * se
    assert glue["ch5_msp_mean100"] == pytest.approx(DEPTH * glue["ch5_lam4_scaled"], abs=4 * glue["ch5_sd_pred"] / math.sqrt(RUNS))
    # the mean square grows by n s0^2 per factor: after 5 factors within 4 standard errors of (n s0^2)^5
    assert glue["ch5_typ_ms5_pred"] == pytest.approx(glue["ch5_typ_ns2"] ** 5, rel=1e-12)
    assert abs(glue["ch5_typ_ms5_diff_se"]) < 4
    assert glue["ch5_typ_ms5"] > 2.5  # clearly above the 1 it would keep at s^2 = 1/n
    # after 100 it should be 10^11.7; the sample of 2000 runs falls short by more than one order of magnitude
    assert glue["ch5_typ_ms100_pred_log10"] == pytest.approx(DEPTH * math.log10(glue["ch5_typ_ns2"]), rel=1e-12)
    assert glue["ch5_typ_ms100_short_log10"] > 1


def test_neither_scaling_removes_the_spread(glue) -> None:
    sd = glue["ch5_sd_pred"]  # sqrt(100) sd(one step), independent of s
    # at s0^2 (2000 runs): within 4 standard errors of a sample sd
    assert abs(glue["ch5_typ_sd_diff_se"]) < 4
    assert abs(glue["ch5_typ_sd100"] / sd - 1) < 4 / math.sqrt(2 * (2000 - 1))
    # at s^2 = 1/n (400 runs): the same prediction, within 4 standard errors
    assert abs(glue["ch5_msp_sd100"] / sd - 1) < 4 / math.sqrt(2 * (RUNS - 1))
    # grows like sqrt(k): from k = 25 to k = 100 by 2, within 10 % (each sample sd is within ~1.6 %)
    assert glue["ch5_typ_sd_ratio_100_25"] == pytest.approx(2.0, rel=0.1)


# ---------------------------------------------------------------------------
# 3. the deep ReLU network and float32
# ---------------------------------------------------------------------------


def test_relu_gradient_grows_by_the_gain_per_layer(glue) -> None:
    assert glue["ch5_relu_pred_factor"] == pytest.approx(GAIN, rel=1e-12)
    # The spread of the fitted per-layer growth over seeds 0-9, measured in the chapter: about 1.4 %
    # of the gain (1.4 % over 20 seeds when this was written). Allow up to 2.5 %.
    n, mean, sd = glue["ch5_relu_seeds_n"], glue["ch5_relu_seeds_mean"], glue["ch5_relu_seeds_sd"]
    assert n == 10
    assert 0 < sd / GAIN < 0.025
    assert glue["ch5_relu_seeds_sd_pct"] == pytest.approx(100 * sd / GAIN, rel=1e-9)
    assert glue["ch5_relu_seeds_min"] <= glue["ch5_relu_fit_factor"] <= glue["ch5_relu_seeds_max"]  # seed 0 is one of them
    assert glue["ch5_relu_seeds_min"] <= mean <= glue["ch5_relu_seeds_max"]
    # the mean of ten matches the gain within 3 standard errors, and within 1.5 % outright
    # (1.015^59 = 2.4 over the network, against 1.05^59 = 18 for the old 5 %)
    assert abs(mean - GAIN) < 3 * sd / math.sqrt(n)
    assert abs(mean / GAIN - 1) < 0.015
    assert glue["ch5_relu_seeds_mean_relerr_pct"] == pytest.approx(100 * abs(mean / GAIN - 1), rel=1e-9)
    assert glue["ch5_relu_seeds_mean_relerr_pct"] < 1.5
    # one network (seed 0) within 3 standard deviations of one network
    assert abs(glue["ch5_relu_fit_factor"] - GAIN) < 3 * sd
    assert glue["ch5_relu_fit_relerr"] < min(5, 3 * glue["ch5_relu_seeds_sd_pct"])  # never looser than the old 5 %
    assert glue["ch5_relu_fit_relerr"] == pytest.approx(100 * abs(glue["ch5_relu_fit_factor"] / GAIN - 1), rel=1e-9)
    # every seed within 4 standard deviations of the gain
    assert GAIN - 4 * sd < glue["ch5_relu_seeds_min"] and glue["ch5_relu_seeds_max"] < GAIN + 4 * sd
    # one sd of the rate compounded over 59 steps: (1 + sd/mean)^59, roughly
    assert glue["ch5_relu_seeds_sd_over59"] == pytest.approx((1 + sd / mean) ** 59, rel=0.1)
    assert 1 < glue["ch5_relu_seeds_sd_over59"] < 5
    # The forward pre-activations grow at nearly the same rate, a little below the gain:
    # mean over the ten seeds within 3 %, below 2; seed 0 within 3 of their sds of their mean.
    fwd_mean, fwd_sd = glue["ch5_relu_fwd_seeds_mean"], glue["ch5_relu_fwd_seeds_sd"]
    assert abs(fwd_mean / GAIN - 1) < 0.03 and fwd_mean < GAIN
    assert 0 < fwd_sd / GAIN < 0.03
    assert abs(glue["ch5_relu_fwd_factor"] - fwd_mean) < 3 * fwd_sd
    assert abs(glue["ch5_relu_fwd_factor"] / GAIN - 1) < 0.05
    # ||delta(1)|| is above ||delta(L)|| by at least 90 % of 59 doublings (in log10)
    assert glue["ch5_d60_log10_delta1"] > glue["ch5_d60_log10_deltaL"] + 59 * math.log10(GAIN) * 0.9


def test_sixty_layers_stay_inside_float32(glue) -> None:
    # the largest float64 pre-activation is far below float32's maximum, and float32 agrees
    assert glue["ch5_d60_log10_max_z"] < glue["ch5_f32_log10_max"] - 10
    assert glue["ch5_d60_f32_nonfinite_layers"] == 0


def test_float32_overflows_where_float64_predicts(glue) -> None:
    assert glue["ch5_f32_log10_max"] == pytest.approx(math.log10(F32_MAX), rel=1e-12)
    pred, meas = glue["ch5_f32_pred_layer"], glue["ch5_f32_meas_layer"]
    # the predicted layer is the first above the limit: the float64 maximum crosses it there
    assert glue["ch5_f32_log10_z_before"] <= glue["ch5_f32_log10_max"] < glue["ch5_f32_log10_z_at"]
    # Seed 0: float32 overflows at the predicted layer, or (a partial sum overflows first)
    # one layer earlier; never later (the seed sweep below, over ten networks).
    assert 0 <= pred - meas <= 1, (pred, meas)
    assert 1 < meas < 200
    # "from there on every later layer is inf or NaN", and the float32 gradients are not finite
    assert glue["ch5_f32_finite_after"] == 0
    assert glue["ch5_f32_grads"] == "contain inf or NaN"
    # the backward pass alone would overflow float32: even delta(L) is beyond its range
    assert glue["ch5_d200_log10_deltaL"] > glue["ch5_f32_log10_max"]
    assert glue["ch5_d200_log10_delta1"] > glue["ch5_d200_log10_deltaL"]


def test_float32_never_overflows_later_than_predicted(glue) -> None:
    assert glue["ch5_sweep_n"] == 10  # seeds 0 to 9
    assert glue["ch5_sweep_min_early"] >= 0  # never later than predicted
    assert glue["ch5_sweep_max_early"] <= 1  # at most one layer earlier
    assert glue["ch5_sweep_agree"] >= glue["ch5_sweep_n"] // 2  # "agree in most"


# ---------------------------------------------------------------------------
# 4. a diverging loss curve
# ---------------------------------------------------------------------------


def test_good_learning_rate_trains(glue) -> None:
    assert glue["ch5_good_nonfinite_losses"] == 0  # never diverged
    assert glue["ch5_good_final_loss"] < glue["ch5_first_loss"] / 100
    assert glue["ch5_good_acc"] > 0.9


def test_large_learning_rate_diverges_after_growing_by_orders_of_magnitude(glue) -> None:
    k = glue["ch5_bad_diverged_at"]
    assert 0 < k <= 20  # "a handful of steps"
    # the loss of step k is the only one that is not finite, and the run stopped there
    assert glue["ch5_bad_nonfinite_losses"] == 1
    assert glue["ch5_bad_first_nonfinite"] == k and glue["ch5_bad_n_losses"] == k + 1
    assert glue["ch5_bad_min_later_over_first"] > 1  # never drops below its starting value
    assert glue["ch5_bad_peak_loss"] > 1e100 * glue["ch5_first_loss"]
    assert glue["ch5_bad_grad_growth_log10"] > 50
    assert glue["ch5_bad_first_loss"] == glue["ch5_first_loss"]  # same network, same first minibatch


def test_depth_turns_learning_rate_two_into_a_blow_up(glue) -> None:
    assert glue["ch5_lr2_n_seeds"] == 5
    # no hidden layer: every seed trains (>= 90 %), the loss stays below 10^2
    assert glue["ch5_lr2_h0_acc_min"] > 0.9
    assert glue["ch5_lr2_h0_peak_max"] < 2
    # one hidden layer: the loss of every seed passes 10^30 (measured 10^50 to 10^60), never overflowing;
    # the median accuracy ends far below the no-hidden-layer runs
    assert glue["ch5_lr2_h1_peak_min"] > 30
    assert glue["ch5_lr2_h1_acc_median"] < 0.7 < glue["ch5_lr2_h0_acc_min"]
    assert glue["ch5_lr2_shallow_n_diverged"] == 0  # no run with 0, 1 or 2 hidden layers overflows
    # two hidden layers: most runs end with the loss of a constant prediction, ln 10, at about chance
    assert glue["ch5_lr2_h2_n_constant"] >= 4
    assert glue["ch5_lr2_h2_acc_max"] < 0.2
    # three hidden layers (the chapter's network): every seed's output overflows, within a few dozen steps
    assert glue["ch5_lr2_h3_n_diverged"] == 5
    assert 0 < glue["ch5_lr2_h3_diverged_at_max"] <= 60
    assert glue["ch5_lr2_h3_diverged_at_max"] >= glue["ch5_bad_diverged_at"]  # seed 0 is the run above
    # deeper networks start with larger gradients
    assert glue["ch5_lr2_g0_h3"] > glue["ch5_lr2_g0_h0"]


def test_gradient_clipping_rescues_every_depth(glue) -> None:
    # theta = 0.25 is below every run's first gradient norm, so clipping acts from the first step
    assert glue["ch5_clip_first_norm_min"] > 0.25
    assert glue["ch5_clip_n_diverged"] == 0
    # every clipped run trains (measured 94.9 % to 98.4 %, the same under all three kernels; with
    # theta = 1 the steps were four times longer and one run fell to 87 % under one kernel)
    assert glue["ch5_clip_acc_min"] > 0.9
    assert glue["ch5_clip_acc_min"] <= glue["ch5_clip_acc_max"] <= 1
    # the deeper network has more steps clipped (measured medians 14 % and 24 %; per seed 14-15 % and 24-27 %)
    assert glue["ch5_clip_share_h3"] > glue["ch5_clip_share_h0"] + 0.05
    assert 0 < glue["ch5_clip_share_h0"] < glue["ch5_clip_share_h3"] < 1


# ---------------------------------------------------------------------------
# exercises
# ---------------------------------------------------------------------------


def test_ex_gain3_homogeneity_predicts_the_overflow_layer(glue) -> None:
    # log10 max|z(l)| of the gain-3 net is the gain-2 curve shifted by l log10(3/2), to rounding
    assert glue["ch5_ex_homog_err"] < 1e-12
    # "predict it exactly": the shifted gain-2 curve gives the gain-3 float64 run's first layer above the limit
    assert glue["ch5_ex_exact_layer"] == glue["ch5_ex_pred_layer"]
    # float32 overflows there, or at most one layer earlier (a partial sum overflows first)
    assert 0 <= glue["ch5_ex_exact_layer"] - glue["ch5_ex_meas_layer"] <= 1
    # "the estimate is a few layers early": 1 to 5 layers
    assert 1 <= glue["ch5_ex_exact_layer"] - glue["ch5_ex_rough_layer"] <= 5
    # ... because max|z| grows by a little less than the gain per layer (gain 2: fitted rate below 2)
    assert glue["ch5_relu_fwd_factor"] < GAIN
    # and a larger gain overflows much sooner than gain 2 did
    assert glue["ch5_ex_meas_layer"] < glue["ch5_f32_meas_layer"]


def test_ex_knife_edge_with_w6(glue) -> None:
    z_star = glue["ch5_ex_knife_zstar"]
    assert W6 * float(SIG.dg(z_star)) == pytest.approx(1.0, rel=1e-9)  # the window's edge
    # the tuned state amplifies by w/4 = 1.5 per layer
    assert glue["ch5_ex_knife_tuned_factor_min"] == glue["ch5_ex_knife_tuned_factor_max"] == W6 / 4
    assert glue["ch5_ex_knife_pred"] == pytest.approx(1 + math.log(z_star / (W6 * EPS)) / math.log(W6 / 4), rel=1e-12)
    # the chain leaves the window at most two layers after the linearised prediction (as for w = 8)
    assert 0 <= glue["ch5_ex_knife_layer"] - glue["ch5_ex_knife_pred"] < 2
    assert glue["ch5_ex_knife_misplaced"] == 0
    # "narrower in z ... but the error grows more slowly", so it stays on the edge longer
    assert glue["ch5_ex_knife_zstar"] < glue["ch5_window_z"]
    assert glue["ch5_ex_knife_pred"] > glue["ch5_edge_pred"]
    assert glue["ch5_ex_knife_layer"] > glue["ch5_edge_layer"]


def test_ex_lyapunov_exponent_of_scalar_products(glue) -> None:
    from scipy import integrate
    from scipy.special import digamma, polygamma

    # the two facts the exercise quotes
    assert float(digamma(0.5)) == pytest.approx(-0.5772156649015329 - 2 * math.log(2), rel=1e-14)
    assert float(polygamma(1, 0.5)) == pytest.approx(math.pi**2 / 2, rel=1e-14)
    # closed forms, and gradlab agrees with them
    closed = -(0.5772156649015329 + math.log(2)) / 2
    assert glue["ch5_ex_lam1_closed"] == pytest.approx(closed, rel=1e-14)
    assert glue["ch5_ex_lam1_gradlab_diff"] < 1e-15
    assert glue["ch5_ex_sd1_closed"] == pytest.approx(math.pi / (2 * math.sqrt(2)), rel=1e-14)
    assert glue["ch5_ex_lam1_typical"] == pytest.approx(math.exp(-0.5772156649015329 / 2) / math.sqrt(2), rel=1e-14)
    # E ln|Z| for Z ~ N(0, 1), by quadrature: an independent check of the closed form
    e_log, _ = integrate.quad(lambda t: math.log(t) * math.exp(-t * t / 2) * math.sqrt(2 / math.pi), 0, math.inf)
    assert e_log == pytest.approx(glue["ch5_ex_lam1_closed"], abs=1e-8)
    # the simulation: mean within 3 standard errors, sd within 4 standard errors of a sample sd
    assert abs(glue["ch5_ex_lam1_meas"] - glue["ch5_ex_lam1_closed"]) < 3 * glue["ch5_ex_lam1_se"]
    assert abs(glue["ch5_ex_sd1_meas"] / glue["ch5_ex_sd1_closed"] - 1) < 4 / math.sqrt(2 * (RUNS - 1))
    # "below one", and "more than -1/(2n) = -0.5 suggests"
    assert glue["ch5_ex_lam1_typical"] < 1 and glue["ch5_ex_lam1_closed"] < -0.5
