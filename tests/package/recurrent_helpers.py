"""What the unit tests of the gated cells (test_lstm.py, test_gru.py) share: sizes, inputs and a loss."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

B, T, N_IN, N_H, N_OUT = 3, 6, 3, 4, 2
TOL = 1e-7  # the relative error every gradient must reach (issue 11)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function written out, independent of gradlab's."""
    return 1.0 / (1.0 + np.exp(-z))


def make_gated_net(cell: ModuleType, seed: int = 0, **kw: Any) -> Any:
    """A net of ``cell`` (gradlab.lstm or gradlab.gru) with every bias nonzero, so every gradient is exercised."""
    net = cell.init(N_IN, N_H, N_OUT, rng=seed, **kw)
    rng = np.random.default_rng(seed + 100)
    for g in cell.GATES:
        net.params[f"b_{g}"][...] += 0.3 * rng.standard_normal(N_H)
    net.params["b_y"][...] = 0.3 * rng.standard_normal(N_OUT)
    return net


def make_loss(seed: int, mask: np.ndarray | None = None) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """A separable loss sum_t l_t(Y_t) with nonzero first and second derivatives: weights w and 0.5 Y^2."""
    w = np.random.default_rng(seed).standard_normal((B, T, N_OUT))
    m = np.ones((1, T, 1)) if mask is None else mask.reshape(1, T, 1).astype(float)

    def loss(Y: np.ndarray) -> tuple[float, np.ndarray]:
        return float(np.sum(m * (w * Y + 0.5 * Y**2))), m * (w + Y)

    return loss


def inputs(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((B, T, N_IN))


def lstm_reference_step(p: dict, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LSTM equations written out gate by gate, from the named parameters."""
    i = sigmoid(x @ p["W_xi"].T + h @ p["W_hi"].T + p["b_i"])
    f = sigmoid(x @ p["W_xf"].T + h @ p["W_hf"].T + p["b_f"])
    o = sigmoid(x @ p["W_xo"].T + h @ p["W_ho"].T + p["b_o"])
    ct = np.tanh(x @ p["W_xc"].T + h @ p["W_hc"].T + p["b_c"])
    c_new = f * c + i * ct
    return o * np.tanh(c_new), c_new


def gru_reference_step(p: dict, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The GRU equations written out gate by gate, from the named parameters (u -> 1 keeps the state)."""
    u = sigmoid(x @ p["W_xu"].T + h @ p["W_hu"].T + p["b_u"])
    r = sigmoid(x @ p["W_xr"].T + h @ p["W_hr"].T + p["b_r"])
    h_tilde = np.tanh(x @ p["W_xh"].T + (r * h) @ p["W_hh"].T + p["b_h"])
    return u * h + (1 - u) * h_tilde
