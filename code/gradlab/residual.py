r"""Residual networks: a stack of blocks that each add a scaled branch to an identity path.

A residual MLP of width :math:`n` and depth :math:`L` keeps a *residual stream*
:math:`a^{(0)} = x, a^{(1)}, \dots, a^{(L)}`, all of width :math:`n`, and block :math:`l` adds to it

.. math:: a^{(l)} = a^{(l-1)} + \alpha\, F^{(l)}\big(a^{(l-1)}\big), \qquad l = 1, \dots, L,

with a scale :math:`\alpha` shared by the blocks. The *branch* :math:`F^{(l)}` always ends in a
dense layer, so that zeroing that layer, or :math:`\alpha = 0`, makes the block the identity
whatever the activation :math:`g`:

* ``branch_layers=2`` (the usual MLP block): :math:`F(u) = W^{(l,2)}\, g\big(W^{(l,1)} u + b^{(l,1)}\big) + b^{(l,2)}`;
* ``branch_layers=1``: :math:`F(u) = W^{(l,1)}\, g(u) + b^{(l,1)}`.

In both cases the last layer reads :math:`h^{(l)} = g(z^{(l)})`, with :math:`z^{(l)} = W^{(l,1)} u + b^{(l,1)}`
for two layers and :math:`z^{(l)} = u` for one.

Normalisation (layer norm, :func:`gradlab.normalization.layer_norm_forward`, with its own
:math:`\gamma^{(l)}, \beta^{(l)}` per block):

* ``"none"``: :math:`u^{(l)} = a^{(l-1)}` and :math:`a^{(l)} = a^{(l-1)} + \alpha F^{(l)}(u^{(l)})`;
* ``"pre"``: :math:`u^{(l)} = \mathrm{LN}(a^{(l-1)})`, :math:`a^{(l)} = a^{(l-1)} + \alpha F^{(l)}(u^{(l)})`:
  the identity path is untouched;
* ``"post"``: :math:`s^{(l)} = a^{(l-1)} + \alpha F^{(l)}(a^{(l-1)})`, :math:`a^{(l)} = \mathrm{LN}(s^{(l)})`
  (the original ResNet and Transformer placement): every block rescales the stream.

Initialisations (:data:`INITS`):

* ``"standard"``: every branch layer :math:`\mathcal N(0, \sigma^2/n)` with :math:`\sigma^2 = 2` (He)
  when it reads :math:`g(\cdot)` of a rectifier-like :math:`g` (:data:`HE_ACTIVATIONS`) and
  :math:`\sigma^2 = 1` (LeCun) otherwise, including the first of two layers, which reads the
  stream; :math:`\alpha = 1`;
* ``"rezero"`` / ``"skipinit"`` (Bachlechner et al., 2020; De & Smith, 2020): the standard
  weights and :math:`\alpha = 0`, so every block starts as the identity; here :math:`\alpha` is
  a fixed number, and :func:`residual_backward` returns its gradient (``dalpha``) for whoever trains it;
* ``"fixup"`` (Zhang, Dauphin & Ma, 2019): the last layer of each branch is zero and the other
  branch layers are the standard draw times :math:`L^{-1/(2m-2)}` for :math:`m` layers per branch
  (:math:`L^{-1/2}` for :math:`m = 2`; for :math:`m = 1` the only layer is the last, so it is
  zero and nothing is scaled); :math:`\alpha = 1`. Fixup's extra scalar biases and multipliers
  are not modelled.

Biases start at 0, layer-norm gains at 1 and shifts at 0. Everything is float64. As in
:mod:`gradlab.mlp`, a batch is stored as rows and every per-block quantity is a ``dict`` keyed by
the block number :math:`l`; branch weights are nested one level deeper, ``net.W[l][k]`` is
:math:`W^{(l,k)}`, shape (n, n).

Why residual connections help, in one line: with linear branches, no normalisation and weights
of variance :math:`\sigma_k^2/n`, :math:`\mathbb E\|a^{(l)}\|^2 = (1 + \alpha^2 c)\,\mathbb E\|a^{(l-1)}\|^2`
with :math:`c = \prod_k \sigma_k^2`, exactly and at any width: the signal grows like
:math:`(1 + \alpha^2 c)^L` instead of being multiplied by :math:`c` per layer, and
:math:`\alpha \sim 1/\sqrt L` keeps it bounded at any depth.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations
from ._validate import as_array, check_finite, check_instance, check_positive_int, check_real, check_rng, lookup
from .normalization import LayerNormCache, layer_norm_backward, layer_norm_forward

__all__ = [
    "NORMS",
    "INITS",
    "HE_ACTIVATIONS",
    "ResidualNetwork",
    "ResidualForward",
    "ResidualGradients",
    "init_residual",
    "residual_forward",
    "residual_backward",
    "path_length_shares",
    "path_gradients",
    "parameters",
]

Array = NDArray[np.float64]

#: Placements of layer norm, in this order, nowhere, on the branch input (pre-norm) or after the sum (post-norm).
NORMS: tuple[str, ...] = ("none", "pre", "post")
#: Initialisation schemes of :func:`init_residual`; ``"skipinit"`` is another name for ``"rezero"``.
INITS: tuple[str, ...] = ("standard", "rezero", "skipinit", "fixup")
#: Activations (by registry name, before any ``"(alpha=...)"``) whose standard init is He's, 2/n.
HE_ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "elu", "gelu", "silu", "softplus")

_NORMS = {k: k for k in NORMS}
_INITS = {k: k for k in INITS}


def _check_branch_layers(m: Any) -> int:
    m = check_positive_int(m, "branch_layers")
    if m not in (1, 2):
        raise ValueError(f"branch_layers must be 1 or 2, got {m}")
    return m


@dataclass
class ResidualNetwork:
    r"""Weights of a residual MLP: :math:`L` blocks of width :math:`n`, :math:`m` layers per branch.

    Attributes
    ----------
    W : dict[int, dict[int, numpy.ndarray]]
        ``W[l][k]`` is :math:`W^{(l,k)}`, shape (n, n), for blocks l = 1..L and branch layers k = 1..m.
    b : dict[int, dict[int, numpy.ndarray]]
        ``b[l][k]`` is :math:`b^{(l,k)}`, shape (n,).
    g : Activation
        The branch activation :math:`g` (a name is looked up in :mod:`gradlab.activations`).
    alpha : float
        The branch scale :math:`\alpha`, any finite real.
    norm : str
        One of :data:`NORMS`.
    gamma, beta : dict[int, numpy.ndarray]
        Layer-norm gain and shift of block l, shape (n,); empty dicts for ``norm="none"``, and
        filled with ones and zeros when left empty otherwise.
    eps : float
        The :math:`\varepsilon` of layer norm.
    """

    W: dict[int, dict[int, Array]]
    b: dict[int, dict[int, Array]]
    g: activations.Activation
    alpha: float = 1.0
    norm: str = "none"
    gamma: dict[int, Array] = field(default_factory=dict)
    beta: dict[int, Array] = field(default_factory=dict)
    eps: float = 1e-5

    def __post_init__(self) -> None:
        if not isinstance(self.W, dict) or not isinstance(self.b, dict):
            raise TypeError("W and b must be dicts keyed by block number 1..L")
        L = len(self.W)
        if L < 1 or sorted(self.W) != list(range(1, L + 1)):
            raise ValueError(f"W must have keys 1..L, got {sorted(self.W)}")
        if sorted(self.b) != sorted(self.W):
            raise ValueError(f"b must have the same block keys as W (1..{L}), got {sorted(self.b)}")
        if not isinstance(self.W[1], dict):
            raise TypeError(f"W[1] must be a dict keyed by branch layer 1..m, got {type(self.W[1]).__name__}")
        m = _check_branch_layers(len(self.W[1]))
        n = None
        for l in range(1, L + 1):
            for name, store in (("W", self.W), ("b", self.b)):
                if not isinstance(store[l], dict) or sorted(store[l]) != list(range(1, m + 1)):
                    raise ValueError(f"{name}[{l}] must be a dict with branch-layer keys 1..{m}, got {store[l]!r:.60}")
            for k in range(1, m + 1):
                W = check_finite(as_array(self.W[l][k], f"W[{l}][{k}]", ndim=2, dtype=np.float64), f"W[{l}][{k}]")
                n = W.shape[0] if n is None else n
                if W.shape != (n, n):
                    raise ValueError(f"W[{l}][{k}] must have shape (n, n) = ({n}, {n}), got {W.shape}")
                bb = check_finite(as_array(self.b[l][k], f"b[{l}][{k}]", ndim=1, dtype=np.float64), f"b[{l}][{k}]")
                if bb.shape != (n,):
                    raise ValueError(f"b[{l}][{k}] must have shape (n,) = ({n},), got {bb.shape}")
                self.W[l][k], self.b[l][k] = W, bb
        self.g = activations.get(self.g)
        self.alpha = check_real(self.alpha, "alpha")
        self.norm = lookup(_NORMS, self.norm, "norm")
        if isinstance(self.eps, bool) or not isinstance(self.eps, numbers.Real) or not self.eps > 0:
            raise ValueError(f"eps must be a real number > 0, got {self.eps!r}")
        if self.norm == "none":
            if self.gamma or self.beta:
                raise ValueError("gamma and beta must be empty for norm='none' (there is no layer norm)")
            return
        if n is not None and n < 2:
            raise ValueError(f"width n must be >= 2 with layer norm (norm={self.norm!r}), got {n}")
        for name, store, fill in (("gamma", self.gamma, 1.0), ("beta", self.beta, 0.0)):
            if not store:
                store.update({l: np.full(n, fill) for l in range(1, L + 1)})
            if sorted(store) != list(range(1, L + 1)):
                raise ValueError(f"{name} must have block keys 1..{L}, got {sorted(store)}")
            for l in range(1, L + 1):
                v = check_finite(as_array(store[l], f"{name}[{l}]", ndim=1, dtype=np.float64), f"{name}[{l}]")
                if v.shape != (n,):
                    raise ValueError(f"{name}[{l}] must have shape (n,) = ({n},), got {v.shape}")
                store[l] = v

    @property
    def L(self) -> int:
        """Number of residual blocks."""
        return len(self.W)

    @property
    def m(self) -> int:
        """Number of dense layers per branch, 1 or 2."""
        return len(self.W[1])

    @property
    def n(self) -> int:
        """Width of the residual stream (and of every branch layer)."""
        return int(self.W[1][1].shape[0])

    def copy(self) -> "ResidualNetwork":
        """A deep copy."""
        return ResidualNetwork(
            {l: {k: W.copy() for k, W in Wl.items()} for l, Wl in self.W.items()},
            {l: {k: b.copy() for k, b in bl.items()} for l, bl in self.b.items()},
            self.g,
            self.alpha,
            self.norm,
            {l: v.copy() for l, v in self.gamma.items()},
            {l: v.copy() for l, v in self.beta.items()},
            self.eps,
        )


@dataclass
class ResidualForward:
    r"""Everything :func:`residual_forward` computed, per block l = 1..L (``a`` also at l = 0).

    Attributes
    ----------
    a : dict[int, numpy.ndarray]
        The residual stream :math:`a^{(l)}`, shape (B, n), l = 0..L; ``a[0]`` is the input.
    u : dict[int, numpy.ndarray]
        The branch input :math:`u^{(l)}`: :math:`\mathrm{LN}(a^{(l-1)})` for pre-norm, else :math:`a^{(l-1)}`.
    z : dict[int, numpy.ndarray]
        What the branch activation acts on: :math:`W^{(l,1)} u^{(l)} + b^{(l,1)}` for two layers,
        :math:`u^{(l)}` for one.
    h : dict[int, numpy.ndarray]
        :math:`h^{(l)} = g(z^{(l)})`, the input of the branch's last layer.
    f : dict[int, numpy.ndarray]
        The branch output :math:`F^{(l)}(u^{(l)})`, before the scale :math:`\alpha`.
    s : dict[int, numpy.ndarray]
        The sum :math:`a^{(l-1)} + \alpha F^{(l)}` before post-norm (empty dict otherwise).
    ln : dict[int, LayerNormCache]
        The layer-norm caches of the blocks (empty dict for ``norm="none"``).
    """

    a: dict[int, Array]
    u: dict[int, Array]
    z: dict[int, Array]
    h: dict[int, Array]
    f: dict[int, Array]
    s: dict[int, Array]
    ln: dict[int, LayerNormCache]


@dataclass
class ResidualGradients:
    r"""Per-block gradients from :func:`residual_backward`, summed over the batch where they are parameters'.

    Attributes
    ----------
    delta : dict[int, numpy.ndarray]
        :math:`\delta^{(l)} = \partial L/\partial a^{(l)}` of the residual stream per example, shape
        (B, n), for l = 0..L; ``delta[0]`` is the gradient with respect to the input.
    dW, db : dict[int, dict[int, numpy.ndarray]]
        ``dW[l][k]`` is :math:`\partial L/\partial W^{(l,k)}`, ``db[l][k]`` is :math:`\partial L/\partial b^{(l,k)}`.
    dgamma, dbeta : dict[int, numpy.ndarray]
        Layer-norm parameter gradients of block l (empty dicts for ``norm="none"``).
    dalpha_block : dict[int, float]
        :math:`\partial L/\partial \alpha_l` if block l had its own scale :math:`\alpha_l` (ReZero);
        the terms of :attr:`dalpha`.
    dalpha : float
        :math:`\partial L/\partial \alpha` for the shared :math:`\alpha`: the sum of :attr:`dalpha_block`.
    norms : numpy.ndarray
        Computed on creation, block l at index l - 1:
        :math:`\big(\sum_k \|\partial L/\partial W^{(l,k)}\|_F^2\big)^{1/2}`.
    """

    delta: dict[int, Array]
    dW: dict[int, dict[int, Array]]
    db: dict[int, dict[int, Array]]
    dgamma: dict[int, Array]
    dbeta: dict[int, Array]
    dalpha_block: dict[int, float]
    dalpha: float = field(init=False)
    norms: NDArray[np.float64] = field(init=False)

    def as_dict(self) -> dict[str, Array]:
        """The gradient of every array of :func:`parameters`, under the same name (``dalpha`` is
        not an array and is not included)."""
        return _named(self.dW, self.db, self.dgamma, self.dbeta)

    def __post_init__(self) -> None:
        self.dalpha = float(sum(self.dalpha_block[l] for l in sorted(self.dalpha_block)))
        self.norms = np.array(
            [math.sqrt(sum(float(np.sum(d * d)) for d in self.dW[l].values())) for l in sorted(self.dW)]
        )


def _named(W: dict[int, dict[int, Array]], b: dict[int, dict[int, Array]],
           gamma: dict[int, Array], beta: dict[int, Array]) -> dict[str, Array]:
    return ({f"W{l}.{k}": W[l][k] for l in sorted(W) for k in sorted(W[l])}
            | {f"b{l}.{k}": b[l][k] for l in sorted(b) for k in sorted(b[l])}
            | {f"gamma{l}": gamma[l] for l in sorted(gamma)} | {f"beta{l}": beta[l] for l in sorted(beta)})


def parameters(net: ResidualNetwork) -> dict[str, Array]:
    r"""The network's trainable arrays by name: ``"W3.1"`` is :math:`W^{(3,1)}`, ``"b3.1"``
    :math:`b^{(3,1)}`, ``"gamma3"`` and ``"beta3"`` block 3's layer-norm gain and shift.

    They are ``net``'s own arrays, not copies, so :func:`gradlab.optim.apply` on this dict
    trains ``net`` in place; :meth:`ResidualGradients.as_dict` names the gradient the same
    way. The scale :math:`\alpha` is a number, not an array, and is not included.
    """
    return _named(_check_net(net).W, net.b, net.gamma, net.beta)


def _is_he(act: activations.Activation) -> bool:
    return act.name.split("(", 1)[0] in HE_ACTIVATIONS


def init_residual(
    n: int,
    L: int,
    *,
    branch_layers: int = 2,
    activation: str | activations.Activation = "relu",
    norm: str = "none",
    init: str = "standard",
    alpha: float | None = None,
    eps: float = 1e-5,
    rng: np.random.Generator | int,
) -> ResidualNetwork:
    r"""A residual MLP of width ``n`` with ``L`` blocks, initialised by the scheme ``init``.

    Parameters
    ----------
    n : int
        Width of the residual stream, ``>= 1`` (``>= 2`` with layer norm).
    L : int
        Number of blocks, ``>= 1``.
    branch_layers : {1, 2}
        Dense layers per branch, :math:`m` (see the module docstring for the two branches).
    activation : str or Activation
        The branch activation :math:`g`.
    norm : {"none", "pre", "post"}
        Layer-norm placement, see :data:`NORMS`.
    init : {"standard", "rezero", "skipinit", "fixup"}
        See :data:`INITS` and the module docstring.
    alpha : float, optional
        The branch scale; default 1, or 0 for ``"rezero"``/``"skipinit"``, which refuse any other value.
    eps : float
        The :math:`\varepsilon` of layer norm.
    rng : numpy.random.Generator or int
        Weights are drawn block by block, layer by layer (a Fixup net draws the same numbers as a
        standard one and then scales and zeroes them).

    Returns
    -------
    ResidualNetwork
    """
    n = check_positive_int(n, "n")
    L = check_positive_int(L, "L")
    m = _check_branch_layers(branch_layers)
    act = activations.get(activation)
    norm = lookup(_NORMS, norm, "norm")
    scheme = lookup(_INITS, init, "init")
    if alpha is None:
        alpha = 0.0 if scheme in ("rezero", "skipinit") else 1.0
    alpha = check_real(alpha, "alpha")
    if scheme in ("rezero", "skipinit") and alpha != 0.0:
        raise ValueError(f"alpha must be 0 for init={scheme!r} (that is the scheme), got {alpha}")
    if norm != "none" and n < 2:
        raise ValueError(f"n must be >= 2 with layer norm (norm={norm!r}), got {n}")
    gen = check_rng(rng)
    he = _is_he(act)
    # layer k reads g(.) if it is the last layer of the branch; the first of two layers reads the stream
    var = {k: (2.0 if he and k == m else 1.0) / n for k in range(1, m + 1)}
    fixup_scale = float(L) ** (-1.0 / (2 * m - 2)) if m > 1 else 1.0
    W: dict[int, dict[int, Array]] = {}
    b: dict[int, dict[int, Array]] = {}
    for l in range(1, L + 1):
        W[l], b[l] = {}, {}
        for k in range(1, m + 1):
            Wk = gen.standard_normal((n, n))
            Wk *= math.sqrt(var[k])
            if scheme == "fixup":
                Wk *= 0.0 if k == m else fixup_scale
            W[l][k], b[l][k] = Wk, np.zeros(n)
    return ResidualNetwork(W, b, act, alpha, norm, eps=eps)


def _check_net(net: Any) -> ResidualNetwork:
    return check_instance(net, ResidualNetwork, "net")


def residual_forward(net: ResidualNetwork, x: ArrayLike) -> ResidualForward:
    r"""Forward pass through every block, keeping the stream, branch inputs, branch outputs and caches.

    .. math:: a^{(l)} = a^{(l-1)} + \alpha F^{(l)}(u^{(l)}) \;(\text{none, pre}), \qquad
              a^{(l)} = \mathrm{LN}\big(a^{(l-1)} + \alpha F^{(l)}(a^{(l-1)})\big) \;(\text{post}).

    Parameters
    ----------
    net : ResidualNetwork
    x : array, shape (B, n)
        A batch of inputs, one example per row, finite.
    """
    _check_net(net)
    x = check_finite(as_array(x, "x", ndim=2, dtype=np.float64), "x")
    if x.shape[1] != net.n:
        raise ValueError(f"x must have shape (B, n) = (B, {net.n}), got {x.shape}")
    a, u, z, h, f, s, ln = {0: x}, {}, {}, {}, {}, {}, {}
    m = net.m
    for l in range(1, net.L + 1):
        if net.norm == "pre":
            u[l], ln[l] = layer_norm_forward(a[l - 1], net.gamma[l], net.beta[l], eps=net.eps)
        else:
            u[l] = a[l - 1]
        z[l] = u[l] @ net.W[l][1].T + net.b[l][1] if m == 2 else u[l]
        h[l] = net.g.g(z[l])
        f[l] = h[l] @ net.W[l][m].T + net.b[l][m]
        total = a[l - 1] + net.alpha * f[l]
        if net.norm == "post":
            s[l] = total
            a[l], ln[l] = layer_norm_forward(total, net.gamma[l], net.beta[l], eps=net.eps)
        else:
            a[l] = total
    return ResidualForward(a, u, z, h, f, s, ln)


def _check_backward(net: Any, fwd: Any, dL_daL: ArrayLike) -> Array:
    """``dL_daL`` as a float array, after checking that ``net``, ``fwd`` and it belong together."""
    _check_net(net)
    if not isinstance(fwd, ResidualForward):
        raise TypeError(
            f"fwd must be the ResidualForward returned by gradlab.residual.residual_forward, got {type(fwd).__name__}"
        )
    if sorted(fwd.f) != list(range(1, net.L + 1)):
        raise ValueError(f"fwd has blocks {sorted(fwd.f)}, but net has blocks 1..{net.L}: not the same network")
    dL = check_finite(as_array(dL_daL, "dL_daL", ndim=2, dtype=np.float64), "dL_daL")
    if dL.shape != fwd.a[net.L].shape:
        raise ValueError(f"dL_daL must have the output's shape {fwd.a[net.L].shape}, got {dL.shape}")
    return dL


def _branch_back(net: ResidualNetwork, fwd: ResidualForward, l: int, df: Array) -> tuple[Array, Array]:
    r""":math:`\partial L/\partial z^{(l)}` and :math:`\partial L/\partial u^{(l)}` (before pre-norm's layer
    norm) from :math:`\partial L/\partial f` (``df``) through block l's branch; ``df`` may carry leading axes."""
    dz = (df @ net.W[l][net.m]) * net.g.slope(fwd.z[l], fwd.h[l])
    return dz, (dz @ net.W[l][1] if net.m == 2 else dz)


def residual_backward(net: ResidualNetwork, fwd: ResidualForward, dL_daL: ArrayLike) -> ResidualGradients:
    r"""Back-propagate :math:`\delta^{(L)} = \partial L/\partial a^{(L)}` through every block.

    For a block without post-norm, the identity path hands :math:`\delta^{(l)}` down unchanged and
    the branch adds its own term,

    .. math:: \delta^{(l-1)} = \delta^{(l)} + J_u^\top\, J_F^\top\, \alpha\,\delta^{(l)},

    where :math:`J_F` is the Jacobian of the branch and :math:`J_u` that of the branch input (the
    identity without norm, layer norm's for pre-norm). With post-norm, :math:`\delta^{(l)}` first
    passes back through layer norm, :math:`\partial L/\partial s^{(l)} = J_{\mathrm{LN}}^\top \delta^{(l)}`,
    and that takes its place. Inside the branch,
    :math:`\partial L/\partial f = \alpha\,\partial L/\partial s`, and the dense layers and :math:`g'`
    follow as in :func:`gradlab.mlp.backward`;
    :math:`\partial L/\partial \alpha_l = \sum_{b} \langle \partial L/\partial s^{(l)}_b, F^{(l)}_b\rangle`.

    Parameters
    ----------
    fwd : ResidualForward
        The result of :func:`residual_forward` on the same network.
    dL_daL : array, shape (B, n)
        :math:`\partial L/\partial a^{(L)}`.
    """
    dL = _check_backward(net, fwd, dL_daL)
    L, m = net.L, net.m
    delta = {L: dL}
    dW: dict[int, dict[int, Array]] = {}
    db: dict[int, dict[int, Array]] = {}
    dgamma: dict[int, Array] = {}
    dbeta: dict[int, Array] = {}
    dalpha: dict[int, float] = {}
    for l in range(L, 0, -1):
        if net.norm == "post":
            ds, dgamma[l], dbeta[l] = layer_norm_backward(delta[l], fwd.ln[l])
        else:
            ds = delta[l]
        dalpha[l] = float(np.sum(ds * fwd.f[l]))
        df = net.alpha * ds
        dW[l], db[l] = {}, {}
        dW[l][m], db[l][m] = df.T @ fwd.h[l], df.sum(axis=0)
        dz, du = _branch_back(net, fwd, l, df)
        if m == 2:
            dW[l][1], db[l][1] = dz.T @ fwd.u[l], dz.sum(axis=0)
        if net.norm == "pre":
            du, dgamma[l], dbeta[l] = layer_norm_backward(du, fwd.ln[l])
        delta[l - 1] = ds + du
    return ResidualGradients(
        {l: delta[l] for l in range(L + 1)},
        {l: dict(sorted(dW[l].items())) for l in range(1, L + 1)},
        {l: dict(sorted(db[l].items())) for l in range(1, L + 1)},
        {l: dgamma[l] for l in sorted(dgamma)},
        {l: dbeta[l] for l in sorted(dbeta)},
        {l: dalpha[l] for l in range(1, L + 1)},
    )


def path_length_shares(L: int, alpha: float, c: float = 1.0) -> NDArray[np.float64]:
    r"""Share of the mean-square input gradient carried by the paths through k branches, k = 0..L.

    Unrolling :math:`L` blocks with linear branches, :math:`\prod_l (I + \alpha W^{(l)})`, gives
    :math:`2^L` products, one per subset of blocks whose branch the path takes; :math:`\binom{L}{k}`
    of them have *length* :math:`k`. The input gradient splits accordingly,
    :math:`\delta^{(0)} = \sum_{k=0}^{L} G_k` (see :func:`path_gradients`). For independent branch
    weights of mean zero with :math:`\mathbb E\|W^\top v\|^2 = c\,\|v\|^2` (:math:`c = \prod_k \sigma_k^2`
    for linear branches), the products of two different subsets are uncorrelated and each path
    of length :math:`k` has mean square :math:`(\alpha^2 c)^k\|\delta^{(L)}\|^2`, so

    .. math:: \pi_k = \frac{\mathbb E\|G_k\|^2}{\mathbb E\|\delta^{(0)}\|^2}
              = \binom{L}{k} \frac{(\alpha^2 c)^k}{(1 + \alpha^2 c)^L},

    the binomial law with :math:`L` trials and success probability
    :math:`p = \alpha^2 c/(1 + \alpha^2 c)`; the denominator is the growth law
    :math:`(1 + \alpha^2 c)^L`. At :math:`\alpha^2 c = 1` it is the law of the path
    lengths themselves, Binomial(L, ½).

    Parameters
    ----------
    L : int
        Number of blocks, ``>= 1``.
    alpha : float
        The branch scale :math:`\alpha`, any finite real (only :math:`\alpha^2` matters).
    c : float
        The branch's mean-square gain :math:`c \ge 0`.

    Returns
    -------
    numpy.ndarray, shape (L + 1,)
        :math:`\pi_0, \dots, \pi_L`, non-negative and summing to 1.
    """
    L = check_positive_int(L, "L")
    alpha = check_real(alpha, "alpha")
    c = check_real(c, "c")
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c}")
    r = alpha * alpha * c
    k = np.arange(L + 1)
    if r == 0.0:
        return (k == 0).astype(np.float64)
    if not math.isfinite(r):
        raise ValueError(f"alpha^2 c must be finite, got alpha={alpha}, c={c}")
    # log of C(L, k) p^k (1 - p)^(L - k), in logs so that L in the thousands does not overflow
    log_comb = np.array([math.lgamma(L + 1) - math.lgamma(j + 1) - math.lgamma(L - j + 1) for j in k])
    log_p, log_q = math.log(r) - math.log1p(r), -math.log1p(r)
    return np.exp(log_comb + k * log_p + (L - k) * log_q)


def path_gradients(net: ResidualNetwork, fwd: ResidualForward, dL_daL: ArrayLike) -> NDArray[np.float64]:
    r"""The input gradient :math:`\delta^{(0)}` split into the contributions of paths of each length.

    Without post-norm, back-propagation through block :math:`l` is linear in :math:`\delta^{(l)}`,
    :math:`\delta^{(l-1)} = (I + \alpha J_l^\top)\,\delta^{(l)}`, where :math:`J_l` is the Jacobian of the
    branch (with that of pre-norm's layer norm) at the forward pass ``fwd``. Expanding the product
    :math:`\prod_{l} (I + t\,\alpha J_l^\top)` in a dummy variable :math:`t` and collecting the terms
    in :math:`t^k` gives

    .. math:: \delta^{(0)} = \sum_{k=0}^{L} G_k, \qquad
              G_k = \sum_{|S| = k} \alpha^k J_{s_1}^\top \cdots J_{s_k}^\top\, \delta^{(L)}
              \quad (s_1 < \dots < s_k),

    the sum over the :math:`\binom{L}{k}` paths that pass through exactly :math:`k` branches and skip
    the others. The coefficients are updated block by block from the top,
    :math:`G_k \leftarrow G_k + \alpha J_l^\top G_{k-1}` (for k from high to low), which costs
    :math:`L(L+1)/2` branch back-propagations. With a linear branch :math:`J_l = W^{(l)}`;
    with another activation the Jacobian holds that forward pass's slopes :math:`g'(z^{(l)})`.

    Parameters
    ----------
    net : ResidualNetwork
        With ``norm`` ``"none"`` or ``"pre"``; post-norm multiplies the identity path too, and
        raises ValueError.
    fwd : ResidualForward
        The result of :func:`residual_forward` on the same network.
    dL_daL : array, shape (B, n)
        :math:`\delta^{(L)} = \partial L/\partial a^{(L)}`.

    Returns
    -------
    numpy.ndarray, shape (L + 1, B, n)
        ``G[k]`` is :math:`G_k`; ``G.sum(axis=0)`` equals ``residual_backward(net, fwd, dL_daL).delta[0]``
        up to rounding, and ``G[0]`` is :math:`\delta^{(L)}` itself (the path through no branch).
    """
    dL = _check_backward(net, fwd, dL_daL)
    if net.norm == "post":
        raise ValueError("net.norm must be 'none' or 'pre' for a path decomposition; post-norm rescales the identity path")
    L = net.L
    G = np.zeros((L + 1,) + dL.shape)
    G[0] = dL
    for done, l in enumerate(range(L, 0, -1)):
        # paths above block l have length 0..done; the branch of block l adds one to each
        du = _branch_back(net, fwd, l, net.alpha * G[: done + 1])[1]
        if net.norm == "pre":
            du = np.stack([layer_norm_backward(d, fwd.ln[l])[0] for d in du])
        G[1 : done + 2] += du
    return G
