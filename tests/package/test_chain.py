"""Tests for gradlab.chain: the one-unit-per-layer chain against a hand
computation, central differences and the matrix network of gradlab.mlp."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradlab import activations, chain, mlp


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def dsig(z: float) -> float:
    return sig(z) * (1.0 - sig(z))


def test_three_layer_chain_by_hand() -> None:
    w1, w2, w3 = 0.5, -1.2, 2.0
    b1, b2, b3 = 0.1, 0.2, -0.3
    a0, y = 0.7, 0.25
    z1 = w1 * a0 + b1
    a1 = sig(z1)
    z2 = w2 * a1 + b2
    a2 = sig(z2)
    z3 = w3 * a2 + b3
    a3 = sig(z3)
    dL_da3 = a3 - y  # L = (a3 - y)^2 / 2
    expected_dw1 = dL_da3 * dsig(z3) * w3 * dsig(z2) * w2 * dsig(z1) * a0
    expected_dw2 = dL_da3 * dsig(z3) * w3 * dsig(z2) * a1
    expected_dw3 = dL_da3 * dsig(z3) * a2

    c = chain.scalar_chain([w1, w2, w3], [b1, b2, b3], x=a0, y=y, activation="sigmoid")
    assert c.L == 3
    assert c.a0 == a0
    assert_allclose(c.a, [a0, a1, a2, a3], rtol=1e-15)
    assert_allclose(c.z, [z1, z2, z3], rtol=1e-15)
    assert c.w == (w1, w2, w3)
    assert_allclose(c.g_prime, [dsig(z1), dsig(z2), dsig(z3)], rtol=1e-14)
    assert c.dL_daL == pytest.approx(dL_da3, rel=1e-15)
    assert c.loss == pytest.approx(0.5 * (a3 - y) ** 2, rel=1e-14)
    assert c.dL_dw1 == pytest.approx(expected_dw1, rel=1e-13)
    assert_allclose(c.dL_dw(), [expected_dw1, expected_dw2, expected_dw3], rtol=1e-13)
    assert_allclose(c.layer_factors, [w2 * dsig(z1), w3 * dsig(z2)], rtol=1e-14)


def test_defaults_zero_bias_unit_input_zero_target() -> None:
    c = chain.scalar_chain([1.0, 1.0])
    assert c.a0 == 1.0
    assert c.z[0] == 1.0  # b = 0, x = 1
    assert c.a[1] == pytest.approx(sig(1.0), rel=1e-15)
    assert c.z[1] == pytest.approx(sig(1.0), rel=1e-15)
    assert c.dL_daL == pytest.approx(sig(sig(1.0)), rel=1e-15)  # y = 0


def test_single_layer_chain() -> None:
    c = chain.scalar_chain([1.5], [0.2], x=-0.4, y=1.0, activation="tanh")
    z = 1.5 * -0.4 + 0.2
    assert c.layer_factors == ()
    assert c.dL_dw1 == pytest.approx((math.tanh(z) - 1.0) * (1 - math.tanh(z) ** 2) * -0.4, rel=1e-13)
    assert c.dL_dw() == (c.dL_dw1,)


@pytest.mark.parametrize("act", activations.NAMES)
def test_dL_dw1_is_first_of_dL_dw_and_the_product_of_factors(act: str) -> None:
    rng = np.random.default_rng(5)
    w, b = rng.standard_normal(5), 0.1 * rng.standard_normal(5)
    c = chain.scalar_chain(w, b, x=0.9, y=-0.3, activation=act)
    assert c.dL_dw1 == pytest.approx(c.dL_dw()[0], rel=1e-14, abs=0)
    assert c.dL_dw1 == pytest.approx(c.dL_daL * c.g_prime[-1] * math.prod(c.layer_factors) * c.a0, rel=1e-12, abs=0)
    assert len(c.layer_factors) == 4


_RNG = np.random.default_rng(17)
WEIGHT_SETS = {
    # every z > 0 for relu, so its chain is alive and the check is not 0 == 0
    "alive": (np.array([1.2, -0.7, 1.5, -0.9]), np.array([0.1, 1.0, -0.2, 1.5])),
    # random, with negative pre-activations (the relu chain dies here: excluded)
    "mixed": (1.3 * _RNG.standard_normal(4), 0.3 * _RNG.standard_normal(4)),
}
FD_CASES = [(act, s) for s in WEIGHT_SETS for act in activations.NAMES if (act, s) != ("relu", "mixed")]


@pytest.mark.parametrize(("act", "wset"), FD_CASES, ids=[f"{a}-{s}" for a, s in FD_CASES])
def test_every_dL_dw_matches_central_differences(act: str, wset: str) -> None:
    w, b = WEIGHT_SETS[wset]
    x, y = 0.8, 0.4
    c = chain.scalar_chain(w, b, x=x, y=y, activation=act)
    assert min(abs(v) for v in c.z) > 1e-3  # well away from the relu/leaky/selu kinks
    assert max(abs(g) for g in c.dL_dw()) > 1e-6  # not a vacuous 0 == 0
    h = 1e-6
    for l in range(4):
        wp, wm = w.copy(), w.copy()
        wp[l] += h
        wm[l] -= h
        fd = (chain.scalar_chain(wp, b, x=x, y=y, activation=act).loss
              - chain.scalar_chain(wm, b, x=x, y=y, activation=act).loss) / (2 * h)
        assert c.dL_dw()[l] == pytest.approx(fd, rel=1e-6, abs=1e-10), (act, l)


def test_sigmoid_chain_vanishes_at_least_by_a_quarter_per_layer() -> None:
    for L in (2, 5, 10):
        c = chain.scalar_chain([1.0] * L)
        assert all(0 < f <= 0.25 for f in c.layer_factors)
        assert 0 < abs(c.dL_dw1) <= abs(c.dL_daL) * 0.25**L * abs(c.a0)


def test_agrees_with_the_matrix_network() -> None:
    # a 1-1-1-1 mlp with the same activation everywhere is the scalar chain
    w, b = [0.8, -1.1, 1.7], [0.05, -0.2, 0.3]
    for act in ("sigmoid", "tanh", "softplus"):
        net = mlp.Network({l: np.array([[w[l - 1]]]) for l in (1, 2, 3)},
                          {l: np.array([b[l - 1]]) for l in (1, 2, 3)}, act, act)
        loss, _, grads = mlp.loss_and_gradients(net, [[0.6]], [[0.1]], "mse")
        c = chain.scalar_chain(w, b, x=0.6, y=0.1, activation=act)
        assert loss == pytest.approx(c.loss, rel=1e-14)
        assert_allclose([grads.dW[l][0, 0] for l in (1, 2, 3)], c.dL_dw(), rtol=1e-13)


def test_accepts_activation_objects_and_keeps_inputs() -> None:
    w = np.array([0.5, 2.0])
    c1 = chain.scalar_chain(w, activation=activations.get("gelu"))
    c2 = chain.scalar_chain(list(w), activation="gelu")
    assert c1 == c2
    assert isinstance(c1.w[0], float)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([],), {}, ValueError, r"w must hold at least one weight"),
        (([1.0, 2.0, 3.0], [0.0, 0.0]), {}, ValueError, r"b must have the same length as w \(3\), got 2"),
        (([1.0, np.nan],), {}, ValueError, r"w must be finite, but 1 entry is NaN or inf"),
        (([1.0, 2.0], [0.0, np.inf]), {}, ValueError, r"b must be finite, but 1 entry is NaN or inf"),
        (([[1.0, 2.0]],), {}, ValueError, r"w must be 1-dimensional, got shape \(1, 2\)"),
        (("1.0",), {}, TypeError, r"w must be a number or an array of numbers, got str"),
        (([1.0],), {"x": float("nan")}, ValueError, r"x must be finite"),
        (([1.0],), {"x": [1.0, 2.0]}, ValueError, r"x must be 0-dimensional, got shape \(2,\)"),
        (([1.0],), {"y": float("inf")}, ValueError, r"y must be finite"),
        (([1.0],), {"activation": "softmax"}, ValueError, r"unknown activation 'softmax'; expected one of: sigmoid"),
        (([1.0],), {"activation": 3}, TypeError, r"activation must be a name \(str\) or an Activation, got int"),
    ],
)
def test_scalar_chain_errors(args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        chain.scalar_chain(*args, **kwargs)
