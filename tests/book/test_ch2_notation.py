"""Chapter 2, "Notation and the forward pass": the claims its prose makes, asserted on the values its
build glued, and the page's notation table checked against the arrays gradlab returns.

Nothing here recomputes the chapter. The table tests read the page's own Markdown table and evaluate
each `gradlab` expression it names on a small network, because the table is prose, not a glued number.
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import gradlab
from bookglue import ROOT
from gradlab import activations, mlp, train

PAGE = "ch2_notation"
pytestmark = pytest.mark.built_book

SOURCE = ROOT / "book" / f"{PAGE}.md"
EPS = np.finfo(float).eps
X_ONE = (1.0, -0.5, 2.0)  # the page's example x


# ---------------------------------------------------------------------------
# the worked example
# ---------------------------------------------------------------------------


def test_first_unit_by_hand(glue) -> None:
    """z_1^(1) = W_11 x_1 + W_12 x_2 + W_13 x_3 + b_1, and a_1^(1) = 1/(1 + e^{-z})."""
    x1, x2, x3 = X_ONE
    z = glue["ch2_W1_11"] * x1 + glue["ch2_W1_12"] * x2 + glue["ch2_W1_13"] * x3 + glue["ch2_b1_1"]
    assert math.isclose(z, glue["ch2_z1_1"], rel_tol=0, abs_tol=1e-14)
    assert math.isclose(1 / (1 + math.exp(-z)), glue["ch2_a1_1"], rel_tol=1e-14)
    # The prose adds the three-decimal roundings and says the last digit may be off by one.
    weights = (glue["ch2_W1_11"], glue["ch2_W1_12"], glue["ch2_W1_13"])
    rounded = sum(round(v, 3) * xi for v, xi in zip(weights, X_ONE)) + round(glue["ch2_b1_1"], 3)
    assert abs(round(rounded, 3) - round(glue["ch2_z1_1"], 3)) <= 0.0015 + 1e-12


def test_whole_forward_pass_by_hand(glue) -> None:
    """Every unit of both layers, by loops with the sigmoid written out, equals what forward stored."""
    assert glue["ch2_hand_z_gap"] <= 1e-14
    assert glue["ch2_hand_a_gap"] <= 1e-14
    # the network's answer is a pair of sigmoid outputs
    assert 0 < glue["ch2_a2_1"] < 1 and 0 < glue["ch2_a2_2"] < 1


def test_parameter_count(glue) -> None:
    # "4·3 + 4 in layer 1 and 2·4 + 2 in layer 2", for a batch of B = 5
    assert glue["ch2_n_params"] == (4 * 3 + 4) + (2 * 4 + 2) == 26
    assert glue["ch2_B"] == 5


def test_example_biases_are_not_zero(glue) -> None:
    # The hand computation would hide the role of b^(1) if the biases were zero.
    assert glue["ch2_min_abs_bias"] > 0


# ---------------------------------------------------------------------------
# column maths versus row code
# ---------------------------------------------------------------------------


def test_rows_formula_equals_column_formula_for_every_layer(glue) -> None:
    # "at the level of rounding in the last bit": a few ulps of numbers of order one (max |z| is
    # about 2 here: sigmoid layers fed a standard-normal batch)
    assert glue["ch2_rows_cols_err"] <= 8 * EPS


# ---------------------------------------------------------------------------
# the notation table on the page, checked against gradlab's arrays
# ---------------------------------------------------------------------------

TABLE_HEADER = "| Symbol | Meaning | Shape (maths) | In `gradlab` | Shape (code) |"


def table_rows() -> list[list[str]]:
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
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


# ---------------------------------------------------------------------------
# exercises
# ---------------------------------------------------------------------------

SIZES_CH1 = [64, 30, 30, 30, 10]  # chapter 1's network with three hidden layers


def test_ex_parameter_count(glue) -> None:
    # 30*65 + 30*31 + 30*31 + 10*31, written out
    assert glue["ch2_ex_params_formula"] == 1950 + 930 + 930 + 310 == 4120
    assert glue["ch2_ex_params_gradlab"] == glue["ch2_ex_params_formula"]
    assert glue["ch2_ex_params_weights"] + glue["ch2_ex_params_biases"] == glue["ch2_ex_params_gradlab"]
    assert glue["ch2_ex_params_biases"] == 30 + 30 + 30 + 10  # one per unit outside the input layer
    assert glue["ch2_ex_params_weights"] == 64 * 30 + 30 * 30 + 30 * 30 + 30 * 10
    # "the first layer ... holds the largest share"
    per_layer = [SIZES_CH1[l] * (SIZES_CH1[l - 1] + 1) for l in range(1, len(SIZES_CH1))]
    assert per_layer.index(max(per_layer)) == 0


def test_ex_shapes_follow_the_table(glue) -> None:
    # (B, n_l) for activations and delta, (n_l, n_{l-1}) for weights and their gradients; B = 7
    assert glue["ch2_ex_shape_a0"] == "(7, 64)"
    assert glue["ch2_ex_shape_z2"] == "(7, 30)"
    assert glue["ch2_ex_shape_W4"] == "(10, 30)"
    assert glue["ch2_ex_shape_delta4"] == "(7, 10)"
    assert glue["ch2_ex_shape_dW1"] == "(30, 64)"


def test_ex_folded_bias_reproduces_the_forward_pass(glue) -> None:
    # "rounding in the last bit": a few ulps of the largest |z| (about 1 here)
    assert glue["ch2_ex_fold_err"] <= 8 * EPS
    # and the extended matrices hold n_l (n_{l-1} + 1) entries each: the network's parameter count
    assert glue["ch2_ex_fold_entries"] == 4 * (3 + 1) + 2 * (4 + 1) == glue["ch2_n_params"]
