"""What the LSTM and the GRU must both do: BPTT, full and truncated, against central differences; copies that train.

Each test runs once per cell. The cells differ in their states (the LSTM carries h and c) and in one
initialisation knob each; :data:`CASES` holds those differences, the tests hold what is common.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import bptt, gradcheck, gru, lstm, seqtasks, train

from recurrent_helpers import (B, N_H, T, TOL, gru_reference_step, inputs, lstm_reference_step, make_gated_net,
                               make_loss)


def _lstm_step(p: dict, x: np.ndarray, state: tuple) -> tuple:
    return lstm_reference_step(p, x, *state)


def _gru_step(p: dict, x: np.ndarray, state: tuple) -> tuple:
    return (gru_reference_step(p, x, *state),)


# module, reference step on a tuple of states, state names, a start state for the gradient check,
# the init knob that moves the gates away from their defaults, and a recurrent weight to check by hand
CASES: dict[str, dict[str, Any]] = {
    "lstm": dict(mod=lstm, step=_lstm_step, states=("h", "c"),
                 state0={"h": 0.5 * np.ones((B, N_H)), "c": -0.3 * np.ones((B, N_H))},
                 knob={"forget_bias": 2.0}, weight="W_hf"),
    "gru": dict(mod=gru, step=_gru_step, states=("h",), state0={"h": 0.5 * np.ones((B, N_H))},
                knob={"update_bias": 0.5}, weight="W_hh"),
}
cells = pytest.mark.parametrize("cell", list(CASES))


@cells
@pytest.mark.parametrize("truncate", [None, 1, 2, 3, 5, T, T + 2])
def test_every_parameter_passes_the_gradient_check(cell: str, truncate: int | None) -> None:
    case = CASES[cell]
    mod = case["mod"]
    net = make_gated_net(mod, 1, **case["knob"])
    errs = bptt.gradient_check(mod, net, inputs(2), make_loss(3), truncate=truncate, state0=case["state0"])
    assert set(errs) == set(mod.PARAMS)
    assert max(errs.values()) <= TOL, errs


@cells
@pytest.mark.parametrize("truncate", [None, 2, 4])
def test_gradient_check_with_a_loss_at_the_last_step_only(cell: str, truncate: int | None) -> None:
    mod = CASES[cell]["mod"]
    mask = np.zeros(T, bool)
    mask[-1] = True
    net = make_gated_net(mod, 4, recurrent="standard")
    errs = bptt.gradient_check(mod, net, inputs(5), make_loss(6, mask), truncate=truncate)
    assert max(errs.values()) <= TOL, errs


def _fixed_state_objective(case: dict, net: Any, fwd: bptt.SeqForward, x: np.ndarray, k: int,
                           loss: Callable) -> Callable[[np.ndarray], float]:
    """F(theta) = sum_t l_t(y_t), y_t run k steps from the UNPERTURBED state at t-k: what BPTT(k) differentiates."""
    name = case["weight"]

    def F(theta: np.ndarray) -> float:
        net.params[name][...] = theta
        Y = np.empty_like(fwd.Y)
        for t in range(1, T + 1):
            s0 = max(t - k, 0)
            state = tuple(fwd.states[s][:, s0] for s in case["states"])
            for s in range(s0 + 1, t + 1):
                state = case["step"](net.params, x[:, s - 1], state)
            Y[:, t - 1] = state[0] @ net.params["W_y"].T + net.params["b_y"]
        return loss(Y)[0]

    return F


@cells
def test_truncated_gradient_is_the_gradient_of_the_fixed_state_objective_written_here(cell: str) -> None:
    # independent of bptt.gradient_check: the objective is written out with the reference equations
    case = CASES[cell]
    mod, name = case["mod"], case["weight"]
    k, net, x, loss = 2, make_gated_net(mod, 7), inputs(8), make_loss(9)
    fwd = mod.forward(net, x)
    grads = mod.backward(net, fwd, loss(fwd.Y)[1], truncate=k)
    theta0 = net.params[name].copy()
    numeric = gradcheck.numerical_gradient(_fixed_state_objective(case, net, fwd, x, k, loss), theta0)
    net.params[name][...] = theta0
    assert gradcheck.relative_error(grads.params[name], numeric) <= TOL
    # and it differs from the full gradient (truncation drops something here)
    full = mod.backward(net, fwd, loss(fwd.Y)[1])
    assert gradcheck.relative_error(full.params[name], grads.params[name]) > 1e-3


@cells
def test_truncation_at_or_beyond_T_is_full_bptt(cell: str) -> None:
    mod = CASES[cell]["mod"]
    net, x, loss = make_gated_net(mod, 0), inputs(), make_loss(0)
    fwd = mod.forward(net, x)
    dY = loss(fwd.Y)[1]
    full = mod.backward(net, fwd, dY)
    for k in (T, T + 1, 50):
        g = mod.backward(net, fwd, dY, truncate=k)
        for name in mod.PARAMS:
            assert_allclose(g.params[name], full.params[name], rtol=0, atol=1e-14)
    weight = CASES[cell]["weight"]
    assert_array_equal(mod.backward(net, fwd, dY, truncate=T + 1).params[weight], full.params[weight])


@cells
@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_copy_still_trains_through_its_named_arrays(cell: str, how: str) -> None:
    """Copies keep the named gate arrays as views of the stacked matrix the cell computes with.

    Copied naively, a view and its base become two arrays: optim.apply would then update names
    the forward pass never reads (train_recurrent deep-copies the net it trains).
    """
    mod = CASES[cell]["mod"]
    net = mod.init(2, 3, 1, rng=0)
    twin = {"copy": net.copy, "deepcopy": lambda: copy.deepcopy(net),
            "pickle": lambda: pickle.loads(pickle.dumps(net))}[how]()
    x = np.random.default_rng(1).standard_normal((2, 4, 2))
    before = mod.forward(twin, x).Y.copy()
    for name in mod.PARAMS:
        assert np.shares_memory(twin.params[name], twin._W) or np.shares_memory(twin.params[name], twin._b) \
            or name in ("W_y", "b_y")
        assert not np.shares_memory(twin.params[name], net.params[name])
    gate_weight = mod.PARAMS[0]  # an input-weight matrix of the first gate
    mod.parameters(twin)[gate_weight] += 0.5
    assert not np.allclose(mod.forward(twin, x).Y, before)
    assert_array_equal(mod.forward(net, x).Y, before)  # the original is untouched


@cells
def test_train_recurrent_changes_the_gate_weights(cell: str) -> None:
    mod = CASES[cell]["mod"]
    net = mod.init(2, 4, 1, rng=0)
    hist = train.train_recurrent(mod, net, lambda i: seqtasks.adding_problem(8, 6, rng=i), steps=3, lr=1e-2)
    trained = hist.network
    assert not np.allclose(trained._W, net._W)
    x = seqtasks.adding_problem(4, 6, rng=99).x
    # with the trained read-out put on the untrained cell, the outputs differ: the cell itself learned
    probe = net.copy()
    probe.params["W_y"][...] = trained.params["W_y"]
    probe.params["b_y"][...] = trained.params["b_y"]
    assert not np.allclose(mod.forward(probe, x).Y, mod.forward(trained, x).Y)
