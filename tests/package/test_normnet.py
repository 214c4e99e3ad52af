"""Tests for gradlab.normnet: the whole network against central differences (batch norm's
coupling between examples included), inference with running statistics against its formula,
closed-form properties of the normalised backward pass, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradlab import gradcheck, losses, optim
from gradlab.normnet import (
    NormForward,
    NormNetwork,
    init_normnet,
    normnet_backward,
    normnet_forward,
    normnet_update_stats,
    parameters,
)

SIZES = (4, 6, 5, 3)
B = 5
TOL = 1e-7  # relative error of a correct backward pass against central differences in float64


def _net(norm: str, activation: str = "tanh", seed: int = 0) -> NormNetwork:
    """A small network with random (not initial) gamma, beta, b so that every term is exercised."""
    net = init_normnet(SIZES, activation=activation, norm=norm, rng=seed)
    rng = np.random.default_rng(seed + 100)
    for l in net.gamma:
        net.gamma[l] = rng.uniform(0.5, 2.0, net.gamma[l].shape) * rng.choice([-1.0, 1.0], net.gamma[l].shape)
        net.beta[l] = rng.standard_normal(net.beta[l].shape)
    net.b = rng.standard_normal(net.b.shape)
    return net


def _batch(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 1.0 + 2.0 * rng.standard_normal((B, SIZES[0])), rng.integers(0, SIZES[-1], B)


def _loss(net: NormNetwork, x: np.ndarray, y: np.ndarray, mode: str = "train") -> float:
    return losses.softmax_cross_entropy(normnet_forward(net, x, mode=mode).output, y)


def _errors(net: NormNetwork, mode: str = "train") -> dict[str, float]:
    """Relative error of every parameter's and the input's gradient, by central differences.

    Perturbing one entry of x (or of W^(l)) changes the batch statistics, and so every
    example's output: the numerical gradient includes batch norm's coupling between examples.
    """
    x, y = _batch()
    fwd = normnet_forward(net, x, mode=mode)
    grads = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    errs: dict[str, float] = {}

    def perturbed(store: dict, key: object):  # type: ignore[type-arg]
        def f(t: np.ndarray) -> float:
            old = store[key]
            store[key] = t
            try:
                return _loss(net, x, y, mode)
            finally:
                store[key] = old
        return f

    for l in net.W:
        errs[f"W{l}"] = gradcheck.relative_error(grads.dW[l], gradcheck.numerical_gradient(perturbed(net.W, l), net.W[l]))
    for l in net.gamma:
        errs[f"gamma{l}"] = gradcheck.relative_error(
            grads.dgamma[l], gradcheck.numerical_gradient(perturbed(net.gamma, l), net.gamma[l]))
        errs[f"beta{l}"] = gradcheck.relative_error(
            grads.dbeta[l], gradcheck.numerical_gradient(perturbed(net.beta, l), net.beta[l]))
    holder = {"b": net.b}

    def f_b(t: np.ndarray) -> float:
        old, net.b = net.b, t
        try:
            return _loss(net, x, y, mode)
        finally:
            net.b = old
    errs["b"] = gradcheck.relative_error(grads.db, gradcheck.numerical_gradient(f_b, holder["b"]))
    errs["x"] = gradcheck.relative_error(
        grads.da0, gradcheck.numerical_gradient(lambda t: _loss(net, t, y, mode), x))
    return errs


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("norm", ["batch", "layer"])
@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_whole_network_gradient_check(norm: str, activation: str) -> None:
    errs = _errors(_net(norm, activation))
    assert max(errs.values()) <= TOL, errs


def test_gradient_check_batch_norm_inference_mode() -> None:
    net = _net("batch")
    rng = np.random.default_rng(3)
    for l in net.running_mean:
        net.running_mean[l] = rng.standard_normal(net.running_mean[l].shape)
        net.running_var[l] = rng.uniform(0.5, 3.0, net.running_var[l].shape)
    errs = _errors(net, mode="inference")
    assert max(errs.values()) <= TOL, errs


def test_batch_coupling_is_in_the_gradient() -> None:
    """Without the coupling terms (treating the batch statistics as constants) the check fails:
    the test above can tell the two apart."""
    net = _net("batch")
    x, y = _batch()
    fwd = normnet_forward(net, x)
    grads = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    l = 1
    naive = grads.delta_hat[l] * net.gamma[l] * fwd.caches[l].inv_std
    assert gradcheck.relative_error(grads.delta[l], naive) > 1e-2


# --------------------------------------------------------------------------- closed-form properties


@pytest.mark.parametrize("norm, axis", [("batch", 0), ("layer", 1)])
def test_delta_sums_to_zero_along_the_normalised_axis(norm: str, axis: int) -> None:
    """N subtracts a mean along `axis`, so its backward pass returns a delta with zero sum along it."""
    net = _net(norm)
    x, y = _batch()
    fwd = normnet_forward(net, x)
    grads = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    for l in net.gamma:
        scale = np.abs(grads.delta[l]).max()
        assert np.abs(grads.delta[l].sum(axis=axis)).max() <= 1e-13 * scale


def test_batch_norm_annihilates_a_gradient_equal_for_every_example() -> None:
    """Linear g: the loss mean(z^(L) . c) sends the same row to every example of every hidden layer,
    and batch norm's backward pass removes it exactly; the read-out still learns."""
    net = _net("batch", "linear")
    x, _ = _batch()
    fwd = normnet_forward(net, x)
    c = np.array([1.0, -2.0, 0.5])
    grads = normnet_backward(net, fwd, np.tile(c / B, (B, 1)))
    for l in net.gamma:
        assert np.abs(grads.delta[l]).max() < 1e-14
        assert np.abs(grads.dW[l]).max() < 1e-13
    assert np.abs(grads.dW[net.L]).max() > 0.1


def test_hidden_weight_scale_does_not_change_the_output_and_divides_delta() -> None:
    net = _net("batch", "tanh")
    net.eps = 1e-12
    x, y = _batch()
    fwd = normnet_forward(net, x)
    grads = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    big = net.copy()
    big.W[1] = 10.0 * big.W[1]
    fwd2 = normnet_forward(big, x)
    grads2 = normnet_backward(big, fwd2, losses.dsoftmax_cross_entropy(fwd2.output, y))
    assert_allclose(fwd2.output, fwd.output, rtol=1e-10)
    assert_allclose(grads2.delta[1], grads.delta[1] / 10.0, rtol=1e-8, atol=1e-14)
    assert_allclose(grads2.dW[1], grads.dW[1] / 10.0, rtol=1e-8, atol=1e-14)


def test_train_mode_standardises_every_unit_over_the_batch() -> None:
    net = init_normnet((4, 50, 50, 3), activation="relu", norm="batch", init="he_normal", gain=7.0, rng=0)
    x = np.random.default_rng(0).standard_normal((64, 4))
    fwd = normnet_forward(net, x)
    for l in (1, 2):
        assert np.abs(fwd.z_hat[l].mean(axis=0)).max() < 1e-12
        assert_allclose(fwd.z_hat[l].var(axis=0), fwd.z[l].var(axis=0) / (fwd.z[l].var(axis=0) + net.eps), rtol=1e-12)


# --------------------------------------------------------------------------- running statistics and inference


def test_inference_equals_the_train_formula_with_running_statistics() -> None:
    net = _net("batch")
    rng = np.random.default_rng(5)
    for _ in range(3):
        normnet_update_stats(net, normnet_forward(net, rng.standard_normal((8, SIZES[0]))), momentum=0.3)
    x, _ = _batch()
    fwd = normnet_forward(net, x, mode="inference")
    a = x
    for l in range(1, net.L):
        z = a @ net.W[l].T
        z_hat = net.gamma[l] * (z - net.running_mean[l]) / np.sqrt(net.running_var[l] + net.eps) + net.beta[l]
        assert_allclose(fwd.z_hat[l], z_hat, rtol=1e-13, atol=1e-13)
        a = np.tanh(z_hat)
    assert_allclose(fwd.output, a @ net.W[net.L].T + net.b, rtol=1e-13, atol=1e-13)
    # each example on its own: the first row alone gives the same output
    assert_allclose(normnet_forward(net, x[:1], mode="inference").output, fwd.output[:1], rtol=1e-13)


def test_update_with_momentum_one_stores_the_batch_statistics() -> None:
    net = _net("batch")
    x, _ = _batch()
    fwd = normnet_forward(net, x)
    normnet_update_stats(net, fwd, momentum=1.0)
    for l in range(1, net.L):
        assert_allclose(net.running_mean[l], fwd.z[l].mean(axis=0), rtol=1e-12)
        assert_allclose(net.running_var[l], fwd.z[l].var(axis=0, ddof=1), rtol=1e-12)


def test_initial_running_statistics_and_layer_norm_modes_agree() -> None:
    net = _net("batch")
    assert all(np.all(v == 0) for v in net.running_mean.values())
    assert all(np.all(v == 1) for v in net.running_var.values())
    ln = _net("layer")
    assert ln.running_mean == {} and ln.running_var == {}
    x, _ = _batch()
    assert_allclose(normnet_forward(ln, x, mode="inference").output, normnet_forward(ln, x).output, rtol=0, atol=0)


def test_gradient_norms_and_copy() -> None:
    net = _net("layer")
    x, y = _batch()
    fwd = normnet_forward(net, x)
    g = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    assert g.norms["W"].shape == (net.L,) and g.norms["delta"].shape == (net.L,)
    assert g.norms["gamma"].shape == (net.L - 1,) and g.norms["delta_hat"].shape == (net.L - 1,)
    assert_allclose(g.norms["W"][0], np.linalg.norm(g.dW[1]), rtol=1e-14)
    assert_allclose(g.norms["delta_hat"][1], np.linalg.norm(g.delta_hat[2]), rtol=1e-14)
    c = net.copy()
    c.W[1][0, 0] += 1.0
    c.gamma[1][0] += 1.0
    assert c.W[1][0, 0] != net.W[1][0, 0] and c.gamma[1][0] != net.gamma[1][0]


# --------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_parameters_are_the_networks_own_arrays_and_optim_trains_them(norm: str) -> None:
    net, (x, y) = _net(norm), _batch()
    params = parameters(net)
    assert list(params) == ["W1", "W2", "W3", "gamma1", "gamma2", "beta1", "beta2", "b"]
    assert params["W2"] is net.W[2] and params["gamma1"] is net.gamma[1] and params["b"] is net.b
    fwd = normnet_forward(net, x)
    grads = normnet_backward(net, fwd, losses.dsoftmax_cross_entropy(fwd.output, y))
    named = grads.as_dict()
    assert list(named) == list(params) and named["beta2"] is grads.dbeta[2]
    before = {k: v.copy() for k, v in params.items()}
    opt = optim.SGD()
    optim.apply(params, opt.step(named, opt.init(params), 0.1)[0])
    for k, v in params.items():  # the step went into net itself
        assert_allclose(v, before[k] - 0.1 * named[k], rtol=0, atol=1e-15)
    assert _loss(net, x, y) < _loss(_net(norm), x, y)


def _fwd_layer() -> tuple[NormNetwork, NormForward]:
    net = _net("layer")
    return net, normnet_forward(net, _batch()[0])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: init_normnet((4, 3), rng=0), ValueError, "sizes"),
        (lambda: parameters({"W1": np.zeros(2)}), TypeError, "net must be a gradlab.normnet.NormNetwork, got dict"),
        (lambda: init_normnet("abc", rng=0), TypeError, "sizes"),
        (lambda: init_normnet(SIZES, norm="group", rng=0), ValueError, "norm"),
        (lambda: init_normnet(SIZES, activation="swishy", rng=0), ValueError, "activation"),
        (lambda: init_normnet(SIZES, eps=0.0, rng=0), ValueError, "eps"),
        (lambda: init_normnet(SIZES, init="nope", rng=0), ValueError, "initialiser"),
        (lambda: init_normnet((4, 1, 3), norm="layer", rng=0), ValueError, "layer norm"),
        (lambda: normnet_forward(_net("batch"), _batch()[0], mode="eval"), ValueError, "mode"),
        (lambda: normnet_forward(_net("batch"), np.ones((5, 3))), ValueError, "x"),
        (lambda: normnet_forward(_net("batch"), np.ones((1, 4))), ValueError, "x must hold at least 2"),
        (lambda: normnet_forward(_net("batch"), np.full((5, 4), np.nan)), ValueError, "x must be finite"),
        (lambda: normnet_forward("net", np.ones((5, 4))), TypeError, "net"),
        (lambda: normnet_backward(_fwd_layer()[0], _fwd_layer()[1], np.ones((5, 2))), ValueError, "dL_dzL"),
        (lambda: normnet_backward(_net("layer"), {"a": 1}, np.ones((5, 3))), TypeError, "fwd"),
        (lambda: normnet_update_stats(*_fwd_layer()), ValueError, "running statistics"),
        (lambda: normnet_update_stats(_net("batch"), normnet_forward(_net("batch"), _batch()[0], mode="inference")),
         ValueError, "mode='train'"),
        (lambda: normnet_update_stats(_net("batch"), normnet_forward(_net("batch"), _batch()[0]), momentum=1.5),
         ValueError, "momentum"),
    ],
)
def test_bad_input(call, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()
