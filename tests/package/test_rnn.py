"""Tests for gradlab.rnn: the initialisations (identity, orthogonal, standard), the step Jacobians against
finite differences and their product against dh^(t)/dh^(s), the parameter dict the optimisers update,
the cell's one-step backward, large inputs, and argument errors. (Gradient checks through time: test_bptt.)"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import activations, bptt, gradcheck, optim, rnn


def test_init_shapes_and_zero_biases() -> None:
    net = rnn.init(3, 5, 2, rng=0)
    assert (net.n_in, net.n_h, net.n_out) == (3, 5, 2)
    assert net.g.name == "tanh"
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W_hh": (5, 5), "W_xh": (5, 3), "b_h": (5,), "W_y": (2, 5), "b_y": (2,)}
    assert not net.params["b_h"].any() and not net.params["b_y"].any()
    assert all(v.dtype == np.float64 for v in net.params.values())


def test_identity_and_orthogonal_recurrent_matrices() -> None:
    irnn = rnn.init(2, 6, 1, activation="relu", recurrent="identity", scale=0.9, rng=0)
    assert_array_equal(irnn.params["W_hh"], 0.9 * np.eye(6))
    orth = rnn.init(2, 6, 1, recurrent="orthogonal", scale=1.5, rng=0)
    assert_allclose(np.linalg.svd(orth.params["W_hh"], compute_uv=False), 1.5, rtol=1e-13)


def test_standard_init_variances() -> None:
    n_in, n_h = 50, 400
    net = rnn.init(n_in, n_h, 3, scale=2.0, input_scale=0.5, rng=1)
    # entry variances scale^2/n_h, input_scale^2/n_in, 1/n_h: sample variance within ~5 standard errors
    for name, var in (("W_hh", 4.0 / n_h), ("W_xh", 0.25 / n_in), ("W_y", 1.0 / n_h)):
        w = net.params[name]
        assert abs(w.var() / var - 1) < 5 * np.sqrt(2 / w.size), name
    # same seed, same net
    again = rnn.init(n_in, n_h, 3, scale=2.0, input_scale=0.5, rng=1)
    assert all(np.array_equal(again.params[k], net.params[k]) for k in net.params)


def test_step_is_the_elman_formula_and_its_backward_is_exact() -> None:
    gen = np.random.default_rng(2)
    net = rnn.init(3, 4, 2, activation="sigmoid", rng=3)
    x_t, h = gen.standard_normal((5, 3)), gen.standard_normal((5, 4))
    (h1,), cache = rnn.step(net, x_t, (h,))
    p = net.params
    z = h @ p["W_hh"].T + x_t @ p["W_xh"].T + p["b_h"]
    assert_allclose(h1, 1 / (1 + np.exp(-z)), rtol=1e-14)
    dh = gen.standard_normal((5, 4))
    grads, (dh_prev,), dx = rnn.step_backward(net, cache, (dh,))
    f = lambda hh: float(np.sum(rnn.step(net, x_t, (hh,))[0][0] * dh))
    assert gradcheck.relative_error(dh_prev, gradcheck.numerical_gradient(f, h)) <= 1e-8
    fx = lambda xx: float(np.sum(rnn.step(net, xx, (h,))[0][0] * dh))
    assert gradcheck.relative_error(dx, gradcheck.numerical_gradient(fx, x_t)) <= 1e-8
    assert sorted(grads) == ["W_hh", "W_xh", "b_h"]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_jacobians_against_finite_differences_and_their_product(activation: str) -> None:
    gen = np.random.default_rng(4)
    net = rnn.init(2, 4, 1, activation=activation, scale=1.2, rng=5)
    net.params["b_h"][:] = 0.1 * gen.standard_normal(4)
    x = gen.standard_normal((2, 5, 2))
    fwd = rnn.forward(net, x)
    J = rnn.jacobians(net, fwd)
    assert J.shape == (2, 5, 4, 4)
    for b in range(2):
        for t in range(1, 6):
            def h_t(hprev: np.ndarray) -> np.ndarray:
                return rnn.step(net, x[b : b + 1, t - 1], (hprev[None],))[0][0][0]

            num = np.empty((4, 4))
            for j in range(4):
                e = np.zeros(4)
                e[j] = 1e-6
                num[:, j] = (h_t(fwd.H[b, t - 1] + e) - h_t(fwd.H[b, t - 1] - e)) / 2e-6
            assert_allclose(J[b, t - 1], num, atol=1e-8)
    # dh^(5)/dh^(0) = J_5 J_4 ... J_1, against finite differences of the whole forward pass
    prod = np.eye(4)
    for t in range(1, 6):
        prod = J[0, t - 1] @ prod
    num = np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6
        hp = rnn.forward(net, x[:1], e).H[0, 5]
        hm = rnn.forward(net, x[:1], -e).H[0, 5]
        num[:, j] = (hp - hm) / 2e-6
    assert_allclose(prod, num, atol=1e-8)


def test_parameters_are_the_nets_own_arrays_and_optim_updates_them() -> None:
    net = rnn.init(2, 3, 1, rng=0)
    params = rnn.parameters(net)
    assert params is not net.params and all(params[k] is net.params[k] for k in params)
    x = np.random.default_rng(1).standard_normal((2, 4, 2))
    fwd = rnn.forward(net, x)
    grads = rnn.backward(net, fwd, np.ones_like(fwd.Y))
    before = net.params["W_hh"].copy()
    opt = optim.get("sgd")
    delta, _ = opt.step(grads.as_dict(), opt.init(params), 0.1)
    optim.apply(params, delta)
    assert_allclose(net.params["W_hh"], before - 0.1 * grads.params["W_hh"], rtol=1e-15)


def test_copy_is_deep() -> None:
    net = rnn.init(2, 3, 1, rng=0)
    c = net.copy()
    c.params["W_hh"][0, 0] += 1
    assert c.params["W_hh"][0, 0] != net.params["W_hh"][0, 0] and c.g is net.g


def test_large_inputs_give_no_warnings() -> None:
    for act in ("tanh", "sigmoid", "relu"):
        net = rnn.init(2, 3, 1, activation=act, rng=0)
        x = np.full((2, 5, 2), 1e4)
        x[1] *= -1
        with np.errstate(all="raise"):
            fwd = rnn.forward(net, x)
            g = rnn.backward(net, fwd, np.ones_like(fwd.Y))
        assert np.all(np.isfinite(g.dH)) and np.isfinite(g.norm())


def test_rnn_validation_errors() -> None:
    good = rnn.init(2, 3, 1, rng=0).params
    with pytest.raises(TypeError, match="params must be a dict"):
        rnn.RNN([1, 2])
    with pytest.raises(ValueError, match="params must have exactly the keys"):
        rnn.RNN({k: v for k, v in good.items() if k != "b_y"})
    bad = dict(good, W_hh=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"params\['W_hh'\] must have shape"):
        rnn.RNN(bad)
    bad = dict(good, b_h=np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"params\['b_h'\] must be 1-dimensional"):
        rnn.RNN(bad)
    bad = dict(good, W_y=np.full((1, 3), np.inf))
    with pytest.raises(ValueError, match=r"params\['W_y'\] must be finite"):
        rnn.RNN(bad)
    with pytest.raises(ValueError, match="unknown activation"):
        rnn.RNN(dict(good), "swish2")


def test_init_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="n_h must be >= 1"):
        rnn.init(2, 0, 1, rng=0)
    with pytest.raises(TypeError, match="n_in must be an integer"):
        rnn.init(2.0, 3, 1, rng=0)
    with pytest.raises(ValueError, match="unknown recurrent"):
        rnn.init(2, 3, 1, recurrent="unitary", rng=0)
    with pytest.raises(ValueError, match="scale must be >= 0"):
        rnn.init(2, 3, 1, scale=-1.0, rng=0)
    with pytest.raises(ValueError, match="input_scale must be >= 0"):
        rnn.init(2, 3, 1, input_scale=-1.0, rng=0)
    with pytest.raises(TypeError, match="rng must be"):
        rnn.init(2, 3, 1, rng="seed")
    with pytest.raises(TypeError, match="net must be a gradlab.rnn.RNN"):
        rnn.forward({"W_hh": 1}, np.zeros((1, 2, 2)))
    net = rnn.init(2, 3, 1, rng=0)
    with pytest.raises(TypeError, match="fwd must be"):
        rnn.jacobians(net, None)
    other = rnn.forward(rnn.init(2, 4, 1, rng=0), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="fwd must come from this net"):
        rnn.jacobians(net, other)


def test_activation_object_is_accepted() -> None:
    net = rnn.init(2, 3, 1, activation=activations.get("relu"), rng=0)
    assert net.g.name == "relu" and isinstance(rnn.forward(net, np.ones((1, 2, 2))), bptt.SeqForward)
