"""Chapter 7, "Mean-field theory": every glued number, and the claims the prose makes about them.

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
from scipy import stats

from gradlab import data, experiments, theory, wide

# The chapter's parameters (same values as the code cells of book/ch7_mean_field.md).
SB2 = 0.05
ORDERED, CHAOTIC = 1.0, 4.0
WIDE = dict(width=1000, depth=12, n_inputs=16)
Q_IN, C_IN = 3.0, 0.5
TABLE_SB2 = (0.0, 0.01, 0.05, 0.1, 0.3)
TRAIN_DEPTHS = (6, 12, 18, 24, 32, 48, 64)
TRAIN_SW2 = np.linspace(1.0, 4.0, 9)
TRAINED = 0.5


def crit() -> float:
    return theory.critical_sigma_w2("tanh", SB2)


def grad_sw2() -> tuple[float, ...]:
    return (1.0, 1.5, crit(), 2.5, 4.0)


@functools.lru_cache(maxsize=None)
def runs() -> dict[float, wide.WideSignals]:
    return {
        s: wide.wide_network_signals("tanh", s, SB2, q_in=Q_IN, c_in=C_IN, rng=70 + i,  # type: ignore[arg-type]
                                            n_networks=8 if s in (ORDERED, CHAOTIC) else 3, **WIDE)
        for i, s in enumerate(grad_sw2())
    }


def iterate(step: Any, start: float, depth: int) -> np.ndarray:
    path = [start]
    for _ in range(depth - 1):
        path.append(float(step(path[-1])))
    return np.array(path)


def map_paths() -> tuple[dict[float, np.ndarray], dict[float, np.ndarray]]:
    depth = int(WIDE["depth"])
    q = {s: iterate(lambda v, s=s: theory.length_map(v, "tanh", s, SB2), Q_IN, depth) for s in (ORDERED, CHAOTIC)}
    c = {s: iterate(lambda v, s=s: theory.correlation_map(v, "tanh", s, SB2), C_IN, depth) for s in (ORDERED, CHAOTIC)}
    return q, c


def z_scores(measured: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return (measured.mean(axis=0) - predicted) / (measured.std(axis=0, ddof=1) / np.sqrt(len(measured)))


@functools.lru_cache(maxsize=None)
def train_grid() -> tuple[np.ndarray, np.ndarray, int]:
    digits = data.digits(rng=0)
    acc = experiments.trainability(digits, TRAIN_DEPTHS, TRAIN_SW2, sigma_b2=SB2, width=64, lr=0.02, epochs=5,
                                   batch_size=32, seed=0)
    xi = np.array([theory.depth_scale("tanh", s, SB2)[1] for s in TRAIN_SW2])
    return acc, xi, len(digits.y_train)


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s, key in ((ORDERED, "ord"), (CHAOTIC, "cha")):
        out[f"ch7_qstar_{key}"] = theory.fixed_point_q("tanh", s, SB2)
        out[f"ch7_cstar_{key}"] = theory.fixed_point_c("tanh", s, SB2)
        out[f"ch7_chi1_{key}"] = theory.chi1("tanh", s, SB2)
    out["ch7_qpath_ord_5"] = float(iterate(lambda v: theory.length_map(v, "tanh", ORDERED, SB2), 3.0, 6)[-1])

    r = runs()
    q_path, c_path = map_paths()
    out["ch7_q_max_rel_err"] = max(float(np.max(np.abs(r[s].q.mean(axis=0) / q_path[s] - 1))) for s in (ORDERED, CHAOTIC))
    out["ch7_c_max_abs_err"] = max(float(np.max(np.abs(r[s].c.mean(axis=0) - c_path[s]))) for s in (ORDERED, CHAOTIC))
    out["ch7_q_max_z"] = max(float(np.max(np.abs(z_scores(r[s].q, q_path[s])))) for s in (ORDERED, CHAOTIC))
    out["ch7_c_max_z"] = max(float(np.max(np.abs(z_scores(r[s].c, c_path[s])))) for s in (ORDERED, CHAOTIC))
    out["ch7_z_tol"] = float(stats.t.ppf(1 - 0.05 / (2 * 48), df=7))
    out["ch7_grad_max_rel_err"] = float(max(
        abs(r[s].ratio.mean(axis=1).mean() / theory.chi1("tanh", s, SB2) - 1) for s in grad_sw2()))
    out["ch7_crit"] = crit()

    for b in TABLE_SB2:
        out[f"ch7_crit_sb{b:g}".replace(".", "")] = theory.critical_sigma_w2("tanh", b)
    sw2_grid, sb2_grid = np.linspace(0.5, 4.0, 71), np.linspace(0.0, 0.4, 41)
    out["ch7_chi1_grid_max"] = float(max(theory.chi1("tanh", s, b) for s in sw2_grid for b in sb2_grid))

    sig_chi = theory.chi1("sigmoid", 1.0, SB2)
    out["ch7_sigmoid_crit"] = theory.critical_sigma_w2("sigmoid", SB2)
    out["ch7_sigmoid_chi1_lecun"] = sig_chi
    out["ch7_sigmoid_chi1_lecun_10"] = sig_chi**10

    for s in (ORDERED, CHAOTIC):
        out[f"ch7_xic_{s:g}"] = theory.depth_scale("tanh", s, SB2)[1]
    out["ch7_xic_near_crit"] = theory.depth_scale("tanh", 1.75, SB2)[1]

    acc, xi, n_train = train_grid()
    depth_grid = np.array(TRAIN_DEPTHS)[:, None]
    beyond = depth_grid > 6 * xi[None, :]
    out["ch7_train_steps"] = 5 * math.ceil(n_train / 32)
    out["ch7_train_n"] = int(acc.size)
    out["ch7_train_beyond_n"] = int(beyond.sum())
    out["ch7_train_beyond_trained"] = int((acc[beyond] >= TRAINED).sum())
    out["ch7_train_beyond_max"] = float(acc[beyond].max())
    out["ch7_train_within_n"] = int((~beyond).sum())
    out["ch7_train_within_trained"] = int((acc[~beyond] >= TRAINED).sum())
    out["ch7_train_shallow_min"] = float(acc[depth_grid[:, 0] <= 12].min())
    out["ch7_train_best_deep"] = float(acc[-1].max())
    out["ch7_train_best_deep_sw2"] = float(TRAIN_SW2[acc[-1].argmax()])

    relu_crit = [theory.critical_sigma_w2("relu", b) for b in TABLE_SB2]
    out["ch7_ex_relu_crit_min"] = float(min(relu_crit))
    out["ch7_ex_relu_crit_max"] = float(max(relu_crit))
    out["ch7_ex_large_limit"] = 4 / (3 * math.sqrt(2 * math.pi))
    for s in (10.0, 100.0):
        out[f"ch7_ex_large_ratio_{s:g}"] = theory.chi1("tanh", s, SB2) / math.sqrt(s)
    chi_ord = theory.chi1("tanh", ORDERED, SB2)
    out["ch7_ex_budget_depth"] = 1 + int(math.floor(math.log(1e-6) / math.log(chi_ord)))
    out["ch7_ex_budget_6xi"] = 6 * theory.depth_scale("tanh", ORDERED, SB2)[1]
    return out


# --------------------------------------------------------------------------- the claims


def test_running_examples_are_ordered_and_chaotic() -> None:
    g = expected_glue()
    assert g["ch7_chi1_ord"] < 1 < g["ch7_chi1_cha"]
    assert g["ch7_cstar_ord"] == 1.0 and 0 < g["ch7_cstar_cha"] < 1
    # "forgets where it started within a few layers": after five layers less than 1 % of the
    # initial distance to q* is left.
    assert 0 < g["ch7_qpath_ord_5"] - g["ch7_qstar_ord"] < 0.01 * (3.0 - g["ch7_qstar_ord"])
    assert g["ch7_qstar_ord"] < g["ch7_qstar_cha"]


def test_maps_agree_with_wide_networks() -> None:
    # Stated in the chapter: every layer's deviation, in standard errors of the mean over the eight
    # networks, stays below the 5 % family-wise threshold of t(7) over 48 comparisons (about 5.4).
    g = expected_glue()
    assert 5 < g["ch7_z_tol"] < 6
    assert g["ch7_q_max_z"] < g["ch7_z_tol"]
    assert g["ch7_c_max_z"] < g["ch7_z_tol"]
    # and in plain units: a few per cent of q, a few hundredths of c (one network scatters by
    # sqrt(2/n) = 4.5 % in q at layer 1 alone)
    assert g["ch7_q_max_rel_err"] < 0.06
    assert g["ch7_c_max_abs_err"] < 0.03


def test_a_wrong_map_would_be_caught() -> None:
    # The z-test has power: the length map with sigma_w2 off by 5 % fails it.
    r = runs()
    wrong = iterate(lambda v: theory.length_map(v, "tanh", 1.05 * CHAOTIC, SB2), Q_IN, int(WIDE["depth"]))
    assert np.max(np.abs(z_scores(r[CHAOTIC].q, wrong))) > expected_glue()["ch7_z_tol"]


def test_gradient_ratio_matches_chi1_within_two_percent() -> None:
    # The requirement, and the chapter's statement: every setting within 2 %.
    assert expected_glue()["ch7_grad_max_rel_err"] < 0.02
    r = runs()
    for s in grad_sw2():
        chi = theory.chi1("tanh", s, SB2)
        measured = r[s].ratio.mean()
        # vanishing below the critical line, exploding above it, flat on it (within the 2 %)
        if abs(chi - 1) > 0.02:
            assert (measured < 1) == (chi < 1), (s, measured, chi)


def test_gradient_profile_is_geometric() -> None:
    # The figure draws chi1^(L-l) through the output layer's value; at layer 1 the measured mean square
    # must lie within 2 % per layer of it, compounded over the 11 steps.
    for s, run in runs().items():
        chi = theory.chi1("tanh", s, SB2)
        d2 = run.delta2.mean(axis=0)
        predicted = d2[-1] * chi ** (len(d2) - 1)
        assert abs(math.log(d2[0] / predicted)) < (len(d2) - 1) * 0.02, s


def test_critical_table() -> None:
    g = expected_glue()
    assert g["ch7_crit_sb0"] == pytest.approx(1.0, abs=1e-7)  # q* = 0 and tanh'(0) = 1
    assert g["ch7_crit_sb005"] == pytest.approx(1.76095, abs=1e-5)  # value quoted in the literature
    values = [g[f"ch7_crit_sb{b:g}".replace(".", "")] for b in TABLE_SB2]
    assert all(a < b for a, b in zip(values, values[1:]))  # "the critical line bends to the right"
    for b, v in zip(TABLE_SB2[1:], values[1:]):
        assert theory.chi1("tanh", v, b) == pytest.approx(1.0, abs=1e-9)
    assert g["ch7_chi1_grid_max"] > 1 and g["ch7_crit"] == g["ch7_crit_sb005"]
    # "mild per layer": the strongest chaos plotted adds less than half per layer
    assert g["ch7_chi1_grid_max"] < 1.5


def test_sigmoid_is_deep_in_the_ordered_phase() -> None:
    g = expected_glue()
    assert g["ch7_sigmoid_crit"] > 100  # "reaches chi1 = 1 only at sigma_w^2 = 103"
    assert theory.chi1("sigmoid", g["ch7_sigmoid_crit"], SB2) == pytest.approx(1.0, abs=1e-9)
    assert g["ch7_sigmoid_chi1_lecun"] < 0.1
    assert g["ch7_sigmoid_chi1_lecun_10"] == pytest.approx(g["ch7_sigmoid_chi1_lecun"] ** 10, rel=1e-12)


def test_depth_scales() -> None:
    g = expected_glue()
    # ordered phase: xi_c = -1/ln chi1 exactly
    assert g["ch7_xic_1"] == pytest.approx(-1 / math.log(g["ch7_chi1_ord"]), rel=1e-12)
    # chaotic phase: xi_c uses the slope at c* < 1, which is smaller than chi1 > 1
    assert g["ch7_xic_4"] == pytest.approx(-1 / math.log(theory.chi_c("tanh", CHAOTIC, SB2)), rel=1e-12)
    # just below the edge, xi_c is far larger than away from it: "diverges"
    assert g["ch7_xic_near_crit"] > 50 * max(g["ch7_xic_1"], g["ch7_xic_4"])


def test_trainability_claims() -> None:
    g = expected_glue()
    acc, xi, _ = train_grid()
    assert acc.shape == (len(TRAIN_DEPTHS), len(TRAIN_SW2))
    assert g["ch7_train_beyond_n"] + g["ch7_train_within_n"] == g["ch7_train_n"] == acc.size
    # Beyond 6 xi_c (almost) nothing trains; within it most networks do.
    assert g["ch7_train_beyond_n"] >= 8
    assert g["ch7_train_beyond_trained"] <= 0.15 * g["ch7_train_beyond_n"]
    assert g["ch7_train_within_trained"] >= 0.7 * g["ch7_train_within_n"]
    # "Every network of depth 12 or less trained."
    assert g["ch7_train_shallow_min"] >= TRAINED
    # "The wedge": at the deepest depths the best sigma_w2 is near the critical one, and the extremes fail.
    assert abs(g["ch7_train_best_deep_sw2"] - crit()) <= 0.75
    deep = acc[TRAIN_DEPTHS.index(48)]
    assert deep[0] < TRAINED and deep[-1] < TRAINED
    assert deep.max() >= TRAINED


def test_exercises() -> None:
    g = expected_glue()
    assert g["ch7_ex_relu_crit_min"] == pytest.approx(2.0, abs=1e-9)
    assert g["ch7_ex_relu_crit_max"] == pytest.approx(2.0, abs=1e-9)
    # chi1/sigma_w decreases towards the limit from above
    assert g["ch7_ex_large_ratio_10"] > g["ch7_ex_large_ratio_100"] > g["ch7_ex_large_limit"]
    assert g["ch7_ex_large_ratio_100"] == pytest.approx(g["ch7_ex_large_limit"], rel=0.05)
    L = g["ch7_ex_budget_depth"]
    chi = g["ch7_chi1_ord"]
    assert chi ** (L - 1) >= 1e-6 > chi**L
    assert g["ch7_ex_budget_6xi"] < L  # "the trainability limit 6 xi_c is reached well before it"
