r"""The gated recurrent unit (GRU): a recurrent network that interpolates between keeping and rewriting its state.

Notation as in :mod:`gradlab.bptt`: time steps :math:`t = 1, \dots, T`, a batch of sequences stored as
rows, inputs :math:`x^{(t)}` (B × n_in), hidden states :math:`h^{(t)}` (B × n_h), :math:`h^{(0)}` zeros
unless given; weight matrices are (output size) × (input size). One step of the cell (Cho et al., 2014)
reads

.. math::

    u^{(t)} &= \sigma\big(W_{xu} x^{(t)} + W_{hu} h^{(t-1)} + b_u\big), \qquad
    r^{(t)} = \sigma\big(W_{xr} x^{(t)} + W_{hr} h^{(t-1)} + b_r\big), \\
    \tilde h^{(t)} &= \tanh\big(W_{xh} x^{(t)} + W_{hh} (r^{(t)} \odot h^{(t-1)}) + b_h\big), \\
    h^{(t)} &= u^{(t)} \odot h^{(t-1)} + \big(1 - u^{(t)}\big) \odot \tilde h^{(t)},

with the read-out :math:`\hat y^{(t)} = W_y h^{(t)} + b_y` at every step. The *update gate* is called
:math:`u` here, not :math:`z` as in Cho et al., because :math:`z` is the linear part of a layer
everywhere else in the book; :math:`r` is the *reset gate*. Conventions differ between papers and
libraries on which side of the interpolation the gate multiplies: here :math:`u \to 1` keeps the old
state, so :math:`u` plays the role of the LSTM's forget gate.

Why it helps gradients. :math:`\partial h^{(t)}/\partial h^{(t-1)} = \operatorname{diag} u^{(t)} +
\operatorname{diag}(1-u^{(t)})\, \partial\tilde h^{(t)}/\partial h^{(t-1)}`: the first term is a path with
no weight matrix and no squashing slope, a leaky copy of the state. When :math:`u` is near 1 and
:math:`\tilde h` barely depends on :math:`h^{(t-1)}`, the gain over a lag :math:`t - s` is about
:math:`\prod u`; with a constant :math:`u = \sigma(b_u)` that is :math:`e^{-(t-s)/\tau}` with the memory
time :math:`\tau = -1/\log\sigma(b_u)` (:func:`memory_time`), as for the LSTM's forget gate.

Parameters are the dict :attr:`GRU.params` (``"W_xu"``, ``"W_hu"``, ``"b_u"``, ``"W_xr"``, ``"W_hr"``,
``"b_r"``, ``"W_xh"``, ``"W_hh"``, ``"b_h"``, ``"W_y"``, ``"b_y"``). For speed they are stored stacked,
u, r, h̃ in that order, and a step takes two matrix products, one for both gates on
:math:`[x^{(t)}, h^{(t-1)}]` and one for the candidate on :math:`[x^{(t)}, r^{(t)} \odot h^{(t-1)}]` (it
needs :math:`r^{(t)}` first). The named arrays are views into that storage, so updating them in place
(as :mod:`gradlab.optim` does) updates the cell, and replacing one in the dict is noticed at the next
step. Everything is float64.

:func:`forward` and :func:`backward` are :func:`gradlab.bptt.forward` and :func:`gradlab.bptt.backward`
with this module as the cell (full or truncated backpropagation through time).

References
----------
K. Cho, B. van Merriënboer, C. Gulcehre, D. Bahdanau, F. Bougares, H. Schwenk & Y. Bengio (2014),
"Learning phrase representations using RNN encoder-decoder for statistical machine translation", *EMNLP*.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from . import bptt
from ._validate import check_instance, check_positive_int, check_real, check_rng, lookup
from .lstm import _GatedNet, _draw_weights, _memory_time, _split_grads, _stacked

__all__ = [
    "STATE",
    "GATES",
    "PARAMS",
    "RECURRENT",
    "GRU",
    "init",
    "step",
    "step_backward",
    "forward",
    "backward",
    "parameters",
    "memory_time",
]

Array = NDArray[np.float64]

#: The state of the cell, the hidden state only.
STATE: tuple[str, ...] = ("h",)
#: The blocks of the stacked weights (update gate, reset gate, candidate state h̃).
GATES: tuple[str, ...] = ("u", "r", "h")
#: Every parameter name, the read-out last.
PARAMS: tuple[str, ...] = tuple(n for g in GATES for n in (f"W_x{g}", f"W_h{g}", f"b_{g}")) + ("W_y", "b_y")
#: Initialisations of the recurrent weights accepted by :func:`init`.
RECURRENT: tuple[str, ...] = ("orthogonal", "standard")


@dataclass(eq=False)
class GRU(_GatedNet):
    r"""A GRU cell with a linear read-out; the parameters by name.

    Attributes
    ----------
    params : dict[str, numpy.ndarray]
        ``"W_x<g>"`` (n_h × n_in), ``"W_h<g>"`` (n_h × n_h), ``"b_<g>"`` (n_h,) for g in :data:`GATES`
        (u, r, h), and the read-out ``"W_y"`` (n_out × n_h), ``"b_y"`` (n_out,). Checked and copied to
        float64 on construction; the gate arrays are then views into one stacked weight matrix (see the
        module docstring), the same objects :func:`parameters` returns.
    """

    _PARAMS: ClassVar[tuple[str, ...]] = PARAMS
    _GATES: ClassVar[tuple[str, ...]] = GATES


def _check_net(net: Any) -> GRU:
    return check_instance(net, GRU, "net")


def parameters(net: GRU) -> dict[str, Array]:
    """The network's trainable arrays by name (:data:`PARAMS`): its own arrays, not copies.

    :func:`gradlab.optim.apply` on this dict trains ``net`` in place; the gradients of
    :func:`backward` (``.as_dict()``) carry the same names.
    """
    return _check_net(net).params


def init(n_in: int, n_h: int, n_out: int, *, update_bias: float = 0.0, recurrent: str = "orthogonal",
         rng: np.random.Generator | int) -> GRU:
    r"""A freshly initialised GRU.

    Input weights :math:`W_{x\cdot} \sim \mathcal N(0, 1/n_\text{in})`; recurrent weights :math:`W_{h\cdot}`
    drawn per block, Haar-orthogonal (``recurrent="orthogonal"``, the default) or :math:`\mathcal N(0, 1/n_h)`
    (``"standard"``); read-out :math:`W_y \sim \mathcal N(0, 1/n_h)`; :math:`b_u` = ``update_bias``,
    the other biases 0.

    Parameters
    ----------
    n_in, n_h, n_out : int
        Input, hidden and read-out sizes (≥ 1).
    update_bias : float
        :math:`b_u`: positive values start the units near :math:`u = 1`, keeping their state longer
        (memory time :func:`memory_time`).
    recurrent : str
        One of :data:`RECURRENT`.
    rng : numpy.random.Generator or int
        The randomness (required).
    """
    n_in, n_h, n_out = (check_positive_int(v, k) for v, k in ((n_in, "n_in"), (n_h, "n_h"), (n_out, "n_out")))
    update_bias = check_real(update_bias, "update_bias")
    recurrent = lookup({k: k for k in RECURRENT}, recurrent, "recurrent")
    p = _draw_weights(GATES, n_in, n_h, n_out, recurrent, check_rng(rng, "rng"))
    p["b_u"] = np.full(n_h, update_bias)
    return GRU(p)


def step(net: GRU, x_t: Array, state: tuple[Array]) -> tuple[tuple[Array], Any]:
    r"""One GRU step: :math:`h^{(t-1)}, x^{(t)} \mapsto h^{(t)}`.

    Parameters
    ----------
    net : GRU
    x_t : numpy.ndarray
        :math:`x^{(t)}`, shape (B, n_in).
    state : tuple of numpy.ndarray
        :math:`(h^{(t-1)},)`, shape (B, n_h).

    Returns
    -------
    state : tuple of numpy.ndarray
        :math:`(h^{(t)},)`.
    cache
        What :func:`step_backward` needs (private).

    Not checked, for speed: :func:`gradlab.bptt.forward` checks the arguments once per sequence.
    """
    W, b = _stacked(net)
    n = net.n_h
    (h,) = state
    xh = np.concatenate((x_t, h), axis=1)
    a = xh @ W[: 2 * n].T
    a += b[: 2 * n]
    s = expit(a)  # u and r in one call
    u, r = s[:, :n], s[:, n:]
    xrh = np.concatenate((x_t, r * h), axis=1)
    ac = xrh @ W[2 * n :].T
    ac += b[2 * n :]
    hc = np.tanh(ac)
    return (hc + u * (h - hc),), (xh, xrh, s, hc)


def step_backward(net: GRU, cache: Any, dstate: tuple[Array]) -> tuple[dict[str, Array], tuple[Array], Array]:
    r"""Backward through one step, from :math:`\partial L/\partial h^{(t)}`.

    With :math:`\bar h = \partial L/\partial h^{(t)}`: the gate gets :math:`\bar h \odot (h^{(t-1)} - \tilde h)`,
    the candidate :math:`\bar h \odot (1 - u)`, and :math:`h^{(t-1)}` gets :math:`\bar h \odot u` directly plus
    what flows back through :math:`r \odot h^{(t-1)}` and through both gates.

    Returns
    -------
    grads : dict[str, numpy.ndarray]
        This step's gradient of every gate parameter (not ``W_y``, ``b_y``), summed over the batch.
    dstate_prev : tuple of numpy.ndarray
        :math:`(\partial L/\partial h^{(t-1)},)` through this step.
    dx_t : numpy.ndarray
        :math:`\partial L/\partial x^{(t)}`, shape (B, n_in).
    """
    W, _ = _stacked(net)
    n, n_in = net.n_h, net.n_in
    xh, xrh, s, hc = cache
    (dh,) = dstate
    h = xh[:, n_in:]
    u, r = s[:, :n], s[:, n:]
    da = np.empty((xh.shape[0], 3 * n))
    da[:, 2 * n :] = dh * (1.0 - u) * (1.0 - hc * hc)  # candidate pre-activation
    dxrh = da[:, 2 * n :] @ W[2 * n :]
    drh = dxrh[:, n_in:]
    da[:, : 2 * n] = s * (1.0 - s)
    da[:, :n] *= dh * (h - hc)
    da[:, n : 2 * n] *= drh * h
    dxh = da[:, : 2 * n] @ W[: 2 * n]
    dW = np.empty_like(W)
    dW[: 2 * n] = da[:, : 2 * n].T @ xh
    dW[2 * n :] = da[:, 2 * n :].T @ xrh
    db = da.sum(axis=0)
    dh_prev = dh * u + drh * r + dxh[:, n_in:]
    return _split_grads(dW, db, GATES, n_in, n), (dh_prev,), dxh[:, :n_in] + dxrh[:, :n_in]


def forward(net: GRU, x: ArrayLike, h0: ArrayLike | None = None) -> bptt.SeqForward:
    r"""Run the GRU over a batch of sequences: :func:`gradlab.bptt.forward` with this cell.

    Parameters
    ----------
    net : GRU
    x : array_like
        Inputs, shape (B, T, n_in).
    h0 : array_like, optional
        The initial state :math:`h^{(0)}`, shape (B, n_h), or (n_h,) for one state shared by the batch;
        zeros when omitted.

    Returns
    -------
    gradlab.bptt.SeqForward
        ``states["h"]`` (B, T+1, n_h) and the read-outs ``Y`` (B, T, n_out).
    """
    net = _check_net(net)
    return bptt.forward(sys.modules[__name__], net, x, {"h": h0})


def backward(net: GRU, fwd: bptt.SeqForward, dY: ArrayLike, *, truncate: int | None = None) -> bptt.SeqGradients:
    r"""Backpropagation through time for the GRU: :func:`gradlab.bptt.backward` with this cell.

    Parameters
    ----------
    net : GRU
    fwd : gradlab.bptt.SeqForward
        From :func:`forward` on the same ``net``.
    dY : array_like
        :math:`\partial L/\partial \hat y^{(t)}`, shape (B, T, n_out).
    truncate : int, optional
        None for full BPTT, k ≥ 1 for BPTT(k) (see :func:`gradlab.bptt.backward`).

    Returns
    -------
    gradlab.bptt.SeqGradients
        Gradients of every parameter and ``dstates["h"]``, the total :math:`\partial L/\partial h^{(t)}`,
        t = 0..T.
    """
    net = _check_net(net)
    return bptt.backward(sys.modules[__name__], net, fwd, dY, truncate=truncate)


def memory_time(update_bias: ArrayLike) -> float | Array:
    r"""The memory time :math:`\tau = -1/\log\sigma(b_u)` of the GRU's leaky copy with constant :math:`u = \sigma(b_u)`.

    The direct path :math:`h^{(t)} \leftarrow u \odot h^{(t-1)}` has gain :math:`\sigma(b_u)^{t-s} = e^{-(t-s)/\tau}`
    over lag :math:`t - s`. Same closed form as :func:`gradlab.lstm.memory_time`: :math:`\tau(0) = 1/\log 2`,
    :math:`\tau \approx e^{b_u} + 1/2` for large :math:`b_u` (``inf`` past about 709.8), :math:`\approx 1/|b_u|`
    for very negative :math:`b_u`.

    Parameters
    ----------
    update_bias : float or array_like
        :math:`b_u`, any real (NaN gives NaN).

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar, else an array of the same shape.
    """
    return _memory_time(update_bias, "update_bias")
