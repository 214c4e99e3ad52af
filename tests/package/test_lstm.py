"""Tests for gradlab.lstm: one step against the equations written gate by gate, the gradients w.r.t. the
states at every step (full and truncated BPTT) against central differences, the cell path against
the saved forget gates and against finite differences, memory-time closed forms, the chrono
initialisation's bounds and law, the stacked storage behind the named parameters, and argument errors.
The parameter gradient checks and copy tests it shares with the GRU are in test_gated_cells.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import gradcheck, gru, lstm, optim

from recurrent_helpers import B, N_H, N_IN, N_OUT, T, TOL, inputs, make_gated_net, make_loss
from recurrent_helpers import lstm_reference_step, sigmoid as _sig


def make_net(seed: int = 0, **kw) -> lstm.LSTM:
    return make_gated_net(lstm, seed, **kw)


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------


def test_forward_matches_the_equations_gate_by_gate() -> None:
    net, x = make_net(), inputs()
    rng = np.random.default_rng(5)
    h0, c0 = rng.standard_normal((B, N_H)), rng.standard_normal((B, N_H))
    fwd = lstm.forward(net, x, h0, c0)
    h, c = h0, c0
    for t in range(1, T + 1):
        h, c = lstm_reference_step(net.params, x[:, t - 1], h, c)
        assert_allclose(fwd.states["h"][:, t], h, rtol=1e-13, atol=1e-14)
        assert_allclose(fwd.states["c"][:, t], c, rtol=1e-13, atol=1e-14)
        assert_allclose(fwd.Y[:, t - 1], h @ net.params["W_y"].T + net.params["b_y"], rtol=1e-13, atol=1e-14)
    assert_array_equal(fwd.states["h"][:, 0], h0)
    assert_array_equal(fwd.states["c"][:, 0], c0)
    assert_array_equal(fwd.H, fwd.states["h"])


def test_initial_states_default_to_zero_and_broadcast() -> None:
    net, x = make_net(), inputs()
    zero = lstm.forward(net, x)
    assert_array_equal(zero.states["h"][:, 0], 0.0)
    assert_array_equal(zero.states["c"][:, 0], 0.0)
    assert_array_equal(lstm.forward(net, x, np.zeros((B, N_H)), np.zeros((B, N_H))).Y, zero.Y)
    c0 = np.linspace(-1, 1, N_H)
    shared = lstm.forward(net, x, c0=c0)
    assert_array_equal(shared.states["c"][:, 0], np.broadcast_to(c0, (B, N_H)))
    assert_array_equal(shared.states["h"][:, 0], 0.0)
    assert_array_equal(shared.Y, lstm.forward(net, x, np.zeros(N_H), np.tile(c0, (B, 1))).Y)


def test_states_are_bounded() -> None:
    # |h| < 1 always; |c^(t)| <= |c^(t-1)| + 1 since f, i in (0,1) and |c~| < 1
    fwd = lstm.forward(make_net(), 3 * inputs())
    assert np.all(np.abs(fwd.states["h"]) < 1)
    assert np.all(np.abs(np.diff(fwd.states["c"], axis=1)) <= np.abs(fwd.states["c"][:, :-1]) + 1)


# ---------------------------------------------------------------------------
# backward: every parameter, full and truncated, against central differences
# ---------------------------------------------------------------------------


def _loss_from_state(net: lstm.LSTM, fwd, loss, t: int, h: np.ndarray, c: np.ndarray) -> float:
    """The loss when the state at step t is replaced by (h, c) and steps t+1..T are run again."""
    Y = fwd.Y.copy()
    if t >= 1:
        Y[:, t - 1] = h @ net.params["W_y"].T + net.params["b_y"]
    for s in range(t + 1, T + 1):
        h, c = lstm_reference_step(net.params, fwd.x[:, s - 1], h, c)
        Y[:, s - 1] = h @ net.params["W_y"].T + net.params["b_y"]
    return loss(Y)[0]


def test_dstates_are_the_gradients_wrt_the_state_at_every_step() -> None:
    # dstates[name][:, t]: perturb that state component at step t (the other held), run on, difference
    net, loss = make_net(2), make_loss(4)
    rng = np.random.default_rng(3)
    fwd = lstm.forward(net, inputs(3), rng.standard_normal((B, N_H)), rng.standard_normal((B, N_H)))
    g = lstm.backward(net, fwd, loss(fwd.Y)[1])
    for t in range(T + 1):
        h, c = fwd.states["h"][:, t], fwd.states["c"][:, t]
        num_h = gradcheck.numerical_gradient(lambda v: _loss_from_state(net, fwd, loss, t, v, c), h)
        num_c = gradcheck.numerical_gradient(lambda v: _loss_from_state(net, fwd, loss, t, h, v), c)
        assert gradcheck.relative_error(g.dstates["h"][:, t], num_h) <= TOL, t
        assert gradcheck.relative_error(g.dstates["c"][:, t], num_c) <= TOL, t
    assert_array_equal(g.dH, g.dstates["h"])


def test_dstates_at_t0_are_the_gradients_wrt_h0_and_c0_through_forward() -> None:
    net, x, loss = make_net(5), inputs(6), make_loss(7)
    rng = np.random.default_rng(8)
    h0, c0 = rng.standard_normal((B, N_H)), rng.standard_normal((B, N_H))
    fwd = lstm.forward(net, x, h0, c0)
    g = lstm.backward(net, fwd, loss(fwd.Y)[1])
    num_h = gradcheck.numerical_gradient(lambda v: loss(lstm.forward(net, x, v, c0).Y)[0], h0)
    num_c = gradcheck.numerical_gradient(lambda v: loss(lstm.forward(net, x, h0, v).Y)[0], c0)
    assert gradcheck.relative_error(g.dstates["h"][:, 0], num_h) <= TOL
    assert gradcheck.relative_error(g.dstates["c"][:, 0], num_c) <= TOL
    num_x = gradcheck.numerical_gradient(lambda v: loss(lstm.forward(net, v, h0, c0).Y)[0], x)
    assert gradcheck.relative_error(g.dx, num_x) <= TOL


@pytest.mark.parametrize("k", [1, 2, 4])
def test_truncated_dstates_vanish_beyond_lag_k_and_are_exact_within(k: int) -> None:
    mask = np.zeros(T, bool)
    mask[-1] = True  # one loss step, T: lag T - s for state s
    net, loss = make_net(9), make_loss(10, mask)
    fwd = lstm.forward(net, inputs(11))
    dY = loss(fwd.Y)[1]
    full, trunc = lstm.backward(net, fwd, dY), lstm.backward(net, fwd, dY, truncate=k)
    for name in lstm.STATE:
        for s in range(T + 1):
            if T - s >= k:
                assert_array_equal(trunc.dstates[name][:, s], 0.0)
            else:
                assert_allclose(trunc.dstates[name][:, s], full.dstates[name][:, s], rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------
# the cell path and the memory time
# ---------------------------------------------------------------------------


def test_cell_path_is_the_product_of_the_forget_gates() -> None:
    net, x = make_net(12), inputs(13)
    fwd = lstm.forward(net, x)
    p = net.params
    f = np.stack([_sig(x[:, t - 1] @ p["W_xf"].T + fwd.states["h"][:, t - 1] @ p["W_hf"].T + p["b_f"])
                  for t in range(1, T + 1)], axis=1)  # f^(1..T)
    P = lstm.cell_path(fwd)
    assert P.shape == (B, T + 1, N_H)
    assert_array_equal(P[:, T], 1.0)
    for t in range(T + 1):
        assert_allclose(P[:, t], np.prod(f[:, t:], axis=1), rtol=1e-13)
    assert np.all(np.diff(P, axis=1) >= 0)  # more forget gates, smaller gain


def test_cell_path_is_the_jacobian_of_the_cell_recurrence_with_gates_fixed() -> None:
    # c^(s) = f^(s) c^(s-1) + i^(s) c~^(s) with the saved gates: d c^(T) / d c^(t) by central differences
    net, x = make_net(14), inputs(15)
    fwd = lstm.forward(net, x)
    p = net.params
    H = fwd.states["h"]
    gates = []
    for s in range(1, T + 1):
        xs, hs = x[:, s - 1], H[:, s - 1]
        gates.append((_sig(xs @ p["W_xf"].T + hs @ p["W_hf"].T + p["b_f"]),
                      _sig(xs @ p["W_xi"].T + hs @ p["W_hi"].T + p["b_i"]) * np.tanh(xs @ p["W_xc"].T + hs @ p["W_hc"].T + p["b_c"])))
    P = lstm.cell_path(fwd)
    for t in range(T + 1):
        for j in range(N_H):
            def cT(v: np.ndarray) -> float:
                c = fwd.states["c"][:, t].copy()
                c[:, j] = v
                for f, ic in gates[t:]:
                    c = f * c + ic
                return float(c[:, j].sum())  # unit j of each sequence; the Jacobian is diagonal
            num = gradcheck.numerical_gradient(lambda v: cT(v), fwd.states["c"][:, t, j])
            assert_allclose(num, P[:, t, j], rtol=1e-8)


def test_cell_path_is_the_true_cell_gradient_when_gates_ignore_the_state() -> None:
    # with W_h = 0 for every gate nothing depends on h, so d c^(T)/d c^(0) of the network is the cell path
    net, x = make_net(16), inputs(17)
    for g in lstm.GATES:
        net.params[f"W_h{g}"][...] = 0.0
    fwd = lstm.forward(net, x)
    c0 = np.zeros((B, N_H))
    for j in range(N_H):
        num = gradcheck.numerical_gradient(
            lambda v: float(lstm.forward(net, x, None, np.column_stack([v if i == j else c0[:, i] for i in range(N_H)]))
                            .states["c"][:, T, j].sum()), c0[:, j])
        assert_allclose(num, lstm.cell_path(fwd)[:, 0, j], rtol=1e-8)


@pytest.mark.parametrize("b_f", [-1.0, 0.0, 1.0, 3.0])
def test_constant_forget_gate_gives_the_memory_time_decay(b_f: float) -> None:
    net = lstm.init(N_IN, N_H, N_OUT, forget_bias=b_f, rng=0)
    net.params["W_hf"][...] = 0.0
    fwd = lstm.forward(net, np.zeros((B, 10, N_IN)))  # x = 0, W_hf = 0: f = sigma(b_f) at every step
    lag = 10 - np.arange(11)
    expected = np.exp(-lag / lstm.memory_time(b_f))
    assert_allclose(lstm.cell_path(fwd), np.broadcast_to(expected[None, :, None], (B, 11, N_H)), rtol=1e-12)


def test_memory_time_closed_forms() -> None:
    assert lstm.memory_time(0.0) == pytest.approx(1 / math.log(2), rel=1e-15)
    assert lstm.memory_time(1.0) == pytest.approx(-1 / math.log(1 / (1 + math.exp(-1))), rel=1e-14)
    assert lstm.memory_time(1.0) == pytest.approx(3.19, abs=0.005)
    for b in np.linspace(-30, 30, 121):  # sigma(b)^tau = 1/e
        tau = lstm.memory_time(b)
        assert tau == pytest.approx(1 / np.log1p(np.exp(-b)), rel=1e-13)
        assert tau * np.log1p(np.exp(-b)) == pytest.approx(1.0, rel=1e-13)
    assert lstm.memory_time(40.0) == pytest.approx(math.exp(40) + 0.5, rel=1e-15)
    assert lstm.memory_time(-1e6) == pytest.approx(1e-6, rel=1e-12)
    assert isinstance(lstm.memory_time(2), float)


def test_memory_time_is_stable_and_vectorised() -> None:
    with np.errstate(all="raise"):
        taus = lstm.memory_time(np.array([[-np.inf, -800.0, 0.0], [20.0, 800.0, np.inf]]))
    assert taus.shape == (2, 3)
    assert taus[0, 0] == 0.0 and taus[1, 1] == np.inf and taus[1, 2] == np.inf
    assert np.all(np.diff(lstm.memory_time(np.linspace(-50, 700, 2001))) > 0)  # increasing in b
    assert lstm.memory_time(19.999999) == pytest.approx(lstm.memory_time(20.000001), rel=1e-5)  # no seam
    assert math.isnan(lstm.memory_time(float("nan")))
    with pytest.raises(TypeError, match="forget_bias"):
        lstm.memory_time("1.0")


# ---------------------------------------------------------------------------
# initialisation
# ---------------------------------------------------------------------------


def test_init_shapes_biases_and_orthogonal_recurrent_weights() -> None:
    net = lstm.init(5, 6, 2, rng=0)
    assert (net.n_in, net.n_h, net.n_out) == (5, 6, 2)
    assert set(lstm.parameters(net)) == set(lstm.PARAMS)
    for g in lstm.GATES:
        assert net.params[f"W_x{g}"].shape == (6, 5) and net.params[f"W_h{g}"].shape == (6, 6)
        assert_allclose(net.params[f"W_h{g}"] @ net.params[f"W_h{g}"].T, np.eye(6), atol=1e-13)
    for g in "ioc":
        assert_array_equal(net.params[f"b_{g}"], 0.0)
    assert_array_equal(net.params["b_f"], 1.0)
    assert_array_equal(net.params["b_y"], 0.0)
    assert not np.allclose(net.params["W_hi"], net.params["W_hf"])  # one draw per gate
    assert_array_equal(lstm.init(5, 6, 2, forget_bias=0, rng=0).params["b_f"], 0.0)
    assert_array_equal(lstm.init(5, 6, 2, rng=0).params["W_xc"], net.params["W_xc"])  # seeded


def test_init_variances() -> None:
    n_in, n_h = 50, 60
    net = lstm.init(n_in, n_h, 40, recurrent="standard", rng=1)
    W_x = np.concatenate([net.params[f"W_x{g}"] for g in lstm.GATES])
    W_h = np.concatenate([net.params[f"W_h{g}"] for g in lstm.GATES])
    # sample variances of 12000 / 14400 / 2400 normal entries: relative standard error <= 3 %
    assert W_x.var() * n_in == pytest.approx(1.0, abs=0.06)
    assert W_h.var() * n_h == pytest.approx(1.0, abs=0.06)
    assert net.params["W_y"].var() * n_h == pytest.approx(1.0, abs=0.15)
    assert abs(np.linalg.svd(net.params["W_hf"], compute_uv=False)[0] - 1) > 0.5  # not orthogonal


def test_chrono_bias_bounds_and_law() -> None:
    t_max, n_h = 30.0, 800
    net = lstm.init(1, n_h, 1, forget_bias="chrono", t_max=t_max, recurrent="standard", rng=2)
    b_f = net.params["b_f"]
    assert np.all(b_f >= 0) and np.all(b_f <= math.log(t_max - 1))
    assert_array_equal(net.params["b_i"], -b_f)
    assert_array_equal(net.params["b_o"], 0.0)
    assert_array_equal(net.params["b_c"], 0.0)
    u = np.exp(b_f)  # U(1, t_max - 1): mean t_max/2, sd (t_max - 2)/sqrt(12)
    assert abs(u.mean() - t_max / 2) < 4 * (t_max - 2) / math.sqrt(12 * n_h)
    assert abs(np.mean(u < 1 + (t_max - 2) / 4) - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n_h)
    # memory times spread over the range: shortest near 1/log 2-ish, longest near t_max
    taus = lstm.memory_time(b_f)
    assert taus.min() < 2.5 and taus.max() > 0.9 * (t_max - 1)


# ---------------------------------------------------------------------------
# the named parameters are the stacked storage
# ---------------------------------------------------------------------------


def test_in_place_updates_and_replacements_reach_the_cell() -> None:
    net, x = make_net(20), inputs(21)
    fresh = lambda: lstm.LSTM({k: v.copy() for k, v in net.params.items()})  # noqa: E731
    lstm.parameters(net)["W_hf"][0, 1] += 0.5  # in place, as gradlab.optim does
    assert_array_equal(lstm.forward(net, x).Y, lstm.forward(fresh(), x).Y)
    held = lstm.parameters(net)
    net.params["W_xc"] = net.params["W_xc"] * 2.0  # a new array in the dict
    y = lstm.forward(net, x).Y
    assert_array_equal(y, lstm.forward(fresh(), x).Y)
    assert net.params["W_xc"].base is not None  # re-stacked: views again
    assert lstm.parameters(net) is held  # in the same dict, so an optimiser holding it still trains net
    clone = net.copy()
    clone.params["b_o"][...] = 5.0
    assert_array_equal(lstm.forward(net, x).Y, y)


def test_construction_leaves_the_callers_dict_alone() -> None:
    given = {k: v.copy() for k, v in make_net(27).params.items()}
    originals = dict(given)
    a, b = lstm.LSTM(given), lstm.LSTM(given)
    assert all(given[k] is originals[k] for k in given)
    a.params["W_hi"][...] = 0.0
    assert_array_equal(b.params["W_hi"], given["W_hi"])
    assert not np.all(given["W_hi"] == 0)


def test_an_optimiser_step_on_the_parameter_dict_trains_the_net() -> None:
    net, x, loss = make_net(22), inputs(23), make_loss(24)
    fwd = lstm.forward(net, x)
    before, dY = loss(fwd.Y)
    grads = lstm.backward(net, fwd, dY)
    opt = optim.SGD()
    delta, _ = opt.step(grads.as_dict(), opt.init(lstm.parameters(net)), 1e-3)
    optim.apply(lstm.parameters(net), delta)
    after = loss(lstm.forward(net, x).Y)[0]
    assert after < before
    assert before - after == pytest.approx(1e-3 * grads.norm() ** 2, rel=0.05)  # first-order decrease


# ---------------------------------------------------------------------------
# extremes and errors
# ---------------------------------------------------------------------------


def test_no_warnings_and_finite_results_at_huge_inputs() -> None:
    net = make_net(25)
    x = np.where(inputs(26) > 0, 1e4, -1e4)
    with np.errstate(all="raise"):
        fwd = lstm.forward(net, x)
        g = lstm.backward(net, fwd, np.ones_like(fwd.Y), truncate=3)
        P = lstm.cell_path(fwd)
    assert np.all(np.isfinite(fwd.Y)) and np.isfinite(g.norm()) and np.all(np.isfinite(P))


def test_bad_parameters_are_rejected() -> None:
    good = make_net().params
    missing = {k: v for k, v in good.items() if k != "b_f"}
    with pytest.raises(ValueError, match="b_f"):
        lstm.LSTM(missing)
    with pytest.raises(ValueError, match="W_extra"):
        lstm.LSTM({**good, "W_extra": np.zeros(2)})
    with pytest.raises(ValueError, match="W_hc"):
        lstm.LSTM({**good, "W_hc": np.zeros((N_H, N_H + 1))})
    with pytest.raises(ValueError, match="b_y"):
        lstm.LSTM({**good, "b_y": np.zeros(N_OUT + 1)})
    with pytest.raises(ValueError, match="W_xo.*finite"):
        lstm.LSTM({**good, "W_xo": np.full((N_H, N_IN), np.nan)})
    with pytest.raises(ValueError, match="b_i.*1-dimensional"):
        lstm.LSTM({**good, "b_i": np.zeros((N_H, 1))})
    with pytest.raises(TypeError, match="params"):
        lstm.LSTM([1, 2])


def test_bad_init_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_h"):
        lstm.init(2, 0, 1, rng=0)
    with pytest.raises(TypeError, match="n_in"):
        lstm.init(2.0, 3, 1, rng=0)
    with pytest.raises(ValueError, match="forget_bias"):
        lstm.init(2, 3, 1, forget_bias="chrone", rng=0)
    with pytest.raises(ValueError, match="forget_bias"):
        lstm.init(2, 3, 1, forget_bias=math.inf, rng=0)
    with pytest.raises(ValueError, match="t_max"):
        lstm.init(2, 3, 1, forget_bias="chrono", rng=0)
    with pytest.raises(ValueError, match="t_max"):
        lstm.init(2, 3, 1, forget_bias="chrono", t_max=2, rng=0)
    with pytest.raises(ValueError, match="t_max"):
        lstm.init(2, 3, 1, forget_bias=1.0, t_max=10, rng=0)
    with pytest.raises(ValueError, match="recurrent"):
        lstm.init(2, 3, 1, recurrent="identity", rng=0)
    with pytest.raises(TypeError, match="rng"):
        lstm.init(2, 3, 1, rng=None)


def test_bad_sequence_arguments_are_rejected() -> None:
    net, x = make_net(), inputs()
    with pytest.raises(ValueError, match="x"):
        lstm.forward(net, x[:, :, :2])
    with pytest.raises(ValueError, match="x"):
        lstm.forward(net, x[0])
    with pytest.raises(ValueError, match="h0"):
        lstm.forward(net, x, np.zeros((B, N_H + 1)))
    with pytest.raises(ValueError, match="c0"):
        lstm.forward(net, x, None, np.full((B, N_H), np.inf))
    with pytest.raises(TypeError, match="net"):
        lstm.forward(gru.init(N_IN, N_H, N_OUT, rng=0), x)
    fwd = lstm.forward(net, x)
    with pytest.raises(ValueError, match="dY"):
        lstm.backward(net, fwd, np.zeros((B, T, N_OUT + 1)))
    with pytest.raises(ValueError, match="truncate"):
        lstm.backward(net, fwd, np.zeros_like(fwd.Y), truncate=0)
    with pytest.raises(TypeError, match="truncate"):
        lstm.backward(net, fwd, np.zeros_like(fwd.Y), truncate=True)
    with pytest.raises(TypeError, match="fwd"):
        lstm.cell_path(gru.forward(gru.init(N_IN, N_H, N_OUT, rng=0), x))
    with pytest.raises(TypeError, match="fwd"):
        lstm.cell_path(np.zeros((B, T, N_H)))

