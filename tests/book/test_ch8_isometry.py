"""Chapter 8, "Dynamical isometry": every glued number, and the claims the prose makes about them.

``expected_glue()`` recomputes each value the page glues with the same gradlab
calls and seeds; ``tests/test_built_book.py`` compares it with the built page.
The other tests check what the prose says about those values, each with its
tolerance stated next to the assertion (and, where the prose states one, the
same tolerance as the prose).
"""

from __future__ import annotations

import functools
from functools import partial
from typing import Any

import numpy as np
import pytest

from gradlab import activations, isometry, mlp, theory

# The chapter's parameters (same values as the code cells of book/ch8_isometry.md).
Q_SMALL = 1 / 64
POINTS = {"linear": ("linear", 1.0), "ReLU": ("relu", 1.0), "tanh, $q^*$ = 1/64": ("tanh", Q_SMALL),
          "tanh, $q^*$ = 1/4": ("tanh", 0.25), "tanh, $q^*$ = 1": ("tanh", 1.0)}
WIDTH, DEPTHS = 256, (1, 2, 4, 8, 16, 32, 64, 128)
FAMILIES = {"linear": ("linear", 1.0), "tanh": ("tanh", Q_SMALL), "ReLU": ("relu", 1.0)}
N_SEEDS = {"gaussian": 8, "orthogonal": 4}
CASES = [(f, w) for w in N_SEEDS for f in FAMILIES]
Q_SWEEP, SWEEP_DEPTH, SWEEP_SEEDS = (1 / 64, 1 / 16, 1 / 4, 1.0, 4.0), 32, 4
SAXE_IN, SAXE_OUT, SAXE_N = 16, 8, 256
SAXE_DEPTHS, SAXE_SEEDS, MAX_STEPS = (2, 4, 8, 16, 32, 64), 5, 3000
SCHEMES = {"gaussian": "lecun_normal", "orthogonal": "orthogonal"}
A_LEAK, LEAK_DEPTH = 0.5, 16

# The prose's tolerances.
TOL_SHALLOW = 0.12  # relative variance vs free probability, L <= 32, and the q* sweep
TOL_FIT = 0.10  # fitted slopes through the origin, L <= 32


def spectra(family: str, weights: str, seed: int) -> dict[int, np.ndarray]:
    act, q = FAMILIES[family]
    net, x = isometry.critical_network(act, q, width=WIDTH, depth=max(DEPTHS), weights=weights, rng=seed)
    return isometry.squared_singular_values(net, x, DEPTHS)


@functools.lru_cache(maxsize=None)
def all_spectra() -> dict[tuple[str, str], list[dict[int, np.ndarray]]]:
    return {case: [spectra(*case, seed) for seed in range(N_SEEDS[case[1]])] for case in CASES}


@functools.lru_cache(maxsize=None)
def spectrum_stats() -> dict[str, Any]:
    lam = all_spectra()
    lam_mean = {c: np.array([[s[L].mean() for L in DEPTHS] for s in lam[c]]) for c in CASES}
    spread = {c: np.array([[s[L].var() / s[L].mean() ** 2 for L in DEPTHS] for s in lam[c]]) for c in CASES}
    slope = {(f, w): isometry.jacobian_variance_slope(*FAMILIES[f], w) for f, w in CASES}
    theory_var = {c: slope[c] * np.array(DEPTHS) for c in CASES}
    shallow = np.array(DEPTHS) <= 32
    rel_err = {c: spread[c].mean(axis=0) / theory_var[c] - 1 for c in CASES if slope[c] > 0}
    d = np.array(DEPTHS)[shallow]
    fit = {c: float(d @ spread[c].mean(axis=0)[shallow] / (d @ d)) for c in rel_err}
    relu_zero = {w: np.array([[np.mean(s[L] <= 1e-20 * s[L].max()) for L in DEPTHS] for s in lam["ReLU", w]])
                 for w in N_SEEDS}
    return {"lam_mean": lam_mean, "spread": spread, "slope": slope, "theory_var": theory_var, "shallow": shallow,
            "rel_err": rel_err, "fit": fit, "relu_zero": relu_zero}


def tanh_orthogonal_spread(q: float, seed: int) -> float:
    net, x = isometry.critical_network("tanh", q, width=WIDTH, depth=SWEEP_DEPTH, weights="orthogonal", rng=seed)
    s = isometry.squared_singular_values(net, x, [SWEEP_DEPTH])[SWEEP_DEPTH]
    return float(s.var() / s.mean() ** 2 / SWEEP_DEPTH)


@functools.lru_cache(maxsize=None)
def sweep() -> tuple[np.ndarray, np.ndarray]:
    measured = np.array([[tanh_orthogonal_spread(q, seed) for seed in range(SWEEP_SEEDS)] for q in Q_SWEEP])
    predicted = np.array([isometry.jacobian_variance_slope("tanh", q, "orthogonal") for q in Q_SWEEP])
    return measured, predicted


@functools.lru_cache(maxsize=None)
def teacher() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    X, Y, M = isometry.linear_teacher(SAXE_IN, SAXE_OUT, SAXE_N, rng=8)
    return X, Y, M, float(1e-3 * 0.5 * np.sum(Y * Y) / SAXE_N)


def saxe_net(scheme: str, depth: int, seed: int) -> mlp.Network:
    return mlp.init_network((SAXE_IN,) * depth + (SAXE_OUT,), hidden="linear", output="linear",
                            init=SCHEMES[scheme], rng=seed)


def steps_to_target(scheme: str, depth: int, seed: int) -> tuple[int | None, float]:
    X, Y, _, target = teacher()
    net = saxe_net(scheme, depth, seed)
    for c in (1 / 2, 1 / 4, 1 / 8):
        run = isometry.train_deep_linear(net, X, Y, lr=c / depth, target_loss=target, max_steps=MAX_STEPS)
        if not run.diverged:
            return run.steps, c
    return None, c


@functools.lru_cache(maxsize=None)
def saxe() -> dict[str, Any]:
    runs = {(s, L): [steps_to_target(s, L, seed) for seed in range(SAXE_SEEDS)] for s in SCHEMES for L in SAXE_DEPTHS}
    steps = {k: np.array([np.inf if t is None else t for t, _ in v]) for k, v in runs.items()}
    median = {s: np.array([np.median(steps[s, L]) for L in SAXE_DEPTHS]) for s in SCHEMES}
    return {"runs": runs, "steps": steps, "median": median}


def smallest_lambda(scheme: str, depth: int, seed: int) -> float:
    net = saxe_net(scheme, depth, seed)
    return float(isometry.squared_singular_values(net, np.zeros(SAXE_IN), [depth])[depth].min())


def leaky_activation() -> activations.Activation:
    return activations.Activation("leaky_relu_0.5", partial(activations.leaky_relu, alpha=A_LEAK),
                                  partial(activations.dleaky_relu, alpha=A_LEAK))


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    g: dict[str, Any] = {}
    sw2_err, q_err = 0.0, 0.0
    for act, q in POINTS.values():
        sw2, sb2 = isometry.critical_point(act, q)
        sw2_err = max(sw2_err, abs(theory.critical_sigma_w2(act, sb2) / sw2 - 1))
        if act == "tanh":
            q_err = max(q_err, abs(theory.fixed_point_q(act, sw2, sb2) / q - 1))
    g["ch8_sw2_err"] = float(sw2_err)
    g["ch8_q_err"] = float(q_err)

    lam = all_spectra()
    st = spectrum_stats()
    g["ch8_orth_linear_dev"] = max(float(np.max(np.abs(s[L] - 1))) for s in lam["linear", "orthogonal"] for L in DEPTHS)
    g["ch8_relu_zero_min"] = float(min(z[:, 0].min() for z in st["relu_zero"].values()))
    g["ch8_relu_zero_max"] = float(max(z[:, 0].max() for z in st["relu_zero"].values()))

    exact = isometry.linear_gaussian_variance(WIDTH, max(DEPTHS))
    g["ch8_exact_L32"] = float(exact[31])
    g["ch8_exact_L128"] = float(exact[127])

    shallow = st["shallow"]
    g["ch8_max_err_shallow"] = max(float(np.max(np.abs(e[shallow]))) for e in st["rel_err"].values())
    g["ch8_max_err_deep"] = max(float(np.max(np.abs(e[~shallow]))) for e in st["rel_err"].values())
    g["ch8_fit_linear_gauss"] = st["fit"]["linear", "gaussian"]
    g["ch8_fit_relu_orth"] = st["fit"]["ReLU", "orthogonal"]
    g["ch8_fit_relu_gauss"] = st["fit"]["ReLU", "gaussian"]
    g["ch8_mean_lo"] = float(min(st["lam_mean"][c].mean(axis=0)[shallow].min() for c in CASES))
    g["ch8_mean_hi"] = float(max(st["lam_mean"][c].mean(axis=0)[shallow].max() for c in CASES))
    plain = np.array([s[128].var() for s in lam["ReLU", "gaussian"]])
    g["ch8_plain_mean"] = float(plain.mean())
    g["ch8_plain_median"] = float(np.median(plain))

    measured, predicted = sweep()
    g["ch8_sweep_max_err"] = float(np.max(np.abs(measured.mean(axis=1) / predicted - 1)))
    g["ch8_sweep_small"] = float(predicted[0])
    g["ch8_sweep_large"] = float(predicted[-1])
    for w in N_SEEDS:
        pooled = np.concatenate([s[128] for s in lam["tanh", w]])
        g[f"ch8_tanh128_band_{w}"] = float(np.mean((pooled >= 0.5) & (pooled <= 2)))

    sx = saxe()
    orth, gauss = sx["median"]["orthogonal"], sx["median"]["gaussian"]
    i16 = SAXE_DEPTHS.index(16)
    g["ch8_saxe_target"] = teacher()[3]
    g["ch8_saxe_orth_L2"] = float(orth[0])
    g["ch8_saxe_orth_L16"] = float(orth[i16])
    g["ch8_saxe_orth_L64"] = float(orth[-1])
    g["ch8_saxe_orth_ratio"] = float(orth[-1] / orth[i16])
    g["ch8_saxe_gauss_L2"] = float(gauss[0])
    g["ch8_saxe_gauss_L16"] = float(gauss[i16])
    g["ch8_saxe_gauss_ratio"] = float(gauss[i16] / gauss[0])
    g["ch8_saxe_gap_L16"] = float(gauss[i16] / orth[i16])
    g["ch8_saxe_gauss_stuck"] = int(sum(np.sum(np.isinf(sx["steps"]["gaussian", L])) for L in SAXE_DEPTHS if L >= 32))
    g["ch8_saxe_deep_runs"] = int(SAXE_SEEDS * sum(L >= 32 for L in SAXE_DEPTHS))
    for s in SCHEMES:
        g[f"ch8_saxe_halved_{s}"] = int(sum(c < 0.5 for L in SAXE_DEPTHS for _, c in sx["runs"][s, L]))

    leaky = leaky_activation()
    leaky_slopes = []
    for seed in range(4):
        net, x = isometry.critical_network(leaky, 1.0, width=WIDTH, depth=LEAK_DEPTH, weights="orthogonal", rng=seed)
        s_ = isometry.squared_singular_values(net, x, [LEAK_DEPTH])[LEAK_DEPTH]
        leaky_slopes.append(s_.var() / s_.mean() ** 2 / LEAK_DEPTH)
    g["ch8_ex_leaky_theory"] = ((1 - A_LEAK**2) / (1 + A_LEAK**2)) ** 2
    g["ch8_ex_leaky_quad"] = isometry.jacobian_variance_slope(leaky, 1.0, "orthogonal")
    g["ch8_ex_leaky_meas"] = float(np.mean(leaky_slopes))

    ratios = [isometry.jacobian_variance_slope("tanh", q, "orthogonal") / (8 * q**2) for q in (1 / 16, 1 / 64, 1 / 256)]
    for name, r in zip(("16", "64", "256"), ratios):
        g[f"ch8_ex_ratio_{name}"] = float(r)
    q_needed = float(np.sqrt(0.1 / (8 * 1000)))
    g["ch8_ex_q_needed"] = q_needed
    g["ch8_ex_q_check"] = isometry.jacobian_variance_slope("tanh", q_needed, "orthogonal") * 1000

    smallest = {s: [float(np.median([smallest_lambda(s, L, seed) for seed in range(SAXE_SEEDS)])) for L in SAXE_DEPTHS]
                for s in SCHEMES}
    g["ch8_ex_small_gauss_L2"] = smallest["gaussian"][0]
    g["ch8_ex_small_gauss_L16"] = smallest["gaussian"][SAXE_DEPTHS.index(16)]
    g["ch8_ex_small_gauss_L64"] = smallest["gaussian"][-1]
    g["ch8_ex_small_orth_dev"] = max(abs(v - 1) for v in smallest["orthogonal"])
    return g


# --------------------------------------------------------------------------- critical points


def test_critical_points_agree_with_the_mean_field_root_finders() -> None:
    g = expected_glue()
    # two independent computations of the critical line agree to rounding (relative 1e-12)
    assert g["ch8_sw2_err"] < 1e-12
    assert g["ch8_q_err"] < 1e-12
    assert isometry.critical_point("linear", 1.0) == (1.0, 0.0)
    assert isometry.critical_point("relu", 1.0) == pytest.approx((2.0, 0.0), abs=1e-14)


# --------------------------------------------------------------------------- spectra


def test_orthogonal_linear_networks_are_isometric_to_rounding() -> None:
    # "the largest |lambda_i - 1| ... rounding error": 1e-12 is ~1e4 ulps
    assert expected_glue()["ch8_orth_linear_dev"] < 1e-12


def test_about_half_of_relu_singular_values_are_zero_and_never_fewer_with_depth() -> None:
    g = expected_glue()
    # depth 1: the fraction of zero values is the fraction of inactive units, Binomial(256, 1/2)/256:
    # within 0.1 of 1/2 (more than 3 standard deviations, 3 * 0.031)
    assert 0.4 < g["ch8_relu_zero_min"] <= g["ch8_relu_zero_max"] < 0.6
    # "it can only grow with depth": rank(J_l) <= rank(J_{l-1}), network by network
    for z in spectrum_stats()["relu_zero"].values():
        assert np.all(np.diff(z, axis=1) >= 0)
    # no zero values at all in the linear and tanh networks at depth 1 (no unit is switched off)
    lam = all_spectra()
    for f in ("linear", "tanh"):
        for w in N_SEEDS:
            assert all(s[1].min() > 1e-12 for s in lam[f, w])


def test_exact_finite_width_variance() -> None:
    g = expected_glue()
    exact = isometry.linear_gaussian_variance(WIDTH, 128)
    n = WIDTH
    assert exact[0] == pytest.approx(1 + 1 / n - 2 / n**2, rel=1e-14)
    # close to L at L/n = 1/8 (within 10 %), well above it at L/n = 1/2 (by more than 30 %)
    assert 0 < g["ch8_exact_L32"] / 32 - 1 < 0.1
    assert g["ch8_exact_L128"] / 128 - 1 > 0.3


def test_relative_variance_follows_free_probability_for_shallow_depths() -> None:
    g = expected_glue()
    st = spectrum_stats()
    # the prose's tolerance: 12 % for every case with a non-zero slope and every L <= 32
    assert g["ch8_max_err_shallow"] < TOL_SHALLOW
    # beyond, "the finite-width corrections take over": the largest deviation is bigger
    assert g["ch8_max_err_deep"] > TOL_SHALLOW
    # the slopes of the theory: 1, 1 + 8 q*^2 (approx.), 2 for Gaussian; 0, ~8 q*^2, 1 for orthogonal
    assert st["slope"]["linear", "gaussian"] == pytest.approx(1.0, abs=1e-12)
    assert st["slope"]["ReLU", "gaussian"] == pytest.approx(2.0, abs=1e-12)
    assert st["slope"]["ReLU", "orthogonal"] == pytest.approx(1.0, abs=1e-12)
    assert st["slope"]["linear", "orthogonal"] == pytest.approx(0.0, abs=1e-12)
    # fitted slopes within 10 % of the theory
    assert g["ch8_fit_linear_gauss"] == pytest.approx(1.0, rel=TOL_FIT)
    assert g["ch8_fit_relu_gauss"] == pytest.approx(2.0, rel=TOL_FIT)
    assert g["ch8_fit_relu_orth"] == pytest.approx(1.0, rel=TOL_FIT)
    # the mean squared singular value stays near chi1^L = 1 for L <= 32: within 30 % (4 to 8 networks,
    # and one network's mean fluctuates by tens of per cent at L/n = 1/8 for ReLU), on both sides of 1
    assert 0.7 < g["ch8_mean_lo"] < 1 < g["ch8_mean_hi"] < 1.3
    # ... and closest to 1 for the isometric orthogonal networks: within 2 % (linear: exactly 1)
    st_mean = spectrum_stats()["lam_mean"]
    assert np.allclose(st_mean["linear", "orthogonal"], 1.0, atol=1e-12)
    assert np.allclose(st_mean["tanh", "orthogonal"].mean(axis=0)[st["shallow"]], 1.0, atol=0.02)
    # heavy tail of the plain variance: mean over networks several times the median
    assert g["ch8_plain_mean"] > 3 * g["ch8_plain_median"]


def test_orthogonal_tanh_approaches_isometry_as_q_star_shrinks() -> None:
    g = expected_glue()
    measured, predicted = sweep()
    # measured slopes within the prose's 12 % of the theory at every q*
    assert g["ch8_sweep_max_err"] < TOL_SHALLOW
    # the slope rises monotonically with q*, theory and measurement alike
    assert np.all(np.diff(predicted) > 0) and np.all(np.diff(measured.mean(axis=1)) > 0)
    # "close to 8 q*^2" at q* = 1/64: within 15 %
    assert g["ch8_sweep_small"] == pytest.approx(8 * Q_SMALL**2, rel=0.15)
    # "at q* = 4 the orthogonal tanh network spreads faster than a Gaussian linear one" (slope 1)
    assert g["ch8_sweep_large"] > 1.0
    # most values within a factor of 2 of 1 with orthogonal weights, few with Gaussian
    assert g["ch8_tanh128_band_orthogonal"] > 0.75
    assert g["ch8_tanh128_band_gaussian"] < 0.1


# --------------------------------------------------------------------------- deep linear networks


def test_orthogonal_training_time_plateaus_and_gaussian_grows() -> None:
    g = expected_glue()
    sx = saxe()
    # the teacher task's inputs are white and the target is 1e-3 of the zero map's loss
    X, Y, M, target = teacher()
    assert np.allclose(X.T @ X / SAXE_N, np.eye(SAXE_IN), atol=1e-12)
    assert target == pytest.approx(1e-3 * 0.5 * np.sum(M * M), rel=1e-10)
    # orthogonal: every run reaches the target; median at 64 within [2/3, 3/2] of the median at 16
    assert all(np.all(np.isfinite(sx["steps"]["orthogonal", L])) for L in SAXE_DEPTHS)
    assert 2 / 3 <= g["ch8_saxe_orth_ratio"] <= 3 / 2
    # Gaussian: grows by more than 20x from L = 2 to 16, and no run at L >= 32 reaches the target
    assert np.all(np.diff(sx["median"]["gaussian"][: SAXE_DEPTHS.index(16) + 1]) > 0)
    assert g["ch8_saxe_gauss_ratio"] > 20
    assert g["ch8_saxe_gauss_stuck"] == g["ch8_saxe_deep_runs"] == 10
    # at L = 2 the two initialisations are comparable (within a factor 2); at 16 orthogonal is > 10x faster
    assert 0.5 < g["ch8_saxe_gauss_L2"] / g["ch8_saxe_orth_L2"] < 2
    assert g["ch8_saxe_gauss_L16"] > 10 * g["ch8_saxe_orth_L16"]
    assert g["ch8_saxe_gap_L16"] == pytest.approx(g["ch8_saxe_gauss_L16"] / g["ch8_saxe_orth_L16"], rel=1e-12)
    # "no orthogonal run needed a smaller c"
    assert g["ch8_saxe_halved_orthogonal"] == 0 and g["ch8_saxe_halved_gaussian"] > 0


# --------------------------------------------------------------------------- exercises


def test_exercises() -> None:
    g = expected_glue()
    # leaky ReLU: closed form = quadrature; 4 networks of depth 16 within 10 %
    assert g["ch8_ex_leaky_theory"] == pytest.approx(0.36, rel=1e-12)
    assert g["ch8_ex_leaky_quad"] == pytest.approx(g["ch8_ex_leaky_theory"], rel=1e-12)
    assert g["ch8_ex_leaky_meas"] == pytest.approx(g["ch8_ex_leaky_theory"], rel=0.10)
    # 8 q*^2 is the leading term: the ratio tends to 1 from below as q* -> 0 (within 5 % at 1/256)
    r = [g["ch8_ex_ratio_16"], g["ch8_ex_ratio_64"], g["ch8_ex_ratio_256"]]
    assert r[0] < r[1] < r[2] < 1 and r[2] == pytest.approx(1.0, abs=0.05)
    # depth 1000: q* = sqrt(0.1 / 8000); the exact relative variance is slightly below 0.1
    assert g["ch8_ex_q_needed"] == pytest.approx(np.sqrt(0.1 / 8000), rel=1e-12)
    assert 0.09 < g["ch8_ex_q_check"] < 0.1
    # the Gaussian end-to-end map's smallest squared singular value collapses with depth
    assert g["ch8_ex_small_gauss_L2"] > g["ch8_ex_small_gauss_L16"] > g["ch8_ex_small_gauss_L64"]
    assert g["ch8_ex_small_gauss_L64"] < 1e-15
    assert g["ch8_ex_small_orth_dev"] < 1e-12


def test_steps_are_roughly_proportional_to_one_over_c() -> None:
    # "the number of steps is roughly proportional to 1/c": halving c from 1/2 to 1/4
    # multiplies the steps by 2 within 25 %, for both initialisations (seed 0)
    X, Y, _, target = teacher()
    for scheme, depth in (("orthogonal", 16), ("orthogonal", 64), ("gaussian", 4), ("gaussian", 8)):
        t = []
        for c in (1 / 2, 1 / 4):
            run = isometry.train_deep_linear(saxe_net(scheme, depth, 0), X, Y, lr=c / depth, target_loss=target,
                                             max_steps=MAX_STEPS)
            assert run.steps is not None
            t.append(run.steps)
        assert t[1] / t[0] == pytest.approx(2.0, rel=0.25), (scheme, depth, t)
