r"""The Elman (vanilla) recurrent network, a cell for :mod:`gradlab.bptt`.

For t = 1..T, with :math:`h^{(0)}` the initial state (zeros unless given),

.. math::

    z^{(t)} = W_{hh} h^{(t-1)} + W_{xh} x^{(t)} + b_h, \qquad h^{(t)} = g\big(z^{(t)}\big), \qquad
    \hat y^{(t)} = W_y h^{(t)} + b_y,

with :math:`g` any activation of :mod:`gradlab.activations` (``"tanh"``, ``"relu"``; ``"sigmoid"`` for
the :math:`\gamma = 1/4` case of Pascanu et al.). One step's Jacobian is

.. math:: \frac{\partial h^{(t)}}{\partial h^{(t-1)}} = \operatorname{diag}\big(g'(z^{(t)})\big)\, W_{hh},

the *same* matrix :math:`W_{hh}` at every step (:func:`jacobians`), so the gradient a loss at step
:math:`t` sends back :math:`t - s` steps is a product of :math:`t - s` such factors: with
:math:`|g'| \le \gamma`, it vanishes geometrically when the largest singular value of :math:`W_{hh}` is
below :math:`1/\gamma` (Pascanu, Mikolov & Bengio, 2013).

Parameters (``net.params``): ``"W_hh"`` (n_h x n_h), ``"W_xh"`` (n_h x n_in), ``"b_h"`` (n_h,),
``"W_y"`` (n_out x n_h), ``"b_y"`` (n_out,). Batches are rows: the code computes ``h @ W_hh.T``.

Initial recurrent weights (:func:`init`): ``"standard"`` :math:`\mathcal N(0, s^2/n_h)`, ``"identity"``
:math:`s I` (the IRNN of Le, Jaitly & Hinton, 2015, meant for :math:`g` = ReLU) and ``"orthogonal"``
:math:`s Q` with :math:`Q` Haar-random orthogonal.

References
----------
J. L. Elman (1990), "Finding structure in time", *Cognitive Science* 14(2), 179-211.
R. Pascanu, T. Mikolov & Y. Bengio (2013), "On the difficulty of training recurrent neural networks", *ICML*.
Q. V. Le, N. Jaitly & G. E. Hinton (2015), "A simple way to initialize recurrent networks of rectified
linear units", arXiv:1504.00941.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, bptt
from ._validate import as_array, check_finite, check_instance, check_nonnegative, check_positive_int, check_rng, lookup
from .init import _haar

__all__ = [
    "STATE", "PARAMS", "RECURRENT", "RNN", "init", "step", "step_backward",
    "forward", "backward", "parameters", "jacobians",
]

Array = NDArray[np.float64]

#: The state this cell carries, the hidden state only.
STATE: tuple[str, ...] = ("h",)
#: Parameter names, in a fixed order.
PARAMS: tuple[str, ...] = ("W_hh", "W_xh", "b_h", "W_y", "b_y")
#: Initialisations of the recurrent matrix accepted by :func:`init`.
RECURRENT: tuple[str, ...] = ("standard", "identity", "orthogonal")


@dataclass
class RNN:
    r"""An Elman network: its parameters and its activation.

    Attributes
    ----------
    params : dict[str, numpy.ndarray]
        ``"W_hh"`` (n_h, n_h), ``"W_xh"`` (n_h, n_in), ``"b_h"`` (n_h,), ``"W_y"`` (n_out, n_h),
        ``"b_y"`` (n_out,); finite float64. The dict holds the net's own arrays
        (:mod:`gradlab.optim` updates them in place).
    g : Activation
        The activation :math:`g`; a name is looked up in :mod:`gradlab.activations`.
    """

    params: dict[str, Array]
    g: activations.Activation | str = "tanh"

    def __post_init__(self) -> None:
        if not isinstance(self.params, dict):
            raise TypeError(f"params must be a dict {{name: array}}, got {type(self.params).__name__}")
        if sorted(self.params) != sorted(PARAMS):
            raise ValueError(f"params must have exactly the keys {list(PARAMS)}, got {sorted(self.params)}")
        p = {}
        for name in PARAMS:
            arr = as_array(self.params[name], f"params[{name!r}]", ndim=1 if name.startswith("b") else 2,
                           dtype=np.float64)
            p[name] = check_finite(np.ascontiguousarray(arr), f"params[{name!r}]")
        n_h = p["W_hh"].shape[0]
        n_in = p["W_xh"].shape[1]
        n_out = p["W_y"].shape[0]
        expected = {"W_hh": (n_h, n_h), "W_xh": (n_h, n_in), "b_h": (n_h,), "W_y": (n_out, n_h), "b_y": (n_out,)}
        for name, shape in expected.items():
            if p[name].shape != shape:
                raise ValueError(f"params[{name!r}] must have shape {shape} (n_h = {n_h}, n_in = {n_in}, "
                                 f"n_out = {n_out}), got {p[name].shape}")
        if min(n_h, n_in, n_out) < 1:
            raise ValueError(f"every width must be >= 1, got n_in = {n_in}, n_h = {n_h}, n_out = {n_out}")
        self.params.update(p)
        self.g = activations.get(self.g)

    @property
    def n_in(self) -> int:
        """Input features per step."""
        return int(self.params["W_xh"].shape[1])

    @property
    def n_h(self) -> int:
        """Hidden units."""
        return int(self.params["W_hh"].shape[0])

    @property
    def n_out(self) -> int:
        """Read-out outputs per step."""
        return int(self.params["W_y"].shape[0])

    def copy(self) -> "RNN":
        """A deep copy (new arrays)."""
        return RNN({k: v.copy() for k, v in self.params.items()}, self.g)


def _check(net: Any) -> RNN:
    return check_instance(net, RNN, "net")


def init(
    n_in: int,
    n_h: int,
    n_out: int,
    *,
    activation: str | activations.Activation = "tanh",
    recurrent: str = "standard",
    scale: float = 1.0,
    input_scale: float = 1.0,
    rng: np.random.Generator | int,
) -> RNN:
    r"""A freshly initialised :class:`RNN`.

    :math:`W_{hh}` is drawn per ``recurrent`` with scale :math:`s` = ``scale``: ``"standard"``
    :math:`\mathcal N(0, s^2/n_h)` entries (largest singular value about :math:`2s` for large
    :math:`n_h`, spectral radius about :math:`s`); ``"identity"`` :math:`sI` (IRNN);
    ``"orthogonal"`` :math:`sQ`, Haar-random :math:`Q` (every singular value :math:`s`).
    :math:`W_{xh} \sim \mathcal N(0, \text{input\_scale}^2/n_{in})`, :math:`W_y \sim \mathcal N(0, 1/n_h)`,
    biases 0. Draws in the order :math:`W_{hh}, W_{xh}, W_y` from ``rng``.
    """
    n_in = check_positive_int(n_in, "n_in")
    n_h = check_positive_int(n_h, "n_h")
    n_out = check_positive_int(n_out, "n_out")
    g = activations.get(activation)
    kind = lookup({k: k for k in RECURRENT}, recurrent, "recurrent")
    scale = check_nonnegative(scale, "scale")
    input_scale = check_nonnegative(input_scale, "input_scale")
    gen = check_rng(rng)
    if kind == "standard":
        W_hh = gen.standard_normal((n_h, n_h)) * (scale / np.sqrt(n_h))
    elif kind == "identity":
        W_hh = scale * np.eye(n_h)
    else:
        W_hh = scale * _haar(n_h, n_h, gen)
    W_xh = gen.standard_normal((n_h, n_in)) * (input_scale / np.sqrt(n_in))
    W_y = gen.standard_normal((n_out, n_h)) / np.sqrt(n_h)
    return RNN({"W_hh": W_hh, "W_xh": W_xh, "b_h": np.zeros(n_h), "W_y": W_y, "b_y": np.zeros(n_out)}, g)


def step(net: RNN, x_t: Array, state: tuple[Array, ...]) -> tuple[tuple[Array, ...], Any]:
    r"""One step, :math:`h^{(t)} = g(W_{hh} h^{(t-1)} + W_{xh} x^{(t)} + b_h)`; returns ``((h,), cache)``.

    ``x_t`` is (B, n_in) and ``state`` is ``(h_prev,)`` with ``h_prev`` (B, n_h); unchecked (this is
    the inner loop of :func:`gradlab.bptt.forward`, which checks its arguments).
    """
    p = net.params
    h_prev = state[0]
    z = h_prev @ p["W_hh"].T + x_t @ p["W_xh"].T + p["b_h"]
    h = net.g.g(z)
    return (h,), (h_prev, x_t, z, h)


def step_backward(net: RNN, cache: Any, dstate: tuple[Array, ...]) -> tuple[dict[str, Array], tuple[Array, ...], Array]:
    r"""Backward through one step: with :math:`\delta^{(t)} = g'(z^{(t)}) \odot \partial L/\partial h^{(t)}`,

    .. math:: \partial W_{hh} = \delta^{(t)\top} h^{(t-1)}, \quad \partial W_{xh} = \delta^{(t)\top} x^{(t)},
              \quad \partial b_h = \textstyle\sum_b \delta^{(t)}, \quad
              \partial h^{(t-1)} = \delta^{(t)} W_{hh}, \quad \partial x^{(t)} = \delta^{(t)} W_{xh}.

    Returns ``({"W_hh", "W_xh", "b_h"}, (dh_prev,), dx_t)``.
    """
    p = net.params
    h_prev, x_t, z, h = cache
    delta = dstate[0] * net.g.slope(z, h)
    grads = {"W_hh": delta.T @ h_prev, "W_xh": delta.T @ x_t, "b_h": delta.sum(axis=0)}
    return grads, (delta @ p["W_hh"],), delta @ p["W_xh"]


_CELL = sys.modules[__name__]


def forward(net: RNN, x: ArrayLike, h0: ArrayLike | None = None) -> bptt.SeqForward:
    r"""Run the network over ``x`` (B, T, n_in) from ``h0`` ((B, n_h) or (n_h,); zeros if None).

    See :func:`gradlab.bptt.forward`; ``fwd.H[:, t]`` is :math:`h^{(t)}`, ``fwd.Y[:, t-1]`` is :math:`\hat y^{(t)}`.
    """
    _check(net)
    return bptt.forward(_CELL, net, x, None if h0 is None else (h0,))


def backward(net: RNN, fwd: bptt.SeqForward, dY: ArrayLike, *, truncate: int | None = None) -> bptt.SeqGradients:
    r"""Full or truncated BPTT (``truncate=k``) for ``dY`` = :math:`\partial L/\partial\hat y`, (B, T, n_out).

    See :func:`gradlab.bptt.backward`.
    """
    _check(net)
    return bptt.backward(_CELL, net, fwd, dY, truncate=truncate)


def parameters(net: RNN) -> dict[str, Array]:
    """The net's own parameter arrays by name (a new dict, the same arrays: updating them updates the net)."""
    return dict(_check(net).params)


def jacobians(net: RNN, fwd: bptt.SeqForward) -> Array:
    r"""The step Jacobians :math:`\partial h^{(t)}/\partial h^{(t-1)} = \operatorname{diag}(g'(z^{(t)}))\,W_{hh}`.

    Parameters
    ----------
    net : RNN
    fwd : SeqForward
        From :func:`forward` with this net.

    Returns
    -------
    numpy.ndarray
        Shape (B, T, n_h, n_h); ``[:, t-1]`` is the Jacobian of step t. The product
        ``J[:, t-1] @ ... @ J[:, s]`` is :math:`\partial h^{(t)}/\partial h^{(s)}`.
    """
    _check(net)
    if not isinstance(fwd, bptt.SeqForward):
        raise TypeError(f"fwd must be a gradlab.bptt.SeqForward, got {type(fwd).__name__}")
    p = net.params
    H = fwd.states["h"]
    if H.shape[2] != net.n_h or fwd.x.shape[2] != net.n_in:
        raise ValueError(f"fwd must come from this net (n_h = {net.n_h}, n_in = {net.n_in}), got states of width "
                         f"{H.shape[2]} and inputs of width {fwd.x.shape[2]}")
    z = H[:, :-1] @ p["W_hh"].T + fwd.x @ p["W_xh"].T + p["b_h"]
    slope = net.g.dg(z)
    return slope[..., :, None] * p["W_hh"]
