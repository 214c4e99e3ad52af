"""Chapter 6, "Variance propagation and initialisation": every glued number, and the claims the prose makes about them.

``expected_glue()`` recomputes each value the page glues with the same gradlab
calls and seeds; ``tests/test_built_book.py`` compares it with the built page.
The other tests check what the prose says about those values, each with its
tolerance stated next to the assertion.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from gradlab import activations, init, mlp

# The chapter's parameters (same values as the code cells of book/ch6_variance.md).
N = 256
WIDTH, BATCH, TANH_DEPTH = 256, 256, 8
RELU_DEPTH, SEEDS = 30, range(5)
HANIN_DEPTH, HANIN_WIDTHS, HANIN_SEEDS = 20, (16, 32, 64, 128), 300
SLOPE_A = 0.2


def tanh_layer_stds(scheme: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    net = mlp.init_network((WIDTH,) * (TANH_DEPTH + 1), hidden="tanh", output="tanh", init=scheme, rng=seed)
    rng = np.random.default_rng(100 + seed)
    fwd = mlp.forward(net, rng.standard_normal((BATCH, WIDTH)))
    grads = mlp.backward(net, fwd, rng.standard_normal((BATCH, WIDTH)))
    layers = range(1, TANH_DEPTH + 1)
    return np.array([fwd.a[l].std() for l in layers]), np.array([grads.delta[l].std() for l in layers])


def relu_log2_var(scheme: str, seed: int) -> np.ndarray:
    net = mlp.init_network((WIDTH,) * (RELU_DEPTH + 1), hidden="relu", output="relu", init=scheme, rng=seed)
    x = np.random.default_rng(1000 + seed).standard_normal((BATCH, WIDTH))
    fwd = mlp.forward(net, x)
    return np.log2([fwd.z[l].var() for l in range(1, RELU_DEPTH + 1)])


def log_sq_norms(n: int) -> np.ndarray:
    x = np.ones((1, n))
    out = np.empty(HANIN_SEEDS)
    for seed in range(HANIN_SEEDS):
        net = mlp.init_network((n,) * (HANIN_DEPTH + 1), hidden="relu", output="relu", init="he_normal", rng=seed)
        out[seed] = np.log(np.sum(mlp.forward(net, x).a[HANIN_DEPTH] ** 2) / n)
    return out


@functools.lru_cache(maxsize=None)
def relu_curves() -> dict[str, np.ndarray]:
    return {s: np.array([relu_log2_var(s, k) for k in SEEDS]) for s in ("xavier_normal", "he_normal")}


@functools.lru_cache(maxsize=None)
def hanin() -> dict[str, Any]:
    log_norms = {n: log_sq_norms(n) for n in HANIN_WIDTHS}
    inv_sum = np.array([HANIN_DEPTH / n for n in HANIN_WIDTHS])
    var_log = np.array([log_norms[n].var(ddof=1) for n in HANIN_WIDTHS])
    mean_log = np.array([log_norms[n].mean() for n in HANIN_WIDTHS])
    return {"log_norms": log_norms, "inv_sum": inv_sum, "var": var_log, "mean": mean_log}


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    g: dict[str, Any] = {}
    factor_standard = init.variance("standard", N, N) * N
    g["ch6_factor_standard"] = float(factor_standard)
    g["ch6_factor_xavier"] = float(init.variance("xavier_uniform", N, N) * N)
    g["ch6_factor_xavier_unequal"] = float(init.variance("xavier_uniform", 128, 512) * 128)
    g["ch6_factor_xavier_unequal_bwd"] = float(init.variance("xavier_uniform", 128, 512) * 512)
    factor_he_relu = init.variance("he_normal", N, N) * N * 0.5
    factor_xavier_relu = init.variance("xavier_normal", N, N) * N * 0.5
    g["ch6_factor_he_relu"] = float(factor_he_relu)
    g["ch6_factor_xavier_relu"] = float(factor_xavier_relu)

    for scheme, key in (("standard", "std"), ("xavier_uniform", "xav")):
        a_sd, d_sd = tanh_layer_stds(scheme)
        g[f"ch6_tanh_{key}_act_ratio"] = float(a_sd[0] / a_sd[-1])
        g[f"ch6_tanh_{key}_grad_ratio"] = float(d_sd[0] / d_sd[-1])

    layers = np.arange(1, RELU_DEPTH + 1)
    theory = {"xavier_normal": float(np.log2(factor_xavier_relu)), "he_normal": float(np.log2(factor_he_relu))}
    for s, key in (("xavier_normal", "xav"), ("he_normal", "he")):
        slopes = np.array([np.polyfit(layers, c, 1)[0] for c in relu_curves()[s]])
        g[f"ch6_relu_{key}_slope"] = float(slopes.mean())
        g[f"ch6_relu_{key}_slope_sd"] = float(slopes.std(ddof=1))
        g[f"ch6_relu_{key}_theory"] = theory[s]

    h = hanin()
    s = h["inv_sum"]
    g["ch6_hanin_var_slope"] = float(s @ h["var"] / (s @ s))
    g["ch6_hanin_mean_slope"] = float(s @ h["mean"] / (s @ s))
    g["ch6_hanin_sd_w16"] = float(np.sqrt(h["var"][0]))
    g["ch6_hanin_sd_w128"] = float(np.sqrt(h["var"][-1]))
    g["ch6_hanin_mean_w16"] = float(h["mean"][0])
    g["ch6_hanin_shrink_w16"] = float(np.exp(-h["mean"][0]))

    z = np.random.default_rng(6).standard_normal(1_000_000)
    g["ch6_ex_leaky_theory"] = (1 + SLOPE_A**2) / 2
    g["ch6_ex_leaky_meas"] = float(np.mean(activations.leaky_relu(z, alpha=SLOPE_A) ** 2) / np.mean(z**2))
    g["ch6_ex_leaky_gain"] = 2 / (1 + SLOPE_A**2)

    depth_exact = 6 / np.log10(1 / factor_standard)
    depth_needed = int(np.ceil(depth_exact))
    lin = mlp.init_network((WIDTH,) * (depth_needed + 1), hidden="linear", output="linear", rng=7)
    x_lin = np.random.default_rng(8).standard_normal((BATCH, WIDTH))
    g["ch6_ex_depth_exact"] = float(depth_exact)
    g["ch6_ex_depth"] = depth_needed
    g["ch6_ex_depth_theory_ratio"] = float(factor_standard**depth_needed)
    g["ch6_ex_depth_meas_ratio"] = float(mlp.forward(lin, x_lin).a[depth_needed].var() / x_lin.var())

    g["ch6_ex_width"] = int(np.ceil(5 * 100 / 0.5**2))
    return g


def test_variance_factors_are_the_textbook_values() -> None:
    g = expected_glue()
    assert g["ch6_factor_standard"] == pytest.approx(1 / 3, rel=1e-12)  # n Var W = 1/3
    assert g["ch6_factor_xavier"] == pytest.approx(1.0, rel=1e-12)
    # unequal widths: forward 2 n_in/(n_in + n_out) = 0.4, backward 2 n_out/(n_in + n_out) = 1.6
    assert g["ch6_factor_xavier_unequal"] == pytest.approx(0.4, rel=1e-12)
    assert g["ch6_factor_xavier_unequal_bwd"] == pytest.approx(1.6, rel=1e-12)
    assert 0.25 < g["ch6_factor_xavier_unequal"] < 1 < g["ch6_factor_xavier_unequal_bwd"] < 4
    assert g["ch6_factor_he_relu"] == pytest.approx(1.0, rel=1e-12)
    assert g["ch6_factor_xavier_relu"] == pytest.approx(0.5, rel=1e-12)


def test_tanh_standard_shrinks_both_directions_and_xavier_much_less() -> None:
    g = expected_glue()
    # "close to sqrt(3) per layer": the 7-step geometric mean of the activation std ratio within 10 %
    assert g["ch6_tanh_std_act_ratio"] ** (1 / 7) == pytest.approx(np.sqrt(3), rel=0.1)
    # "gradients shrink just as fast in the other direction": delta(1)/delta(8) within 10 % per layer of 1/sqrt(3)
    assert g["ch6_tanh_std_grad_ratio"] ** (1 / 7) == pytest.approx(1 / np.sqrt(3), rel=0.1)
    # normalised: ratios much closer to 1, but "not exactly 1" (each layer still loses a little)
    assert 1.2 < g["ch6_tanh_xav_act_ratio"] < 5 and g["ch6_tanh_xav_act_ratio"] < g["ch6_tanh_std_act_ratio"] / 10
    assert 0.2 < g["ch6_tanh_xav_grad_ratio"] < 0.8 and g["ch6_tanh_xav_grad_ratio"] > 10 * g["ch6_tanh_std_grad_ratio"]


def test_relu_slopes_match_theory() -> None:
    g = expected_glue()
    assert g["ch6_relu_xav_theory"] == -1.0 and g["ch6_relu_he_theory"] == 0.0
    # mean fitted slope within 0.1 of the theory, and the seeds' spread small (sd < 0.1)
    assert abs(g["ch6_relu_xav_slope"] - g["ch6_relu_xav_theory"]) < 0.1
    assert abs(g["ch6_relu_he_slope"] - g["ch6_relu_he_theory"]) < 0.1
    assert g["ch6_relu_xav_slope_sd"] < 0.1 and g["ch6_relu_he_slope_sd"] < 0.1
    # "the Xavier curve is the He curve minus exactly l - 1", seed for seed
    c = relu_curves()
    shift = c["he_normal"] - c["xavier_normal"]
    assert np.allclose(shift, np.arange(RELU_DEPTH)[None, :] + shift[:, :1], atol=1e-9)


def test_hanin_variance_and_mean_scale_with_sum_of_reciprocal_widths() -> None:
    g = expected_glue()
    h = hanin()
    # no dead network among the seeds (a zero output would make the log -inf)
    assert all(np.all(np.isfinite(v)) for v in h["log_norms"].values())
    # variance grows with sum 1/n_j: monotone, and the fitted slope within 30 % of the leading-order 5
    assert np.all(np.diff(h["var"]) < 0)  # widths increase, so sum 1/n_j decreases
    assert g["ch6_hanin_var_slope"] == pytest.approx(5.0, rel=0.3)
    # roughly linear: every point within 35 % of the fitted line through the origin
    assert np.allclose(h["var"], g["ch6_hanin_var_slope"] * h["inv_sum"], rtol=0.35)
    # the mean drifts below log E||a||^2 = log||x||^2, with slope within 30 % of -5/2
    assert np.all(h["mean"] < 0)
    assert g["ch6_hanin_mean_slope"] == pytest.approx(-2.5, rel=0.3)
    # "the excess over the theory comes from the narrowest net": the widest three alone fit within 15 % of 5
    s, v = h["inv_sum"][1:], h["var"][1:]
    assert float(s @ v / (s @ s)) == pytest.approx(5.0, rel=0.15)
    assert h["inv_sum"][0] > 1
    assert g["ch6_hanin_sd_w16"] > 2 * g["ch6_hanin_sd_w128"]
    assert g["ch6_hanin_shrink_w16"] == pytest.approx(np.exp(-g["ch6_hanin_mean_w16"]), rel=1e-12)


def test_exercises() -> None:
    g = expected_glue()
    # leaky ReLU: 10^6 samples, sampling error of the ratio well below 0.005
    assert abs(g["ch6_ex_leaky_meas"] - g["ch6_ex_leaky_theory"]) < 0.005
    assert g["ch6_ex_leaky_gain"] == pytest.approx(2 / 1.04, rel=1e-12)
    # depth: 3^-12 > 1e-6 >= 3^-13
    assert g["ch6_ex_depth"] == 13 and 3.0**-12 > 1e-6 >= 3.0**-13
    assert g["ch6_ex_depth_exact"] == pytest.approx(6 / np.log10(3), rel=1e-12)
    # the linear net of width 256 measures the predicted ratio within 25 %
    assert g["ch6_ex_depth_meas_ratio"] == pytest.approx(g["ch6_ex_depth_theory_ratio"], rel=0.25)
    assert g["ch6_ex_width"] == 2000 and 5 * 100 / g["ch6_ex_width"] <= 0.25
