r"""Optimisers: how a gradient becomes a step, one rule per class.

Every rule here turns the gradient :math:`g_t = \partial L/\partial\theta` of step
:math:`t = 1, 2, \dots` into a step :math:`\Delta_t` and moves the parameters
*down* by it,

.. math:: \theta_t = \theta_{t-1} - \Delta_t ,

separately for every :math:`W^{(l)}` and :math:`b^{(l)}` (all operations are
entrywise). Plain SGD takes :math:`\Delta_t = \alpha\, g_t`; the others keep a
running state (a velocity, or averages of :math:`g` and :math:`g^2`) with one
array per layer for the weights and one for the biases, keyed by the layer
number like :class:`gradlab.mlp.Network`.

Any model can be trained this way, not only :class:`gradlab.mlp.Network`: give
``init``, ``step`` and :func:`apply` a *parameter dict* instead, ``{name: array}``
holding the model's own arrays (not copies), and the gradients as a dict with the
same names; :func:`apply` then updates those arrays in place. That is how
:mod:`gradlab.residual` and normalised networks are stepped by the same rules.

The state is explicit: ``state = opt.init(net)`` starts it, and
``delta, state = opt.step(grads, state, lr)`` returns the step and the *new*
state without modifying the old one; :func:`apply` then takes the step. The
learning rate :math:`\alpha` (``lr``) is an argument of ``step``, not of the
optimiser, so that :func:`gradlab.train.train_sgd` gives every rule the same
``lr`` argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from ._validate import check_nonnegative, check_positive, lookup
from .mlp import Gradients, Network, check_net

__all__ = [
    "LayerArrays", "SGDState", "MomentumState", "RMSPropState", "AdamState",
    "Optimiser", "SGD", "Momentum", "RMSProp", "Adam", "apply", "OPTIMISERS", "NAMES", "get",
]

Array = NDArray[np.floating]


@dataclass(frozen=True)
class LayerArrays:
    r"""One array per layer for the weights and one for the biases: a step :math:`\Delta` or a state.

    Attributes
    ----------
    W : dict[int, numpy.ndarray]
        ``W[l]`` has the shape of :math:`W^{(l)}`, l = 1..L; for a parameter dict, one array per
        parameter name.
    b : dict[int, numpy.ndarray]
        ``b[l]`` has the shape of :math:`b^{(l)}`; empty for a parameter dict.
    """

    W: dict[int, Array]
    b: dict[int, Array]

    def map(self, f: Callable[[Array], Array]) -> "LayerArrays":
        """``f`` applied to every array, layer by layer."""
        return LayerArrays({l: f(v) for l, v in self.W.items()}, {l: f(v) for l, v in self.b.items()})


def _zip(f: Callable[..., Array], *parts: LayerArrays) -> LayerArrays:
    """``f`` applied entry by entry to layer-aligned :class:`LayerArrays`."""
    first = parts[0]
    return LayerArrays({l: f(*(p.W[l] for p in parts)) for l in first.W},
                       {l: f(*(p.b[l] for p in parts)) for l in first.b})


@dataclass(frozen=True)
class SGDState:
    """State of :class:`SGD`: only the number of steps taken, ``t``."""

    t: int


@dataclass(frozen=True)
class MomentumState:
    r"""State of :class:`Momentum`: ``t`` steps taken and the velocity :math:`m` (zero at ``t = 0``)."""

    t: int
    m: LayerArrays


@dataclass(frozen=True)
class RMSPropState:
    r"""State of :class:`RMSProp`: ``t`` steps taken and the running mean square :math:`v` of the gradient."""

    t: int
    v: LayerArrays


@dataclass(frozen=True)
class AdamState:
    r"""State of :class:`Adam`: ``t`` steps taken, the first and second moment estimates :math:`m` and :math:`v`."""

    t: int
    m: LayerArrays
    v: LayerArrays


def _check_beta(value: Any, name: str) -> float:
    v = check_nonnegative(value, name)
    if v >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {v}")
    return v


class Optimiser:
    """What every rule provides: ``init(net)`` and ``step(grads, state, lr)``.

    Subclasses set ``name``, ``State`` and ``_fields`` (the state's
    :class:`LayerArrays`) and implement ``_step``.
    """

    name: str = ""
    State: type = SGDState
    _fields: tuple[str, ...] = ()

    def init(self, net: Network | Mapping[str, Array]) -> Any:
        """The state before the first step (``t = 0``, every average zero), shaped like ``net``
        (a :class:`gradlab.mlp.Network` or a parameter dict)."""
        params = _as_layer_arrays(net, "net")
        return self.State(0, *(params.map(np.zeros_like) for _ in self._fields))

    def step(self, grads: Gradients, state: Any, lr: float) -> tuple[LayerArrays, Any]:
        r"""The step :math:`\Delta_t` for gradient ``grads`` and the new state (``state`` is not modified).

        Parameters
        ----------
        grads : Gradients or dict
            From :func:`gradlab.mlp.backward` (possibly clipped); only ``dW`` and ``db`` are used.
            For a model given as a parameter dict, a dict with the same names and shapes.
        state : the optimiser's state
            From :meth:`init` or the previous ``step`` on the same network.
        lr : float
            The learning rate :math:`\alpha \ge 0`.

        Returns
        -------
        (LayerArrays, state)
            :math:`\Delta_t` (take it with :func:`apply`) and the state after step :math:`t`.
        """
        if isinstance(grads, Gradients):
            g = LayerArrays(grads.dW, grads.db)
        elif isinstance(grads, Mapping):
            g = _as_layer_arrays(grads, "grads")
        else:
            raise TypeError(f"grads must be a gradlab.mlp.Gradients or a dict of arrays, got {type(grads).__name__}")
        if not isinstance(state, self.State):
            raise TypeError(f"state must be the {self.State.__name__} of {type(self).__name__}.init, "
                            f"got {type(state).__name__}")
        lr = check_nonnegative(lr, "lr")
        for field in self._fields:
            _check_aligned(getattr(state, field), g, f"state.{field}")
        return self._step(g, state, lr)

    def _step(self, g: LayerArrays, state: Any, lr: float) -> tuple[LayerArrays, Any]:
        raise NotImplementedError


def _as_layer_arrays(x: Any, name: str) -> LayerArrays:
    """A Network's W and b, or a parameter dict {str: float array} as ``LayerArrays(params, {})``."""
    if isinstance(x, Network):
        check_net(x)
        return LayerArrays(x.W, x.b)
    if not isinstance(x, Mapping) or not x:
        raise TypeError(f"{name} must be a gradlab.mlp.Network or a non-empty dict of arrays, "
                        f"got {type(x).__name__}" + (" (empty)" if isinstance(x, Mapping) else ""))
    for k, v in x.items():
        if not isinstance(k, str):
            raise TypeError(f"{name} must be keyed by parameter names (str), got the key {k!r}")
        if not isinstance(v, np.ndarray) or not np.issubdtype(v.dtype, np.floating):
            raise TypeError(f"{name}[{k!r}] must be a float numpy array, got "
                            f"{type(v).__name__ if not isinstance(v, np.ndarray) else v.dtype}")
    return LayerArrays(dict(x), {})


def _check_aligned(s: LayerArrays, g: LayerArrays, name: str, other: str = "the gradient") -> None:
    """ValueError naming ``name`` unless ``s`` has the layers and shapes of ``g`` (called ``other``)."""
    for kind, sd, gd in (("W", s.W, g.W), ("b", s.b, g.b)):
        if sorted(sd) != sorted(gd):
            raise ValueError(f"{name}.{kind} has layers {sorted(sd)} but {other} has {sorted(gd)}: "
                             "made for another network?")
        for l in gd:
            if sd[l].shape != gd[l].shape:
                raise ValueError(f"{name}.{kind}[{l!r}] has shape {sd[l].shape} but in {other} it is "
                                 f"{gd[l].shape}: made for another network?")


@dataclass(frozen=True)
class SGD(Optimiser):
    r"""Plain (stochastic) gradient descent: :math:`\Delta_t = \alpha\, g_t`.

    Stateless apart from the step count; with :func:`apply` it is exactly
    :func:`gradlab.train.sgd_step`, bit for bit.
    """

    name = "sgd"
    State = SGDState

    def _step(self, g: LayerArrays, state: SGDState, lr: float) -> tuple[LayerArrays, SGDState]:
        return g.map(lambda x: lr * x), SGDState(state.t + 1)


@dataclass(frozen=True)
class Momentum(Optimiser):
    r"""Classical momentum, the "heavy ball" of Polyak (1964): a velocity that averages past gradients.

    .. math::

        m_t = \beta\, m_{t-1} + g_t, \qquad \Delta_t = \alpha\, m_t, \qquad m_0 = 0 .

    Along a direction where the gradient keeps its sign the step grows towards
    :math:`\alpha g/(1-\beta)`; where it flips sign the contributions cancel.
    :math:`\beta = 0` is plain SGD. With ``nesterov=True`` the step looks ahead
    along the velocity, :math:`\Delta_t = \alpha\,(g_t + \beta\, m_t)`
    (Nesterov, 1983, in the form of Sutskever et al., 2013).

    Parameters
    ----------
    beta : float
        The momentum coefficient :math:`\beta \in [0, 1)`, default 0.9.
    nesterov : bool
        Nesterov's accelerated gradient instead of classical momentum.

    References
    ----------
    B. T. Polyak (1964), "Some methods of speeding up the convergence of iteration methods",
    *USSR Computational Mathematics and Mathematical Physics* 4(5), 1-17.
    I. Sutskever, J. Martens, G. Dahl & G. Hinton (2013), "On the importance of initialization
    and momentum in deep learning", *ICML*.
    """

    beta: float = 0.9
    nesterov: bool = False
    name = "momentum"
    State = MomentumState
    _fields = ("m",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta", _check_beta(self.beta, "beta"))
        if not isinstance(self.nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {type(self.nesterov).__name__}")

    def _step(self, g: LayerArrays, state: MomentumState, lr: float) -> tuple[LayerArrays, MomentumState]:
        beta = self.beta
        m = _zip(lambda m, g: beta * m + g, state.m, g)
        if self.nesterov:
            delta = _zip(lambda g, m: lr * (g + beta * m), g, m)
        else:
            delta = m.map(lambda m: lr * m)
        return delta, MomentumState(state.t + 1, m)


@dataclass(frozen=True)
class RMSProp(Optimiser):
    r"""RMSProp (Tieleman & Hinton, 2012): divide each entry's step by a running root mean square of its gradient.

    .. math::

        v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2, \qquad
        \Delta_t = \alpha\, \frac{g_t}{\sqrt{v_t} + \varepsilon}, \qquad v_0 = 0 .

    Every entry moves by :math:`\alpha` times its gradient measured in units
    of its own recent size: multiplying one layer's gradients by a constant
    factor, say :math:`10^{-3}` for a layer whose gradient has vanished, leaves
    that layer's steps unchanged up to :math:`\varepsilon`. The first step is
    :math:`\alpha\, g_1/(\sqrt{(1-\rho)\,g_1^2} + \varepsilon)`,
    :math:`1/\sqrt{1-\rho}` times larger than later steps of a steady gradient
    (RMSProp has no bias correction).

    Parameters
    ----------
    rho : float
        Decay of the running mean square, :math:`\rho \in [0, 1)`, default 0.9.
    eps : float
        :math:`\varepsilon > 0`, default 1e-8: keeps the division finite where :math:`v = 0`.

    References
    ----------
    T. Tieleman & G. Hinton (2012), Lecture 6.5, "rmsprop: Divide the gradient by a running average
    of its recent magnitude", *Neural Networks for Machine Learning* (Coursera).
    """

    rho: float = 0.9
    eps: float = 1e-8
    name = "rmsprop"
    State = RMSPropState
    _fields = ("v",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_beta(self.rho, "rho"))
        object.__setattr__(self, "eps", check_positive(self.eps, "eps"))

    def _step(self, g: LayerArrays, state: RMSPropState, lr: float) -> tuple[LayerArrays, RMSPropState]:
        rho, eps = self.rho, self.eps
        v = _zip(lambda v, g: rho * v + (1 - rho) * (g * g), state.v, g)
        delta = _zip(lambda g, v: lr * g / (np.sqrt(v) + eps), g, v)
        return delta, RMSPropState(state.t + 1, v)


@dataclass(frozen=True)
class Adam(Optimiser):
    r"""Adam (Kingma & Ba, 2015): momentum and RMSProp together, with both averages bias-corrected.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        \hat m_t = m_t / (1-\beta_1^t), \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2, \qquad
        \hat v_t = v_t / (1-\beta_2^t), \\
        \Delta_t &= \alpha\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}, \qquad
        m_0 = v_0 = 0 .

    The correction undoes the pull of :math:`m_0 = v_0 = 0` towards zero, so
    the first step is :math:`\alpha\, g_1/(|g_1| + \varepsilon)`, of size
    :math:`\alpha` in every entry whatever the gradient's scale. More generally
    the step is unchanged, up to :math:`\varepsilon`, when the loss is multiplied
    by a constant :math:`c > 0` (:math:`\hat m \to c\hat m`,
    :math:`\sqrt{\hat v} \to c\sqrt{\hat v}`). As every operation is entrywise, the
    same holds layer by layer: a layer whose gradients are all smaller by a constant
    factor (vanished) or larger (exploded) takes the same steps as if they were not.

    Parameters
    ----------
    beta1, beta2 : float
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the two averages, default 0.9 and 0.999.
    eps : float
        :math:`\varepsilon > 0`, default 1e-8.

    References
    ----------
    D. P. Kingma & J. Ba (2015), "Adam: A method for stochastic optimization", *ICLR*; arXiv:1412.6980
    (Algorithm 1).
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name = "adam"
    State = AdamState
    _fields = ("m", "v")

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta1", _check_beta(self.beta1, "beta1"))
        object.__setattr__(self, "beta2", _check_beta(self.beta2, "beta2"))
        object.__setattr__(self, "eps", check_positive(self.eps, "eps"))

    def _step(self, g: LayerArrays, state: AdamState, lr: float) -> tuple[LayerArrays, AdamState]:
        b1, b2, eps, t = self.beta1, self.beta2, self.eps, state.t + 1
        m = _zip(lambda m, g: b1 * m + (1 - b1) * g, state.m, g)
        v = _zip(lambda v, g: b2 * v + (1 - b2) * (g * g), state.v, g)
        c1, c2 = 1 - b1**t, 1 - b2**t  # bias corrections
        delta = _zip(lambda m, v: lr * (m / c1) / (np.sqrt(v / c2) + eps), m, v)
        return delta, AdamState(t, m, v)


def apply(net: Network | Mapping[str, Array], delta: LayerArrays) -> None:
    r"""Take the step in place: :math:`W^{(l)} \mathrel{-}= \Delta_W^{(l)}` and
    :math:`b^{(l)} \mathrel{-}= \Delta_b^{(l)}` for l = 1..L; for a parameter dict,
    every array :math:`\theta \mathrel{-}= \Delta_\theta`, in place, so the model
    that owns the arrays is updated."""
    params = _as_layer_arrays(net, "net")
    if not isinstance(delta, LayerArrays):
        raise TypeError(f"delta must be a gradlab.optim.LayerArrays, got {type(delta).__name__}")
    _check_aligned(delta, params, "delta", "net")
    _apply(params, delta)


def _apply(net: Network | LayerArrays, delta: LayerArrays) -> None:
    """:func:`apply` on checked arguments (the training loop's inner step)."""
    for target, step in ((net.W, delta.W), (net.b, delta.b)):
        for k in step:
            target[k] -= step[k]


#: Each rule with its default hyperparameters, by name (what ``train_sgd(optimiser=...)`` accepts).
OPTIMISERS: Mapping[str, Optimiser] = {
    "sgd": SGD(),
    "momentum": Momentum(),
    "nesterov": Momentum(nesterov=True),
    "rmsprop": RMSProp(),
    "adam": Adam(),
}
NAMES = tuple(OPTIMISERS)


def get(name: str | Optimiser) -> Optimiser:
    """The optimiser called ``name`` with default hyperparameters (an :class:`Optimiser` is returned unchanged)."""
    if isinstance(name, Optimiser):
        return name
    return lookup(OPTIMISERS, name, "optimiser", or_instance=" or an Optimiser")
