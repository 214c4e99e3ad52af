"""Chapter ch3_chain_rule: the chain rule through depth, checked.

``expected_glue()`` recomputes every number the page glues (same gradlab calls,
same seeds, same order of operations). The tests assert the page's claims: the
scalar chain product written out by hand, agreement with finite differences,
one factor w g' per layer, the vector backward pass written as loops, the
Jacobian product equal to backward's delta, the norm bound, and the gradient
check of every activation and loss below 1e-6.
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

from gradlab import activations, chain, gradcheck, losses, mlp

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch3_chain_rule.md"

#: The threshold the page states for the whole-network gradient check.
GRADCHECK_TOL = 1e-6

# --- the page's set-ups -----------------------------------------------------

W3, B3, X3, Y3 = (0.9, -1.3, 1.6), (0.2, -0.1, 0.3), 1.5, 0.2
L_DEEP = 10
JAC_SIZES = [4, 6, 6, 6, 6, 3]
GC_SIZES = [5, 4, 4, 3]


def three_layer_chain() -> chain.ChainFactors:
    return chain.scalar_chain(W3, B3, x=X3, y=Y3, activation="sigmoid")


def loss_of(weights: np.ndarray) -> float:
    return chain.scalar_chain(weights, B3, x=X3, y=Y3, activation="sigmoid").loss


def deep_chain() -> chain.ChainFactors:
    return chain.scalar_chain(np.ones(L_DEEP), x=1.0, y=0.0, activation="sigmoid")


def deep_deltas(deep: chain.ChainFactors) -> np.ndarray:
    lf = np.array(deep.layer_factors)
    delta = np.empty(deep.L)
    delta[-1] = deep.dL_daL * deep.g_prime[-1]
    for l in range(deep.L - 1, 0, -1):
        delta[l - 1] = lf[l - 1] * delta[l]
    return delta


def jacobian_setup(
    sizes: list[int] = JAC_SIZES, hidden: str = "sigmoid", output: str = "linear", rng: int = 5,
    x_seed: int = 6, y_seed: int = 7, gain: float = 1.0,
) -> dict[str, Any]:
    """The page's Jacobian cell, as a function (defaults = the page's network)."""
    net = mlp.init_network(sizes, hidden=hidden, output=output, bias_std=0.1, gain=gain, rng=rng)
    x1 = np.random.default_rng(x_seed).standard_normal((1, sizes[0]))
    y1 = np.random.default_rng(y_seed).uniform(size=(1, sizes[-1]))
    _, fwd, grads = mlp.loss_and_gradients(net, x1, y1, "mse")
    L = net.L
    dL_daL = losses.dmse(fwd.a[L], y1)[0]
    gp = {k: net.g(k).dg(fwd.z[k][0]) for k in range(1, L + 1)}
    J = {L: np.eye(net.sizes[L])}
    for l in range(L - 1, -1, -1):
        J[l] = J[l + 1] @ np.diag(gp[l + 1]) @ net.W[l + 1]
    delta_jac = {l: gp[l] * (J[l].T @ dL_daL) for l in range(1, L + 1)}
    jac_diff = max(np.max(np.abs(delta_jac[l] - grads.delta[l][0])) for l in range(1, L + 1))

    def output_i(i: int) -> Any:
        return lambda xx: mlp.forward(net, xx).a[L][0, i]

    J_fd = np.stack([gradcheck.numerical_gradient(output_i(i), x1, h=1e-5)[0] for i in range(net.sizes[L])])
    norm_delta = {l: float(np.linalg.norm(grads.delta[l][0])) for l in range(1, L + 1)}
    factor = {k: float(np.linalg.norm(net.W[k], 2) * np.max(np.abs(gp[k - 1]))) for k in range(2, L + 1)}
    bound = {L: norm_delta[L]}
    for l in range(L - 1, 0, -1):
        bound[l] = bound[l + 1] * factor[l + 1]
    return dict(net=net, x1=x1, y1=y1, fwd=fwd, grads=grads, gp=gp, J=J, J_fd=J_fd, dL_daL=dL_daL,
                jac_diff=float(jac_diff), jac_fd_rel=gradcheck.relative_error(J[0], J_fd),
                norm_delta=norm_delta, factor=factor, bound=bound)


def gradcheck_table() -> tuple[list[list[Any]], list[float], int, dict[str, mlp.Network]]:
    X = np.random.default_rng(1).standard_normal((4, 5))
    Y = np.random.default_rng(2).uniform(size=(4, 3))
    labels = np.random.default_rng(3).integers(0, 3, size=4)
    rows, worst, nets = [], [], {}
    net_c = None
    for i, act in enumerate(activations.NAMES):
        for loss_name in losses.NAMES:
            out = act if loss_name == "mse" else "linear"
            net_c = mlp.init_network(GC_SIZES, hidden=act, output=out, bias_std=0.1, rng=10 + i)
            report = gradcheck.check_network(net_c, X, Y if loss_name == "mse" else labels, loss_name)
            rows.append([act, out, loss_name, report.max_rel_error])
            worst.append(report.max_rel_error)
            nets[f"{act}/{loss_name}"] = net_c
    assert net_c is not None
    n_params = sum(net_c.W[l].size + net_c.b[l].size for l in range(1, net_c.L + 1))
    return rows, worst, int(n_params), nets


@functools.lru_cache(maxsize=None)
def _computed() -> dict[str, Any]:
    c = three_layer_chain()
    numeric = gradcheck.numerical_gradient(loss_of, np.array(W3))
    analytic = np.array(c.dL_dw())
    without_g1 = c.dL_daL * c.g_prime[2] * c.w[2] * c.g_prime[1] * c.w[1] * c.a0
    deep = deep_chain()
    lf = np.array(deep.layer_factors)
    jac = jacobian_setup()
    L = jac["net"].L
    rows, worst, n_params, nets = gradcheck_table()
    glue = {
        "ch3_dLdw1": float(c.dL_dw1),
        "ch3_dLdw1_fd": float(numeric[0]),
        "ch3_dLdw1_relerr": float(gradcheck.relative_error(analytic[:1], numeric[:1])),
        "ch3_chain_relerr_all": float(gradcheck.relative_error(analytic, numeric)),
        "ch3_without_g1": float(without_g1),
        "ch3_without_g1_relerr": float(gradcheck.relative_error(np.array([without_g1]), numeric[:1])),
        "ch3_deep_L": L_DEEP,
        "ch3_deep_max_factor": float(lf.max()),
        "ch3_deep_prod": float(np.prod(lf)),
        "ch3_deep_bound": float(0.25 ** (L_DEEP - 1)),
        "ch3_deep_ratio": float(deep.dL_dw()[0] / deep.dL_dw()[-1]),
        "ch3_jac_maxdiff": jac["jac_diff"],
        "ch3_jac_fd_relerr": float(jac["jac_fd_rel"]),
        "ch3_norm_ratio": jac["norm_delta"][1] / jac["norm_delta"][L],
        "ch3_bound_ratio": jac["bound"][1] / jac["bound"][L],
        "ch3_max_layer_factor": max(jac["factor"].values()),
        "ch3_gc_max_relerr": float(max(worst)),
        "ch3_gc_n_checks": len(rows),
        "ch3_gc_n_params": n_params,
    }
    # the exercises at the end of the chapter
    bce, sm, st = ex_bce(), ex_softmax(), ex_step()
    glue.update({
        "ch3_ex_bce_delta_err": bce["delta_err"],
        "ch3_ex_bce_gc": bce["gc"],
        "ch3_ex_sm_formula_err": sm["formula_err"],
        "ch3_ex_sm_rowsum": sm["rowsum"],
        "ch3_ex_sm_db_sum": sm["db_sum"],
        "ch3_ex_sm_db_max": sm["db_max"],
        "ch3_ex_sm_shift": sm["shift"],
        "ch3_ex_h_drop": float(st["errors"][1] / st["errors"][2]),
        "ch3_ex_h_best": float(st["steps"][st["best"]]),
        "ch3_ex_h_err_best": float(st["errors"][st["best"]]),
        "ch3_ex_h_err_smallest": float(st["errors"][-1]),
        "ch3_ex_eps_cbrt": float(np.finfo(float).eps ** (1 / 3)),
    })
    return {"glue": glue, "chain": c, "numeric": numeric, "deep": deep, "jac": jac, "gc_rows": rows, "gc_nets": nets}


@functools.lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    return dict(_computed()["glue"])


# --- helpers written independently of gradlab --------------------------------


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def dsigmoid(z: float) -> float:
    s = sigmoid(z)
    return s * (1.0 - s)


def chain_forward(w: tuple[float, ...], b: tuple[float, ...], x: float) -> tuple[list[float], list[float]]:
    a, z = [x], []
    for wl, bl in zip(w, b):
        z.append(wl * a[-1] + bl)
        a.append(sigmoid(z[-1]))
    return a, z


# --- three layers, one unit each ---------------------------------------------


def test_three_layer_product_written_out_by_hand() -> None:
    """(a3 - y) g'(z3) w3 g'(z2) w2 g'(z1) a0, with the forward pass and g' written out here."""
    (a0, a1, a2, a3), (z1, z2, z3) = chain_forward(W3, B3, X3)
    w1, w2, w3 = W3
    by_hand = (a3 - Y3) * dsigmoid(z3) * w3 * dsigmoid(z2) * w2 * dsigmoid(z1) * a0
    g = expected_glue()
    assert math.isclose(g["ch3_dLdw1"], by_hand, rel_tol=1e-12)
    # every named partial is what ChainFactors reports
    c = _computed()["chain"]
    assert math.isclose(c.dL_daL, a3 - Y3, rel_tol=1e-14)
    assert np.allclose(c.g_prime, [dsigmoid(z1), dsigmoid(z2), dsigmoid(z3)], rtol=1e-13, atol=0)
    assert c.w == W3 and c.a0 == X3
    # the seven-factor product of the page's table, in the table's order
    seven = [c.dL_daL, c.g_prime[2], c.w[2], c.g_prime[1], c.w[1], c.g_prime[0], c.a0]
    assert math.isclose(math.prod(seven), g["ch3_dLdw1"], rel_tol=1e-14)


def test_three_layer_product_matches_finite_differences() -> None:
    g = expected_glue()
    # "the size of rounding in a central difference with h = 1e-6"
    assert g["ch3_dLdw1_relerr"] < 1e-8
    assert g["ch3_chain_relerr_all"] < 1e-8
    assert math.isclose(g["ch3_dLdw1_fd"], g["ch3_dLdw1"], rel_tol=1e-7)
    # an independent central difference, not using gradlab at all
    h = 1e-5

    def loss(w1: float) -> float:
        a, _ = chain_forward((w1,) + W3[1:], B3, X3)
        return 0.5 * (a[-1] - Y3) ** 2

    fd = (loss(W3[0] + h) - loss(W3[0] - h)) / (2 * h)
    assert math.isclose(fd, g["ch3_dLdw1"], rel_tol=1e-7)


def test_dropping_g_prime_of_z1_is_caught() -> None:
    g = expected_glue()
    c = _computed()["chain"]
    # "too large by the factor 1/g'(z1)"
    assert math.isclose(g["ch3_without_g1"], g["ch3_dLdw1"] / c.g_prime[0], rel_tol=1e-12)
    assert abs(g["ch3_without_g1"]) > 4 * abs(g["ch3_dLdw1"])  # sigmoid: g' <= 1/4
    assert g["ch3_without_g1_relerr"] > 1e-2 > GRADCHECK_TOL


def test_the_two_weights_in_the_product_exceed_one() -> None:
    # "the two weights inside the product are larger than one in size"
    assert abs(W3[1]) > 1 and abs(W3[2]) > 1
    assert all(gp < 0.25 for gp in _computed()["chain"].g_prime)


# --- any depth ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_general_product_and_layer_factors(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    L = int(rng.integers(2, 9))
    act = ["sigmoid", "tanh", "softplus"][seed % 3]
    gfun, dg = activations.get(act).g, activations.get(act).dg
    w = rng.normal(0, 1.5, size=L)
    b = rng.normal(0, 0.5, size=L)
    x, y = float(rng.normal()), float(rng.uniform())
    c = chain.scalar_chain(w, b, x=x, y=y, activation=act)
    # forward by hand
    a, z = [x], []
    for l in range(L):
        z.append(w[l] * a[-1] + b[l])
        a.append(float(gfun(z[-1])))
    # eq-ch3-general: dL/da^L g'(z^L) prod_{l=2}^{L} [w^(l) g'(z^(l-1))] a^(0)  (lists are 0-based)
    prod = (a[-1] - y) * float(dg(z[-1]))
    for l in range(2, L + 1):
        prod *= w[l - 1] * float(dg(z[l - 2]))
    prod *= a[0]
    assert math.isclose(c.dL_dw1, prod, rel_tol=1e-11, abs_tol=1e-300)
    # one factor per layer above the first: w^(l) g'(z^(l-1)), l = 2..L
    assert len(c.layer_factors) == L - 1
    for l in range(2, L + 1):
        assert math.isclose(c.layer_factors[l - 2], w[l - 1] * float(dg(z[l - 2])), rel_tol=1e-12)
    # and every dL/dw^(l) against central differences
    numeric = gradcheck.numerical_gradient(lambda wv: chain.scalar_chain(wv, b, x=x, y=y, activation=act).loss, w)
    assert gradcheck.relative_error(np.array(c.dL_dw()), numeric) < 1e-6


def test_deep_chain_shrinks_by_at_most_a_quarter_per_layer() -> None:
    g = expected_glue()
    deep = _computed()["deep"]
    lf = np.array(deep.layer_factors)
    assert g["ch3_deep_L"] == deep.L == 10 and lf.size == 9
    assert np.all(lf > 0) and np.all(lf <= 0.25)
    assert g["ch3_deep_max_factor"] <= 0.25
    # the product of the factors is delta^(1)/delta^(10), below (1/4)^9
    delta = deep_deltas(deep)
    assert math.isclose(g["ch3_deep_prod"], delta[0] / delta[-1], rel_tol=1e-12)
    assert g["ch3_deep_prod"] < g["ch3_deep_bound"] == 0.25**9
    # dL/dw^(l) = delta^(l) a^(l-1) (the page's assert), and the ratio it quotes
    np.testing.assert_allclose(delta * np.array(deep.a[:-1]), deep.dL_dw(), rtol=1e-12)
    assert math.isclose(g["ch3_deep_ratio"], deep.dL_dw()[0] / deep.dL_dw()[-1], rel_tol=1e-15)
    assert g["ch3_deep_ratio"] < 1e-5
    # the figure: both gradients fall monotonically from layer 10 down to layer 1
    assert np.all(np.diff(np.abs(delta)) > 0)
    assert np.all(np.diff(np.abs(deep.dL_dw())) > 0)
    # the alt text: "a roughly constant factor of about four to five per layer"
    assert np.all((1 / lf[1:] > 4) & (1 / lf[1:] < 5))


# --- full layers -------------------------------------------------------------


def backward_by_loops(net: mlp.Network, fwd: mlp.Forward, dL_daL: np.ndarray) -> tuple[dict, dict, dict]:
    """The component formulas of the page, one example at a time, summed over the batch."""
    L, B = net.L, dL_daL.shape[0]
    delta = {l: np.zeros((B, net.sizes[l])) for l in range(1, L + 1)}
    for i in range(B):
        for j in range(net.sizes[L]):
            delta[L][i, j] = dL_daL[i, j] * float(net.g(L).dg(fwd.z[L][i, j]))
        for l in range(L - 1, 0, -1):
            for k in range(net.sizes[l]):
                s = sum(net.W[l + 1][j, k] * delta[l + 1][i, j] for j in range(net.sizes[l + 1]))
                delta[l][i, k] = s * float(net.g(l).dg(fwd.z[l][i, k]))
    dW = {l: np.zeros_like(net.W[l]) for l in range(1, L + 1)}
    db = {l: np.zeros_like(net.b[l]) for l in range(1, L + 1)}
    for l in range(1, L + 1):
        for i in range(B):
            for j in range(net.sizes[l]):
                db[l][j] += delta[l][i, j]
                for k in range(net.sizes[l - 1]):
                    dW[l][j, k] += delta[l][i, j] * fwd.a[l - 1][i, k]
    return delta, dW, db


@pytest.mark.parametrize("hidden,output", [("sigmoid", "sigmoid"), ("tanh", "linear"), ("relu", "softplus")])
def test_backward_is_the_component_formulas(hidden: str, output: str) -> None:
    net = mlp.init_network([3, 5, 4, 2], hidden=hidden, output=output, bias_std=0.2, rng=21)
    X = np.random.default_rng(22).standard_normal((3, 3))
    Y = np.random.default_rng(23).uniform(size=(3, 2))
    _, fwd, grads = mlp.loss_and_gradients(net, X, Y, "mse")
    delta, dW, db = backward_by_loops(net, fwd, losses.dmse(fwd.a[net.L], Y))
    for l in range(1, net.L + 1):
        np.testing.assert_allclose(grads.delta[l], delta[l], rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(grads.dW[l], dW[l], rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(grads.db[l], db[l], rtol=1e-12, atol=1e-16)


def test_mse_gradient_carries_one_over_B() -> None:
    # "the 1/B is already inside dL/da^(L)"
    a = np.random.default_rng(0).normal(size=(4, 2))
    y = np.zeros((4, 2))
    np.testing.assert_allclose(losses.dmse(a, y), a / 4)


def test_page_quotes_backward_lines_that_exist() -> None:
    text = PAGE.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("| Equation | Line in `backward` |")
    quoted = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        quoted += re.findall(r"`([^`]+)`", line.split(" | ")[-1])
    assert len(quoted) == 4
    source = inspect.getsource(mlp.backward)
    for q in quoted:
        assert q in source, q
    # the listing is a literalinclude of the real function, and the file is where the page says
    # (only option lines between the fence and :pyobject:, so another literalinclude never matches)
    m = re.search(r"```\{literalinclude\} (\S+)\n(?::.*\n)*?:pyobject: backward\n", text)
    assert m is not None
    assert (PAGE.parent / m.group(1)).resolve() == Path(inspect.getsourcefile(mlp)).resolve()


# --- Jacobians ---------------------------------------------------------------


def test_jacobian_product_reproduces_backward_delta() -> None:
    g = expected_glue()
    assert g["ch3_jac_maxdiff"] < 1e-12
    assert g["ch3_jac_fd_relerr"] < 1e-6
    jac = _computed()["jac"]
    # the Jacobian of each single layer is diag(g'(z^(k))) W^(k): compare d a^(L)/d a^(L-1)
    net = jac["net"]
    L = net.L
    np.testing.assert_allclose(jac["J"][L - 1], np.diag(jac["gp"][L]) @ net.W[L], rtol=1e-14)
    assert jac["J"][0].shape == (net.sizes[L], net.sizes[0])


@pytest.mark.parametrize(
    "hidden,output,gain",
    [("tanh", "sigmoid", 1.0), ("relu", "linear", 2.0), ("gelu", "tanh", 3.0), ("sigmoid", "linear", 4.0)],
)
def test_jacobian_product_and_bound_other_networks(hidden: str, output: str, gain: float) -> None:
    jac = jacobian_setup([3, 5, 5, 5, 2], hidden=hidden, output=output, rng=31, x_seed=32, y_seed=33, gain=gain)
    assert jac["jac_diff"] <= 1e-12 * max(1.0, max(jac["norm_delta"].values()))
    assert jac["jac_fd_rel"] < 1e-6
    for l, n in jac["norm_delta"].items():
        assert n <= jac["bound"][l] * (1 + 1e-12)


def test_norm_bound_on_the_page_network() -> None:
    g = expected_glue()
    jac = _computed()["jac"]
    for l, n in jac["norm_delta"].items():
        assert n <= jac["bound"][l] * (1 + 1e-12)
    # "every layer factor is below one"; the glued ratios are consistent
    assert g["ch3_max_layer_factor"] < 1
    assert g["ch3_norm_ratio"] <= g["ch3_bound_ratio"] < 1
    assert math.isclose(g["ch3_bound_ratio"], math.prod(jac["factor"].values()), rel_tol=1e-12)
    # the sigmoid's slope is at most 1/4, so each factor is at most ||W||_2 / 4
    net = jac["net"]
    for k, f in jac["factor"].items():
        assert f <= np.linalg.norm(net.W[k], 2) / 4 * (1 + 1e-12)


# --- whole-network gradient check ---------------------------------------------


def test_gradient_check_table() -> None:
    g = expected_glue()
    assert g["ch3_gc_n_checks"] == len(activations.NAMES) * len(losses.NAMES) == 16
    assert g["ch3_gc_n_params"] == (5 * 4 + 4) + (4 * 4 + 4) + (4 * 3 + 3) == 59
    assert g["ch3_gc_max_relerr"] < GRADCHECK_TOL
    rows = _computed()["gc_rows"]
    assert all(r[3] < GRADCHECK_TOL for r in rows)
    # every check is a real one: no network whose gradients are all zero
    assert all(r[3] > 0 for r in rows)


def test_no_preactivation_near_a_kink() -> None:
    """The page: no pre-activation comes within a step h of 0, where ReLU-type slopes jump."""
    X = np.random.default_rng(1).standard_normal((4, 5))
    for net in _computed()["gc_nets"].values():
        fwd = mlp.forward(net, X)
        closest = min(float(np.min(np.abs(fwd.z[l]))) for l in range(1, net.L + 1))
        # a step h = 1e-6 in one parameter moves z by at most h * max(|a|, 1) downstream of it
        assert closest > 1e-4


def test_gradient_check_fails_on_a_wrong_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    """The threshold separates: a backward that drops g'(z^(1)) fails it by orders of magnitude."""
    real = mlp.loss_and_gradients

    def broken(net: mlp.Network, x: Any, y: Any, loss: Any = "mse") -> Any:
        value, fwd, grads = real(net, x, y, loss)
        d1 = grads.delta[1] / net.g(1).dg(fwd.z[1])  # undo the layer-1 slope
        grads.dW[1] = d1.T @ fwd.a[0]
        return value, fwd, grads

    monkeypatch.setattr(gradcheck, "loss_and_gradients", broken)
    net = mlp.init_network(GC_SIZES, hidden="sigmoid", output="sigmoid", bias_std=0.1, rng=10)
    X = np.random.default_rng(1).standard_normal((4, 5))
    Y = np.random.default_rng(2).uniform(size=(4, 3))
    report = gradcheck.check_network(net, X, Y, "mse")
    assert not report.passed(GRADCHECK_TOL)
    assert report.max_rel_error > 1e-2


# --- exercises ------------------------------------------------------------------


def _ex_batch() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The page's X, Y and labels of the whole-network gradient check."""
    X = np.random.default_rng(1).standard_normal((4, 5))
    Y = np.random.default_rng(2).uniform(size=(4, 3))
    labels = np.random.default_rng(3).integers(0, 3, size=4)
    return X, Y, labels


def bce_value(a: np.ndarray, y: np.ndarray) -> float:
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log1p(-a)) / a.shape[0])


def bce_grad(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (a - y) / (a * (1 - a)) / a.shape[0]


BCE = losses.Loss("binary_cross_entropy", bce_value, bce_grad)


@functools.lru_cache(maxsize=None)
def ex_bce() -> dict[str, Any]:
    """Exercise ex-ch3-bce: sigmoid output + binary cross-entropy gives delta^(L) = (a - y)/B."""
    X, Y, _ = _ex_batch()
    net = mlp.init_network(GC_SIZES, hidden="sigmoid", output="sigmoid", bias_std=0.1, rng=20)
    _, fwd, grads = mlp.loss_and_gradients(net, X, Y, BCE)
    L = net.L
    return {
        "delta_err": float(np.max(np.abs(grads.delta[L] - (fwd.a[L] - Y) / X.shape[0]))),
        "gc": float(gradcheck.check_network(net, X, Y, BCE).max_rel_error),
        "net": net, "fwd": fwd, "grads": grads,
    }


@functools.lru_cache(maxsize=None)
def ex_softmax() -> dict[str, Any]:
    """Exercise ex-ch3-softmax: delta^(L) = (p - y)/B, rows summing to zero."""
    X, _, labels = _ex_batch()
    net = mlp.init_network(GC_SIZES, hidden="tanh", output="linear", bias_std=0.1, rng=21)
    loss, fwd, grads = mlp.loss_and_gradients(net, X, labels, "softmax_cross_entropy")
    L = net.L
    zL = fwd.z[L]
    p = np.exp(zL - zL.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    by_hand = (p - losses.one_hot(labels, 3)) / X.shape[0]
    shifted = net.copy()
    shifted.b[L] += 5.0
    loss_shifted = mlp.loss_and_gradients(shifted, X, labels, "softmax_cross_entropy")[0]
    return {
        "formula_err": float(np.max(np.abs(grads.delta[L] - by_hand))),
        "rowsum": float(np.max(np.abs(grads.delta[L].sum(axis=1)))),
        "db_sum": float(abs(grads.db[L].sum())),
        "db_max": float(np.max(np.abs(grads.db[L]))),
        "shift": float(abs(loss_shifted - loss)),
    }


@functools.lru_cache(maxsize=None)
def ex_step() -> dict[str, Any]:
    """Exercise ex-ch3-step: relative error of the central difference against the step h."""
    c = three_layer_chain()
    analytic = np.array(c.dL_dw())
    steps = [10.0**-k for k in range(1, 11)]
    errors = [gradcheck.relative_error(analytic, gradcheck.numerical_gradient(loss_of, np.array(W3), h=h))
              for h in steps]
    return {"steps": steps, "errors": errors, "best": int(np.argmin(errors))}


def test_ex_bce_output_error_is_a_minus_y_over_B() -> None:
    bce = ex_bce()
    # sigma'(z^(L)) cancels: backward's product equals (a - y)/B to rounding (entries ~0.1)
    assert bce["delta_err"] < 1e-15
    assert bce["gc"] < GRADCHECK_TOL  # "below the chapter's threshold"
    # the derivative of the loss itself, by central differences in a, not through gradlab's backward
    X, Y, _ = _ex_batch()
    a = bce["fwd"].a[bce["net"].L]
    numeric = gradcheck.numerical_gradient(lambda aa: bce_value(aa, Y), a, h=1e-7)
    np.testing.assert_allclose(numeric, bce_grad(a, Y), rtol=1e-6)


def test_ex_bce_keeps_the_gradient_of_a_saturated_wrong_output() -> None:
    # "an output unit stuck near 0 or 1 with the wrong target passes back almost nothing" under
    # MSE, but the full error under cross-entropy: one unit at z = 8 with target 0.
    z, y = np.array([[8.0]]), np.array([[0.0]])
    a = activations.sigmoid(z)
    sig = activations.get("sigmoid")
    delta_mse = losses.dmse(a, y) * sig.dg(z)
    delta_bce = bce_grad(a, y) * sig.dg(z)
    assert float(delta_bce[0, 0]) == pytest.approx(float(a[0, 0] - y[0, 0]), rel=1e-12)
    assert float(delta_mse[0, 0]) / float(delta_bce[0, 0]) == pytest.approx(float(sig.dg(8.0)), rel=1e-12)
    assert float(sig.dg(8.0)) < 1e-3


def test_ex_softmax_output_error_and_its_zero_sum() -> None:
    sm = ex_softmax()
    assert sm["formula_err"] < 1e-16 * 10  # equal to rounding
    assert sm["rowsum"] < 1e-15  # rows of (p - y)/B sum to (1 - 1)/B = 0
    assert sm["db_sum"] < 1e-15 < 0.1 < sm["db_max"]  # zero sum, although the entries are not small
    assert sm["shift"] < 1e-14  # the loss ignores a common shift of the output biases


def test_ex_step_error_follows_h_squared_then_rounding() -> None:
    st = ex_step()
    g = expected_glue()
    errors, steps = st["errors"], st["steps"]
    # truncation h^2 f'''/6: a hundredfold per decade while it dominates (within 5 %)
    assert g["ch3_ex_h_drop"] == pytest.approx(100, rel=0.05)
    assert errors[2] / errors[3] == pytest.approx(100, rel=0.05)
    # the optimum on the grid is h = 1e-5, within a factor 10 of eps^(1/3) ~ 6e-6
    assert g["ch3_ex_h_best"] == 1e-5
    assert g["ch3_ex_eps_cbrt"] / 10 < g["ch3_ex_h_best"] < 10 * g["ch3_ex_eps_cbrt"]
    # below it rounding (eps/h) takes over: the error rises again, roughly tenfold per decade
    assert all(b > a for a, b in zip(errors[st["best"]:], errors[st["best"] + 1:]))
    assert g["ch3_ex_h_err_smallest"] > 1e3 * g["ch3_ex_h_err_best"]
    # "the book's h = 1e-6 sits just on the rounding side ..., still far below 1e-6"
    i6 = steps.index(1e-6)
    assert i6 == st["best"] + 1 and errors[i6] < 1e-3 * GRADCHECK_TOL
