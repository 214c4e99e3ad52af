"""Tests for gradlab.residual: forward against hand-written maths, backward against central
differences for every norm placement, the identity at alpha = 0 and under Fixup, the growth law
(1 + alpha^2 c)^L of linear branches, initial variances, and argument errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import activations, gradcheck, optim
from gradlab import residual as R

BRANCHES = (1, 2)


def _ln(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Layer norm written out, independently of gradlab.normalization."""
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def randomised(net: R.ResidualNetwork, seed: int, *, alpha: float = 0.7) -> R.ResidualNetwork:
    """``net`` with nonzero biases, gains and shifts, so every parameter's gradient is exercised."""
    rng = np.random.default_rng(seed)
    out = net.copy()
    for l in range(1, net.L + 1):
        for k in range(1, net.m + 1):
            out.b[l][k] = 0.3 * rng.standard_normal(net.n)
        if net.norm != "none":
            out.gamma[l] = 1.0 + 0.3 * rng.standard_normal(net.n)
            out.beta[l] = 0.3 * rng.standard_normal(net.n)
    out.alpha = alpha
    return out


# --------------------------------------------------------------------------- forward


@pytest.mark.parametrize("m", BRANCHES)
@pytest.mark.parametrize("norm", R.NORMS)
def test_forward_is_the_block_formula(norm: str, m: int) -> None:
    net = randomised(R.init_residual(5, 3, branch_layers=m, activation="tanh", norm=norm, rng=0), 1)
    x = np.random.default_rng(2).standard_normal((4, 5))
    fwd = R.residual_forward(net, x)
    assert sorted(fwd.a) == [0, 1, 2, 3] and sorted(fwd.f) == [1, 2, 3]
    assert_array_equal(fwd.a[0], x)
    a = x
    for l in range(1, 4):
        u = _ln(a, net.gamma[l], net.beta[l]) if norm == "pre" else a
        if m == 2:
            F = np.tanh(u @ net.W[l][1].T + net.b[l][1]) @ net.W[l][2].T + net.b[l][2]
        else:
            F = np.tanh(u) @ net.W[l][1].T + net.b[l][1]
        s = a + 0.7 * F
        a = _ln(s, net.gamma[l], net.beta[l]) if norm == "post" else s
        assert_allclose(fwd.u[l], u, rtol=1e-13, atol=1e-14)
        assert_allclose(fwd.f[l], F, rtol=1e-13, atol=1e-14)
        assert_allclose(fwd.a[l], a, rtol=1e-13, atol=1e-14)
        assert fwd.h[l].shape == fwd.z[l].shape == (4, 5)
    assert (sorted(fwd.s) == [1, 2, 3]) == (norm == "post")
    assert (sorted(fwd.ln) == [1, 2, 3]) == (norm != "none")


def test_post_norm_standardises_every_example() -> None:
    net = R.init_residual(16, 4, activation="relu", norm="post", rng=3)
    x = 5.0 + 3.0 * np.random.default_rng(4).standard_normal((6, 16))
    fwd = R.residual_forward(net, x)
    for l in range(1, 5):  # gamma = 1, beta = 0: each row has mean 0 and variance var/(var + eps)
        assert_allclose(fwd.a[l].mean(axis=1), 0.0, atol=1e-14)
        assert_allclose(fwd.a[l].var(axis=1), 1.0, rtol=1e-4)


# --------------------------------------------------------------------------- backward vs central differences


def _loss(a_L: np.ndarray, target: np.ndarray) -> float:
    return float(np.sum(target * a_L) + 0.5 * np.sum(a_L**2))


GC_CASES = [(norm, m, act) for norm in R.NORMS for m in BRANCHES for act in ("tanh", "silu")]


@pytest.mark.parametrize(("norm", "m", "act"), GC_CASES, ids=[f"{c[0]}-m{c[1]}-{c[2]}" for c in GC_CASES])
def test_backward_matches_central_differences(norm: str, m: int, act: str) -> None:
    # Every W, b, gamma, beta, alpha and the input itself; float64, h = 1e-6.
    net = randomised(R.init_residual(4, 3, branch_layers=m, activation=act, norm=norm, rng=5), 6)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    target = rng.standard_normal((3, 4))
    fwd = R.residual_forward(net, x)
    a_L = fwd.a[net.L]
    grads = R.residual_backward(net, fwd, target + a_L)

    def value() -> float:
        return _loss(R.residual_forward(net, x).a[net.L], target)

    errors = []

    def check(analytic: Any, store: dict[Any, Any], key: Any) -> None:
        original = store[key]

        def f(theta: np.ndarray) -> float:
            store[key] = theta
            return value()

        numeric = gradcheck.numerical_gradient(f, original)
        store[key] = original
        errors.append(gradcheck.relative_error(analytic, numeric))

    for l in range(1, net.L + 1):
        for k in range(1, m + 1):
            check(grads.dW[l][k], net.W[l], k)
            check(grads.db[l][k], net.b[l], k)
        if norm != "none":
            check(grads.dgamma[l], net.gamma, l)
            check(grads.dbeta[l], net.beta, l)
    holder = {"alpha": np.array(net.alpha)}

    def f_alpha(t: np.ndarray) -> float:
        net.alpha = float(t)
        return value()

    numeric_alpha = gradcheck.numerical_gradient(f_alpha, holder["alpha"])
    net.alpha = 0.7
    errors.append(gradcheck.relative_error(np.array(grads.dalpha), numeric_alpha))
    numeric_x = gradcheck.numerical_gradient(lambda xx: _loss(R.residual_forward(net, xx).a[net.L], target), x)
    errors.append(gradcheck.relative_error(grads.delta[0], numeric_x))
    assert max(errors) <= 1e-7, (norm, m, act, max(errors))
    assert len(errors) == 3 * 2 * m + (6 if norm != "none" else 0) + 2


def test_a_wrong_backward_fails_the_check() -> None:
    # The check can fail: a backward pass that scales the branch term by 1 instead of alpha = 0.7
    # (as if alpha were forgotten) misses the central differences by far more than 1e-7.
    net = randomised(R.init_residual(4, 2, activation="tanh", rng=5), 6)
    x = np.random.default_rng(7).standard_normal((3, 4))
    fwd = R.residual_forward(net, x)
    right = R.residual_backward(net, fwd, fwd.a[2])
    forgot = net.copy()
    forgot.alpha = 1.0
    wrong = R.residual_backward(forgot, fwd, fwd.a[2])
    numeric = gradcheck.numerical_gradient(lambda xx: 0.5 * float(np.sum(R.residual_forward(net, xx).a[2] ** 2)), x)
    assert gradcheck.relative_error(right.delta[0], numeric) < 1e-8
    assert gradcheck.relative_error(wrong.delta[0], numeric) > 1e-2


def test_dalpha_is_the_sum_of_the_block_terms_and_each_is_a_rezero_gradient() -> None:
    net = randomised(R.init_residual(4, 3, activation="tanh", norm="pre", rng=8), 9, alpha=0.4)
    x = np.random.default_rng(10).standard_normal((2, 4))
    fwd = R.residual_forward(net, x)
    g = R.residual_backward(net, fwd, np.ones((2, 4)))
    assert g.dalpha == pytest.approx(sum(g.dalpha_block.values()), rel=1e-15)
    # per-block alpha_l: perturb the branch of block 2 alone (scaling its last layer scales F^(2))
    h = 1e-6
    vals = []
    for sign in (1, -1):
        pert = net.copy()
        scale = 1 + sign * h / net.alpha
        pert.W[2][2] = pert.W[2][2] * scale
        pert.b[2][2] = pert.b[2][2] * scale
        vals.append(float(np.sum(R.residual_forward(pert, x).a[3])))
    assert g.dalpha_block[2] == pytest.approx((vals[0] - vals[1]) / (2 * h), rel=1e-7)


# --------------------------------------------------------------------------- identity at alpha = 0, Fixup


@pytest.mark.parametrize("m", BRANCHES)
@pytest.mark.parametrize("norm", ["none", "pre"])
def test_alpha_zero_is_the_identity_forward_and_backward(norm: str, m: int) -> None:
    for init in ("rezero", "skipinit"):
        net = randomised(R.init_residual(6, 5, branch_layers=m, activation="sigmoid", norm=norm, init=init, rng=1), 2,
                         alpha=0.0)
        assert net.alpha == 0.0
        x = np.random.default_rng(3).standard_normal((4, 6))
        fwd = R.residual_forward(net, x)
        dL = np.random.default_rng(4).standard_normal((4, 6))
        g = R.residual_backward(net, fwd, dL)
        for l in range(6):
            assert_array_equal(fwd.a[l], x)  # exactly: x + 0 * F = x
            assert_array_equal(g.delta[l], dL)  # delta passes unchanged through every block
        for l in range(1, 6):
            for k in range(1, m + 1):
                assert not np.any(g.dW[l][k]) and not np.any(g.db[l][k])
        assert g.dalpha != 0.0  # but alpha itself gets a gradient: ReZero can learn it
        assert g.dalpha == pytest.approx(sum(float(np.sum(dL * fwd.f[l])) for l in range(1, 6)), rel=1e-12)


def test_alpha_zero_with_post_norm_is_not_the_identity() -> None:
    net = R.init_residual(6, 2, norm="post", init="rezero", rng=1)
    x = 2.0 + np.random.default_rng(3).standard_normal((4, 6))
    fwd = R.residual_forward(net, x)
    assert_allclose(fwd.a[1], _ln(x, np.ones(6), np.zeros(6)), rtol=1e-13, atol=1e-14)
    assert not np.allclose(fwd.a[1], x)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("m", BRANCHES)
def test_fixup_starts_as_the_identity(m: int, act: str) -> None:
    L = 9
    net = R.init_residual(8, L, branch_layers=m, activation=act, init="fixup", rng=11)
    std = R.init_residual(8, L, branch_layers=m, activation=act, init="standard", rng=11)
    assert net.alpha == 1.0
    for l in range(1, L + 1):
        assert not np.any(net.W[l][m]) and not np.any(net.b[l][m])  # the last branch layer is zero
        if m == 2:  # the other layer: the standard draw times L^(-1/(2m - 2)) = L^(-1/2)
            assert_allclose(net.W[l][1], std.W[l][1] / 3.0, rtol=1e-15)
    x = np.random.default_rng(12).standard_normal((5, 8))
    fwd = R.residual_forward(net, x)
    assert_array_equal(fwd.a[L], x)
    g = R.residual_backward(net, fwd, x)
    # at initialisation only the zeroed last layers get a gradient (the rest sits behind them)
    for l in range(1, L + 1):
        assert np.any(g.dW[l][m])
        if m == 2:
            assert not np.any(g.dW[l][1])


# --------------------------------------------------------------------------- growth law and variances


@pytest.mark.parametrize(("m", "alpha"), [(1, 0.3), (1, 1.0), (2, 0.5)])
def test_linear_branches_grow_like_one_plus_alpha_squared_c_to_the_L(m: int, alpha: float) -> None:
    # g linear, no norm: a^(l) = (I + alpha W_m ... W_1) a^(l-1), and with Var W^(l,k) = 1/n
    # (LeCun, the standard init of a linear g) E||a^(l)||^2 = (1 + alpha^2 c) E||a^(l-1)||^2 with
    # c = prod_k n Var W^(l,k) = 1, exactly at any width. Monte Carlo over 300 seeded networks,
    # inputs the n unit vectors (so ||a^(L)||^2 summed over the batch is ||product||_F^2).
    n, L, nets = 16, 12, 300
    x = np.eye(n)
    ratios = np.empty(nets)
    for i in range(nets):
        net = R.init_residual(n, L, branch_layers=m, activation="linear", init="standard", alpha=alpha, rng=1000 + i)
        ratios[i] = np.sum(R.residual_forward(net, x).a[L] ** 2) / n
    theory = (1 + alpha**2) ** L
    se = ratios.std(ddof=1) / math.sqrt(nets)
    assert abs(ratios.mean() - theory) < 4 * se, (ratios.mean(), theory, se)
    # the plain deep linear net's law, c^L = 1, or an alpha-linear one, (1 + alpha)^(2L), are far off
    assert abs(ratios.mean() - 1.0) > 10 * se and abs(ratios.mean() - (1 + alpha) ** (2 * L)) > 10 * se


def test_standard_init_is_he_after_a_rectifier_and_lecun_otherwise() -> None:
    n = 400
    for act, last in (("relu", 2.0), ("silu", 2.0), (activations.elu_with(0.5), 2.0), ("tanh", 1.0), ("selu", 1.0)):
        net = R.init_residual(n, 1, activation=act, rng=0)
        assert n * net.W[1][1].var() == pytest.approx(1.0, rel=0.02)  # reads the stream: LeCun
        assert n * net.W[1][2].var() == pytest.approx(last, rel=0.02), act  # reads g(z)
        one = R.init_residual(n, 1, branch_layers=1, activation=act, rng=0)
        assert n * one.W[1][1].var() == pytest.approx(last, rel=0.02), act
    assert R.init_residual(4, 2, rng=0).alpha == 1.0 and R.init_residual(4, 2, init="rezero", rng=0).alpha == 0.0


def test_seed_fixes_the_network_and_copy_is_deep() -> None:
    a = R.init_residual(5, 3, norm="pre", rng=4)
    b = R.init_residual(5, 3, norm="pre", rng=4)
    for l in range(1, 4):
        for k in (1, 2):
            assert_array_equal(a.W[l][k], b.W[l][k])
        assert_array_equal(a.gamma[l], np.ones(5)) and assert_array_equal(a.beta[l], np.zeros(5))
    c = a.copy()
    c.W[1][1][0, 0] += 1.0
    c.gamma[1][0] = 7.0
    assert a.W[1][1][0, 0] != c.W[1][1][0, 0] and a.gamma[1][0] == 1.0
    assert (a.L, a.m, a.n) == (3, 2, 5)


# --------------------------------------------------------------------------- argument errors

INIT_ERRORS: list[tuple[tuple[Any, ...], dict[str, Any], type[Exception], str]] = [
    ((0, 3), {}, ValueError, r"n must be >= 1, got 0"),
    (("4", 3), {}, TypeError, r"n must be an integer, got str"),
    ((4, 0), {}, ValueError, r"L must be >= 1, got 0"),
    ((4, 2.5), {}, TypeError, r"L must be an integer, got float"),
    ((4, 3), {"branch_layers": 3}, ValueError, r"branch_layers must be 1 or 2, got 3"),
    ((4, 3), {"alpha": float("nan")}, ValueError, r"alpha must be finite, got nan"),
    ((4, 3), {"alpha": "1"}, TypeError, r"alpha must be a real number, got str"),
    ((4, 3), {"alpha": True}, TypeError, r"alpha must be a real number, got bool"),
    ((4, 3), {"norm": "mid"}, ValueError, r"unknown norm 'mid'; expected one of: none, pre, post"),
    ((4, 3), {"init": "kaiming"}, ValueError,
     r"unknown init 'kaiming'; expected one of: standard, rezero, skipinit, fixup"),
    ((4, 3), {"activation": "swish"}, ValueError, r"unknown activation 'swish'"),
    ((4, 3), {"init": "rezero", "alpha": 0.5}, ValueError, r"alpha must be 0 for init='rezero'"),
    ((1, 3), {"norm": "pre"}, ValueError, r"n must be >= 2 with layer norm"),
    ((4, 3), {"rng": "seed"}, TypeError, r"rng must be a numpy.random.Generator or an integer seed"),
]


@pytest.mark.parametrize(("args", "kwargs", "exc", "match"), INIT_ERRORS, ids=[e[3][:24] for e in INIT_ERRORS])
def test_init_residual_errors_name_the_argument(args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception],
                                                match: str) -> None:
    kwargs = {"rng": 0} | kwargs
    with pytest.raises(exc, match=match):
        R.init_residual(*args, **kwargs)


@pytest.mark.parametrize("norm", R.NORMS)
def test_parameters_are_the_networks_own_arrays_and_optim_trains_them(norm: str) -> None:
    net = randomised(R.init_residual(4, 2, branch_layers=2, activation="tanh", norm=norm, rng=0), 1)
    params = R.parameters(net)
    ln = ["gamma1", "gamma2", "beta1", "beta2"] if norm != "none" else []
    assert list(params) == ["W1.1", "W1.2", "W2.1", "W2.2", "b1.1", "b1.2", "b2.1", "b2.2", *ln]
    assert params["W2.1"] is net.W[2][1] and params["b1.2"] is net.b[1][2]
    x, target = np.random.default_rng(2).standard_normal((3, 4)), np.random.default_rng(3).standard_normal((3, 4))
    loss = lambda: 0.5 * float(np.sum((R.residual_forward(net, x).a[2] - target) ** 2))  # noqa: E731
    before = loss()
    grads = R.residual_backward(net, R.residual_forward(net, x), R.residual_forward(net, x).a[2] - target)
    named = grads.as_dict()
    assert list(named) == list(params) and named["W1.2"] is grads.dW[1][2]
    old = {k: v.copy() for k, v in params.items()}
    optim.apply(params, optim.SGD().step(named, optim.SGD().init(params), 0.01)[0])
    for k in params:
        assert_allclose(params[k], old[k] - 0.01 * named[k], rtol=0, atol=1e-15)
    assert_array_equal(net.W[2][1], params["W2.1"])  # the step went into net itself
    assert loss() < before
    with pytest.raises(TypeError, match=r"net must be a gradlab\.residual\.ResidualNetwork, got dict"):
        R.parameters({})  # type: ignore[arg-type]


def test_forward_and_backward_errors_name_the_argument() -> None:
    net = R.init_residual(4, 2, rng=0)
    with pytest.raises(ValueError, match=r"x must have shape \(B, n\) = \(B, 4\), got \(3, 5\)"):
        R.residual_forward(net, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"x must be 2-dimensional, got shape \(4,\)"):
        R.residual_forward(net, np.zeros(4))
    with pytest.raises(ValueError, match=r"x must be finite"):
        R.residual_forward(net, np.full((2, 4), np.nan))
    with pytest.raises(TypeError, match=r"net must be a gradlab\.residual\.ResidualNetwork, got dict"):
        R.residual_forward({}, np.zeros((2, 4)))  # type: ignore[arg-type]
    fwd = R.residual_forward(net, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"dL_daL must have the output's shape \(2, 4\), got \(2, 3\)"):
        R.residual_backward(net, fwd, np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"fwd must be the ResidualForward returned by"):
        R.residual_backward(net, {}, np.zeros((2, 4)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"fwd has blocks \[1, 2\], but net has blocks 1..3"):
        R.residual_backward(R.init_residual(4, 3, rng=0), fwd, np.zeros((2, 4)))


def test_network_constructor_errors() -> None:
    W = {1: {1: np.eye(3), 2: np.eye(3)}}
    b = {1: {1: np.zeros(3), 2: np.zeros(3)}}
    with pytest.raises(ValueError, match=r"W\[1\]\[2\] must have shape \(n, n\) = \(3, 3\), got \(3, 2\)"):
        R.ResidualNetwork({1: {1: np.eye(3), 2: np.ones((3, 2))}}, b, "relu")
    with pytest.raises(ValueError, match=r"b must have the same block keys as W"):
        R.ResidualNetwork(W, {2: b[1]}, "relu")
    with pytest.raises(ValueError, match=r"W must have keys 1..L, got \[2\]"):
        R.ResidualNetwork({2: W[1]}, {2: b[1]}, "relu")
    with pytest.raises(ValueError, match=r"branch_layers must be 1 or 2, got 3"):
        R.ResidualNetwork({1: {1: np.eye(3), 2: np.eye(3), 3: np.eye(3)}}, {1: {1: b[1][1], 2: b[1][1], 3: b[1][1]}},
                          "relu")
    with pytest.raises(ValueError, match=r"gamma and beta must be empty for norm='none'"):
        R.ResidualNetwork(W, b, "relu", gamma={1: np.ones(3)})
    with pytest.raises(ValueError, match=r"gamma\[1\] must have shape \(n,\) = \(3,\), got \(2,\)"):
        R.ResidualNetwork(W, b, "relu", norm="pre", gamma={1: np.ones(2)})
    with pytest.raises(ValueError, match=r"eps must be a real number > 0, got 0"):
        R.ResidualNetwork(W, b, "relu", norm="pre", eps=0)


# --------------------------------------------------------------------------- path decomposition


@pytest.mark.parametrize("norm", ("none", "pre"))
@pytest.mark.parametrize("m", BRANCHES)
@pytest.mark.parametrize("act", ("linear", "relu", "tanh"))
def test_path_gradients_sum_to_the_input_gradient(norm: str, m: int, act: str) -> None:
    net = randomised(R.init_residual(6, 5, branch_layers=m, activation=act, norm=norm, rng=0), 1, alpha=0.6)
    x = np.random.default_rng(2).standard_normal((3, 6))
    dL = np.random.default_rng(3).standard_normal((3, 6))
    fwd = R.residual_forward(net, x)
    G = R.path_gradients(net, fwd, dL)
    assert G.shape == (6, 3, 6)
    assert_array_equal(G[0], dL)  # the path through no branch is the identity
    assert_allclose(G.sum(axis=0), R.residual_backward(net, fwd, dL).delta[0], rtol=1e-12, atol=1e-12)


def test_path_gradients_are_the_expanded_product_of_linear_blocks() -> None:
    # L = 3 linear one-layer branches: the terms of (I + aW1^T)(I + aW2^T)(I + aW3^T) collected by power of a
    net = R.init_residual(4, 3, branch_layers=1, activation="linear", alpha=0.5, rng=5)
    d = np.random.default_rng(6).standard_normal((2, 4))
    G = R.path_gradients(net, R.residual_forward(net, np.ones((2, 4))), d)
    W = {l: net.W[l][1] for l in (1, 2, 3)}
    a = 0.5
    # row-vector convention: delta^(l-1) = delta^(l) (I + a W_l), so a path (s1 < s2) is d W_s2 W_s1
    assert_allclose(G[1], a * (d @ W[1] + d @ W[2] + d @ W[3]), rtol=1e-13)
    assert_allclose(G[2], a**2 * (d @ W[2] @ W[1] + d @ W[3] @ W[1] + d @ W[3] @ W[2]), rtol=1e-12)
    assert_allclose(G[3], a**3 * (d @ W[3] @ W[2] @ W[1]), rtol=1e-12)


def test_path_gradients_at_alpha_zero_are_all_length_zero() -> None:
    net = R.init_residual(5, 4, init="rezero", rng=0)
    d = np.random.default_rng(1).standard_normal((2, 5))
    G = R.path_gradients(net, R.residual_forward(net, np.ones((2, 5))), d)
    assert_array_equal(G[0], d)
    assert_array_equal(G[1:], 0.0)


def test_path_gradients_refuse_post_norm_and_foreign_arguments() -> None:
    net = R.init_residual(4, 2, norm="post", rng=0)
    fwd = R.residual_forward(net, np.ones((2, 4)))
    with pytest.raises(ValueError, match="norm"):
        R.path_gradients(net, fwd, np.ones((2, 4)))
    plain = R.init_residual(4, 2, rng=0)
    with pytest.raises(TypeError, match="net"):
        R.path_gradients("net", fwd, np.ones((2, 4)))
    with pytest.raises(TypeError, match="fwd"):
        R.path_gradients(plain, {}, np.ones((2, 4)))
    with pytest.raises(ValueError, match="dL_daL"):
        R.path_gradients(plain, R.residual_forward(plain, np.ones((2, 4))), np.ones((3, 4)))
    with pytest.raises(ValueError, match="blocks"):
        R.path_gradients(R.init_residual(4, 3, rng=0), R.residual_forward(plain, np.ones((2, 4))), np.ones((2, 4)))


@pytest.mark.parametrize("L", (1, 2, 7, 40))
@pytest.mark.parametrize(("alpha", "c"), [(1.0, 1.0), (0.3, 2.0), (-2.0, 0.5)])
def test_path_length_shares_are_binomial(L: int, alpha: float, c: float) -> None:
    pi = R.path_length_shares(L, alpha, c)
    r = alpha**2 * c
    closed = np.array([math.comb(L, k) * r**k for k in range(L + 1)]) / (1 + r) ** L
    assert pi.shape == (L + 1,)
    assert_allclose(pi, closed, rtol=1e-12)
    assert pi.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(np.arange(L + 1) @ pi) == pytest.approx(L * r / (1 + r), rel=1e-12)  # mean path length Lp


def test_path_length_shares_limits() -> None:
    assert_array_equal(R.path_length_shares(5, 0.0), [1, 0, 0, 0, 0, 0])
    assert_array_equal(R.path_length_shares(5, 1.0, 0.0), [1, 0, 0, 0, 0, 0])
    assert_allclose(R.path_length_shares(4, 1.0), np.array([1, 4, 6, 4, 1]) / 16, rtol=1e-13)
    big = R.path_length_shares(5000, 1.0)  # no overflow for large L: Binomial(5000, 1/2)
    assert np.all(np.isfinite(big)) and big.sum() == pytest.approx(1.0, abs=1e-9) and int(np.argmax(big)) == 2500
    # alpha = 1/sqrt(L), c = 1: Binomial(L, 1/(L+1)) tends to Poisson(1), pi_0 -> 1/e
    assert R.path_length_shares(10_000, 0.01)[0] == pytest.approx(math.exp(-1), rel=1e-4)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [((0, 1.0), ValueError, "L"), ((2.5, 1.0), TypeError, "L"), ((3, "a"), TypeError, "alpha"),
     ((3, float("nan")), ValueError, "alpha"), ((3, 1.0, -1.0), ValueError, "c"), ((3, 1e200, 1e200), ValueError, "alpha")],
)
def test_path_length_shares_errors(args: tuple[Any, ...], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        R.path_length_shares(*args)
