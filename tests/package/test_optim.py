"""Tests for gradlab.optim: the first steps of every rule against closed forms, momentum with
beta = 0 is SGD, Adam ignores the scale of the loss, every rule descends a convex quadratic,
explicit state, and errors that name the argument."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import mlp, optim, train

CE = "softmax_cross_entropy"


def tanh_net(**kw: Any) -> mlp.Network:
    return mlp.init_network((2, 16, 3), hidden="tanh", output="linear", init="xavier_normal", rng=1, **kw)


def net_grads(seed: int, scale: float = 1.0, dtype: Any = np.float64) -> mlp.Gradients:
    """The gradient of scale * L for a minibatch drawn with ``seed`` (the network is fixed)."""
    x = np.random.default_rng(seed).standard_normal((6, 2))
    g = mlp.loss_and_gradients(tanh_net(dtype=dtype), x, [0, 1, 2, 0, 1, 2], CE)[2]
    return scaled(g, scale)


def scaled(g: mlp.Gradients, c: float) -> mlp.Gradients:
    if c == 1.0:
        return g
    s = lambda d: {l: c * v for l, v in d.items()}  # noqa: E731
    return mlp.Gradients(s(g.delta), s(g.dW), s(g.db), c * g.da0)


# A convex quadratic f(theta) = 1/2 sum_i h_i theta_i^2 on a one-layer "network" (W: 2x3, b: 2),
# with curvatures h from 0.01 to 10: badly conditioned, like a network whose layers learn at
# very different speeds.
H_W = np.array([[10.0, 1.0, 0.1], [0.01, 3.0, 0.3]])
H_B = np.array([5.0, 0.05])


def quad_start() -> mlp.Network:
    return mlp.Network({1: np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])}, {1: np.array([-1.0, 2.0])},
                       "linear", "linear")


def quad_loss(net: mlp.Network, c: float = 1.0) -> float:
    return c * 0.5 * float(np.sum(H_W * net.W[1] ** 2) + np.sum(H_B * net.b[1] ** 2))


def quad_grads(net: mlp.Network, c: float = 1.0) -> mlp.Gradients:
    return mlp.Gradients({1: np.zeros((1, 2))}, {1: c * H_W * net.W[1]}, {1: c * H_B * net.b[1]}, np.zeros((1, 3)))


def descend(opt: optim.Optimiser, lr: float, steps: int, c: float = 1.0) -> tuple[mlp.Network, list[float]]:
    net, losses = quad_start(), []
    state = opt.init(net)
    for _ in range(steps):
        losses.append(quad_loss(net, c))
        delta, state = opt.step(quad_grads(net, c), state, lr)
        optim.apply(net, delta)
    losses.append(quad_loss(net, c))
    return net, losses


# --------------------------------------------------------------------------- first steps by hand


def test_sgd_step_is_lr_times_gradient_and_apply_is_sgd_step() -> None:
    g, net = net_grads(0), tanh_net()
    opt = optim.SGD()
    state = opt.init(net)
    delta, state = opt.step(g, state, 0.25)
    assert state.t == 1
    by_hand = net.copy()
    train.sgd_step(by_hand, g, 0.25)
    optim.apply(net, delta)
    for l in (1, 2):
        assert_array_equal(delta.W[l], 0.25 * g.dW[l])
        assert_array_equal(delta.b[l], 0.25 * g.db[l])
        assert_array_equal(net.W[l], by_hand.W[l])  # bit for bit
        assert_array_equal(net.b[l], by_hand.b[l])


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_first_two_steps_by_hand(nesterov: bool) -> None:
    g1, g2, lr, beta = net_grads(0), net_grads(1), 0.1, 0.8
    opt = optim.Momentum(beta=beta, nesterov=nesterov)
    s0 = opt.init(tanh_net())
    d1, s1 = opt.step(g1, s0, lr)
    d2, s2 = opt.step(g2, s1, lr)
    assert (s0.t, s1.t, s2.t) == (0, 1, 2)
    for l in (1, 2):
        m2 = beta * g1.dW[l] + g2.dW[l]
        assert_allclose(s1.m.W[l], g1.dW[l], rtol=1e-15)  # m_1 = g_1
        assert_allclose(s2.m.W[l], m2, rtol=1e-14)
        if nesterov:  # Delta = lr (g + beta m)
            assert_allclose(d1.W[l], lr * (1 + beta) * g1.dW[l], rtol=1e-14)
            assert_allclose(d2.W[l], lr * (g2.dW[l] + beta * m2), rtol=1e-14)
        else:  # Delta = lr m
            assert_allclose(d1.W[l], lr * g1.dW[l], rtol=1e-15)
            assert_allclose(d2.W[l], lr * m2, rtol=1e-14)
        assert_allclose(d2.b[l], lr * (g2.db[l] + beta * (beta * g1.db[l] + g2.db[l])) if nesterov
                        else lr * (beta * g1.db[l] + g2.db[l]), rtol=1e-14)


def test_momentum_with_beta_zero_is_sgd_bit_for_bit() -> None:
    sgd, heavy = optim.SGD(), optim.Momentum(beta=0.0)
    s_sgd, s_m = sgd.init(tanh_net()), heavy.init(tanh_net())
    for seed in range(4):
        g = net_grads(seed)
        d_sgd, s_sgd = sgd.step(g, s_sgd, 0.3)
        d_m, s_m = heavy.step(g, s_m, 0.3)
        for l in (1, 2):
            assert_array_equal(d_m.W[l], d_sgd.W[l])
            assert_array_equal(d_m.b[l], d_sgd.b[l])
    # and a momentum that is not zero does remember: the second step differs
    d1, s = optim.Momentum(beta=0.5).step(net_grads(0), optim.Momentum(beta=0.5).init(tanh_net()), 0.3)
    d2, _ = optim.Momentum(beta=0.5).step(net_grads(1), s, 0.3)
    assert not np.allclose(d2.W[1], 0.3 * net_grads(1).dW[1])


def test_rmsprop_first_two_steps_by_hand() -> None:
    g1, g2, lr, rho, eps = net_grads(0), net_grads(1), 0.01, 0.9, 1e-8
    opt = optim.RMSProp(rho=rho, eps=eps)
    d1, s1 = opt.step(g1, opt.init(tanh_net()), lr)
    d2, s2 = opt.step(g2, s1, lr)
    for l in (1, 2):
        g = g1.dW[l]
        assert_allclose(d1.W[l], lr * g / (np.sqrt((1 - rho) * g**2) + eps), rtol=1e-14)
        # the first step: lr / sqrt(1 - rho) in every entry up to eps, whatever the gradient's size
        assert np.all(np.abs(np.abs(d1.W[l]) - lr / np.sqrt(1 - rho)) <= lr * eps / ((1 - rho) * np.abs(g)))
        v2 = rho * (1 - rho) * g**2 + (1 - rho) * g2.dW[l] ** 2
        assert_allclose(s2.v.W[l], v2, rtol=1e-14)
        assert_allclose(d2.W[l], lr * g2.dW[l] / (np.sqrt(v2) + eps), rtol=1e-14)
        gb = g1.db[l]
        assert_allclose(d1.b[l], lr * gb / (np.sqrt((1 - rho) * gb**2) + eps), rtol=1e-14)


def test_adam_first_two_steps_by_hand() -> None:
    g1, g2, lr = net_grads(0), net_grads(1), 1e-3
    b1, b2, eps = 0.9, 0.999, 1e-8
    opt = optim.Adam()
    assert (opt.beta1, opt.beta2, opt.eps) == (b1, b2, eps)  # Kingma & Ba's defaults
    d1, s1 = opt.step(g1, opt.init(tanh_net()), lr)
    d2, s2 = opt.step(g2, s1, lr)
    assert (s1.t, s2.t) == (1, 2)
    for l in (1, 2):
        g = g1.dW[l]
        # bias-corrected: m_hat_1 = g, v_hat_1 = g^2, so Delta_1 = lr g / (|g| + eps) = lr sign(g) up to eps
        assert_allclose(d1.W[l], lr * g / (np.abs(g) + eps), rtol=1e-12)
        assert np.all(np.abs(d1.W[l] - lr * np.sign(g)) <= lr * eps / np.abs(g) * (1 + 1e-9))
        assert_allclose(s1.m.W[l], (1 - b1) * g, rtol=1e-15)
        assert_allclose(s1.v.W[l], (1 - b2) * g**2, rtol=1e-15)
        m2 = b1 * (1 - b1) * g + (1 - b1) * g2.dW[l]
        v2 = b2 * (1 - b2) * g**2 + (1 - b2) * g2.dW[l] ** 2
        assert_allclose(s2.m.W[l], m2, rtol=1e-14)
        assert_allclose(s2.v.W[l], v2, rtol=1e-14)
        assert_allclose(d2.W[l], lr * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps), rtol=1e-12)
        assert np.all(np.abs(d1.b[l] - lr * np.sign(g1.db[l])) <= lr * eps / np.abs(g1.db[l]))


def test_adam_first_step_has_size_lr_even_for_a_vanished_gradient() -> None:
    lr = 1e-3
    for c in (1e-3, 1.0, 1e4):  # a vanished, a normal and an exploded gradient
        d, _ = optim.Adam().step(net_grads(0, c), optim.Adam().init(tanh_net()), lr)
        for l in (1, 2):  # the smallest entries of the vanished gradient are ~2e-6: eps/|g| < 1e-2
            assert_allclose(np.abs(d.W[l]), lr, rtol=1e-2)
    # SGD's step scales with the gradient: 8 orders of magnitude apart
    small = optim.SGD().step(net_grads(0, 1e-4), optim.SGD().init(tanh_net()), lr)[0]
    big = optim.SGD().step(net_grads(0, 1e4), optim.SGD().init(tanh_net()), lr)[0]
    assert_allclose(big.W[1], 1e8 * small.W[1], rtol=1e-12)


def test_float32_stays_float32() -> None:
    net = tanh_net(dtype=np.float32)
    for name in optim.NAMES:
        opt = optim.get(name)
        state = opt.init(net)
        delta, state = opt.step(net_grads(0, dtype=np.float32), state, 0.01)
        assert delta.W[1].dtype == delta.b[2].dtype == np.float32, name
        optim.apply(net, delta)
        assert net.W[1].dtype == np.float32


# --------------------------------------------------------------------------- the properties the book shows


@pytest.mark.parametrize("c", [1e-1, 1e3])
def test_adam_is_invariant_to_rescaling_the_loss(c: float) -> None:
    lr, steps = 0.05, 40
    ref, ref_losses = descend(optim.Adam(), lr, steps)
    run, run_losses = descend(optim.Adam(), lr, steps, c=c)
    # the same trajectory up to eps: each step differs by at most lr * eps / (c |g_hat|)
    # (measured: 6e-6 at c = 0.1, where the flattest direction's gradient is ~1e-4)
    assert_allclose(run.W[1], ref.W[1], atol=2e-5, rtol=0)
    assert_allclose(run.b[1], ref.b[1], atol=2e-5, rtol=0)
    assert_allclose(np.array(run_losses) / c, ref_losses, rtol=1e-4, atol=1e-9)
    # ... and tighter with a smaller eps, so eps is the only culprit
    tight = descend(optim.Adam(eps=1e-14), lr, steps, c=c)[0]
    assert_allclose(tight.W[1], descend(optim.Adam(eps=1e-14), lr, steps)[0].W[1], atol=1e-11, rtol=0)
    # the invariance is Adam's, not every rule's: SGD with the same lr follows another path
    sgd = descend(optim.SGD(), lr / 10 if c > 1 else lr, steps, c=c)[0]
    sgd_ref = descend(optim.SGD(), lr / 10 if c > 1 else lr, steps)[0]
    assert np.max(np.abs(sgd.W[1] - sgd_ref.W[1])) > 0.1
    # and a large eps breaks it (the test can fail)
    loose = descend(optim.Adam(eps=1.0), lr, steps, c=c)[0]
    assert np.max(np.abs(loose.W[1] - descend(optim.Adam(eps=1.0), lr, steps)[0].W[1])) > 1e-2


@pytest.mark.parametrize("opt", [optim.Adam(eps=1e-12), optim.RMSProp(eps=1e-12)], ids=["adam", "rmsprop"])
def test_a_layer_with_a_vanished_gradient_takes_the_same_steps(opt: optim.Optimiser) -> None:
    # every operation is entrywise: shrinking layer 1's gradients 1000-fold (and growing layer 2's
    # 1000-fold) changes neither layer's steps, up to eps (here 1e-12 against entries of layer 1's
    # shrunk gradient down to ~1e-7; with the default 1e-8 the smallest entries would be off by 7%)
    def rescale(g: mlp.Gradients) -> mlp.Gradients:
        return mlp.Gradients(g.delta, {1: 1e-3 * g.dW[1], 2: 1e3 * g.dW[2]},
                             {1: 1e-3 * g.db[1], 2: 1e3 * g.db[2]}, g.da0)

    s_ref = s_van = opt.init(tanh_net())
    for seed in range(5):
        d_ref, s_ref = opt.step(net_grads(seed), s_ref, 1e-3)
        d_van, s_van = opt.step(rescale(net_grads(seed)), s_van, 1e-3)
        for l in (1, 2):
            assert_allclose(d_van.W[l], d_ref.W[l], rtol=1e-4, atol=0)
            assert_allclose(d_van.b[l], d_ref.b[l], rtol=1e-4, atol=0)
    # SGD's step in layer 1 vanishes with the gradient
    d_sgd = optim.SGD().step(rescale(net_grads(0)), optim.SGD().init(tanh_net()), 1e-3)[0]
    assert np.max(np.abs(d_sgd.W[1])) < 1e-3 * np.max(np.abs(d_ref.W[1]))


@pytest.mark.parametrize(("opt", "lr", "steps", "factor"), [
    (optim.SGD(), 0.15, 300, 0.05),          # lr < 2 / h_max = 0.2 for stability
    (optim.Momentum(beta=0.9), 0.015, 300, 0.05),
    (optim.Momentum(beta=0.9, nesterov=True), 0.015, 300, 0.05),
    (optim.RMSProp(), 0.01, 300, 0.05),
    (optim.Adam(), 0.05, 300, 0.05),
], ids=["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_every_rule_descends_a_convex_quadratic(opt: optim.Optimiser, lr: float, steps: int, factor: float) -> None:
    net, losses = descend(opt, lr, steps)
    assert losses[-1] < factor * losses[0]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert np.all(np.isfinite(losses))


def test_momentum_beats_sgd_on_the_badly_conditioned_quadratic() -> None:
    # SGD must keep lr < 2 / h_max = 0.2 (measured 0.046 at lr = 0.19); momentum's larger effective
    # step lr / (1 - beta) = 1 is still stable and carries the flat directions further (measured 0.006)
    plain = descend(optim.SGD(), 0.19, 100)[1][-1]
    heavy = descend(optim.Momentum(beta=0.9), 0.1, 100)[1][-1]
    assert heavy < 0.25 * plain


def test_state_is_explicit_and_step_does_not_modify_it() -> None:
    opt, net = optim.Adam(), tanh_net()
    s0 = opt.init(net)
    assert s0.t == 0 and all(np.all(v == 0) for v in s0.m.W.values()) and s0.v.b[2].shape == net.b[2].shape
    d1, s1 = opt.step(net_grads(0), s0, 1e-3)
    assert all(np.all(v == 0) for v in s0.m.W.values())  # untouched
    again, _ = opt.step(net_grads(0), s0, 1e-3)  # the same state and gradient give the same step
    assert_array_equal(again.W[1], d1.W[1])
    assert s1.m.W[1] is not s0.m.W[1]


@pytest.mark.parametrize("opt", [optim.SGD(), optim.Momentum(nesterov=True), optim.RMSProp(), optim.Adam()],
                         ids=["sgd", "nesterov", "rmsprop", "adam"])
def test_a_parameter_dict_takes_the_same_steps_as_the_network(opt: optim.Optimiser) -> None:
    # Any model trains through a dict of its own arrays: same steps, bit for bit, and apply
    # updates the arrays the model owns
    net, twin = tanh_net(), tanh_net()
    params = {f"{kind}{l}": getattr(twin, kind)[l] for kind in ("W", "b") for l in (1, 2)}
    s_net, s_dict = opt.init(net), opt.init(params)
    for seed in range(4):
        g = net_grads(seed)
        d_net, s_net = opt.step(g, s_net, 0.05)
        d_dict, s_dict = opt.step({f"{kind}{l}": getattr(g, "d" + kind)[l] for kind in ("W", "b") for l in (1, 2)},
                                  s_dict, 0.05)
        optim.apply(net, d_net)
        optim.apply(params, d_dict)
    for l in (1, 2):
        assert_array_equal(twin.W[l], net.W[l])
        assert_array_equal(twin.b[l], net.b[l])
    assert not np.array_equal(twin.W[1], tanh_net().W[1])


def test_get_and_names() -> None:
    assert optim.NAMES == ("sgd", "momentum", "nesterov", "rmsprop", "adam")
    assert isinstance(optim.get("adam"), optim.Adam)
    assert optim.get("nesterov").nesterov is True
    custom = optim.Adam(beta2=0.99)
    assert optim.get(custom) is custom


# --------------------------------------------------------------------------- errors


def other_net_state() -> Any:
    return optim.Adam().init(mlp.init_network((2, 5, 3), rng=0))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: optim.Adam(beta1=1.0), ValueError, r"beta1 must be in \[0, 1\), got 1\.0"),
        (lambda: optim.Adam(beta2=-0.1), ValueError, r"beta2 must be >= 0, got -0\.1"),
        (lambda: optim.Adam(beta2=float("nan")), ValueError, r"beta2 must be finite"),
        (lambda: optim.Adam(eps=0.0), ValueError, r"eps must be > 0, got 0\.0"),
        (lambda: optim.RMSProp(eps=-1e-8), ValueError, r"eps must be > 0"),
        (lambda: optim.RMSProp(rho=1), ValueError, r"rho must be in \[0, 1\), got 1\.0"),
        (lambda: optim.Momentum(beta=1.5), ValueError, r"beta must be in \[0, 1\), got 1\.5"),
        (lambda: optim.Momentum(beta="0.9"), TypeError, r"beta must be a real number, got str"),
        (lambda: optim.Momentum(nesterov=1), TypeError, r"nesterov must be a bool, got int"),
        (lambda: optim.SGD().step(net_grads(0), optim.SGD().init(tanh_net()), -0.1), ValueError,
         r"lr must be >= 0, got -0\.1"),
        (lambda: optim.Adam().step(net_grads(0), optim.Adam().init(tanh_net()), float("inf")), ValueError,
         r"lr must be finite, got inf"),
        (lambda: optim.Adam().step(net_grads(0), optim.Adam().init(tanh_net()), None), TypeError,
         r"lr must be a real number, got NoneType"),
        (lambda: optim.RMSProp().step(net_grads(0), optim.Adam().init(tanh_net()), 0.1), TypeError,
         r"state must be the RMSPropState of RMSProp\.init, got AdamState"),
        (lambda: optim.Adam().step(net_grads(0), other_net_state(), 0.1), ValueError,
         r"state\.m\.W\[1\] has shape \(5, 2\) but in the gradient it is \(16, 2\)"),
        (lambda: optim.Adam().step({"dW": 1}, optim.Adam().init(tanh_net()), 0.1), TypeError,
         r"grads\['dW'\] must be a float numpy array, got int"),
        (lambda: optim.Adam().step([1.0], optim.Adam().init(tanh_net()), 0.1), TypeError,
         r"grads must be a gradlab\.mlp\.Gradients or a dict of arrays, got list"),
        (lambda: optim.Adam().init("net"), TypeError, r"net must be a gradlab\.mlp\.Network or a non-empty dict"),
        (lambda: optim.Adam().init({}), TypeError, r"net must be .* got dict \(empty\)"),
        (lambda: optim.Adam().init({1: np.zeros(2)}), TypeError, r"net must be keyed by parameter names \(str\), got the key 1"),
        (lambda: optim.Adam().init({"w": np.zeros(2, dtype=int)}), TypeError, r"net\['w'\] must be a float numpy array, got int64"),
        (lambda: optim.Adam().step({"v": np.zeros(2)}, optim.Adam().init({"w": np.zeros(2)}), 0.1), ValueError,
         r"state\.m\.W has layers \['w'\] but the gradient has \['v'\]"),
        (lambda: optim.apply({"w": np.zeros(2)}, optim.SGD().step({"w": np.ones(3)}, optim.SGD().init({"w": np.zeros(3)}),
                                                                   1.0)[0]), ValueError,
         r"delta\.W\['w'\] has shape \(3,\) but in net it is \(2,\)"),
        (lambda: optim.get("adamw"), ValueError, r"unknown optimiser 'adamw'; expected one of: sgd, momentum"),
        (lambda: optim.get(3), TypeError, r"optimiser must be a name \(str\) or an Optimiser, got int"),
        (lambda: optim.apply(tanh_net(), optim.SGD().step(net_grads(0), optim.SGD().init(tanh_net()), 1.0)[0].map(
            lambda v: v[:1])), ValueError, r"delta\.W\[1\] has shape \(1, 2\) but in net it is \(16, 2\)"),
        (lambda: optim.apply(tanh_net(), net_grads(0)), TypeError,
         r"delta must be a gradlab\.optim\.LayerArrays, got Gradients"),
    ],
)
def test_errors_name_the_argument(call: Callable[[], Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_a_state_with_other_layers_is_refused() -> None:
    g = mlp.loss_and_gradients(mlp.init_network((2, 4, 4, 3), rng=0), np.ones((2, 2)), [0, 1], CE)[2]
    with pytest.raises(ValueError, match=r"state\.v\.W has layers \[1, 2\] but the gradient has \[1, 2, 3\]"):
        optim.RMSProp().step(g, optim.RMSProp().init(tanh_net()), 0.1)


def test_no_numpy_warnings_on_ordinary_steps() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in optim.NAMES:
            descend(optim.get(name), 0.01, 5)
