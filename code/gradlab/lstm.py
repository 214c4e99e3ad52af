r"""The long short-term memory cell (LSTM): a recurrent network with a gated, additive memory.

Notation as in :mod:`gradlab.bptt`: time steps :math:`t = 1, \dots, T`, a batch of sequences stored as
rows, inputs :math:`x^{(t)}` (B × n_in), hidden states :math:`h^{(t)}` and cell states :math:`c^{(t)}`
(B × n_h), with initial states :math:`h^{(0)}, c^{(0)}` (zeros unless given). Weight matrices are
(output size) × (input size), like :math:`W^{(l)}`. One step of the cell (Hochreiter & Schmidhuber, 1997,
with the forget gate of Gers, Schmidhuber & Cummins, 2000; no peepholes) reads

.. math::

    i^{(t)} &= \sigma\big(W_{xi} x^{(t)} + W_{hi} h^{(t-1)} + b_i\big), \\
    f^{(t)} &= \sigma\big(W_{xf} x^{(t)} + W_{hf} h^{(t-1)} + b_f\big), \\
    o^{(t)} &= \sigma\big(W_{xo} x^{(t)} + W_{ho} h^{(t-1)} + b_o\big), \\
    \tilde c^{(t)} &= \tanh\big(W_{xc} x^{(t)} + W_{hc} h^{(t-1)} + b_c\big), \\
    c^{(t)} &= f^{(t)} \odot c^{(t-1)} + i^{(t)} \odot \tilde c^{(t)}, \\
    h^{(t)} &= o^{(t)} \odot \tanh\big(c^{(t)}\big),

with the read-out :math:`\hat y^{(t)} = W_y h^{(t)} + b_y` at every step. The input gate :math:`i` decides
what is written to the cell, the forget gate :math:`f` what is kept, the output gate :math:`o` what is shown.

Why it helps gradients. Along the *cell path*, holding the gates fixed,
:math:`\partial c^{(t)}/\partial c^{(t-1)} = \operatorname{diag} f^{(t)}`, so

.. math:: \frac{\partial c^{(T)}}{\partial c^{(t)}}\Big|_\text{gates fixed} = \prod_{s=t+1}^{T} \operatorname{diag} f^{(s)}

(:func:`cell_path`): no weight matrix and no squashing slope, only forget gates. With :math:`f \equiv 1`
this is Hochreiter & Schmidhuber's *constant error carousel*. With a constant :math:`f = \sigma(b_f)`
the gain decays like :math:`\sigma(b_f)^{T-t} = e^{-(T-t)/\tau}` with the memory time
:math:`\tau = -1/\log\sigma(b_f)` (:func:`memory_time`): about 1.44 steps for the old default
:math:`b_f = 0`, 3.19 for :math:`b_f = 1` (Jozefowicz, Zaremba & Sutskever, 2015), and about
:math:`e^{b_f}` for large :math:`b_f`. The chrono initialisation of Tallec & Ollivier (2018) draws
:math:`b_f \sim \log\,\mathcal U(1, T_\text{max} - 1)` and :math:`b_i = -b_f`, spreading the memory times
of the units over :math:`1 \dots T_\text{max}`.

Parameters are the dict :attr:`LSTM.params` with the names above (``"W_xi"``, ``"W_hi"``, ``"b_i"``, ...,
``"W_y"``, ``"b_y"``). For speed the four gates are computed with ONE matrix product per step,
:math:`[x^{(t)}, h^{(t-1)}]\,W^\top` with :math:`W` the gates' weights stacked in the order i, f, o, c; the
named arrays are views into that stacked storage, so updating them in place (as :mod:`gradlab.optim`
does) updates the cell, and replacing one in the dict is noticed at the next step. Everything is float64.

:func:`forward` and :func:`backward` are :func:`gradlab.bptt.forward` and :func:`gradlab.bptt.backward`
with this module as the cell (full or truncated backpropagation through time).

References
----------
S. Hochreiter & J. Schmidhuber (1997), "Long short-term memory", *Neural Computation* 9(8), 1735-1780.
F. A. Gers, J. Schmidhuber & F. Cummins (2000), "Learning to forget: continual prediction with LSTM",
*Neural Computation* 12(10), 2451-2471.
R. Jozefowicz, W. Zaremba & I. Sutskever (2015), "An empirical exploration of recurrent network
architectures", *ICML*.
C. Tallec & Y. Ollivier (2018), "Can recurrent neural networks warp time?", *ICLR*.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from . import bptt
from . import init as initialisers
from ._validate import as_array, check_finite, check_instance, check_positive_int, check_real, check_rng, lookup

__all__ = [
    "STATE",
    "GATES",
    "PARAMS",
    "RECURRENT",
    "LSTM",
    "init",
    "step",
    "step_backward",
    "forward",
    "backward",
    "parameters",
    "memory_time",
    "cell_path",
]

Array = NDArray[np.float64]

#: The state of the cell, hidden state first (the read-out reads ``h``).
STATE: tuple[str, ...] = ("h", "c")
#: The gates in the order of the stacked weights (input, forget, output, candidate cell).
GATES: tuple[str, ...] = ("i", "f", "o", "c")
#: Every parameter name, the read-out last.
PARAMS: tuple[str, ...] = tuple(n for g in GATES for n in (f"W_x{g}", f"W_h{g}", f"b_{g}")) + ("W_y", "b_y")
#: Initialisations of the recurrent weights accepted by :func:`init`.
RECURRENT: tuple[str, ...] = ("orthogonal", "standard")


# ---------------------------------------------------------------------------
# Stacked storage shared with gradlab.gru (private)
# ---------------------------------------------------------------------------


def _check_params(params: Any, names: tuple[str, ...], gates: tuple[str, ...], cls: str) -> tuple[int, int, int]:
    """Check the parameter dict of a gated cell; return (n_in, n_h, n_out)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of named arrays, got {type(params).__name__}")
    missing = [k for k in names if k not in params]
    extra = [k for k in params if k not in names]
    if missing or extra:
        raise ValueError(f"params of {cls} must have exactly the keys {', '.join(names)}; "
                         f"missing {missing}, unexpected {extra}")
    for k in names:
        ndim = 1 if k.startswith("b_") else 2
        params[k] = check_finite(as_array(params[k], f"params[{k!r}]", ndim=ndim, dtype=np.float64), f"params[{k!r}]")
    g0 = gates[0]
    n_h = params[f"W_h{g0}"].shape[0]
    n_in = params[f"W_x{g0}"].shape[1]
    n_out = params["W_y"].shape[0]
    if n_h < 1 or n_in < 1 or n_out < 1:
        raise ValueError(f"params of {cls} must have n_in, n_h, n_out >= 1, got {n_in}, {n_h}, {n_out}")
    want = {"W_y": (n_out, n_h), "b_y": (n_out,)}
    for g in gates:
        want |= {f"W_x{g}": (n_h, n_in), f"W_h{g}": (n_h, n_h), f"b_{g}": (n_h,)}
    for k in names:
        if params[k].shape != want[k]:
            raise ValueError(f"params[{k!r}] must have shape {want[k]} (n_in={n_in}, n_h={n_h}, n_out={n_out}), "
                             f"got {params[k].shape}")
    return n_in, n_h, n_out


def _bind(net: Any, gates: tuple[str, ...]) -> None:
    """Copy the gates' named arrays into one stacked (W, b) and make the dict entries views of it.

    Row block k of ``W`` (rows k·n_h .. (k+1)·n_h) is gate ``gates[k]``; its first n_in columns are
    ``W_x<g>``, the last n_h are ``W_h<g>``.
    """
    p, n_in, n_h = net.params, net.n_in, net.n_h
    W = np.empty((len(gates) * n_h, n_in + n_h))
    b = np.empty(len(gates) * n_h)
    for k, g in enumerate(gates):
        rows = slice(k * n_h, (k + 1) * n_h)
        W[rows, :n_in], W[rows, n_in:], b[rows] = p[f"W_x{g}"], p[f"W_h{g}"], p[f"b_{g}"]
        p[f"W_x{g}"], p[f"W_h{g}"], p[f"b_{g}"] = W[rows, :n_in], W[rows, n_in:], b[rows]
    net._W, net._b = W, b
    net._views = tuple((k, p[k]) for g in gates for k in (f"W_x{g}", f"W_h{g}", f"b_{g}"))


def _stacked(net: Any) -> tuple[Array, Array]:
    """The stacked (W, b) of ``net``, rebuilt if an entry of ``net.params`` was replaced since."""
    p = net.params
    for k, v in net._views:
        if p.get(k) is not v:  # someone assigned a new array: re-check and re-stack
            net._restack()
            break
    return net._W, net._b


def _split_grads(dW: Array, db: Array, gates: tuple[str, ...], n_in: int, n_h: int) -> dict[str, Array]:
    """The stacked gradient (dW, db) as the named per-gate arrays (views)."""
    out = {}
    for k, g in enumerate(gates):
        rows = slice(k * n_h, (k + 1) * n_h)
        out[f"W_x{g}"], out[f"W_h{g}"], out[f"b_{g}"] = dW[rows, :n_in], dW[rows, n_in:], db[rows]
    return out


def _draw_weights(gates: tuple[str, ...], n_in: int, n_h: int, n_out: int, recurrent: str,
                  gen: np.random.Generator) -> dict[str, Array]:
    """Input weights N(0, 1/n_in), recurrent weights per gate orthogonal or N(0, 1/n_h), W_y N(0, 1/n_h), biases 0."""
    p: dict[str, Array] = {}
    for g in gates:
        p[f"W_x{g}"] = gen.standard_normal((n_h, n_in)) / math.sqrt(n_in)
        if recurrent == "orthogonal":
            p[f"W_h{g}"] = initialisers.orthogonal(n_h, n_h, rng=gen)
        else:
            p[f"W_h{g}"] = gen.standard_normal((n_h, n_h)) / math.sqrt(n_h)
        p[f"b_{g}"] = np.zeros(n_h)
    p["W_y"] = gen.standard_normal((n_out, n_h)) / math.sqrt(n_h)
    p["b_y"] = np.zeros(n_out)
    return p


def _memory_time(bias: ArrayLike, name: str) -> float | Array:
    # tau = -1/log sigma(b) = 1/softplus(-b). For b > 20, 1/log1p(e^-b) = e^b + 1/2 - e^-b/12 + ...
    # equals e^b + 1/2 to double precision and overflows to inf (not a warning) past b ~ 709.8;
    # logaddexp keeps softplus exact for very negative b, where tau ~ 1/|b| -> 0.
    b = as_array(bias, name, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", under="ignore", invalid="ignore"):
        big = b > 20
        tau = np.where(big, np.exp(np.where(big, b, 0.0)) + 0.5, 1.0 / np.logaddexp(0.0, -np.where(big, 0.0, b)))
    tau = np.where(np.isnan(b), np.nan, tau)
    return float(tau) if tau.ndim == 0 else tau


# ---------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------


@dataclass(eq=False)
class _GatedNet:
    """What the LSTM and the GRU share: named gate parameters kept as views into one stacked matrix.

    A copy (``copy``, :func:`copy.deepcopy`, pickling) gets storage of its own with the views
    re-bound: copied naively, the named arrays and the stacked matrix would part ways, and training
    the names would no longer change what the cell computes.
    """

    params: dict[str, Array]
    _W: Array = field(init=False, repr=False)
    _b: Array = field(init=False, repr=False)
    _views: tuple = field(init=False, repr=False, default=())
    _PARAMS: ClassVar[tuple[str, ...]] = ()
    _GATES: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        # a dict of its own: the caller's dict keeps the caller's arrays
        if isinstance(self.params, dict):
            self.params = dict(self.params)
        self._restack()

    def _restack(self) -> None:
        # check the named arrays and copy them into fresh stacked storage, in the SAME dict
        # (whoever holds parameters(net) keeps holding the net's arrays)
        self._sizes = _check_params(self.params, self._PARAMS, self._GATES, type(self).__name__)
        _bind(self, self._GATES)

    @property
    def n_in(self) -> int:
        """Input size."""
        return self._sizes[0]

    @property
    def n_h(self) -> int:
        """Number of hidden units (for an LSTM also of cell units)."""
        return self._sizes[1]

    @property
    def n_out(self) -> int:
        """Read-out size."""
        return self._sizes[2]

    def copy(self) -> Any:
        """A deep copy with its own stacked storage."""
        return type(self)({k: v.copy() for k, v in self.params.items()})

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = self.copy()
        memo[id(self)] = new
        return new

    def __getstate__(self) -> dict[str, Any]:
        return {"params": {k: np.array(v) for k, v in self.params.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.params = state["params"]
        self._restack()


@dataclass(eq=False)
class LSTM(_GatedNet):
    r"""An LSTM cell with a linear read-out; the parameters by name.

    Attributes
    ----------
    params : dict[str, numpy.ndarray]
        ``"W_x<g>"`` (n_h × n_in), ``"W_h<g>"`` (n_h × n_h), ``"b_<g>"`` (n_h,) for each gate
        g in :data:`GATES` (i, f, o, c), and the read-out ``"W_y"`` (n_out × n_h), ``"b_y"`` (n_out,).
        Checked and copied to float64 on construction; the gate arrays are then views into one
        stacked weight matrix (see the module docstring), the same objects :func:`parameters` returns.
    """

    _PARAMS: ClassVar[tuple[str, ...]] = PARAMS
    _GATES: ClassVar[tuple[str, ...]] = GATES


def _check_net(net: Any) -> LSTM:
    return check_instance(net, LSTM, "net")


def parameters(net: LSTM) -> dict[str, Array]:
    """The network's trainable arrays by name (:data:`PARAMS`): its own arrays, not copies.

    :func:`gradlab.optim.apply` on this dict trains ``net`` in place; the gradients of
    :func:`backward` (``.as_dict()``) carry the same names.
    """
    return _check_net(net).params


def init(n_in: int, n_h: int, n_out: int, *, forget_bias: float | str = 1.0, recurrent: str = "orthogonal",
         t_max: float | None = None, rng: np.random.Generator | int) -> LSTM:
    r"""A freshly initialised LSTM.

    Input weights :math:`W_{x\cdot} \sim \mathcal N(0, 1/n_\text{in})`; recurrent weights
    :math:`W_{h\cdot}` drawn per gate, Haar-orthogonal (``recurrent="orthogonal"``, the default) or
    :math:`\mathcal N(0, 1/n_h)` (``"standard"``); read-out :math:`W_y \sim \mathcal N(0, 1/n_h)`;
    :math:`b_i = b_o = b_c = 0`, :math:`b_y = 0`.

    Parameters
    ----------
    n_in, n_h, n_out : int
        Input, hidden and read-out sizes (≥ 1).
    forget_bias : float or "chrono"
        A number: every :math:`b_f` equals it (1.0 as Jozefowicz et al., 2015 recommend; 0 was the old
        default). ``"chrono"`` (Tallec & Ollivier, 2018): :math:`b_f = \log u`, :math:`u \sim \mathcal U(1, T_\text{max} - 1)`
        independently per unit, and :math:`b_i = -b_f`.
    recurrent : str
        One of :data:`RECURRENT`.
    t_max : float, optional
        The longest dependency expected, > 2; required with ``"chrono"`` and only then.
    rng : numpy.random.Generator or int
        The randomness (required).
    """
    n_in, n_h, n_out = (check_positive_int(v, k) for v, k in ((n_in, "n_in"), (n_h, "n_h"), (n_out, "n_out")))
    recurrent = lookup({k: k for k in RECURRENT}, recurrent, "recurrent")
    if isinstance(forget_bias, str):
        if forget_bias != "chrono":
            raise ValueError(f"forget_bias must be a number or 'chrono', got {forget_bias!r}")
        if t_max is None:
            raise ValueError("t_max is required with forget_bias='chrono'")
        t_max = check_real(t_max, "t_max")
        if not t_max > 2:
            raise ValueError(f"t_max must be > 2 for the chrono initialisation, got {t_max}")
    else:
        forget_bias = check_real(forget_bias, "forget_bias")
        if t_max is not None:
            raise ValueError("t_max only applies to forget_bias='chrono'")
    gen = check_rng(rng, "rng")
    p = _draw_weights(GATES, n_in, n_h, n_out, recurrent, gen)
    if forget_bias == "chrono":
        p["b_f"] = np.log(gen.uniform(1.0, t_max - 1.0, size=n_h))
        p["b_i"] = -p["b_f"]
    else:
        p["b_f"] = np.full(n_h, forget_bias)
    return LSTM(p)


# ---------------------------------------------------------------------------
# One step (the cell protocol of gradlab.bptt)
# ---------------------------------------------------------------------------


def step(net: LSTM, x_t: Array, state: tuple[Array, Array]) -> tuple[tuple[Array, Array], Any]:
    r"""One LSTM step: :math:`(h^{(t-1)}, c^{(t-1)}), x^{(t)} \mapsto (h^{(t)}, c^{(t)})`.

    Parameters
    ----------
    net : LSTM
    x_t : numpy.ndarray
        :math:`x^{(t)}`, shape (B, n_in).
    state : tuple of numpy.ndarray
        :math:`(h^{(t-1)}, c^{(t-1)})`, each (B, n_h).

    Returns
    -------
    state : tuple of numpy.ndarray
        :math:`(h^{(t)}, c^{(t)})`.
    cache
        What :func:`step_backward` needs (private; :func:`cell_path` reads the forget gate from it).

    Not checked, for speed: :func:`gradlab.bptt.forward` checks the arguments once per sequence.
    """
    W, b = _stacked(net)
    n = net.n_h
    h, c = state
    xh = np.concatenate((x_t, h), axis=1)
    a = xh @ W.T
    a += b
    s = expit(a[:, : 3 * n])  # i, f, o in one call; expit never overflows
    i, f, o = s[:, :n], s[:, n : 2 * n], s[:, 2 * n :]
    g = np.tanh(a[:, 3 * n :])
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    return (o * tc, c_new), (xh, s, g, c, tc)


def step_backward(net: LSTM, cache: Any, dstate: tuple[Array, Array]) -> tuple[dict[str, Array], tuple[Array, Array], Array]:
    r"""Backward through one step: from :math:`(\partial L/\partial h^{(t)}, \partial L/\partial c^{(t)})`.

    With :math:`\bar c = \partial L/\partial c^{(t)} + \partial L/\partial h^{(t)} \odot o \odot (1 - \tanh^2 c^{(t)})`
    (the cell's own gradient plus the path through :math:`h^{(t)}`):
    :math:`\partial L/\partial c^{(t-1)} = \bar c \odot f`, and the gates' pre-activations get
    :math:`\bar c \odot \tilde c \odot i(1-i)`, :math:`\bar c \odot c^{(t-1)} \odot f(1-f)`,
    :math:`\partial L/\partial h^{(t)} \odot \tanh c^{(t)} \odot o(1-o)` and
    :math:`\bar c \odot i \odot (1-\tilde c^2)`; one matrix product sends them to the weights and one to
    :math:`[x^{(t)}, h^{(t-1)}]`.

    Returns
    -------
    grads : dict[str, numpy.ndarray]
        This step's gradient of every gate parameter (not ``W_y``, ``b_y``), summed over the batch.
    dstate_prev : tuple of numpy.ndarray
        :math:`(\partial L/\partial h^{(t-1)}, \partial L/\partial c^{(t-1)})` through this step.
    dx_t : numpy.ndarray
        :math:`\partial L/\partial x^{(t)}`, shape (B, n_in).
    """
    W, _ = _stacked(net)
    n, n_in = net.n_h, net.n_in
    xh, s, g, c_prev, tc = cache
    dh, dc = dstate
    i, f, o = s[:, :n], s[:, n : 2 * n], s[:, 2 * n :]
    dc_bar = dc + dh * o * (1.0 - tc * tc)
    da = np.empty((xh.shape[0], 4 * n))
    da[:, : 3 * n] = s * (1.0 - s)
    da[:, :n] *= dc_bar * g
    da[:, n : 2 * n] *= dc_bar * c_prev
    da[:, 2 * n : 3 * n] *= dh * tc
    da[:, 3 * n :] = dc_bar * i * (1.0 - g * g)
    dW = da.T @ xh
    db = da.sum(axis=0)
    dxh = da @ W
    return _split_grads(dW, db, GATES, n_in, n), (dxh[:, n_in:], dc_bar * f), dxh[:, :n_in]


# ---------------------------------------------------------------------------
# Sequences (through gradlab.bptt) and the cell path
# ---------------------------------------------------------------------------


def forward(net: LSTM, x: ArrayLike, h0: ArrayLike | None = None, c0: ArrayLike | None = None) -> bptt.SeqForward:
    r"""Run the LSTM over a batch of sequences: :func:`gradlab.bptt.forward` with this cell.

    Parameters
    ----------
    net : LSTM
    x : array_like
        Inputs, shape (B, T, n_in).
    h0, c0 : array_like, optional
        Initial states :math:`h^{(0)}, c^{(0)}`, shape (B, n_h), or (n_h,) for one state shared by the
        batch; zeros when omitted.

    Returns
    -------
    gradlab.bptt.SeqForward
        ``states["h"]`` and ``states["c"]`` (B, T+1, n_h), the read-outs ``Y`` (B, T, n_out).
    """
    net = _check_net(net)
    # bptt checks h0 and c0 (shape (B, n_h) or (n_h,)) and puts zeros where one is None
    return bptt.forward(sys.modules[__name__], net, x, {"h": h0, "c": c0})


def backward(net: LSTM, fwd: bptt.SeqForward, dY: ArrayLike, *, truncate: int | None = None) -> bptt.SeqGradients:
    r"""Backpropagation through time for the LSTM: :func:`gradlab.bptt.backward` with this cell.

    Parameters
    ----------
    net : LSTM
    fwd : gradlab.bptt.SeqForward
        From :func:`forward` on the same ``net``.
    dY : array_like
        :math:`\partial L/\partial \hat y^{(t)}`, shape (B, T, n_out).
    truncate : int, optional
        None for full BPTT, k ≥ 1 for BPTT(k) (see :func:`gradlab.bptt.backward`).

    Returns
    -------
    gradlab.bptt.SeqGradients
        Gradients of every parameter, and ``dstates["h"]``, ``dstates["c"]``: for t ≥ 1 the gradient
        w.r.t. the state component at step t with the other component held fixed, so
        ``dstates["c"][:, t]`` is what reaches :math:`c^{(t)}` from step t+1 on; index 0 is the gradient
        w.r.t. :math:`h^{(0)}, c^{(0)}`.
    """
    net = _check_net(net)
    return bptt.backward(sys.modules[__name__], net, fwd, dY, truncate=truncate)


def memory_time(forget_bias: ArrayLike) -> float | Array:
    r"""The memory time :math:`\tau = -1/\log\sigma(b_f)` of the cell path with constant forget gate :math:`\sigma(b_f)`.

    Then :math:`\partial c^{(t)}/\partial c^{(s)} = \sigma(b_f)^{t-s} = e^{-(t-s)/\tau}`: :math:`\tau` is
    the lag over which the gain falls by :math:`e`. :math:`\tau(0) = 1/\log 2 \approx 1.44`,
    :math:`\tau(1) \approx 3.19`, :math:`\tau \approx e^{b_f} + 1/2` for large :math:`b_f` (``inf`` past
    :math:`b_f \approx 709.8`, where :math:`e^{b_f}` overflows), :math:`\tau \approx 1/|b_f|` for very
    negative :math:`b_f`.

    Parameters
    ----------
    forget_bias : float or array_like
        :math:`b_f`, any real (NaN gives NaN).

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar, else an array of the same shape.
    """
    return _memory_time(forget_bias, "forget_bias")


def cell_path(fwd: bptt.SeqForward) -> Array:
    r"""The gain of the cell path from :math:`c^{(t)}` to :math:`c^{(T)}`, gates held fixed.

    .. math:: P^{(t)} = \prod_{s=t+1}^{T} f^{(s)} = \frac{\partial c^{(T)}}{\partial c^{(t)}}\Big|_{i, f, o, \tilde c\ \text{fixed}},
              \qquad t = 0, \dots, T,

    elementwise per unit (the Jacobian is diagonal), with :math:`P^{(T)} = 1`: the constant-error
    carousel's gain over lag T − t.

    Parameters
    ----------
    fwd : gradlab.bptt.SeqForward
        From :func:`forward`.

    Returns
    -------
    numpy.ndarray
        Shape (B, T+1, n_h).
    """
    caches = getattr(fwd, "caches", None)
    states = getattr(fwd, "states", None)
    if not isinstance(caches, list) or not isinstance(states, dict) or "c" not in states:
        raise TypeError(f"fwd must be the SeqForward of gradlab.lstm.forward, got {type(fwd).__name__}")
    if not caches or not all(isinstance(k, tuple) and len(k) == 5 for k in caches):
        raise TypeError("fwd must be the SeqForward of gradlab.lstm.forward (its caches are not an LSTM's)")
    n = states["c"].shape[2]
    f = np.stack([k[1][:, n : 2 * n] for k in caches], axis=1)  # (B, T, n_h): f^(1..T)
    B, T = f.shape[0], f.shape[1]
    P = np.ones((B, T + 1, n))
    # P^(t) = f^(t+1) P^(t+1): a reversed cumulative product
    P[:, :T] = np.cumprod(f[:, ::-1], axis=1)[:, ::-1]
    return P
