"""Chapter ch2_notation: the notation table, the row/column conventions and the hand-checked forward pass.

``expected_glue()`` recomputes every number the page glues with the same gradlab
calls and seeds; the tests assert what the prose claims about them, and check
the page's notation table against the arrays gradlab actually produces.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradlab
from gradlab import activations, mlp, train

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch2_notation.md"

SIZES = [3, 4, 2]


def example_network() -> mlp.Network:
    """The page's network: widths (3, 4, 2), sigmoid everywhere, seed 2."""
    return mlp.init_network(SIZES, hidden="sigmoid", output="sigmoid", bias_std=0.5, rng=2)


def example_batch() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(3).standard_normal((5, 3))
    Y = np.random.default_rng(4).uniform(size=(5, 2))
    return X, Y


X_ONE = np.array([[1.0, -0.5, 2.0]])


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    net = example_network()
    X, _ = example_batch()
    fwd1 = mlp.forward(net, X_ONE)
    return {
        "ch2_B": int(X.shape[0]),
        "ch2_n_params": int(sum(net.W[l].size + net.b[l].size for l in range(1, net.L + 1))),
        "ch2_W1_11": float(net.W[1][0, 0]),
        "ch2_W1_12": float(net.W[1][0, 1]),
        "ch2_W1_13": float(net.W[1][0, 2]),
        "ch2_b1_1": float(net.b[1][0]),
        "ch2_z1_1": float(fwd1.z[1][0, 0]),
        "ch2_a1_1": float(fwd1.a[1][0, 0]),
        "ch2_a2_1": float(fwd1.a[2][0, 0]),
        "ch2_a2_2": float(fwd1.a[2][0, 1]),
        # the exercises at the end of the chapter
        "ch2_ex_params_formula": ex_params()["formula"],
        "ch2_ex_params_gradlab": ex_params()["weights"] + ex_params()["biases"],
        "ch2_ex_params_weights": ex_params()["weights"],
        "ch2_ex_params_biases": ex_params()["biases"],
        **{f"ch2_ex_shape_{name}": str(shape) for name, shape in ex_shapes().items()},
        "ch2_ex_fold_err": ex_fold_err(),
    }


# ---------------------------------------------------------------------------
# the worked example
# ---------------------------------------------------------------------------


def test_first_unit_by_hand() -> None:
    """z_1^(1) = W_11 x_1 + W_12 x_2 + W_13 x_3 + b_1, and a_1^(1) = 1/(1 + e^{-z})."""
    g = expected_glue()
    x1, x2, x3 = 1.0, -0.5, 2.0
    z = g["ch2_W1_11"] * x1 + g["ch2_W1_12"] * x2 + g["ch2_W1_13"] * x3 + g["ch2_b1_1"]
    assert math.isclose(z, g["ch2_z1_1"], rel_tol=0, abs_tol=1e-14)
    assert math.isclose(1 / (1 + math.exp(-z)), g["ch2_a1_1"], rel_tol=1e-14)
    # The prose adds the three-decimal roundings and says the last digit may be off by one.
    rounded = sum(round(v, 3) * xi for v, xi in zip((g["ch2_W1_11"], g["ch2_W1_12"], g["ch2_W1_13"]), (x1, x2, x3)))
    rounded += round(g["ch2_b1_1"], 3)
    assert abs(round(rounded, 3) - round(g["ch2_z1_1"], 3)) <= 0.0015 + 1e-12


def test_whole_forward_pass_by_hand() -> None:
    """Every unit of every layer, with loops and the sigmoid written out (no gradlab)."""
    net = example_network()
    fwd = mlp.forward(net, X_ONE)
    a_prev = list(X_ONE[0])
    for l in range(1, net.L + 1):
        W, b = net.W[l], net.b[l]
        z = [sum(W[j, k] * a_prev[k] for k in range(W.shape[1])) + b[j] for j in range(W.shape[0])]
        a = [1 / (1 + math.exp(-zj)) for zj in z]
        np.testing.assert_allclose(fwd.z[l][0], z, rtol=0, atol=1e-14)
        np.testing.assert_allclose(fwd.a[l][0], a, rtol=1e-14)
        a_prev = a
    g = expected_glue()
    assert (g["ch2_a2_1"], g["ch2_a2_2"]) == (float(fwd.a[2][0, 0]), float(fwd.a[2][0, 1]))


def test_parameter_count() -> None:
    # "4·3 + 4 in layer 1 and 2·4 + 2 in layer 2"
    assert expected_glue()["ch2_n_params"] == (4 * 3 + 4) + (2 * 4 + 2) == 26


def test_example_biases_are_not_zero() -> None:
    # The hand computation would hide the role of b^(1) if the biases were zero.
    net = example_network()
    assert all(np.all(net.b[l] != 0) for l in (1, 2))


# ---------------------------------------------------------------------------
# column maths versus row code
# ---------------------------------------------------------------------------


def test_rows_formula_equals_column_formula_for_every_layer() -> None:
    net = example_network()
    X, _ = example_batch()
    fwd = mlp.forward(net, X)
    for l in range(1, net.L + 1):
        cols = np.stack([net.W[l] @ fwd.a[l - 1][i] + net.b[l] for i in range(X.shape[0])])
        scale = np.max(np.abs(fwd.z[l])) + np.max(np.abs(net.b[l]))
        # "at the level of rounding": a few ulps of the largest term
        assert np.max(np.abs(fwd.z[l] - cols)) <= 8 * np.finfo(float).eps * scale
        np.testing.assert_array_equal(fwd.a[l], net.g(l).g(fwd.z[l]))


def test_weight_gradient_is_the_sum_over_the_batch() -> None:
    """grads.dW[l] has no batch dimension: it is the sum of per-example outer products."""
    net = example_network()
    X, Y = example_batch()
    _, fwd, grads = mlp.loss_and_gradients(net, X, Y, "mse")
    for l in range(1, net.L + 1):
        summed = sum(np.outer(grads.delta[l][i], fwd.a[l - 1][i]) for i in range(X.shape[0]))
        np.testing.assert_allclose(grads.dW[l], summed, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads.db[l], grads.delta[l].sum(axis=0), rtol=1e-12, atol=1e-15)


def test_output_layer_activation_is_separate() -> None:
    net = example_network()
    assert net.g(1) is net.hidden and net.g(net.L) is net.output
    assert mlp.init_network([3, 4, 2], rng=0).output.name == "linear"  # the default the prose names


# ---------------------------------------------------------------------------
# the notation table on the page, checked against gradlab's arrays
# ---------------------------------------------------------------------------

TABLE_HEADER = "| Symbol | Meaning | Shape (maths) | In `gradlab` | Shape (code) |"


def table_rows() -> list[list[str]]:
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


def _dim(token: str, sizes: tuple[int, ...], l: int, B: int) -> int:
    L = len(sizes) - 1
    table = {"B": B, "n_0": sizes[0], "n_l": sizes[l], "n_{l-1}": sizes[l - 1], "n_L": sizes[L]}
    return table[token]


def test_table_has_one_row_per_symbol_and_names_every_gradlab_object() -> None:
    rows = table_rows()
    assert all(len(r) == 5 for r in rows), [r for r in rows if len(r) != 5]
    code = " ".join(r[3] for r in rows)
    for name in (
        "fwd.a[0]", "fwd.a[l]", "fwd.z[l]", "net.W[l]", "net.b[l]", "net.hidden.g", "net.hidden.dg",
        "gradlab.activations.get(name)", "net.L", "net.sizes[l]", "grads.delta[l]", "grads.dW[l]",
        "grads.db[l]", "gradlab.losses", "`lr`", "gradlab.train.sgd_step",
    ):
        assert name in code, name
    symbols = [r[0] for r in rows]
    assert len(symbols) == len(set(symbols))


@pytest.mark.parametrize("B", [1, 5])
def test_table_shapes_match_gradlab(B: int) -> None:
    net = mlp.init_network([3, 4, 5, 2], hidden="tanh", output="sigmoid", bias_std=0.3, rng=11)
    X = np.random.default_rng(1).standard_normal((B, 3))
    Y = np.random.default_rng(2).uniform(size=(B, 2))
    _, fwd, grads = mlp.loss_and_gradients(net, X, Y, "mse")
    L = net.L
    checked = 0
    for symbol, _meaning, _maths, code_cell, shape_cell in table_rows():
        exprs = re.findall(r"`([^`]+)`", code_cell)
        shape_spec = shape_cell.strip("`")
        for expr in exprs:
            if expr == "lr":
                continue  # named together with the function it is a parameter of
            if "sgd_step" in expr:
                assert list(inspect.signature(train.sgd_step).parameters) == ["net", "grads", "lr"]
                checked += 1
                continue
            layers = range(1, L + 1) if re.search(r"\bl\b", expr) else [L]
            for l in layers:
                ns = {"net": net, "fwd": fwd, "grads": grads, "X": X, "Y": Y, "L": L, "l": l,
                      "gradlab": gradlab, "name": "sigmoid"}
                value = eval(expr, ns)  # noqa: S307 - expressions from our own page
                if shape_spec.startswith("("):
                    tokens = [t.strip() for t in shape_spec.strip("()").split(",") if t.strip()]
                    want = tuple(_dim(t, net.sizes, l, B) for t in tokens)
                    assert value.shape == want, (symbol, expr, l, value.shape, want)
                elif shape_spec == "int":
                    assert isinstance(value, int) and not isinstance(value, bool), (symbol, expr)
                elif shape_spec == "float":
                    assert isinstance(value(fwd.a[L], Y if "mse" in expr else np.zeros(B, dtype=int)), float)
                elif shape_spec == "shape of their argument":
                    z = fwd.z[l]
                    fn = value.g if isinstance(value, activations.Activation) else value
                    assert callable(fn) and fn(z).shape == z.shape, (symbol, expr)
                else:
                    raise AssertionError(f"unknown shape {shape_cell!r} in row {symbol}")
                checked += 1
    assert checked >= 3 * 6 + 10  # every per-layer array for l = 1..3 plus the rest


def test_table_layer_quantities() -> None:
    """net.L counts weight layers; net.sizes[l] is n_l; W^(l) is n_l x n_{l-1}."""
    net = example_network()
    assert net.L == len(SIZES) - 1
    assert list(net.sizes) == SIZES
    for l in range(1, net.L + 1):
        assert net.W[l].shape == (net.sizes[l], net.sizes[l - 1])



def test_per_layer_summary_arrays_are_indexed_from_zero() -> None:
    """The page: arrays with one number per layer hold layer l at index l - 1."""
    net = example_network()
    X, Y = example_batch()
    _, _, grads = mlp.loss_and_gradients(net, X, Y, "mse")
    assert grads.norms["W"].shape == (net.L,)
    for l in range(1, net.L + 1):
        assert grads.norms["W"][l - 1] == np.linalg.norm(grads.dW[l])
        assert grads.norms["delta"][l - 1] == np.linalg.norm(grads.db[l])


# ---------------------------------------------------------------------------
# exercises
# ---------------------------------------------------------------------------

SIZES_CH1 = [64, 30, 30, 30, 10]  # chapter 1's network with three hidden layers


@functools.lru_cache(maxsize=None)
def ex_params() -> dict[str, int]:
    """Exercise ex-ch2-params: P = sum_l n_l (n_{l-1} + 1), and what gradlab allocates."""
    net = mlp.init_network(SIZES_CH1, rng=0)
    return {
        "formula": sum(SIZES_CH1[l] * (SIZES_CH1[l - 1] + 1) for l in range(1, len(SIZES_CH1))),
        "weights": int(sum(net.W[l].size for l in range(1, net.L + 1))),
        "biases": int(sum(net.b[l].size for l in range(1, net.L + 1))),
    }


@functools.lru_cache(maxsize=None)
def ex_shapes() -> dict[str, tuple[int, ...]]:
    """Exercise ex-ch2-shapes: the arrays for a batch of 7 through chapter 1's network."""
    net = mlp.init_network(SIZES_CH1, rng=0)
    X7 = np.random.default_rng(5).standard_normal((7, 64))
    Y7 = np.random.default_rng(6).uniform(size=(7, 10))
    _, fwd, grads = mlp.loss_and_gradients(net, X7, Y7, "mse")
    return {"a0": fwd.a[0].shape, "z2": fwd.z[2].shape, "W4": net.W[4].shape,
            "delta4": grads.delta[4].shape, "dW1": grads.dW[1].shape}


@functools.lru_cache(maxsize=None)
def ex_fold_err() -> float:
    """Exercise ex-ch2-bias: z^(l) from [W b] and (a, 1), against forward, largest gap."""
    net = example_network()
    X, _ = example_batch()
    fwd = mlp.forward(net, X)
    err = 0.0
    for l in range(1, net.L + 1):
        W_tilde = np.hstack([net.W[l], net.b[l][:, None]])
        a_tilde = np.hstack([fwd.a[l - 1], np.ones((X.shape[0], 1))])
        err = max(err, float(np.max(np.abs(a_tilde @ W_tilde.T - fwd.z[l]))))
    return err


def test_ex_parameter_count() -> None:
    p = ex_params()
    # 30*65 + 30*31 + 30*31 + 10*31, written out
    assert p["formula"] == 1950 + 930 + 930 + 310 == 4120
    assert p["weights"] + p["biases"] == p["formula"]
    assert p["biases"] == 30 + 30 + 30 + 10  # one per unit outside the input layer
    assert p["weights"] == 64 * 30 + 30 * 30 + 30 * 30 + 30 * 10
    # "the first layer ... holds the largest share"
    per_layer = [SIZES_CH1[l] * (SIZES_CH1[l - 1] + 1) for l in range(1, len(SIZES_CH1))]
    assert per_layer.index(max(per_layer)) == 0


def test_ex_shapes_follow_the_table() -> None:
    B, n = 7, SIZES_CH1
    assert ex_shapes() == {"a0": (B, n[0]), "z2": (B, n[2]), "W4": (n[4], n[3]),
                           "delta4": (B, n[4]), "dW1": (n[1], n[0])}
    assert expected_glue()["ch2_ex_shape_dW1"] == "(30, 64)"


def test_ex_folded_bias_reproduces_the_forward_pass() -> None:
    # "rounding in the last bit": a few ulps of the largest |z| (about 1 here)
    assert ex_fold_err() <= 8 * np.finfo(float).eps
    # and the extended matrix has the per-layer parameter count of ex-ch2-params
    net = example_network()
    for l in range(1, net.L + 1):
        assert np.hstack([net.W[l], net.b[l][:, None]]).size == net.sizes[l] * (net.sizes[l - 1] + 1)
