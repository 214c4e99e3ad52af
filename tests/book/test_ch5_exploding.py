"""Chapter 5, "When gradients explode": every glued number, and the claims the prose makes about them.

``expected_glue()`` recomputes each value the page glues with the same gradlab
calls and seeds; ``tests/test_built_book.py`` compares it with the built page.
The other tests check what the prose says about those values, each with its
tolerance stated next to the assertion.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest

from gradlab import activations, chain, data, experiments, init, mlp, products, saturation, train

# The chapter's parameters (same values as the code cells of book/ch5_exploding.md).
W_BIG, EPS = 8.0, 1e-6
DEPTHS = np.arange(1, 41)
N, DEPTH, RUNS = 4, 100, 400
WIDTH, GAIN = 64, 2.0
SWEEP = range(10)
LR_GOOD, LR_BAD = 0.05, 2.0
F32_LOG10_MAX = float(np.log10(float(np.finfo(np.float32).max)))




def tuned_biases(w: float, L: int, x: float = 1.0) -> list[float]:
    return [-w * x] + [-w / 2] * (L - 1)


# ---------------------------------------------------------------------------
# the experiments, each run once
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def scalar_chains() -> dict[str, list[chain.ChainFactors]]:
    return {
        "sat": [chain.scalar_chain([W_BIG] * L) for L in DEPTHS],
        "tuned": [chain.scalar_chain([W_BIG] * L, tuned_biases(W_BIG, L)) for L in DEPTHS],
        "edge": [chain.scalar_chain([W_BIG] * L, tuned_biases(W_BIG, L), x=1 + EPS) for L in DEPTHS],
        "relu": [chain.scalar_chain([1.5] * L, [-0.5] * L, activation="relu") for L in DEPTHS],
    }


def dw1(name: str) -> np.ndarray:
    return np.array([c.dL_dw1 for c in scalar_chains()[name]])


def growth(name: str) -> float:
    d = dw1(name)
    return float(d[-1] / d[-2])


@functools.lru_cache(maxsize=None)
def product_runs() -> tuple[np.ndarray, np.ndarray]:
    final = products.log_norms_of_products(N, DEPTH, n_seeds=RUNS, rng=0)[:, -1]
    scaled = products.log_norms_of_products(4, DEPTH, n_seeds=RUNS, s2=1 / 4, rng=1)[:, -1]
    return final, scaled


@functools.lru_cache(maxsize=None)
def digits_batch() -> np.ndarray:
    return data.digits(rng=0).X_train[:256]


def big_relu_net(depth: int, seed: int = 0) -> mlp.Network:
    sizes = (64,) + (WIDTH,) * (depth - 1) + (10,)
    return mlp.init_network(sizes, hidden="relu", output="linear", init="he_normal", gain=GAIN, rng=seed)


@functools.lru_cache(maxsize=None)
def overflow(depth: int, seed: int = 0) -> experiments.OverflowReport:
    return experiments.float32_overflow(big_relu_net(depth, seed), digits_batch())


def relu_fits() -> tuple[float, float, float]:
    """(predicted factor, fitted growth of ||delta|| towards the input, fitted growth of max|z|)."""
    pred = float(np.sqrt(WIDTH / 2 * init.variance("he_normal", WIDTH, WIDTH, gain=GAIN)))
    rep = overflow(60)
    layers = np.arange(1, 61)
    slope_delta = np.polyfit(layers, rep.log10_delta_norm, 1)[0]
    slope_z = np.polyfit(layers, rep.log10_max_abs_z, 1)[0]
    return pred, float(10 ** (-slope_delta)), float(10 ** slope_z)


@functools.lru_cache(maxsize=None)
def training() -> tuple[train.History, train.History, data.Dataset]:
    digits = data.digits(rng=0)
    net = mlp.init_network((64, 64, 64, 64, 10), hidden="relu", output="linear", init="he_normal", rng=0)
    good = train.train_sgd(net, digits.X_train, digits.y_train, lr=LR_GOOD, epochs=20, batch_size=32, rng=0)
    bad = train.train_sgd(net, digits.X_train, digits.y_train, lr=LR_BAD, epochs=20, batch_size=32, rng=0)
    return good, bad, digits


def edge_numbers() -> tuple[float, float, int]:
    """(z*, predicted layer where the doubling error leaves the window, measured layer)."""
    _, a_hi = saturation.window_bounds(W_BIG)
    z_star = float(W_BIG * a_hi)
    pred = 1 + np.log2(z_star / (W_BIG * EPS))
    edge = scalar_chains()["edge"][-1]
    layer = next(l for l, gp in enumerate(edge.g_prime, start=1) if W_BIG * gp < 1)
    return z_star, float(pred), int(layer)


# ---------------------------------------------------------------------------
# every glued value
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    g: dict[str, Any] = {}
    runs = scalar_chains()
    sat, tuned, edge, relu_run = (runs[k][-1] for k in ("sat", "tuned", "edge", "relu"))
    g["ch5_sat_z"] = float(sat.z[-1])
    g["ch5_sat_gprime"] = float(sat.g_prime[-1])
    g["ch5_sat_factor"] = growth("sat")
    g["ch5_sat_shrink"] = 1.0 / growth("sat")
    g["ch5_sat_dw1"] = float(sat.dL_dw1)
    g["ch5_tuned_growth"] = growth("tuned")
    g["ch5_tuned_dw1"] = float(tuned.dL_dw1)
    g["ch5_relu_growth"] = growth("relu")
    g["ch5_relu_dw1"] = float(relu_run.dL_dw1)
    linear = [chain.scalar_chain([1.5] * L, activation="linear").dL_dw1 for L in (39, 40)]
    g["ch5_linear_growth"] = float(linear[1] / linear[0])
    z_star, edge_pred, edge_layer = edge_numbers()
    g["ch5_window_z"] = z_star
    g["ch5_edge_pred"] = edge_pred
    g["ch5_edge_layer"] = edge_layer
    g["ch5_edge_z"] = float(edge.z[-1])
    g["ch5_edge_dw1"] = float(edge.dL_dw1)

    final, scaled = product_runs()
    lam_pred = products.lyapunov_gaussian(N)
    lam_meas = final.mean() / DEPTH
    lam_se = final.std(ddof=1) / DEPTH / np.sqrt(RUNS)
    sd_pred = np.sqrt(DEPTH) * products.log_norm_step_sd(N)
    sd_meas = final.std(ddof=1)
    sd_se = sd_pred / np.sqrt(2 * (RUNS - 1))
    g["ch5_lam_pred"] = float(lam_pred)
    g["ch5_lam_meas"] = float(lam_meas)
    g["ch5_lam_se"] = float(lam_se)
    g["ch5_lam_diff_se"] = float((lam_meas - lam_pred) / lam_se)
    g["ch5_sd_pred"] = float(sd_pred)
    g["ch5_sd_meas"] = float(sd_meas)
    g["ch5_sd_diff_se"] = float((sd_meas - sd_pred) / sd_se)
    g["ch5_exp_lam"] = float(np.exp(lam_pred))
    g["ch5_rms_factor"] = float(np.sqrt(N * 1.0))
    g["ch5_typical_log10"] = float(final.mean() / np.log(10))
    g["ch5_spread_decades"] = float((final.max() - final.min()) / np.log(10))

    lam_4 = products.lyapunov_gaussian(4, s2=1 / 4)
    lam_4_meas = scaled.mean() / DEPTH
    lam_4_se = scaled.std(ddof=1) / DEPTH / np.sqrt(RUNS)
    g["ch5_lam4_scaled"] = float(lam_4)
    g["ch5_lam4_scaled_meas"] = float(lam_4_meas)
    g["ch5_lam4_scaled_diff_se"] = float((lam_4_meas - lam_4) / lam_4_se)
    g["ch5_lam4_typical"] = float(np.exp(DEPTH * lam_4))
    g["ch5_lam256_scaled"] = float(products.lyapunov_gaussian(256, s2=1 / 256))
    g["ch5_lam256_approx"] = float(-1 / (2 * 256))

    pred, fit_delta, fit_z = relu_fits()
    rep60 = overflow(60)
    g["ch5_relu_pred_factor"] = pred
    g["ch5_relu_fit_factor"] = fit_delta
    g["ch5_relu_fit_relerr"] = float(100 * abs(fit_delta / pred - 1))
    g["ch5_relu_fwd_factor"] = fit_z
    g["ch5_d60_log10_delta1"] = float(rep60.log10_delta_norm[0])
    g["ch5_d60_log10_deltaL"] = float(rep60.log10_delta_norm[-1])

    rep200 = overflow(200)
    g["ch5_f32_log10_max"] = F32_LOG10_MAX
    g["ch5_f32_pred_layer"] = int(rep200.predicted_layer)
    g["ch5_f32_meas_layer"] = int(rep200.measured_layer)
    g["ch5_f32_grads"] = "are all finite" if rep200.float32_grad_finite else "contain inf or NaN"
    g["ch5_d200_log10_deltaL"] = float(rep200.log10_delta_norm[-1])
    g["ch5_d200_log10_delta1"] = float(rep200.log10_delta_norm[0])
    early = sweep_early()
    g["ch5_sweep_n"] = len(early)
    g["ch5_sweep_agree"] = int(sum(e == 0 for e in early))
    g["ch5_sweep_max_early"] = int(max(early))

    good, bad, digits = training()
    steps_per_epoch = int(np.ceil(len(digits.y_train) / 32))
    bad_finite = bad.loss[np.isfinite(bad.loss)]
    g["ch5_first_loss"] = float(good.loss[0])
    g["ch5_good_final_loss"] = float(good.loss[-steps_per_epoch:].mean())
    g["ch5_good_acc"] = float(train.accuracy(good.network, digits.X_test, digits.y_test))
    g["ch5_bad_diverged_at"] = int(bad.diverged_at)
    g["ch5_bad_peak_loss"] = float(bad_finite.max())
    g["ch5_bad_grad_growth_log10"] = float(np.log10(bad.grad_W[-1, 0] / bad.grad_W[0, 0]))

    # the exercises at the end of the chapter
    gain3, knife, lyap = ex_gain3(), ex_knife(), ex_lyap1()
    g["ch5_ex_rough_layer"] = gain3["rough"]
    g["ch5_ex_exact_layer"] = gain3["exact"]
    g["ch5_ex_meas_layer"] = int(gain3["rep"].measured_layer)
    g["ch5_ex_homog_err"] = gain3["homog_err"]
    g["ch5_ex_knife_zstar"] = knife["z_star"]
    g["ch5_ex_knife_pred"] = knife["pred"]
    g["ch5_ex_knife_layer"] = knife["layer"]
    g["ch5_ex_lam1_closed"] = lyap["closed"]
    g["ch5_ex_lam1_gradlab_diff"] = float(abs(products.lyapunov_gaussian(1) - lyap["closed"]))
    g["ch5_ex_lam1_typical"] = float(np.exp(lyap["closed"]))
    g["ch5_ex_lam1_meas"] = lyap["meas"]
    g["ch5_ex_lam1_se"] = lyap["se"]
    g["ch5_ex_sd1_closed"] = lyap["sd_closed"]
    g["ch5_ex_sd1_meas"] = lyap["sd_meas"]
    return g


def sweep_early() -> list[int]:
    """predicted_layer - measured_layer for seeds 0..9 of the 200-layer recipe."""
    return [overflow(200, seed).predicted_layer - overflow(200, seed).measured_layer for seed in SWEEP]


def test_expected_glue_holds_plain_python_values() -> None:
    for key, value in expected_glue().items():
        assert key.startswith("ch5_"), key
        assert type(value) in (int, float, str), (key, type(value))
        if isinstance(value, float):
            assert math.isfinite(value), key


# ---------------------------------------------------------------------------
# 1. the scalar chain
# ---------------------------------------------------------------------------


def test_large_sigmoid_weights_with_zero_biases_vanish() -> None:
    g = expected_glue()
    # The seed note's argument: the best factor w g'(0) = w/4 = 2 exceeds one ...
    assert float(saturation.max_factor(W_BIG)) == 2.0
    # ... but the pre-activations sit near w = 8, where each factor is below 1/100.
    deepest = scalar_chains()["sat"][-1]
    assert all(7.99 < z <= W_BIG for z in deepest.z)
    assert all(f < 0.01 for f in deepest.layer_factors)
    assert g["ch5_sat_factor"] < 0.01 and g["ch5_sat_shrink"] > 100
    # the gradient falls monotonically with depth, to below 1e-100 at depth 40
    assert np.all(np.diff(np.abs(dw1("sat"))) < 0)
    assert 0 < g["ch5_sat_dw1"] < 1e-100


def test_tuned_biases_give_a_factor_of_exactly_two() -> None:
    g = expected_glue()
    deepest = scalar_chains()["tuned"][-1]
    assert all(z == 0.0 for z in deepest.z)  # exact: 8 * 1/2 - 4 = 0 in floating point
    assert all(f == 2.0 for f in deepest.layer_factors)
    # dL/dw(1) = (1/2)(1/4) 2^(L-1) x = 2^(L-4) for every depth, exactly (powers of two)
    assert np.array_equal(dw1("tuned"), 2.0 ** (DEPTHS - 4))
    assert g["ch5_tuned_growth"] == 2.0
    assert g["ch5_tuned_dw1"] == 2.0**36


def test_relu_chain_grows_by_one_and_a_half() -> None:
    g = expected_glue()
    deepest = scalar_chains()["relu"][-1]
    assert all(a == 1.0 for a in deepest.a)  # the biases hold a(l) = 1
    assert all(f == 1.5 for f in deepest.layer_factors)
    np.testing.assert_allclose(dw1("relu"), 1.5 ** (DEPTHS - 1), rtol=1e-12)
    assert g["ch5_relu_growth"] == pytest.approx(1.5, rel=1e-12)
    # Without biases the forward signal grows too: 1.5 (backward) x 1.5 (forward) per layer.
    assert g["ch5_linear_growth"] == pytest.approx(2.25, rel=1e-12)


def test_tuned_chain_is_a_knife_edge() -> None:
    g = expected_glue()
    z_star, pred, layer = edge_numbers()
    # window of chapter 4: w g'(z) = 1 at |z| = z*
    assert W_BIG * float(activations.get("sigmoid").dg(z_star)) == pytest.approx(1.0, rel=1e-9)
    # The linearised doubling predicts where the factor drops below one; the chain
    # leaves the window at most two layers later (the doubling slows as z grows).
    assert 0 <= layer - pred < 2, (layer, pred)
    # before that layer every factor is above one, after it the chain stays saturated
    gp = np.array(scalar_chains()["edge"][-1].g_prime)
    assert np.all(W_BIG * gp[: layer - 1] >= 1) and np.all(W_BIG * gp[layer - 1 :] < 1)
    # It settles at the stable fixed point z = w sigma(z) - w/2, where the slope w sigma'(z) < 1.
    z = g["ch5_edge_z"]
    sig = activations.get("sigmoid")
    assert z == pytest.approx(W_BIG * float(sig.g(z)) - W_BIG / 2, abs=1e-9)
    assert W_BIG * float(sig.dg(z)) < 1
    # ... so the gradient at depth 40 is tiny instead of 2^36.
    assert g["ch5_edge_dw1"] < 1e-6 < 1e10 < g["ch5_tuned_dw1"]


# ---------------------------------------------------------------------------
# 2. products of random matrices
# ---------------------------------------------------------------------------


def test_growth_rate_matches_lyapunov_exponent() -> None:
    g = expected_glue()
    # ln||v_100|| / 100 averaged over 400 runs: within 3 standard errors of lambda_1.
    assert abs(g["ch5_lam_diff_se"]) < 3
    assert abs(g["ch5_lam_meas"] - g["ch5_lam_pred"]) < 3 * g["ch5_lam_se"]
    assert g["ch5_typical_log10"] == pytest.approx(g["ch5_lam_meas"] * DEPTH / np.log(10), rel=1e-12)


def test_spread_matches_random_walk() -> None:
    g = expected_glue()
    # sd of ln||v_100|| within 4 standard errors of a sample sd, sigma / sqrt(2 (RUNS - 1))
    # (~14 % here); the sum of 100 steps is close to normal (excess kurtosis ~0.01).
    assert abs(g["ch5_sd_diff_se"]) < 4
    assert abs(g["ch5_sd_meas"] / g["ch5_sd_pred"] - 1) < 4 / np.sqrt(2 * (RUNS - 1))
    # The range of 400 near-normal values is about 6 sd (sd of the range ~0.6 sd): allow 4 to 8 sd.
    sd_decades = g["ch5_sd_pred"] / np.log(10)
    assert 4 * sd_decades < g["ch5_spread_decades"] < 8 * sd_decades
    assert g["ch5_spread_decades"] > 5  # "orders of magnitude" between seeds


def test_typical_growth_is_below_rms_growth() -> None:
    g = expected_glue()
    assert g["ch5_exp_lam"] < g["ch5_rms_factor"] == 2.0  # Jensen


def test_variance_preserving_products_drift_down() -> None:
    g = expected_glue()
    assert g["ch5_lam4_scaled"] < 0 and g["ch5_lam256_scaled"] < 0
    assert abs(g["ch5_lam4_scaled_diff_se"]) < 3  # simulation within 3 standard errors
    assert g["ch5_lam4_typical"] < 1e-5
    assert g["ch5_lam256_scaled"] == pytest.approx(g["ch5_lam256_approx"], rel=0.01)


# ---------------------------------------------------------------------------
# 3. the deep ReLU network and float32
# ---------------------------------------------------------------------------


def test_relu_gradient_grows_by_the_gain_per_layer() -> None:
    g = expected_glue()
    assert g["ch5_relu_pred_factor"] == pytest.approx(GAIN, rel=1e-12)
    # fitted per-layer growth of ||delta(l)|| towards the input: within 5 % of the gain
    assert abs(g["ch5_relu_fit_factor"] / GAIN - 1) < 0.05
    assert g["ch5_relu_fit_relerr"] < 5
    # the forward pre-activations grow at the same rate (same 5 %)
    assert abs(g["ch5_relu_fwd_factor"] / GAIN - 1) < 0.05
    assert g["ch5_d60_log10_delta1"] > g["ch5_d60_log10_deltaL"] + 59 * np.log10(GAIN) * 0.9
    # depth 60 stays inside float32 in the forward pass
    assert overflow(60).measured_layer is None


def test_float32_overflows_where_float64_predicts() -> None:
    g = expected_glue()
    assert g["ch5_f32_log10_max"] == pytest.approx(np.log10(3.4028235e38), rel=1e-9)
    assert g["ch5_f32_pred_layer"] == g["ch5_f32_meas_layer"]
    assert g["ch5_f32_grads"] == "contain inf or NaN"
    rep = overflow(200)
    p = rep.predicted_layer
    assert rep.log10_max_abs_z[p - 2] < F32_LOG10_MAX < rep.log10_max_abs_z[p - 1]
    # the backward pass alone would overflow float32: even delta(L) is beyond its range
    assert g["ch5_d200_log10_deltaL"] > F32_LOG10_MAX
    assert g["ch5_d200_log10_delta1"] > g["ch5_d200_log10_deltaL"]


def test_float32_never_overflows_later_than_predicted() -> None:
    g = expected_glue()
    early = sweep_early()
    assert all(0 <= e <= 1 for e in early), early
    assert g["ch5_sweep_max_early"] <= 1
    assert g["ch5_sweep_agree"] >= len(early) // 2


# ---------------------------------------------------------------------------
# 4. a diverging loss curve
# ---------------------------------------------------------------------------


def test_good_learning_rate_trains() -> None:
    g = expected_glue()
    good, _, _ = training()
    assert good.diverged_at is None
    assert g["ch5_good_final_loss"] < g["ch5_first_loss"] / 100
    assert g["ch5_good_acc"] > 0.9


def test_large_learning_rate_diverges_after_growing_by_orders_of_magnitude() -> None:
    g = expected_glue()
    _, bad, _ = training()
    assert bad.diverged_at is not None and bad.diverged_at <= 20  # "a handful of steps"
    assert np.isinf(bad.loss[-1]) and np.all(np.isfinite(bad.loss[:-1]))
    finite = bad.loss[:-1]
    assert np.all(finite[1:] > finite[0])  # never drops below its starting value
    assert g["ch5_bad_peak_loss"] > 1e100 * g["ch5_first_loss"]
    assert g["ch5_bad_grad_growth_log10"] > 50
    assert bad.loss[0] == g["ch5_first_loss"]  # same network, same first minibatch


# ---------------------------------------------------------------------------
# exercises
# ---------------------------------------------------------------------------

GAIN3, DEPTH3 = 3.0, 120
W6 = 6.0


@functools.lru_cache(maxsize=None)
def ex_gain3() -> dict[str, Any]:
    """Exercise ex-ch5-gain: the gain-3 overflow layer, estimated, predicted by homogeneity, measured."""
    rep2 = overflow(200)
    layers = np.arange(1, 201)
    c = GAIN3 / GAIN
    log10_z1 = rep2.log10_max_abs_z[0] + np.log10(c)
    rough = int(layers[np.argmax(log10_z1 + (layers - 1) * np.log10(GAIN3) > F32_LOG10_MAX)])
    shifted = rep2.log10_max_abs_z + layers * np.log10(c)
    exact = int(layers[np.argmax(shifted > F32_LOG10_MAX)])
    net3 = mlp.init_network((64,) + (WIDTH,) * (DEPTH3 - 1) + (10,), hidden="relu", output="linear",
                            init="he_normal", gain=GAIN3, rng=0)
    rep3 = experiments.float32_overflow(net3, digits_batch())
    hidden = slice(0, DEPTH3 - 1)
    return {"rough": rough, "exact": exact, "rep": rep3, "net3": net3,
            "homog_err": float(np.max(np.abs(rep3.log10_max_abs_z[hidden] - shifted[hidden])))}


@functools.lru_cache(maxsize=None)
def ex_knife() -> dict[str, Any]:
    """Exercise ex-ch5-knife: the tuned chain with w = 6 and an input off by EPS."""
    _, a_hi = saturation.window_bounds(W6)
    z_star = float(W6 * a_hi)
    pred = float(1 + np.log(z_star / (W6 * EPS)) / np.log(W6 / 4))
    edge = chain.scalar_chain([W6] * 40, tuned_biases(W6, 40), x=1 + EPS)
    layer = next(l for l, gp in enumerate(edge.g_prime, start=1) if W6 * gp < 1)
    return {"z_star": z_star, "pred": pred, "layer": int(layer), "chain": edge}


@functools.lru_cache(maxsize=None)
def ex_lyap1() -> dict[str, float]:
    """Exercise ex-ch5-lyap: n = 1, s = 1 in closed form and simulated."""
    runs1 = products.log_norms_of_products(1, DEPTH, n_seeds=RUNS, rng=2)[:, -1]
    return {
        "closed": float(-(np.euler_gamma + np.log(2)) / 2),
        "sd_closed": float(np.pi / (2 * np.sqrt(2))),
        "meas": float(runs1.mean() / DEPTH),
        "se": float(runs1.std(ddof=1) / DEPTH / np.sqrt(RUNS)),
        "sd_meas": float(runs1.std(ddof=1) / np.sqrt(DEPTH)),
    }


def test_ex_gain3_weights_are_the_gain2_weights_times_one_and_a_half() -> None:
    # the premise of the homogeneity argument: same draws, scaled, zero biases
    net2, net3 = big_relu_net(DEPTH3), ex_gain3()["net3"]
    for l in range(1, DEPTH3 + 1):
        np.testing.assert_allclose(net3.W[l], 1.5 * net2.W[l], rtol=1e-15, atol=0)
        assert not np.any(net3.b[l])


def test_ex_gain3_homogeneity_predicts_the_overflow_layer() -> None:
    g = expected_glue()
    rep3 = ex_gain3()["rep"]
    # log10 max|z(l)| is the gain-2 curve shifted by l log10(3/2), to rounding
    assert g["ch5_ex_homog_err"] < 1e-12
    # "predict it exactly": the first layer above float32's maximum in the gain-3 float64 run
    assert g["ch5_ex_exact_layer"] == rep3.predicted_layer
    # float32 overflows there, or at most one layer earlier (a partial sum overflows first)
    assert 0 <= g["ch5_ex_exact_layer"] - g["ch5_ex_meas_layer"] <= 1
    # "the estimate is a few layers early": 1 to 5 layers
    assert 1 <= g["ch5_ex_exact_layer"] - g["ch5_ex_rough_layer"] <= 5
    # ... because max|z| grows by a little less than the gain per layer (gain 2: fitted rate below 2)
    assert g["ch5_relu_fwd_factor"] < GAIN
    # and a larger gain overflows much sooner than gain 2 did
    assert g["ch5_ex_meas_layer"] < g["ch5_f32_meas_layer"]


def test_ex_knife_edge_with_w6() -> None:
    g = expected_glue()
    kn = ex_knife()
    sig = activations.get("sigmoid")
    assert W6 * float(sig.dg(kn["z_star"])) == pytest.approx(1.0, rel=1e-9)  # the window's edge
    # the tuned state amplifies by w/4 = 1.5 per layer
    tuned = chain.scalar_chain([W6] * 40, tuned_biases(W6, 40))
    assert all(f == 1.5 for f in tuned.layer_factors)
    # the chain leaves the window at most two layers after the linearised prediction (as for w = 8)
    assert 0 <= g["ch5_ex_knife_layer"] - g["ch5_ex_knife_pred"] < 2
    gp = np.array(kn["chain"].g_prime)
    layer = g["ch5_ex_knife_layer"]
    assert np.all(W6 * gp[: layer - 1] >= 1) and np.all(W6 * gp[layer - 1 :] < 1)
    # "narrower in z ... but the error grows more slowly", so it stays on the edge longer
    assert g["ch5_ex_knife_zstar"] < g["ch5_window_z"]
    assert g["ch5_ex_knife_pred"] > g["ch5_edge_pred"] and layer > g["ch5_edge_layer"]


def test_ex_lyapunov_exponent_of_scalar_products() -> None:
    from scipy.special import digamma, polygamma

    g = expected_glue()
    # the two facts the exercise quotes
    assert float(digamma(0.5)) == pytest.approx(-np.euler_gamma - 2 * np.log(2), rel=1e-14)
    assert float(polygamma(1, 0.5)) == pytest.approx(np.pi**2 / 2, rel=1e-14)
    # closed forms against gradlab
    assert g["ch5_ex_lam1_closed"] == pytest.approx(products.lyapunov_gaussian(1), rel=1e-14)
    assert g["ch5_ex_lam1_gradlab_diff"] < 1e-15
    assert g["ch5_ex_sd1_closed"] == pytest.approx(products.log_norm_step_sd(1), rel=1e-14)
    assert g["ch5_ex_lam1_typical"] == pytest.approx(np.exp(-np.euler_gamma / 2) / np.sqrt(2), rel=1e-14)
    # E ln|Z| for Z ~ N(0, 1), by quadrature: an independent check of the closed form
    from scipy import integrate

    e_log, _ = integrate.quad(lambda t: np.log(t) * np.exp(-t * t / 2) * np.sqrt(2 / np.pi), 0, np.inf)
    assert e_log == pytest.approx(g["ch5_ex_lam1_closed"], abs=1e-8)
    # the simulation: mean within 3 standard errors, sd within 4 standard errors of a sample sd
    assert abs(g["ch5_ex_lam1_meas"] - g["ch5_ex_lam1_closed"]) < 3 * g["ch5_ex_lam1_se"]
    assert abs(g["ch5_ex_sd1_meas"] / g["ch5_ex_sd1_closed"] - 1) < 4 / np.sqrt(2 * (RUNS - 1))
    # "below one", and "more than -1/(2n) = -0.5 suggests"
    assert g["ch5_ex_lam1_typical"] < 1 and g["ch5_ex_lam1_closed"] < -0.5
