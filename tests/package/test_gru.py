"""Tests for gradlab.gru: one step against the equations written gate by gate, the gradient w.r.t. the
state at every step (full and truncated BPTT), the update gate's leaky copy against the memory time,
initialisation, the stacked storage behind the named parameters, and argument errors. The parameter
gradient checks and copy tests it shares with the LSTM are in test_gated_cells.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import gradcheck, gru, lstm, optim

from recurrent_helpers import B, N_H, N_IN, N_OUT, T, TOL, inputs, make_gated_net, make_loss
from recurrent_helpers import gru_reference_step, sigmoid as _sig


def make_net(seed: int = 0, **kw) -> gru.GRU:
    return make_gated_net(gru, seed, **kw)


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------


def test_forward_matches_the_equations_gate_by_gate() -> None:
    net, x = make_net(), inputs()
    h0 = np.random.default_rng(5).standard_normal((B, N_H))
    fwd = gru.forward(net, x, h0)
    assert set(fwd.states) == {"h"}
    h = h0
    for t in range(1, T + 1):
        h = gru_reference_step(net.params, x[:, t - 1], h)
        assert_allclose(fwd.states["h"][:, t], h, rtol=1e-13, atol=1e-14)
        assert_allclose(fwd.Y[:, t - 1], h @ net.params["W_y"].T + net.params["b_y"], rtol=1e-13, atol=1e-14)
    assert_array_equal(fwd.H[:, 0], h0)


def test_initial_state_defaults_to_zero_and_broadcasts() -> None:
    net, x = make_net(), inputs()
    zero = gru.forward(net, x)
    assert_array_equal(zero.H[:, 0], 0.0)
    h0 = np.linspace(-1, 1, N_H)
    assert_array_equal(gru.forward(net, x, h0).Y, gru.forward(net, x, np.tile(h0, (B, 1))).Y)


def test_hidden_state_stays_in_the_convex_hull() -> None:
    # h^(t) is a convex combination of h^(t-1) and h~ in (-1, 1): it never leaves [-1, 1] once inside
    fwd = gru.forward(make_net(), 3 * inputs(), np.full(N_H, 0.9))
    assert np.all(np.abs(fwd.H) <= 1)


# ---------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------


def test_dH_is_the_gradient_wrt_the_state_at_every_step() -> None:
    net, loss = make_net(2), make_loss(4)
    fwd = gru.forward(net, inputs(3), np.random.default_rng(3).standard_normal((B, N_H)))
    g = gru.backward(net, fwd, loss(fwd.Y)[1])

    def from_state(t: int, h: np.ndarray) -> float:
        Y = fwd.Y.copy()
        if t >= 1:
            Y[:, t - 1] = h @ net.params["W_y"].T + net.params["b_y"]
        for s in range(t + 1, T + 1):
            h = gru_reference_step(net.params, fwd.x[:, s - 1], h)
            Y[:, s - 1] = h @ net.params["W_y"].T + net.params["b_y"]
        return loss(Y)[0]

    for t in range(T + 1):
        num = gradcheck.numerical_gradient(lambda v: from_state(t, v), fwd.H[:, t])
        assert gradcheck.relative_error(g.dH[:, t], num) <= TOL, t


def test_dH_at_t0_and_dx_through_forward() -> None:
    net, x, loss = make_net(5), inputs(6), make_loss(7)
    h0 = np.random.default_rng(8).standard_normal((B, N_H))
    fwd = gru.forward(net, x, h0)
    g = gru.backward(net, fwd, loss(fwd.Y)[1])
    num_h = gradcheck.numerical_gradient(lambda v: loss(gru.forward(net, x, v).Y)[0], h0)
    assert gradcheck.relative_error(g.dH[:, 0], num_h) <= TOL
    num_x = gradcheck.numerical_gradient(lambda v: loss(gru.forward(net, v, h0).Y)[0], x)
    assert gradcheck.relative_error(g.dx, num_x) <= TOL


@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncated_dH_vanishes_beyond_lag_k_and_is_exact_within(k: int) -> None:
    mask = np.zeros(T, bool)
    mask[-1] = True
    net, loss = make_net(9), make_loss(10, mask)
    fwd = gru.forward(net, inputs(11))
    dY = loss(fwd.Y)[1]
    full, trunc = gru.backward(net, fwd, dY), gru.backward(net, fwd, dY, truncate=k)
    for s in range(T + 1):
        if T - s >= k:
            assert_array_equal(trunc.dH[:, s], 0.0)
        else:
            assert_allclose(trunc.dH[:, s], full.dH[:, s], rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------
# the update gate and the memory time
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("b_u", [-1.0, 0.0, 2.0, 4.0])
def test_leaky_copy_decays_with_the_memory_time(b_u: float) -> None:
    # x = 0, W_hu = 0 (u = sigma(b_u) constant), candidate switched off (h~ = 0): h^(t) = sigma(b_u)^t h^(0)
    net = gru.init(N_IN, N_H, N_OUT, update_bias=b_u, rng=0)
    for name in ("W_hu", "W_xh", "W_hh", "b_h"):
        net.params[name][...] = 0.0
    h0 = np.random.default_rng(1).standard_normal((B, N_H))
    fwd = gru.forward(net, np.zeros((B, 10, N_IN)), h0)
    decay = np.exp(-np.arange(11) / gru.memory_time(b_u))
    assert_allclose(fwd.H, h0[:, None, :] * decay[None, :, None], rtol=1e-12)
    # and the gradient that a loss at step 10 sends to h^(0) carries the same factor
    dY = np.zeros_like(fwd.Y)
    dY[:, -1] = 1.0
    g = gru.backward(net, fwd, dY)
    assert_allclose(g.dH[:, 0], decay[10] * g.dH[:, 10], rtol=1e-12)


def test_memory_time_closed_forms() -> None:
    assert gru.memory_time(0.0) == pytest.approx(1 / math.log(2), rel=1e-15)
    for b in np.linspace(-20, 5, 26):  # the naive formula, where log sigma(b) is not near log 1
        assert gru.memory_time(b) == pytest.approx(-1 / math.log(_sig(b)), rel=1e-12)
    for b in np.linspace(5, 30, 26):  # sigma(b)^tau = 1/e, via log1p
        assert gru.memory_time(b) * math.log1p(math.exp(-b)) == pytest.approx(1.0, rel=1e-13)
    assert_array_equal(gru.memory_time(np.array([0.5, 3.0])), lstm.memory_time(np.array([0.5, 3.0])))
    with np.errstate(all="raise"):
        assert gru.memory_time(1000.0) == math.inf
        assert gru.memory_time(-1000.0) == pytest.approx(1e-3, rel=1e-12)
    with pytest.raises(TypeError, match="update_bias"):
        gru.memory_time(None)


# ---------------------------------------------------------------------------
# initialisation and storage
# ---------------------------------------------------------------------------


def test_init_shapes_biases_and_recurrent_weights() -> None:
    net = gru.init(5, 6, 2, update_bias=1.5, rng=0)
    assert (net.n_in, net.n_h, net.n_out) == (5, 6, 2)
    assert set(gru.parameters(net)) == set(gru.PARAMS)
    for g in gru.GATES:
        assert net.params[f"W_x{g}"].shape == (6, 5)
        assert_allclose(net.params[f"W_h{g}"] @ net.params[f"W_h{g}"].T, np.eye(6), atol=1e-13)
    assert_array_equal(net.params["b_u"], 1.5)
    assert_array_equal(net.params["b_r"], 0.0)
    assert_array_equal(net.params["b_h"], 0.0)
    assert_array_equal(gru.init(5, 6, 2, rng=0).params["b_u"], 0.0)
    wide = gru.init(40, 50, 30, recurrent="standard", rng=1)
    W_h = np.concatenate([wide.params[f"W_h{g}"] for g in gru.GATES])
    W_x = np.concatenate([wide.params[f"W_x{g}"] for g in gru.GATES])
    assert W_h.var() * 50 == pytest.approx(1.0, abs=0.08)  # 7500 entries: standard error ~1.6 %
    assert W_x.var() * 40 == pytest.approx(1.0, abs=0.08)


def test_in_place_updates_and_replacements_reach_the_cell() -> None:
    net, x = make_net(20), inputs(21)
    fresh = lambda: gru.GRU({k: v.copy() for k, v in net.params.items()})  # noqa: E731
    gru.parameters(net)["W_hr"][1, 0] -= 0.7
    assert_array_equal(gru.forward(net, x).Y, gru.forward(fresh(), x).Y)
    held = gru.parameters(net)
    net.params["b_h"] = np.ones(N_H)
    assert_array_equal(gru.forward(net, x).Y, gru.forward(fresh(), x).Y)
    assert gru.parameters(net) is held
    given = dict(held)
    gru.GRU(given).params["W_xu"][...] = 0.0
    assert given["W_xu"] is held["W_xu"] and not np.all(held["W_xu"] == 0)
    y = gru.forward(net, x).Y
    clone = net.copy()
    clone.params["W_hh"][...] = 0.0
    assert_array_equal(gru.forward(net, x).Y, y)


def test_an_optimiser_step_on_the_parameter_dict_trains_the_net() -> None:
    net, x, loss = make_net(22), inputs(23), make_loss(24)
    fwd = gru.forward(net, x)
    before, dY = loss(fwd.Y)
    grads = gru.backward(net, fwd, dY)
    opt = optim.SGD()
    delta, _ = opt.step(grads.as_dict(), opt.init(gru.parameters(net)), 1e-3)
    optim.apply(gru.parameters(net), delta)
    after = loss(gru.forward(net, x).Y)[0]
    assert before - after == pytest.approx(1e-3 * grads.norm() ** 2, rel=0.05)


# ---------------------------------------------------------------------------
# extremes and errors
# ---------------------------------------------------------------------------


def test_no_warnings_and_finite_results_at_huge_inputs() -> None:
    net = make_net(25)
    x = np.where(inputs(26) > 0, 1e4, -1e4)
    with np.errstate(all="raise"):
        fwd = gru.forward(net, x)
        g = gru.backward(net, fwd, np.ones_like(fwd.Y))
    assert np.all(np.isfinite(fwd.Y)) and np.isfinite(g.norm())


def test_bad_arguments_are_rejected() -> None:
    good = make_net().params
    with pytest.raises(ValueError, match="W_hr"):
        gru.GRU({k: v for k, v in good.items() if k != "W_hr"})
    with pytest.raises(ValueError, match="W_xh"):
        gru.GRU({**good, "W_xh": np.zeros((N_H + 1, N_IN))})
    with pytest.raises(ValueError, match="W_xc"):
        gru.GRU({**good, "W_xc": np.zeros((N_H, N_IN))})  # an LSTM name
    with pytest.raises(ValueError, match="update_bias"):
        gru.init(2, 3, 1, update_bias=math.nan, rng=0)
    with pytest.raises(ValueError, match="recurrent"):
        gru.init(2, 3, 1, recurrent="identity", rng=0)
    with pytest.raises(TypeError, match="rng"):
        gru.init(2, 3, 1, rng="seed")
    net, x = make_net(), inputs()
    with pytest.raises(ValueError, match="x"):
        gru.forward(net, np.zeros((B, 0, N_IN)))
    with pytest.raises(ValueError, match="x.*finite"):
        gru.forward(net, np.full((B, T, N_IN), np.nan))
    with pytest.raises(ValueError, match="h0"):
        gru.forward(net, x, np.zeros((B + 1, N_H)))
    with pytest.raises(TypeError, match="net"):
        gru.forward(lstm.init(N_IN, N_H, N_OUT, rng=0), x)
    fwd = gru.forward(net, x)
    with pytest.raises(ValueError, match="truncate"):
        gru.backward(net, fwd, np.zeros_like(fwd.Y), truncate=-1)
    with pytest.raises(TypeError, match="truncate"):
        gru.backward(net, fwd, np.zeros_like(fwd.Y), truncate=2.0)
