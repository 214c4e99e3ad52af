r"""Backpropagation through time (BPTT), written once for every recurrent cell.

A recurrent network reads a sequence :math:`x^{(1)}, \dots, x^{(T)}` (each a batch, :math:`B \times n_{in}`,
one row per example) and carries a state from step to step: the hidden state
:math:`h^{(t)}` (:math:`B \times n_h`) and, for an LSTM, a cell :math:`c^{(t)}` as well. The state
:math:`h^{(0)}` (and :math:`c^{(0)}`) is the initial state, zeros unless given. A *cell* computes one step,

.. math:: \big(h^{(t)}, \dots\big) = \mathrm{step}\big(x^{(t)}, (h^{(t-1)}, \dots)\big), \qquad t = 1, \dots, T,

with weights shared by all steps, and every model reads out

.. math:: \hat y^{(t)} = W_y h^{(t)} + b_y, \qquad t = 1, \dots, T .

Unrolled in time the network is a deep network of depth :math:`T` with one weight matrix repeated
in every layer; backpropagation through it (Werbos, 1990) is BPTT. With
:math:`\partial L/\partial h^{(t)}` the *total* derivative (through every later step),

.. math:: \frac{\partial L}{\partial h^{(t-1)}} = \Big(\frac{\partial h^{(t)}}{\partial h^{(t-1)}}\Big)^{\!\top}
          \frac{\partial L}{\partial h^{(t)}} + W_y^\top \frac{\partial L}{\partial \hat y^{(t-1)}},

so the gradient that a loss at step :math:`t` sends to step :math:`s` is multiplied by the product of
the :math:`t - s` Jacobians :math:`\partial h^{(r)}/\partial h^{(r-1)}`, :math:`r = s+1..t`: it vanishes or
explodes with the lag :math:`t - s`.

**Truncated BPTT(k)** (Williams & Peng, 1990): the loss term :math:`\ell_t` at step :math:`t` is
backpropagated through steps :math:`t, t-1, \dots, t-k+1` only; whatever would reach the state at
:math:`t - k` is dropped. The result is the exact gradient of
:math:`\sum_t \ell_t(\theta;\, \text{state}^{(t-k)}\ \text{held fixed})`, and
:math:`\partial L/\partial h^{(s)}` is exactly zero from every loss step at lag :math:`t - s \ge k`.
For :math:`k \ge T` the parameter gradients are those of full BPTT (for :math:`k > T` every output
is, bit for bit; at :math:`k = T` the lag-:math:`T` term of ``dstates[..., 0]`` is dropped).

**The cell protocol.** A cell is a module (or any object) with

* ``STATE``: a tuple of state names, ``("h",)`` or ``("h", "c")``; ``"h"`` first, the read-out reads it;
* ``step(net, x_t, state) -> (new_state, cache)``: ``x_t`` is :math:`B \times n_{in}`, ``state`` and
  ``new_state`` are tuples of :math:`B \times n_h` arrays in the order of ``STATE``;
* ``step_backward(net, cache, dstate) -> (dparams, dprev_state, dx_t)``: given the total gradient
  w.r.t. the new state (a tuple like ``state``), the gradients of the cell's *own* parameters for this
  step (a dict; :math:`W_y, b_y` are handled here), the gradient w.r.t. the previous state (a tuple)
  and w.r.t. ``x_t``.

A *net* is any object with a ``params`` dict of float64 arrays holding the cell's parameters and
``"W_y"`` (:math:`n_{out} \times n_h`), ``"b_y"`` (:math:`n_{out}`), and the integer properties ``n_in``,
``n_h`` and ``n_out``. Weight matrices are (rows = output size) :math:`\times` (columns = input size) like
:math:`W^{(l)}`; with examples as rows the code computes ``x @ W.T``.

References
----------
P. J. Werbos (1990), "Backpropagation through time: what it does and how to do it", *Proc. IEEE* 78(10).
R. J. Williams & J. Peng (1990), "An efficient gradient-based algorithm for on-line training of
recurrent network trajectories", *Neural Computation* 2(4), 490-501.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_finite, check_positive, check_positive_int
from .gradcheck import relative_error

__all__ = ["SeqForward", "SeqGradients", "forward", "backward", "gradient_check", "check_truncate"]

Array = NDArray[np.float64]


@dataclass
class SeqForward:
    r"""What :func:`forward` computed for a batch of sequences.

    Attributes
    ----------
    x : numpy.ndarray
        The inputs, shape (B, T, n_in); ``x[:, t-1]`` is :math:`x^{(t)}`.
    states : dict[str, numpy.ndarray]
        One array per name in the cell's ``STATE``, each (B, T+1, n_h); index 0 is the initial state,
        ``states["h"][:, t]`` is :math:`h^{(t)}`.
    Y : numpy.ndarray
        The read-outs :math:`\hat y^{(t)}`, shape (B, T, n_out); ``Y[:, t-1]`` is :math:`\hat y^{(t)}`.
    caches : list
        One cache per step, for the cell's ``step_backward`` (private).
    """

    x: Array
    states: dict[str, Array]
    Y: Array
    caches: list[Any] = field(repr=False)

    @property
    def H(self) -> Array:
        r"""The hidden states :math:`h^{(0)}, \dots, h^{(T)}`, shape (B, T+1, n_h): ``states["h"]``."""
        return self.states["h"]

    @property
    def T(self) -> int:
        """The sequence length T."""
        return int(self.x.shape[1])


@dataclass
class SeqGradients:
    r"""What :func:`backward` computed.

    Attributes
    ----------
    params : dict[str, numpy.ndarray]
        :math:`\partial L/\partial\theta` for every parameter of the net, :math:`W_y` and :math:`b_y`
        included: the same keys and shapes as ``net.params``.
    dstates : dict[str, numpy.ndarray]
        For each state name, shape (B, T+1, n_h): the total :math:`\partial L/\partial h^{(t)}` (and
        :math:`\partial L/\partial c^{(t)}`) for t = 0..T; index 0 is the gradient w.r.t. the initial
        state. Under truncation, only the terms the truncated backward pass carries.
    dx : numpy.ndarray
        :math:`\partial L/\partial x^{(t)}`, shape (B, T, n_in).
    """

    params: dict[str, Array]
    dstates: dict[str, Array]
    dx: Array

    @property
    def dH(self) -> Array:
        r""":math:`\partial L/\partial h^{(t)}`, t = 0..T, shape (B, T+1, n_h): ``dstates["h"]``."""
        return self.dstates["h"]

    def as_dict(self) -> dict[str, Array]:
        """The parameter gradients as a new dict ``{name: array}`` (what :mod:`gradlab.optim` steps with)."""
        return dict(self.params)

    def norm(self) -> float:
        r"""The global norm :math:`\big(\sum_\theta \|\partial L/\partial\theta\|_F^2\big)^{1/2}` over every parameter."""
        return float(np.sqrt(sum(float(np.vdot(g, g)) for g in self.params.values())))


def _net_params(net: Any) -> dict[str, Array]:
    params = getattr(net, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"net must be a recurrent net with a params dict (an RNN, LSTM or GRU), got {type(net).__name__}")
    for key in ("W_y", "b_y"):
        if key not in params:
            raise ValueError(f"net.params must hold the read-out {key!r}")
    return params


def _check_cell(cell: Any) -> tuple[str, ...]:
    names = getattr(cell, "STATE", None)
    if (not isinstance(names, tuple) or not names or names[0] != "h"
            or not callable(getattr(cell, "step", None)) or not callable(getattr(cell, "step_backward", None))):
        raise TypeError("cell must provide STATE (a tuple of state names starting with 'h'), step and step_backward "
                        f"(e.g. gradlab.rnn), got {cell!r:.80}")
    return names


def check_truncate(truncate: Any) -> int | None:
    """``None`` (full BPTT) or the truncation length k as an int >= 1; a TypeError/ValueError naming ``truncate``."""
    if truncate is None:
        return None
    return check_positive_int(truncate, "truncate")


def _initial_state(names: tuple[str, ...], state0: Any, B: int, n_h: int) -> tuple[Array, ...]:
    if state0 is None:
        given: Sequence[Any] = (None,) * len(names)
    elif isinstance(state0, Mapping):
        unknown = set(state0) - set(names)
        if unknown:
            raise ValueError(f"state0 has unknown state names {sorted(unknown)}; this cell's are {list(names)}")
        given = tuple(state0.get(k) for k in names)
    elif isinstance(state0, (tuple, list)):
        if len(state0) != len(names):
            raise ValueError(f"state0 must have one entry per state {list(names)}, got {len(state0)}")
        given = tuple(state0)
    else:
        raise TypeError(f"state0 must be None, a tuple in the order {list(names)} or a dict, got {type(state0).__name__}")
    out = []
    for name, s in zip(names, given):
        label = f"{name}0"
        if s is None:
            out.append(np.zeros((B, n_h)))
            continue
        arr = check_finite(as_array(s, label, dtype=np.float64), label)
        if arr.shape == (n_h,):  # one initial state shared by every sequence of the batch
            arr = np.broadcast_to(arr, (B, n_h))
        if arr.shape != (B, n_h):
            raise ValueError(f"{label} must have shape (B, n_h) = ({B}, {n_h}) or ({n_h},), got {arr.shape}")
        out.append(np.array(arr, dtype=np.float64))
    return tuple(out)


def forward(cell: Any, net: Any, x: ArrayLike, state0: Any = None) -> SeqForward:
    r"""Run ``cell`` over the sequences ``x`` and read out :math:`\hat y^{(t)} = W_y h^{(t)} + b_y`.

    Parameters
    ----------
    cell : module
        A cell following the protocol of this module (:mod:`gradlab.rnn`, :mod:`gradlab.lstm`, :mod:`gradlab.gru`).
    net : the cell's net
        E.g. a :class:`gradlab.rnn.RNN`.
    x : array_like
        Shape (B, T, n_in), finite, T >= 1.
    state0 : None, tuple or dict
        The initial state, zeros where ``None``; a tuple in the order of ``cell.STATE`` or a dict
        ``{"h": h0, "c": c0}``; each (B, n_h), or (n_h,) for one state shared by the batch.

    Returns
    -------
    SeqForward
    """
    names = _check_cell(cell)
    params = _net_params(net)
    x = as_array(x, "x", dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"x must be 3-dimensional (B, T, n_in), got shape {x.shape}")
    B, T, n_in = x.shape
    if T < 1:
        raise ValueError(f"x must hold sequences of length T >= 1, got T = {T}")
    if B < 1:
        raise ValueError("x must hold at least one sequence (B >= 1)")
    if n_in != net.n_in:
        raise ValueError(f"x must have n_in = {net.n_in} features per step (the net's), got {n_in}")
    check_finite(x, "x")
    n_h = net.n_h
    state = _initial_state(names, state0, B, n_h)
    # time-major storage, so that each step reads and writes one contiguous block; the
    # (B, T+1, n_h) arrays handed out are transposed views of it
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))
    store = {k: np.empty((T + 1, B, n_h)) for k in names}
    for k, s in zip(names, state):
        store[k][0] = s
    caches: list[Any] = []
    for t in range(T):
        state, cache = cell.step(net, xs[t], state)
        caches.append(cache)
        for k, s in zip(names, state):
            store[k][t + 1] = s
    states = {k: v.transpose(1, 0, 2) for k, v in store.items()}
    Y = states["h"][:, 1:] @ params["W_y"].T + params["b_y"]
    return SeqForward(x, states, Y, caches)


def backward(cell: Any, net: Any, fwd: SeqForward, dY: ArrayLike, *, truncate: int | None = None) -> SeqGradients:
    r"""Backpropagation through time: every parameter gradient and :math:`\partial L/\partial h^{(t)}` for all t.

    Parameters
    ----------
    cell : module
        The cell that produced ``fwd``.
    net : the cell's net
        The net that produced ``fwd`` (unchanged since).
    fwd : SeqForward
        From :func:`forward`.
    dY : array_like
        :math:`\partial L/\partial \hat y^{(t)}`, shape (B, T, n_out); zeros at steps without a loss.
    truncate : int or None
        ``None``: full BPTT. ``k`` (int >= 1): BPTT(k), see the module docstring; it costs
        about k backward sweeps where every step carries a loss, one short sweep per loss step otherwise.

    Returns
    -------
    SeqGradients
    """
    names = _check_cell(cell)
    params = _net_params(net)
    if not isinstance(fwd, SeqForward):
        raise TypeError(f"fwd must be a gradlab.bptt.SeqForward (from forward), got {type(fwd).__name__}")
    k = check_truncate(truncate)
    B, T, n_in = fwd.x.shape
    n_h = fwd.states["h"].shape[2]
    W_y = params["W_y"]
    dY = as_array(dY, "dY", dtype=np.float64)
    if dY.shape != fwd.Y.shape:
        raise ValueError(f"dY must have the shape of the read-outs (B, T, n_out) = {fwd.Y.shape}, got {dY.shape}")
    H = fwd.states["h"]
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    # the read-out is not recurrent: one matmul over every (batch, step) pair
    grads["W_y"] = np.tensordot(dY, H[:, 1:], axes=([0, 1], [0, 1]))
    grads["b_y"] = dY.sum(axis=(0, 1))
    # W_y^T dL/dy^(t), what the loss at step t injects into h^(t); time-major (T, B, n_h) like the stores below
    dh_out = np.ascontiguousarray(dY.transpose(1, 0, 2)) @ W_y
    has_loss = np.any(dY != 0, axis=(0, 2))  # steps whose loss term is not identically zero
    dstore = {name: np.zeros((T + 1, B, n_h)) for name in names}
    dxs = np.zeros((T, B, n_in))

    def sweep(channel: int | None) -> None:
        # One backward pass from step T to 1. channel None: full BPTT. Otherwise the loss steps
        # t with t % k == channel, whose windows t-k+1..t do not overlap: the carried gradient is
        # reset at each such step (that is what reaches state t-k from the loss at t+k, dropped).
        d: list[Array] | None = None  # None: nothing is carried (skip the step)
        for t in range(T, 0, -1):
            if channel is not None and t % k == channel:
                d = None
            if has_loss[t - 1] and (channel is None or t % k == channel):
                if d is None:
                    d = [np.zeros((B, n_h)) for _ in names]
                d[0] = d[0] + dh_out[t - 1]
            if d is None:
                continue
            for name, v in zip(names, d):
                dstore[name][t] += v
            dp, dprev, dx_t = cell.step_backward(net, fwd.caches[t - 1], tuple(d))
            for name, g in dp.items():
                grads[name] += g
            dxs[t - 1] += dx_t
            d = list(dprev)
        if d is not None and (channel is None or channel != 0):  # state 0 is at lag >= k in channel 0
            for name, v in zip(names, d):
                dstore[name][0] += v

    if k is None or k > T:
        sweep(None)
    else:
        for channel in range(k):
            sweep(channel)
    return SeqGradients(grads, {k: v.transpose(1, 0, 2) for k, v in dstore.items()}, dxs.transpose(1, 0, 2))


def _truncated_readouts(cell: Any, net: Any, fwd0: SeqForward, k: int) -> Array:
    """Read-outs where step t starts from the FIXED state at t-k of ``fwd0`` and runs k steps with net's weights."""
    names = cell.STATE
    params = net.params
    B, T, _ = fwd0.x.shape
    Y = np.empty_like(fwd0.Y)
    for t in range(1, T + 1):
        s0 = max(t - k, 0)
        state = tuple(fwd0.states[name][:, s0] for name in names)
        for s in range(s0 + 1, t + 1):
            state, _ = cell.step(net, fwd0.x[:, s - 1], state)
        Y[:, t - 1] = state[0] @ params["W_y"].T + params["b_y"]
    return Y


def gradient_check(
    cell: Any,
    net: Any,
    x: ArrayLike,
    loss: Callable[[Array], tuple[float, Array]],
    *,
    truncate: int | None = None,
    h: float = 1e-6,
    state0: Any = None,
) -> dict[str, float]:
    r"""Relative error of :func:`backward` against central differences, for every parameter.

    For each entry :math:`\theta_i` of each parameter,
    :math:`\big(F(\theta + h e_i) - F(\theta - h e_i)\big)/2h`, with :math:`F(\theta)` the value ``loss(Y)[0]``
    for the read-outs of a forward pass with those weights. With ``truncate=k``, :math:`F` is the
    fixed-state objective that BPTT(k) differentiates exactly: the read-out at step t comes from k
    steps run with the perturbed weights from the *unperturbed* state at :math:`t - k` (or from the
    initial state when :math:`t \le k`). Everything in float64; ``net`` is perturbed in place and
    restored exactly.

    Parameters
    ----------
    cell, net : the cell and its net
    x : array_like
        Inputs, (B, T, n_in); keep B, T and the widths small (each entry costs two forward passes).
    loss : callable
        ``loss(Y) -> (value, dY)``: a scalar loss of the read-outs and its gradient :math:`\partial L/\partial\hat y`.
    truncate : int or None
        As in :func:`backward`.
    h : float
        The step of the central difference.
    state0 : optional
        The initial state, as in :func:`forward`.

    Returns
    -------
    dict[str, float]
        ``{parameter name: relative error}`` (:func:`gradlab.gradcheck.relative_error`).
    """
    if not callable(loss):
        raise TypeError(f"loss must be callable, returning (value, dY), got {type(loss).__name__}")
    k = check_truncate(truncate)
    h = check_positive(h, "h")
    fwd = forward(cell, net, x, state0)
    _, dY = loss(fwd.Y)
    analytic = backward(cell, net, fwd, dY, truncate=k).params
    if k is None:
        def F() -> float:
            return float(loss(forward(cell, net, fwd.x, state0).Y)[0])
    else:
        def F() -> float:
            return float(loss(_truncated_readouts(cell, net, fwd, k))[0])
    out: dict[str, float] = {}
    for name, p in net.params.items():
        numeric = np.empty_like(p)
        for i in np.ndindex(p.shape):  # p is the net's own array, perturbed in place and restored
            orig = p[i]
            p[i] = orig + h
            f_plus = F()
            p[i] = orig - h
            f_minus = F()
            p[i] = orig
            numeric[i] = (f_plus - f_minus) / (2 * h)
        out[name] = relative_error(analytic[name], numeric)
    return out
