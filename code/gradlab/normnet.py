r"""An MLP whose hidden layers normalise their pre-activations (batch norm or layer norm).

The network of :mod:`gradlab.mlp` with a normalisation layer :math:`N` between each hidden
layer's weights and its activation:

.. math::

    z^{(l)} = W^{(l)} a^{(l-1)}, \qquad
    \hat z^{(l)} = N\big(z^{(l)}\big) = \gamma^{(l)} \odot \frac{z^{(l)} - \mu^{(l)}}{\sqrt{\sigma^{2(l)} + \varepsilon}}
                   + \beta^{(l)}, \qquad
    a^{(l)} = g\big(\hat z^{(l)}\big), \qquad l = 1, \dots, L-1,

with :math:`a^{(0)} = x`, followed by a plain linear read-out

.. math:: z^{(L)} = W^{(L)} a^{(L-1)} + b^{(L)},

whose output :math:`z^{(L)}` (no activation, no normalisation) are the logits of
:func:`gradlab.losses.softmax_cross_entropy`. Hidden layers have no bias: the mean that
:math:`N` subtracts would remove it, and :math:`\beta^{(l)}` takes its place.

:math:`N` is one of :data:`NORMS`:

* ``"batch"``: :func:`gradlab.normalization.batch_norm_forward`; :math:`\mu, \sigma^2` are taken
  per unit over the batch in ``mode="train"``, and are the running estimates kept in the
  network (:func:`normnet_update_stats`) in ``mode="inference"``;
* ``"layer"``: :func:`gradlab.normalization.layer_norm_forward`; :math:`\mu, \sigma^2` are taken
  per example over the layer's units, the same way in both modes.

The forward and backward passes of :math:`N` are those of :mod:`gradlab.normalization`,
not a second copy. As in :mod:`gradlab.mlp` a batch is stored as rows, every per-layer
quantity is a ``dict`` keyed by :math:`l`, and everything is float64.

Why normalise: :math:`\hat z^{(l)}` has the same scale whatever the scale of
:math:`W^{(l)}` and of :math:`a^{(l-1)}` (up to :math:`\varepsilon`), so the *forward*
signal can neither vanish nor explode with depth. The backward pass is another matter:
see the batch-normalisation chapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations
from . import init as initialisers
from ._validate import as_array, check_finite, check_instance, check_positive, check_rng, check_widths, lookup
from .normalization import (
    BatchNormCache,
    LayerNormCache,
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
    update_running_stats,
)

__all__ = [
    "NORMS",
    "MODES",
    "NormNetwork",
    "NormForward",
    "NormGradients",
    "init_normnet",
    "normnet_forward",
    "normnet_backward",
    "normnet_update_stats",
    "parameters",
]

Array = NDArray[np.float64]

#: The normalisations of the hidden layers, batch norm and layer norm.
NORMS: tuple[str, ...] = ("batch", "layer")
#: The modes of :func:`normnet_forward`.
MODES: tuple[str, ...] = ("train", "inference")
_NORMS = {k: k for k in NORMS}
_MODES = {k: k for k in MODES}


@dataclass
class NormNetwork:
    r"""Parameters of an MLP with normalised hidden layers, and batch norm's running statistics.

    Attributes
    ----------
    W : dict[int, numpy.ndarray]
        ``W[l]`` is :math:`W^{(l)}`, shape (n_l, n_{l-1}), for l = 1..L.
    gamma, beta : dict[int, numpy.ndarray]
        ``gamma[l]``, ``beta[l]`` are :math:`\gamma^{(l)}, \beta^{(l)}`, shape (n_l,), for the
        hidden layers l = 1..L-1.
    b : numpy.ndarray
        The read-out bias :math:`b^{(L)}`, shape (n_L,).
    g : Activation
        The hidden activation :math:`g` (a name is looked up in :mod:`gradlab.activations`).
    norm : str
        ``"batch"`` or ``"layer"``.
    eps : float
        The :math:`\varepsilon > 0` of the normalisation.
    running_mean, running_var : dict[int, numpy.ndarray]
        Batch norm's running estimates of the mean and variance of :math:`z^{(l)}`, l = 1..L-1,
        used in ``mode="inference"``; zeros and ones at initialisation (PyTorch's
        convention). Empty for layer norm.

    To train with plain SGD, subtract ``lr`` times the fields of :class:`NormGradients` of the
    same name: ``net.W[l] -= lr * grads.dW[l]``, ``net.gamma[l] -= lr * grads.dgamma[l]``,
    ``net.beta[l] -= lr * grads.dbeta[l]``, ``net.b -= lr * grads.db``.
    """

    W: dict[int, Array]
    gamma: dict[int, Array]
    beta: dict[int, Array]
    b: Array
    g: activations.Activation
    norm: str
    eps: float = 1e-5
    running_mean: dict[int, Array] = field(default_factory=dict)
    running_var: dict[int, Array] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not all(isinstance(d, dict) for d in (self.W, self.gamma, self.beta)):
            raise TypeError("W, gamma and beta must be dicts keyed by layer number")
        L = len(self.W)
        if L < 2 or sorted(self.W) != list(range(1, L + 1)):
            raise ValueError(f"W must have keys 1..L with L >= 2 (one hidden layer at least), got {sorted(self.W)}")
        self.norm = lookup(_NORMS, self.norm, "norm")
        self.g = activations.get(self.g)
        self.eps = check_positive(self.eps, "eps")
        for l in range(1, L + 1):
            self.W[l] = check_finite(as_array(self.W[l], f"W[{l}]", ndim=2, dtype=np.float64), f"W[{l}]")
            if l > 1 and self.W[l].shape[1] != self.W[l - 1].shape[0]:
                raise ValueError(f"W[{l}] must have n_{l - 1} = {self.W[l - 1].shape[0]} columns, got {self.W[l].shape}")
        hidden = list(range(1, L))
        for name, d in (("gamma", self.gamma), ("beta", self.beta)):
            if sorted(d) != hidden:
                raise ValueError(f"{name} must have the hidden-layer keys 1..{L - 1}, got {sorted(d)}")
            for l in hidden:
                d[l] = self._vector(d[l], f"{name}[{l}]", self.W[l].shape[0])
        self.b = self._vector(self.b, "b", self.W[L].shape[0])
        if self.norm == "layer" and min(self.W[l].shape[0] for l in hidden) < 2:
            raise ValueError("every hidden layer needs >= 2 units for layer norm (it standardises over the units)")
        if self.norm == "batch":
            for name, d, fill in (("running_mean", self.running_mean, 0.0), ("running_var", self.running_var, 1.0)):
                if not d:
                    d.update({l: np.full(self.W[l].shape[0], fill) for l in hidden})
                if sorted(d) != hidden:
                    raise ValueError(f"{name} must have the hidden-layer keys 1..{L - 1}, got {sorted(d)}")
                for l in hidden:
                    d[l] = self._vector(d[l], f"{name}[{l}]", self.W[l].shape[0])

    @staticmethod
    def _vector(v: Any, name: str, n: int) -> Array:
        arr = check_finite(as_array(v, name, ndim=1, dtype=np.float64), name)
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have length {n}, got {arr.shape[0]}")
        return arr

    @property
    def L(self) -> int:
        """Number of layers with weights (L - 1 normalised hidden layers and the read-out)."""
        return len(self.W)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Widths ``(n_0, n_1, ..., n_L)``."""
        return (self.W[1].shape[1],) + tuple(self.W[l].shape[0] for l in range(1, self.L + 1))

    def copy(self) -> "NormNetwork":
        """A deep copy."""
        return NormNetwork(
            {l: W.copy() for l, W in self.W.items()},
            {l: v.copy() for l, v in self.gamma.items()},
            {l: v.copy() for l, v in self.beta.items()},
            self.b.copy(), self.g, self.norm, self.eps,
            {l: v.copy() for l, v in self.running_mean.items()},
            {l: v.copy() for l, v in self.running_var.items()},
        )


@dataclass
class NormForward:
    r"""Everything :func:`normnet_forward` computed.

    Attributes
    ----------
    a : dict[int, numpy.ndarray]
        ``a[l]`` is :math:`a^{(l)}`, shape (B, n_l), for l = 0..L-1 (``a[0]`` is the input).
    z : dict[int, numpy.ndarray]
        ``z[l]`` is :math:`z^{(l)}`, shape (B, n_l), for l = 1..L; ``z[L]`` is the output (logits).
    z_hat : dict[int, numpy.ndarray]
        ``z_hat[l]`` is :math:`\hat z^{(l)} = N(z^{(l)})`, the input of :math:`g`, for l = 1..L-1.
    caches : dict[int, BatchNormCache | LayerNormCache]
        The normalisation caches of the hidden layers (``caches[l].x_hat`` is the standardised
        :math:`z^{(l)}`, before :math:`\gamma, \beta`).
    mode : str
        ``"train"`` or ``"inference"``.
    """

    a: dict[int, Array]
    z: dict[int, Array]
    z_hat: dict[int, Array]
    caches: dict[int, BatchNormCache | LayerNormCache]
    mode: str

    @property
    def output(self) -> Array:
        """The network's output :math:`z^{(L)}`, shape (B, n_L)."""
        return self.z[max(self.z)]


def _norm2(x: Array) -> float:
    v = x.ravel()
    return math.sqrt(float(v.dot(v)))


@dataclass
class NormGradients:
    r"""Backward-pass results.

    Attributes
    ----------
    delta : dict[int, numpy.ndarray]
        ``delta[l]`` is :math:`\delta^{(l)} = \partial L/\partial z^{(l)}` per example, shape (B, n_l),
        l = 1..L (``delta[L]`` is the gradient handed in).
    delta_hat : dict[int, numpy.ndarray]
        ``delta_hat[l]`` is :math:`\hat\delta^{(l)} = \partial L/\partial \hat z^{(l)}`, l = 1..L-1,
        the gradient just above the normalisation.
    dW : dict[int, numpy.ndarray]
        :math:`\partial L/\partial W^{(l)} = \delta^{(l)\top} a^{(l-1)}` summed over the batch, l = 1..L.
    dgamma, dbeta : dict[int, numpy.ndarray]
        :math:`\partial L/\partial\gamma^{(l)}`, :math:`\partial L/\partial\beta^{(l)}`, l = 1..L-1.
    db : numpy.ndarray
        :math:`\partial L/\partial b^{(L)}`, the read-out bias.
    da0 : numpy.ndarray
        :math:`\partial L/\partial a^{(0)}`, shape (B, n_0).
    norms : dict[str, numpy.ndarray]
        Computed on creation, layer l at index l - 1: ``"W"`` (L entries) holds
        :math:`\|\partial L/\partial W^{(l)}\|_F`, ``"delta"`` (L entries) :math:`\|\delta^{(l)}\|_F`
        over the batch, and ``"delta_hat"``, ``"gamma"``, ``"beta"`` (L - 1 entries) the norms of
        :math:`\hat\delta^{(l)}`, :math:`\partial L/\partial\gamma^{(l)}`, :math:`\partial L/\partial\beta^{(l)}`.
    """

    delta: dict[int, Array]
    delta_hat: dict[int, Array]
    dW: dict[int, Array]
    dgamma: dict[int, Array]
    dbeta: dict[int, Array]
    db: Array
    da0: Array
    norms: dict[str, NDArray[np.float64]] = field(init=False)

    def as_dict(self) -> dict[str, Array]:
        """The gradient of every array of :func:`parameters`, under the same name: what
        :meth:`gradlab.optim.Optimiser.step` takes for a network given by :func:`parameters`."""
        return _named(self.dW, self.dgamma, self.dbeta, self.db)

    def __post_init__(self) -> None:
        self.norms = {
            name: np.array([_norm2(d[l]) for l in sorted(d)])
            for name, d in (("W", self.dW), ("delta", self.delta), ("delta_hat", self.delta_hat),
                            ("gamma", self.dgamma), ("beta", self.dbeta))
        }


def _named(W: dict[int, Array], gamma: dict[int, Array], beta: dict[int, Array], b: Array) -> dict[str, Array]:
    return ({f"W{l}": W[l] for l in sorted(W)} | {f"gamma{l}": gamma[l] for l in sorted(gamma)}
            | {f"beta{l}": beta[l] for l in sorted(beta)} | {"b": b})


def parameters(net: NormNetwork) -> dict[str, Array]:
    r"""The network's trainable arrays by name: ``"W1"`` .. ``"WL"``, ``"gamma1"``, ``"beta1"``, ..., ``"b"``.

    They are ``net``'s own arrays, not copies, so :func:`gradlab.optim.apply` on this dict
    trains ``net`` in place; :meth:`NormGradients.as_dict` names the gradient the same way.
    Batch norm's running statistics are not trained and are not included.
    """
    net = _check_net(net)
    return _named(net.W, net.gamma, net.beta, net.b)


def init_normnet(
    sizes: Sequence[int],
    *,
    activation: str | activations.Activation = "relu",
    norm: str = "batch",
    init: str = "he_normal",
    gain: float = 1.0,
    eps: float = 1e-5,
    rng: np.random.Generator | int,
) -> NormNetwork:
    r"""A network with widths ``sizes = (n_0, ..., n_L)``, L >= 2, and random weights.

    Every :math:`W^{(l)}` is drawn from the scheme ``init`` of :mod:`gradlab.init` (times
    ``gain``), in layer order from ``rng``; :math:`\gamma^{(l)} = 1`, :math:`\beta^{(l)} = 0`,
    :math:`b^{(L)} = 0`. With a normalisation after it, the scale of a hidden :math:`W^{(l)}` does
    not change the forward pass (up to :math:`\varepsilon`); it only divides that layer's
    :math:`\delta^{(l)}` and :math:`\partial L/\partial W^{(l)}`.

    Parameters
    ----------
    sizes : sequence of int
        Widths, input first; layers 1..L-1 are normalised, layer L is the read-out.
    activation : str or Activation
        The hidden :math:`g`.
    norm : {"batch", "layer"}
    init : str
        A scheme of :data:`gradlab.init.SCHEMES` (``"normal"`` draws with std 1).
    gain : float
        Multiplies every draw.
    eps : float
        :math:`\varepsilon > 0` of the normalisation.
    rng : numpy.random.Generator or int
    """
    widths = check_widths(sizes, "sizes")
    if len(widths) < 3:
        raise ValueError(f"sizes must list at least 3 widths (input, one normalised hidden layer, output), got {widths}")
    norm = lookup(_NORMS, norm, "norm")
    g = activations.get(activation)
    scheme, _, _, gain, std = initialisers.check_arguments(init, widths[0], widths[1], gain, None)
    eps = check_positive(eps, "eps")
    gen = check_rng(rng)
    L = len(widths) - 1
    W = {l: initialisers.sample(scheme, widths[l - 1], widths[l], gain, std, gen) for l in range(1, L + 1)}
    gamma = {l: np.ones(widths[l]) for l in range(1, L)}
    beta = {l: np.zeros(widths[l]) for l in range(1, L)}
    return NormNetwork(W, gamma, beta, np.zeros(widths[L]), g, norm, eps)


def _check_net(net: Any) -> NormNetwork:
    return check_instance(net, NormNetwork, "net")


def normnet_forward(net: NormNetwork, x: ArrayLike, *, mode: str = "train") -> NormForward:
    r"""Forward pass keeping :math:`a^{(l)}, z^{(l)}, \hat z^{(l)}` and the normalisation caches.

    .. math:: z^{(l)} = W^{(l)} a^{(l-1)}, \quad \hat z^{(l)} = N(z^{(l)}), \quad a^{(l)} = g(\hat z^{(l)})
              \quad (l < L), \qquad z^{(L)} = W^{(L)} a^{(L-1)} + b^{(L)}.

    Parameters
    ----------
    net : NormNetwork
    x : array, shape (B, n_0)
        A batch, one example per row; batch norm in train mode needs B >= 2.
    mode : {"train", "inference"}
        For batch norm: normalise with the statistics of this batch (``"train"``), or with the
        network's running statistics (``"inference"``, each example on its own). Layer norm is
        the same in both modes. The running statistics are not updated here; call
        :func:`normnet_update_stats` with the train-mode result.
    """
    _check_net(net)
    mode = lookup(_MODES, mode, "mode")
    x = check_finite(as_array(x, "x", ndim=2, dtype=np.float64), "x")
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"x must have shape (B, n_0) = (B, {net.sizes[0]}), got {x.shape}")
    if x.shape[0] < 1 or (net.norm == "batch" and mode == "train" and x.shape[0] < 2):
        raise ValueError(f"x must hold at least {2 if net.norm == 'batch' and mode == 'train' else 1} examples "
                         f"(batch norm in train mode needs 2 for a batch variance), got {x.shape[0]}")
    L = net.L
    a: dict[int, Array] = {0: x}
    z: dict[int, Array] = {}
    z_hat: dict[int, Array] = {}
    caches: dict[int, BatchNormCache | LayerNormCache] = {}
    for l in range(1, L):
        z[l] = a[l - 1] @ net.W[l].T
        if net.norm == "layer":
            z_hat[l], caches[l] = layer_norm_forward(z[l], net.gamma[l], net.beta[l], eps=net.eps)
        elif mode == "train":
            z_hat[l], caches[l] = batch_norm_forward(z[l], net.gamma[l], net.beta[l], eps=net.eps)
        else:
            z_hat[l], caches[l] = batch_norm_forward(
                z[l], net.gamma[l], net.beta[l], eps=net.eps, mode="inference",
                running_mean=net.running_mean[l], running_var=net.running_var[l])
        a[l] = net.g.g(z_hat[l])
    z[L] = a[L - 1] @ net.W[L].T + net.b
    return NormForward(a, z, z_hat, caches, mode)


def _check_fwd(net: NormNetwork, fwd: Any) -> NormForward:
    if not isinstance(fwd, NormForward):
        raise TypeError(f"fwd must be the NormForward returned by normnet_forward, got {type(fwd).__name__}")
    if sorted(fwd.z) != list(range(1, net.L + 1)) or fwd.a[0].shape[1] != net.sizes[0]:
        raise ValueError("fwd does not come from this network (its layers or input width differ)")
    return fwd


def normnet_backward(net: NormNetwork, fwd: NormForward, dL_dzL: ArrayLike) -> NormGradients:
    r"""Back-propagate :math:`\delta^{(L)} = \partial L/\partial z^{(L)}` through the network.

    .. math::

        \hat\delta^{(l)} &= \big(W^{(l+1)\top}\delta^{(l+1)}\big) \odot g'(\hat z^{(l)}), \\
        \delta^{(l)} &= J_N^{(l)\top}\, \hat\delta^{(l)}, \qquad
        \frac{\partial L}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)\top},

    where :math:`J_N^{(l)\top}` is the backward pass of the normalisation
    (:func:`gradlab.normalization.batch_norm_backward` or
    :func:`~gradlab.normalization.layer_norm_backward`). In batch norm's train mode it
    couples the examples of the batch: :math:`\delta^{(l)}_b` depends on every
    :math:`\hat\delta^{(l)}_{b'}`, and the part of :math:`\gamma^{(l)}\odot\hat\delta^{(l)}` that is
    the same for every example is removed exactly.

    Parameters
    ----------
    net : NormNetwork
    fwd : NormForward
        The result of :func:`normnet_forward` on the same network and batch.
    dL_dzL : array, shape (B, n_L)
        Gradient of the loss with respect to the output :math:`z^{(L)}`, e.g.
        :func:`gradlab.losses.dsoftmax_cross_entropy` of the logits.
    """
    _check_net(net)
    fwd = _check_fwd(net, fwd)
    L = net.L
    dL = check_finite(as_array(dL_dzL, "dL_dzL", ndim=2, dtype=np.float64), "dL_dzL")
    if dL.shape != fwd.z[L].shape:
        raise ValueError(f"dL_dzL must have the output's shape {fwd.z[L].shape}, got {dL.shape}")
    delta: dict[int, Array] = {L: dL}
    delta_hat: dict[int, Array] = {}
    dgamma: dict[int, Array] = {}
    dbeta: dict[int, Array] = {}
    backward = layer_norm_backward if net.norm == "layer" else batch_norm_backward
    for l in range(L - 1, 0, -1):
        delta_hat[l] = (delta[l + 1] @ net.W[l + 1]) * net.g.slope(fwd.z_hat[l], fwd.a[l])
        delta[l], dgamma[l], dbeta[l] = backward(delta_hat[l], fwd.caches[l])  # type: ignore[arg-type]
    dW = {l: delta[l].T @ fwd.a[l - 1] for l in range(1, L + 1)}
    return NormGradients(
        {l: delta[l] for l in range(1, L + 1)}, delta_hat, dW, dgamma, dbeta,
        db=dL.sum(axis=0), da0=delta[1] @ net.W[1],
    )


def normnet_update_stats(net: NormNetwork, fwd: NormForward, *, momentum: float = 0.1) -> None:
    r"""Update batch norm's running statistics in place from a train-mode forward pass.

    For every hidden layer, :func:`gradlab.normalization.update_running_stats`:
    :math:`\hat\mu^{(l)} \leftarrow (1-m)\hat\mu^{(l)} + m\,\mu_B^{(l)}` and
    :math:`\hat\sigma^{2(l)} \leftarrow (1-m)\hat\sigma^{2(l)} + m\,\frac{B}{B-1}\sigma_B^{2(l)}`, with
    :math:`m` = ``momentum`` in (0, 1]. A layer-norm network has no running statistics: nothing
    to do, and a ValueError says so rather than silently ignoring the call.
    """
    _check_net(net)
    fwd = _check_fwd(net, fwd)
    if net.norm != "batch":
        raise ValueError(f"net has no running statistics: its norm is {net.norm!r}, not 'batch'")
    if fwd.mode != "train":
        raise ValueError("fwd must come from normnet_forward in mode='train' (it holds the batch statistics)")
    for l in range(1, net.L):
        net.running_mean[l], net.running_var[l] = update_running_stats(
            net.running_mean[l], net.running_var[l], fwd.caches[l], momentum=momentum)
