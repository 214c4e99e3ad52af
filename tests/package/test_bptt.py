"""Tests for gradlab.bptt with the Elman cell of gradlab.rnn: full and truncated BPTT against central
differences (truncated: of the fixed-state objective), dstates against finite differences w.r.t. the
initial state, the lag rule of truncation, k >= T against full BPTT, the read-out, and argument errors.
(gradlab.lstm and gradlab.gru run the same checks on their cells in their own test modules.)"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import bptt, gradcheck, rnn

B, T, N_IN, N_H, N_OUT = 3, 6, 3, 4, 2


def _net(activation: str = "tanh", seed: int = 0) -> rnn.RNN:
    net = rnn.init(N_IN, N_H, N_OUT, activation=activation, scale=1.3, rng=seed)
    gen = np.random.default_rng(seed + 100)
    net.params["b_h"][:] = 0.2 * gen.standard_normal(N_H)
    net.params["b_y"][:] = gen.standard_normal(N_OUT)
    return net


def _problem(seed: int = 1, masked: tuple[int, ...] = (0,)) -> tuple[np.ndarray, object]:
    """Inputs and a quadratic loss of the read-outs; steps in ``masked`` (0-based) carry no loss."""
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((B, T, N_IN))
    target = gen.standard_normal((B, T, N_OUT))
    w = np.ones((1, T, 1))
    w[:, list(masked)] = 0.0

    def loss(Y: np.ndarray) -> tuple[float, np.ndarray]:
        r = (Y - target) * w
        return 0.5 * float(np.sum(r * r)), r

    return x, loss


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("truncate", [None, 1, 2, 3, T - 1, T, T + 3])
def test_gradient_check_every_parameter(activation: str, truncate: int | None) -> None:
    net = _net(activation)
    x, loss = _problem()
    errors = bptt.gradient_check(rnn, net, x, loss, truncate=truncate)
    assert sorted(errors) == sorted(rnn.PARAMS)
    assert max(errors.values()) <= 1e-7, errors


def test_gradient_check_detects_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    # the check can fail: break dW_hh by a factor 1.01 and it must notice
    net, (x, loss) = _net(), _problem()
    original = rnn.step_backward

    def wrong(net_: rnn.RNN, cache: object, dstate: tuple) -> tuple:
        grads, dprev, dx = original(net_, cache, dstate)
        grads["W_hh"] = 1.01 * grads["W_hh"]
        return grads, dprev, dx

    monkeypatch.setattr(rnn, "step_backward", wrong)
    errors = bptt.gradient_check(rnn, net, x, loss)
    assert errors["W_hh"] > 1e-3 and errors["W_xh"] <= 1e-7


def test_truncated_differs_from_full_when_k_is_short() -> None:
    net, (x, loss) = _net(), _problem()
    fwd = rnn.forward(net, x)
    _, dY = loss(fwd.Y)
    full = rnn.backward(net, fwd, dY).params["W_hh"]
    short = rnn.backward(net, fwd, dY, truncate=2).params["W_hh"]
    assert gradcheck.relative_error(full, short) > 1e-3


def _fd_initial_state(net: rnn.RNN, x: np.ndarray, loss, h0: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    num = np.empty_like(h0)
    for i in np.ndindex(h0.shape):
        hp, hm = h0.copy(), h0.copy()
        hp[i] += eps
        hm[i] -= eps
        num[i] = (loss(rnn.forward(net, x, hp).Y)[0] - loss(rnn.forward(net, x, hm).Y)[0]) / (2 * eps)
    return num


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_dstates_are_total_derivatives_wrt_every_state(activation: str) -> None:
    net, (x, loss) = _net(activation), _problem()
    h0 = 0.5 * np.random.default_rng(3).standard_normal((B, N_H))
    fwd = rnn.forward(net, x, h0)
    _, dY = loss(fwd.Y)
    g = rnn.backward(net, fwd, dY)
    assert g.dH.shape == (B, T + 1, N_H) and g.dstates["h"] is g.dH
    # index 0: against finite differences w.r.t. h0
    assert gradcheck.relative_error(g.dH[:, 0], _fd_initial_state(net, x, loss, h0)) <= 1e-7
    # index s: perturb h^(s) itself; it is read out at step s and drives steps s+1..T
    p = net.params
    for s in (1, 3, T - 1):
        hs = fwd.H[:, s].copy()

        def L_of_hs(h: np.ndarray, s: int = s) -> float:
            Y = np.concatenate([fwd.Y[:, : s - 1], (h @ p["W_y"].T + p["b_y"])[:, None],
                                rnn.forward(net, x[:, s:], h).Y], axis=1)
            return loss(Y)[0]

        num = gradcheck.numerical_gradient(L_of_hs, hs)
        assert gradcheck.relative_error(g.dH[:, s], num) <= 1e-7
    # index T: only the read-out of the last step
    assert_allclose(g.dH[:, T], dY[:, T - 1] @ p["W_y"], rtol=1e-14)


def test_dx_against_finite_differences() -> None:
    net, (x, loss) = _net(), _problem()
    fwd = rnn.forward(net, x)
    _, dY = loss(fwd.Y)
    dx = rnn.backward(net, fwd, dY).dx
    num = gradcheck.numerical_gradient(lambda xx: loss(rnn.forward(net, xx).Y)[0], x)
    assert gradcheck.relative_error(dx, num) <= 1e-7


@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncation_zeroes_dstates_at_lags_k_and_beyond(k: int) -> None:
    net, (x, _) = _net(), _problem()
    fwd = rnn.forward(net, x)
    for t in range(1, T + 1):  # one loss step at a time
        dY = np.zeros_like(fwd.Y)
        dY[:, t - 1] = 1.0
        dH = rnn.backward(net, fwd, dY, truncate=k).dH
        for s in range(T + 1):
            lag = t - s
            if lag < 0 or lag >= k:
                assert_array_equal(dH[:, s], 0.0)
            else:  # within the window the truncated gradient is the full one
                full = rnn.backward(net, fwd, dY).dH
                assert_allclose(dH[:, s], full[:, s], rtol=1e-13, atol=1e-15)


def test_truncated_dstates_against_finite_differences_of_the_fixed_state_objective() -> None:
    # dL/dh0 under BPTT(k): only losses at t < k reach h0, through the full recurrence
    k = 3
    net, (x, loss) = _net(), _problem(masked=())
    h0 = 0.3 * np.random.default_rng(4).standard_normal((B, N_H))
    fwd = rnn.forward(net, x, h0)
    _, dY = loss(fwd.Y)
    dH0 = rnn.backward(net, fwd, dY, truncate=k).dH[:, 0]
    w = np.zeros((1, T, 1))
    w[:, : k - 1] = 1.0  # loss steps 1..k-1

    def near_loss(Y: np.ndarray) -> tuple[float, np.ndarray]:
        v, d = loss(Y * w + fwd.Y * (1 - w))
        return v, d * w

    assert gradcheck.relative_error(dH0, _fd_initial_state(net, x, near_loss, h0)) <= 1e-7


def test_k_beyond_T_is_bit_identical_and_k_equal_T_agrees() -> None:
    net, (x, loss) = _net(), _problem(masked=())
    fwd = rnn.forward(net, x)
    _, dY = loss(fwd.Y)
    full = rnn.backward(net, fwd, dY)
    for k in (T + 1, 10 * T):
        tr = rnn.backward(net, fwd, dY, truncate=k)
        for name in full.params:
            assert_array_equal(tr.params[name], full.params[name])
        assert_array_equal(tr.dH, full.dH)
        assert_array_equal(tr.dx, full.dx)
    at_T = rnn.backward(net, fwd, dY, truncate=T)
    for name in full.params:
        assert_allclose(at_T.params[name], full.params[name], rtol=1e-14, atol=1e-14)
    assert_allclose(at_T.dH[:, 1:], full.dH[:, 1:], rtol=1e-14, atol=1e-14)


def test_forward_reads_out_every_step_and_keeps_the_initial_state() -> None:
    net, (x, _) = _net(), _problem()
    h0 = np.random.default_rng(5).standard_normal(N_H)  # one state shared by the batch
    fwd = bptt.forward(rnn, net, x, {"h": h0})
    assert fwd.T == T and fwd.H.shape == (B, T + 1, N_H) and fwd.Y.shape == (B, T, N_OUT) and len(fwd.caches) == T
    assert_array_equal(fwd.H[:, 0], np.broadcast_to(h0, (B, N_H)))
    p = net.params
    h = np.broadcast_to(h0, (B, N_H))
    for t in range(1, T + 1):
        h = np.tanh(h @ p["W_hh"].T + x[:, t - 1] @ p["W_xh"].T + p["b_h"])
        assert_allclose(fwd.H[:, t], h, rtol=1e-13, atol=1e-15)
        assert_allclose(fwd.Y[:, t - 1], h @ p["W_y"].T + p["b_y"], rtol=1e-13, atol=1e-14)


def test_gradients_helpers() -> None:
    net, (x, loss) = _net(), _problem()
    fwd = rnn.forward(net, x)
    g = rnn.backward(net, fwd, loss(fwd.Y)[1])
    d = g.as_dict()
    assert d is not g.params and sorted(d) == sorted(net.params)
    assert all(d[k].shape == net.params[k].shape for k in d)
    assert g.norm() == pytest.approx(np.sqrt(sum(np.sum(v**2) for v in d.values())), rel=1e-14)


def test_zero_dY_gives_zero_gradients() -> None:
    net, (x, _) = _net(), _problem()
    fwd = rnn.forward(net, x)
    for k in (None, 2):
        g = rnn.backward(net, fwd, np.zeros_like(fwd.Y), truncate=k)
        assert g.norm() == 0.0 and not g.dH.any() and not g.dx.any()


def test_errors_name_the_argument() -> None:
    net, (x, loss) = _net(), _problem()
    fwd = rnn.forward(net, x)
    dY = np.zeros_like(fwd.Y)
    with pytest.raises(ValueError, match="x must be 3-dimensional"):
        rnn.forward(net, x[0])
    with pytest.raises(ValueError, match="x must have n_in"):
        rnn.forward(net, x[:, :, :2])
    with pytest.raises(ValueError, match="T >= 1"):
        rnn.forward(net, x[:, :0])
    with pytest.raises(ValueError, match="x must be finite"):
        rnn.forward(net, np.where(x > 1, np.nan, x))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn.forward(net, x, np.zeros((B + 1, N_H)))
    with pytest.raises(ValueError, match="state0 has unknown"):
        bptt.forward(rnn, net, x, {"c": np.zeros(N_H)})
    with pytest.raises(ValueError, match="state0 must have one entry"):
        bptt.forward(rnn, net, x, (None, None))
    with pytest.raises(ValueError, match="dY must have the shape"):
        rnn.backward(net, fwd, dY[:, :-1])
    for bad in (True, 1.0, "3"):
        with pytest.raises(TypeError, match="truncate must be an integer"):
            rnn.backward(net, fwd, dY, truncate=bad)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="truncate must be >= 1"):
            rnn.backward(net, fwd, dY, truncate=bad)
    with pytest.raises(TypeError, match="fwd must be"):
        rnn.backward(net, "fwd", dY)
    with pytest.raises(TypeError, match="cell must provide"):
        bptt.forward(np, net, x)
    with pytest.raises(TypeError, match="net must be"):
        bptt.forward(rnn, object(), x)
    with pytest.raises(TypeError, match="loss must be callable"):
        bptt.gradient_check(rnn, net, x, "mse")
    with pytest.raises(ValueError, match="h must be > 0"):
        bptt.gradient_check(rnn, net, x, loss, h=0.0)


def test_gradient_check_restores_the_net() -> None:
    net, (x, loss) = _net(), _problem()
    before = {k: v.copy() for k, v in net.params.items()}
    ids = {k: id(v) for k, v in net.params.items()}
    bptt.gradient_check(rnn, net, x, loss, truncate=2)
    for k in before:
        assert_array_equal(net.params[k], before[k])
        assert id(net.params[k]) == ids[k]
