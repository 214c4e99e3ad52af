r"""The seed note's network: one unit per layer, so the chain rule is a product of numbers.

.. math::

    z^{(l)} = w^{(l)} a^{(l-1)} + b^{(l)}, \quad a^{(l)} = g(z^{(l)}), \quad
    L = \tfrac12 (a^{(L)} - y)^2,

    \frac{\partial L}{\partial w^{(1)}}
      = \frac{\partial L}{\partial a^{(L)}}
        \prod_{l=2}^{L} \Big[g'(z^{(l)})\, w^{(l)}\Big]\; g'(z^{(1)})\, a^{(0)}.

Each factor is returned separately so a chapter can print them next to each
other and show which one makes the product small or large.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import activations
from ._validate import as_array, check_finite

__all__ = ["ChainFactors", "scalar_chain"]


@dataclass(frozen=True)
class ChainFactors:
    r"""The factors of :math:`\partial L/\partial w^{(1)}` for a one-unit-per-layer chain.

    Tuples are indexed from layer 1: ``g_prime[0]`` is :math:`g'(z^{(1)})`,
    ``w[0]`` is :math:`w^{(1)}`; ``a`` starts at :math:`a^{(0)} = x`.

    Attributes
    ----------
    a : tuple[float, ...]
        :math:`a^{(0)}, \dots, a^{(L)}` (length L + 1).
    z : tuple[float, ...]
        :math:`z^{(1)}, \dots, z^{(L)}`.
    w : tuple[float, ...]
        :math:`w^{(1)}, \dots, w^{(L)}`.
    g_prime : tuple[float, ...]
        :math:`g'(z^{(1)}), \dots, g'(z^{(L)})`.
    dL_daL : float
        :math:`\partial L/\partial a^{(L)} = a^{(L)} - y`.
    loss : float
        :math:`L = \tfrac12 (a^{(L)} - y)^2`.
    """

    a: tuple[float, ...]
    z: tuple[float, ...]
    w: tuple[float, ...]
    g_prime: tuple[float, ...]
    dL_daL: float
    loss: float

    @property
    def L(self) -> int:
        """Number of layers (units) in the chain."""
        return len(self.w)

    @property
    def a0(self) -> float:
        r"""The input :math:`a^{(0)} = x`."""
        return self.a[0]

    @property
    def layer_factors(self) -> tuple[float, ...]:
        r""":math:`w^{(l)} g'(z^{(l-1)})` for l = 2..L: how much layer l scales the signal going back."""
        return tuple(self.w[l] * self.g_prime[l - 1] for l in range(1, self.L))

    @property
    def dL_dw1(self) -> float:
        r""":math:`\partial L/\partial w^{(1)}`, the product of all factors."""
        prod = self.dL_daL * self.g_prime[-1]
        for l in range(self.L - 1, 0, -1):  # walk backwards like back-propagation
            prod *= self.w[l] * self.g_prime[l - 1]
        return float(prod * self.a0)

    def dL_dw(self) -> tuple[float, ...]:
        r""":math:`\partial L/\partial w^{(l)}` for every l = 1..L (index 0 is layer 1)."""
        delta = self.dL_daL * self.g_prime[-1]
        grads = [0.0] * self.L
        for l in range(self.L, 0, -1):
            grads[l - 1] = float(delta * self.a[l - 1])
            if l > 1:
                delta *= self.w[l - 1] * self.g_prime[l - 2]
        return tuple(grads)


def scalar_chain(
    w: Sequence[float],
    b: Sequence[float] | None = None,
    *,
    x: float = 1.0,
    y: float = 0.0,
    activation: str | activations.Activation = "sigmoid",
) -> ChainFactors:
    r"""Run the scalar chain forward and collect each factor of :math:`\partial L/\partial w^{(1)}`.

    Parameters
    ----------
    w : sequence of float, length L
        Weights :math:`w^{(1)}, \dots, w^{(L)}`.
    b : sequence of float, length L, optional
        Biases (zeros if omitted).
    x, y : float
        Input :math:`a^{(0)}` and target.
    activation : str or Activation
        :math:`g`, used in every layer (including the last, as in the seed note).
    """
    w_arr = check_finite(as_array(w, "w", ndim=1), "w")
    if w_arr.size < 1:
        raise ValueError("w must hold at least one weight")
    b_arr = np.zeros_like(w_arr) if b is None else check_finite(as_array(b, "b", ndim=1), "b")
    if b_arr.shape != w_arr.shape:
        raise ValueError(f"b must have the same length as w ({w_arr.size}), got {b_arr.size}")
    x_v = float(check_finite(as_array(x, "x", ndim=0), "x"))
    y_v = float(check_finite(as_array(y, "y", ndim=0), "y"))
    g = activations.get(activation)
    a, z, gp = [x_v], [], []
    for wl, bl in zip(w_arr, b_arr):
        zl = wl * a[-1] + bl
        z.append(float(zl))
        a.append(float(g.g(zl)))
        gp.append(float(g.dg(zl)))
    return ChainFactors(
        a=tuple(a),
        z=tuple(z),
        w=tuple(float(v) for v in w_arr),
        g_prime=tuple(gp),
        dL_daL=a[-1] - y_v,
        loss=0.5 * (a[-1] - y_v) ** 2,
    )


