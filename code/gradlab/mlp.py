r"""A deep fully connected network: forward and backward pass side by side.

The book's conventions, used everywhere:

* layers are numbered :math:`l = 1, \dots, L`; the input is :math:`a^{(0)} = x`;
* :math:`W^{(l)}` has shape :math:`n_l \times n_{l-1}` and
  :math:`z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}`, :math:`a^{(l)} = g(z^{(l)})`;
* a batch of :math:`B` examples is stored as *rows*, so in code
  ``z[l] = a[l-1] @ W[l].T + b[l]`` with shapes (B, n_l);
* every per-layer quantity is a ``dict`` keyed by the layer number, so
  ``net.W[1]`` is :math:`W^{(1)}` and ``fwd.a[0]`` is :math:`x`: the code
  indexes exactly like the maths.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, losses
from . import init as initialisers
from ._validate import as_array, check_finite, check_instance, check_nonnegative, check_positive_int, check_rng, check_widths

__all__ = ["Network", "Forward", "Gradients", "init_network", "forward", "backward", "loss_and_gradients", "resolve_loss",
           "check_net", "DEFAULT_LOSS"]

Array = NDArray[np.floating]

#: The loss of :func:`loss_and_gradients`, :func:`gradlab.train.train_sgd` and
#: :func:`gradlab.gradcheck.check_network` when none is named.
DEFAULT_LOSS = "softmax_cross_entropy"


@dataclass
class Network:
    r"""Weights :math:`W^{(l)}`, biases :math:`b^{(l)}` and activations of an MLP.

    Attributes
    ----------
    W : dict[int, numpy.ndarray]
        ``W[l]`` is :math:`W^{(l)}`, shape (n_l, n_{l-1}), for l = 1..L.
    b : dict[int, numpy.ndarray]
        ``b[l]`` is :math:`b^{(l)}`, shape (n_l,).
    hidden : Activation
        :math:`g` of layers 1..L-1.
    output : Activation
        Activation of layer L (``linear`` for softmax cross-entropy).
    """

    W: dict[int, Array]
    b: dict[int, Array]
    hidden: activations.Activation
    output: activations.Activation

    def __post_init__(self) -> None:
        if not isinstance(self.W, dict) or not isinstance(self.b, dict):
            raise TypeError("W and b must be dicts keyed by layer number 1..L")
        L = len(self.W)
        if L < 1 or sorted(self.W) != list(range(1, L + 1)):
            raise ValueError(f"W must have keys 1..L, got {sorted(self.W)}")
        if sorted(self.b) != sorted(self.W):
            raise ValueError(f"b must have the same layer keys as W (1..{L}), got {sorted(self.b)}")
        for l in range(1, L + 1):
            W = as_array(self.W[l], f"W[{l}]", ndim=2)
            b = as_array(self.b[l], f"b[{l}]", ndim=1, dtype=W.dtype)
            if b.shape[0] != W.shape[0]:
                raise ValueError(f"b[{l}] must have length n_{l} = {W.shape[0]}, got {b.shape[0]}")
            if l > 1 and W.shape[1] != self.W[l - 1].shape[0]:
                raise ValueError(
                    f"W[{l}] must have n_{l - 1} = {self.W[l - 1].shape[0]} columns, got shape {W.shape}"
                )
            self.W[l], self.b[l] = W, b
        self.hidden = activations.get(self.hidden)
        self.output = activations.get(self.output)

    @property
    def L(self) -> int:
        """Number of layers with weights (the input layer is not counted)."""
        return len(self.W)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Widths ``(n_0, n_1, ..., n_L)``."""
        return (self.W[1].shape[1],) + tuple(self.W[l].shape[0] for l in range(1, self.L + 1))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The floating dtype of the weights and of every computation with them."""
        return self.W[1].dtype

    def g(self, l: int) -> activations.Activation:
        """The activation of layer ``l``: hidden for l < L, output for l = L."""
        return self.output if l == self.L else self.hidden

    def copy(self) -> "Network":
        """A deep copy (training never modifies the network it was given)."""
        return Network(
            {l: W.copy() for l, W in self.W.items()},
            {l: b.copy() for l, b in self.b.items()},
            self.hidden,
            self.output,
        )


@dataclass
class Forward:
    """Everything the forward pass computed: ``a[0..L]`` and ``z[1..L]``, each (B, n_l).

    Attributes
    ----------
    a : dict[int, numpy.ndarray]
        ``a[l]`` is :math:`a^{(l)}`, shape (B, n_l), for l = 0..L; ``a[0]`` is the input.
    z : dict[int, numpy.ndarray]
        ``z[l]`` is :math:`z^{(l)}`, shape (B, n_l), for l = 1..L.
    """

    a: dict[int, Array]
    z: dict[int, Array]


@dataclass
class Gradients:
    r"""Backward-pass results for l = 1..L.

    Attributes
    ----------
    delta : dict[int, numpy.ndarray]
        ``delta[l]`` is :math:`\delta^{(l)} = \partial L/\partial z^{(l)}` per example,
        shape (B, n_l).
    dW : dict[int, numpy.ndarray]
        ``dW[l]`` is :math:`\partial L/\partial W^{(l)}`, shape (n_l, n_{l-1}), summed over
        the batch.
    db : dict[int, numpy.ndarray]
        ``db[l]`` is :math:`\partial L/\partial b^{(l)}`, shape (n_l,), summed over the batch.
    da0 : numpy.ndarray
        :math:`\partial L/\partial a^{(0)} = W^{(1)\top}\delta^{(1)}` per example, shape
        (B, n_0): the gradient with respect to the input.
    norms : dict[str, numpy.ndarray]
        Computed on creation, one entry per layer (layer l at index l - 1):
        ``norms["W"]`` holds :math:`\|\partial L/\partial W^{(l)}\|_F` and
        ``norms["b"]`` holds :math:`\|\partial L/\partial b^{(l)}\|`, Nielsen's
        speed of learning of layer l.
    """

    delta: dict[int, Array]
    dW: dict[int, Array]
    db: dict[int, Array]
    da0: Array
    norms: dict[str, NDArray[np.float64]] = field(init=False)

    def __post_init__(self) -> None:
        layers = sorted(self.dW)
        # In float64: a float32 gradient with entries above ~1e19 has a finite
        # norm that float32 itself cannot hold.
        self.norms = {
            "W": np.array([_norm(self.dW[l]) for l in layers]),
            "b": np.array([_norm(self.db[l]) for l in layers]),
        }


def _norm(x: Array) -> float:
    """Frobenius norm in float64: np.linalg.norm's own dot product, without its per-call overhead
    (training records these norms at every step of every layer)."""
    v = x.astype(np.float64, copy=False).ravel(order="K")
    return math.sqrt(float(v.dot(v)))


def init_network(
    sizes: Sequence[int],
    *,
    hidden: str | activations.Activation = "sigmoid",
    output: str | activations.Activation = "linear",
    init: str = "standard",
    gain: float = 1.0,
    std: float | None = None,
    bias_std: float = 0.0,
    rng: np.random.Generator | int,
    dtype: Any = np.float64,
) -> Network:
    r"""A network with widths ``sizes = (n_0, ..., n_L)`` and random weights.

    Weights come from the scheme ``init`` of :mod:`gradlab.init` (``std`` is
    accepted only by ``"normal"``; elsewhere it raises a ValueError rather than
    being ignored); biases are :math:`\mathcal N(0, \text{bias\_std}^2)`, zero
    by default. All draws come from ``rng`` in layer order, so a seed fixes the
    network.
    """
    widths = check_widths(sizes, "sizes")
    bias_std = check_nonnegative(bias_std, "bias_std")
    scheme, _, _, gain, std = initialisers.check_arguments(init, widths[0], widths[1], gain, std)
    gen = check_rng(rng)
    W: dict[int, Array] = {}
    b: dict[int, Array] = {}
    for l in range(1, len(widths)):
        W[l] = initialisers.sample(scheme, widths[l - 1], widths[l], gain, std, gen).astype(dtype, copy=False)
        b[l] = (bias_std * gen.standard_normal(widths[l])).astype(dtype, copy=False)
    return Network(W, b, activations.get(hidden), activations.get(output))


def check_net(net: Any) -> Network:
    """``net`` itself if it is a :class:`Network`, else a TypeError naming ``net``.

    The one check of this kind: the public entry points that take a network call it.
    """
    return check_instance(net, Network, "net")


def _check_input(net: Network, x: ArrayLike) -> Array:
    check_net(net)
    x = check_finite(as_array(x, "x", ndim=2), "x")
    with np.errstate(over="ignore"):  # 1e300 cast to float32 becomes inf: reported just below
        x = check_finite(x.astype(net.dtype, copy=False), "x")
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have shape (B, n_0) = (B, {net.sizes[0]}), got {x.shape}")
    return x


def forward(net: Network, x: ArrayLike) -> Forward:
    r"""Forward pass keeping every :math:`a^{(l)}` and :math:`z^{(l)}`.

    .. math:: z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = g(z^{(l)}), \qquad a^{(0)} = x.

    Parameters
    ----------
    x : array, shape (B, n_0)
        A batch of inputs, one example per row.
    """
    x = _check_input(net, x)
    a = {0: x}
    z = {}
    for l in range(1, net.L + 1):
        z[l] = a[l - 1] @ net.W[l].T
        z[l] += net.b[l]  # in place: one array per layer, not two
        a[l] = net.g(l).g(z[l])
    return Forward(a, z)


def backward(net: Network, fwd: Forward, dL_daL: ArrayLike) -> Gradients:
    r"""Back-propagate :math:`\partial L/\partial a^{(L)}` through every layer.

    .. math::

        \delta^{(L)} &= \frac{\partial L}{\partial a^{(L)}} \odot g'(z^{(L)}), \\
        \delta^{(l)} &= \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot g'(z^{(l)}), \\
        \frac{\partial L}{\partial W^{(l)}} &= \delta^{(l)} a^{(l-1)\top}, \qquad
        \frac{\partial L}{\partial b^{(l)}} = \delta^{(l)}.

    With rows as examples the transposes swap sides (``delta[l+1] @ W[l+1]``)
    and the weight and bias gradients sum over the batch. The same step once
    more gives the gradient with respect to the input,
    :math:`\partial L/\partial a^{(0)} = W^{(1)\top}\delta^{(1)}` (``da0``).

    Parameters
    ----------
    fwd : Forward
        The result of :func:`forward` on the same network.
    dL_daL : array, shape (B, n_L)
        Gradient of the loss with respect to the output, e.g. from
        :func:`gradlab.losses.dmse`. For softmax cross-entropy pass the
        gradient with respect to the logits and use a ``linear`` output layer.
    """
    check_net(net)
    if not isinstance(fwd, Forward):
        raise TypeError(f"fwd must be the Forward returned by gradlab.mlp.forward, got {type(fwd).__name__}")
    L = net.L
    g_L = as_array(dL_daL, "dL_daL", ndim=2, dtype=net.dtype)
    if g_L.shape != fwd.a[L].shape:
        raise ValueError(f"dL_daL must have the output's shape {fwd.a[L].shape}, got {g_L.shape}")
    delta = {L: g_L * net.g(L).slope(fwd.z[L], fwd.a[L])}  # slope(z, a) = g'(z), reusing a = g(z)
    for l in range(L - 1, 0, -1):
        delta[l] = (delta[l + 1] @ net.W[l + 1]) * net.g(l).slope(fwd.z[l], fwd.a[l])
    dW = {l: delta[l].T @ fwd.a[l - 1] for l in range(1, L + 1)}
    db = {l: delta[l].sum(axis=0) for l in range(1, L + 1)}
    return Gradients(delta, dW, db, da0=delta[1] @ net.W[1])


def resolve_loss(net: Network, loss: Any) -> losses.Loss:
    """The :class:`~gradlab.losses.Loss` named ``loss``, checked against ``net``'s output layer."""
    check_net(net)
    lo = losses.get(loss)
    if lo.name == "softmax_cross_entropy" and net.output.name != "linear":
        raise ValueError(
            f"softmax_cross_entropy expects logits: the network's output activation must be 'linear', got {net.output.name!r}"
        )
    return lo


def loss_and_gradients(
    net: Network, x: ArrayLike, y: ArrayLike, loss: Any = DEFAULT_LOSS
) -> tuple[float, Forward, Gradients]:
    """One forward and one backward pass: ``(L, Forward, Gradients)`` for a batch.

    ``loss`` is a name or :class:`gradlab.losses.Loss`, by default softmax
    cross-entropy as in :func:`gradlab.train.train_sgd`; it needs a ``linear``
    output layer (its outputs are the logits).
    """
    lo = resolve_loss(net, loss)
    fwd = forward(net, x)
    aL = fwd.a[net.L]
    return lo.value(aL, y), fwd, backward(net, fwd, lo.grad(aL, y))
