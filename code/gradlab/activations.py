"""Activation functions g(z) and their derivatives g'(z).

Backpropagation multiplies one factor g'(z) per layer into every gradient, so
whether gradients vanish or explode depends on how big g' is where the
pre-activations z land. Each activation here therefore comes as a pair
``g, dg`` of plain elementwise functions, bundled into an :class:`Activation`
and looked up by name with :func:`get`.

All functions

* accept a scalar or an array of any shape ``(...)`` and return an array of
  the same shape ``(...)``;
* keep the input's floating dtype (float32 in, float32 out) and promote
  integer or boolean input to float64;
* are exact at the limits: ``z = +-inf`` gives the limiting value, and no
  finite or infinite ``z`` raises a numpy floating-point warning, not even
  an underflow (the tests run them under ``np.errstate(all="raise")``);
* propagate NaN (NaN in, NaN out).

Tiny results. A result whose exact magnitude lies below the smallest normal
double, ``np.finfo(float).tiny`` = 2.2e-308, may come back as 0 (or -0.0),
e.g. ``sigmoid(-745) = 0`` (exact 5e-324) and ``gelu(-38) = -0.0`` (exact
-1.1e-314). The absolute error is then below 2.2e-308, far under anything a
network can resolve, and subnormal numbers carry too few digits to be worth
keeping; above that threshold the results keep full relative accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, ndtr

from ._validate import as_array, check_nonnegative, lookup

__all__ = [
    "Activation",
    "sigmoid",
    "dsigmoid",
    "tanh",
    "dtanh",
    "relu",
    "drelu",
    "leaky_relu",
    "dleaky_relu",
    "linear",
    "dlinear",
    "softplus",
    "dsoftplus",
    "gelu",
    "dgelu",
    "selu",
    "dselu",
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "delu",
    "silu",
    "dsilu",
    "ACTIVATIONS",
    "leaky",
    "elu_with",
    "NAMES",
    "get",
]

FloatArray = NDArray[np.floating[Any]]

#: SELU constants from Klambauer et al. (2017), "Self-Normalizing Neural
#: Networks", eq. (14): the unique values for which mean 0 / variance 1 is a
#: stable fixed point of the layer-to-layer map.
SELU_ALPHA: float = 1.6732632423543772848170429916717
#: The SELU scale :math:`\lambda`, from the same equation as :data:`SELU_ALPHA`.
SELU_SCALE: float = 1.0507009873554804934193349852946

_INV_SQRT_2PI: float = 1.0 / math.sqrt(2.0 * math.pi)

# Beyond |z| = 40 the Gaussian density exp(-z^2/2) is below the smallest
# float64 subnormal (it is 0 from |z| ~ 38.6), so z * phi(z) is exactly 0 there;
# clipping keeps z^2 from overflowing and inf * 0 from producing NaN.
_PHI_CLIP: float = 40.0


def _z(z: ArrayLike) -> FloatArray:
    return as_array(z, "z")


def _keep_nan(out: FloatArray, z: FloatArray) -> FloatArray:
    # np.where(z > 0, ...) sends NaN to the "else" branch; restore it so a NaN
    # that crept into a network is never silently turned into a slope.
    return np.where(np.isnan(z), z, out).astype(z.dtype, copy=False)


# ---------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------


def sigmoid(z: ArrayLike) -> FloatArray:
    r"""Logistic sigmoid, :math:`\sigma(z) = 1/(1 + e^{-z})`, in ``[0, 1]``.

    :func:`scipy.special.expit` never overflows ``exp(-z)``.
    """
    x = _z(z)
    return np.asarray(expit(x), dtype=x.dtype)


def dsigmoid(z: ArrayLike) -> FloatArray:
    r"""Derivative of the sigmoid, :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = \sigma(z)\,\sigma(-z)`.

    The slope is even, so it is computed from :math:`s = \sigma(-|z|) \le \tfrac12`:
    ``1 - s`` never rounds to 0 (both tails keep full relative accuracy) and
    ``s * (1 - s)`` never rounds above the maximum ``sigma'(0) = 1/4``.
    """
    x = _z(z)
    s = sigmoid(-np.abs(x))
    return np.asarray(s * (1 - s))


# ---------------------------------------------------------------------------
# tanh
# ---------------------------------------------------------------------------


def tanh(z: ArrayLike) -> FloatArray:
    r"""Hyperbolic tangent, :math:`\tanh(z) = 2\sigma(2z) - 1`, in ``[-1, 1]``."""
    x = _z(z)
    return np.asarray(np.tanh(x), dtype=x.dtype)


def dtanh(z: ArrayLike) -> FloatArray:
    r"""Derivative of tanh, :math:`\tanh'(z) = 1 - \tanh^2(z) = 4\,\sigma(2z)\,\sigma(-2z)`, in ``[0, 1]``.

    The sigmoid form keeps relative accuracy in the tails, where ``1 - tanh^2``
    cancels to exactly 0 (from ``|z| > 19``, while the slope is still ~1e-16).
    """
    x = _z(z)
    return np.asarray(4 * dsigmoid(2 * x))


# ---------------------------------------------------------------------------
# ReLU and leaky ReLU
# ---------------------------------------------------------------------------


def relu(z: ArrayLike) -> FloatArray:
    r"""Rectified linear unit, :math:`\max(z, 0)`."""
    x = _z(z)
    return np.asarray(np.maximum(x, 0), dtype=x.dtype)


def drelu(z: ArrayLike) -> FloatArray:
    r"""Derivative of ReLU: 1 for ``z > 0``, else 0.

    At the kink, by the convention of PyTorch and TensorFlow, ``relu'(0) = 0``
    (the left derivative).
    """
    x = _z(z)
    # x > 0 is False at 0 (the convention above). A comparison is ten times
    # faster than np.heaviside, which matters once per layer in backward.
    out = np.asarray(x > 0).astype(x.dtype)
    nan = np.isnan(x)
    if nan.any():  # a NaN that crept into a network must not become a slope
        out[nan] = np.nan
    return out


def leaky_relu(z: ArrayLike, alpha: float = 0.01) -> FloatArray:
    r"""Leaky ReLU: ``z`` for ``z > 0``, ``alpha * z`` otherwise (``alpha = 0`` is ReLU).

    ``alpha`` is a finite real ``>= 0``; :func:`leaky` makes an
    :class:`Activation` with another slope.
    """
    a = check_nonnegative(alpha, "alpha")
    x = _z(z)
    if a == 0.0:
        # alpha * (-inf) would be 0 * inf = NaN; the limit is 0.
        return relu(x)
    # Scaling only the negative part keeps alpha * z from overflowing in the
    # branch np.where discards.
    return np.asarray(np.where(x > 0, x, a * np.minimum(x, 0)), dtype=x.dtype)


def dleaky_relu(z: ArrayLike, alpha: float = 0.01) -> FloatArray:
    r"""Derivative of leaky ReLU: 1 for ``z > 0``, ``alpha`` otherwise.

    At the kink the left derivative ``alpha``, as for :func:`drelu`.
    """
    a = check_nonnegative(alpha, "alpha")
    x = _z(z)
    return _keep_nan(np.where(x > 0, 1.0, a).astype(x.dtype), x)


# ---------------------------------------------------------------------------
# linear (identity)
# ---------------------------------------------------------------------------


def linear(z: ArrayLike) -> FloatArray:
    r"""Identity, :math:`g(z) = z`; a copy, so writing into the result leaves ``z`` alone."""
    return _z(z).copy()


def dlinear(z: ArrayLike) -> FloatArray:
    r"""Derivative of the identity: ones (NaN where ``z`` is NaN)."""
    x = _z(z)
    return _keep_nan(np.ones_like(x), x)


# ---------------------------------------------------------------------------
# softplus
# ---------------------------------------------------------------------------


def softplus(z: ArrayLike) -> FloatArray:
    r"""Softplus, a smooth ReLU, :math:`\log(1 + e^{z})`.

    Evaluated as ``max(z, 0) + log1p(exp(-|z|))`` (the rearrangement inside
    ``np.logaddexp(0, z)``, which warns on NaN): ``e^z`` is never formed for
    large ``z`` and ``log1p`` keeps relative accuracy when ``e^z`` is tiny.
    """
    x = _z(z)
    with np.errstate(under="ignore"):
        return np.asarray(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))), dtype=x.dtype)


def dsoftplus(z: ArrayLike) -> FloatArray:
    r"""Derivative of softplus: the sigmoid, :math:`e^{z}/(1 + e^{z}) = \sigma(z)`."""
    return sigmoid(z)


# ---------------------------------------------------------------------------
# GELU
# ---------------------------------------------------------------------------


def gelu(z: ArrayLike) -> FloatArray:
    r"""Exact GELU (Hendrycks & Gimpel, 2016), :math:`z\,\Phi(z)` with :math:`\Phi` the normal CDF.

    :math:`\Phi` is :func:`scipy.special.ndtr`, not the tanh approximation. The
    minimum is about -0.17 near ``z = -0.75``.
    """
    x = _z(z)
    # -inf * Phi(-inf) = -inf * 0 is NaN; the limit is 0, reached by using 0.
    x_safe = np.where(np.isneginf(x), 0, x).astype(x.dtype, copy=False)
    with np.errstate(under="ignore"):  # z * Phi(z) -> 0 for z << 0 is correct
        return np.asarray(x_safe * ndtr(x_safe), dtype=x.dtype)


def dgelu(z: ArrayLike) -> FloatArray:
    r"""Derivative of the exact GELU, :math:`\Phi(z) + z\,\varphi(z)`, about ``[-0.13, 1.13]``."""
    x = _z(z)
    xc = np.clip(x, -_PHI_CLIP, _PHI_CLIP)
    with np.errstate(under="ignore"):  # phi(z) -> 0 in the tails is correct
        phi = _INV_SQRT_2PI * np.exp(-0.5 * xc * xc)
        return np.asarray(ndtr(x) + xc * phi, dtype=x.dtype)


# ---------------------------------------------------------------------------
# SELU
# ---------------------------------------------------------------------------


def selu(z: ArrayLike) -> FloatArray:
    r"""SELU (Klambauer et al., 2017): :math:`\lambda z` for ``z > 0``, :math:`\lambda\alpha(e^{z} - 1)` otherwise.

    :math:`\alpha` is :data:`SELU_ALPHA`, :math:`\lambda` is :data:`SELU_SCALE`.
    ``expm1`` runs on ``min(z, 0)``, so the discarded branch never overflows.
    """
    x = _z(z)
    with np.errstate(under="ignore"):  # e^z -> 0 for z << 0 is correct
        neg = SELU_ALPHA * np.expm1(np.minimum(x, 0))
    return np.asarray(SELU_SCALE * np.where(x > 0, x, neg), dtype=x.dtype)


def dselu(z: ArrayLike) -> FloatArray:
    r"""Derivative of SELU: :math:`\lambda` for ``z > 0``, :math:`\lambda\alpha e^{z}` otherwise.

    At the kink the left derivative :math:`\lambda\alpha \approx 1.7581`, as for :func:`drelu`.
    """
    x = _z(z)
    with np.errstate(under="ignore"):  # e^z -> 0 for z << 0 is correct, and so is scaling it
        slope = SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(np.minimum(x, 0)))
    return np.asarray(slope, dtype=x.dtype)


# ---------------------------------------------------------------------------
# ELU
# ---------------------------------------------------------------------------


def elu(z: ArrayLike, alpha: float = 1.0) -> FloatArray:
    r"""ELU (Clevert, Unterthiner & Hochreiter, 2016): ``z`` for ``z > 0``, :math:`\alpha(e^{z} - 1)` otherwise.

    Bounded below by :math:`-\alpha`; ``alpha`` is a finite real ``>= 0`` (``alpha = 0`` is ReLU),
    :func:`elu_with` makes an :class:`Activation` with another ``alpha``. SELU is
    :math:`\lambda\,\mathrm{elu}(z; \alpha)` with the constants :data:`SELU_SCALE`, :data:`SELU_ALPHA`.
    ``expm1`` runs on ``min(z, 0)``, so the discarded branch never overflows.
    """
    a = check_nonnegative(alpha, "alpha")
    x = _z(z)
    neg = a * np.expm1(np.minimum(x, 0))  # expm1 -> -1 for z << 0: no underflow
    return np.asarray(np.where(x > 0, x, neg), dtype=x.dtype)


def delu(z: ArrayLike, alpha: float = 1.0) -> FloatArray:
    r"""Derivative of ELU: 1 for ``z > 0``, :math:`\alpha e^{z}` otherwise, in ``[0, max(1, alpha)]``.

    At the kink the left derivative ``alpha``, as for :func:`drelu`. For ``alpha = 1`` the slope is
    continuous at 0 (both sides 1) but its own derivative jumps from 1 to 0 there; for other
    ``alpha`` the slope itself jumps.
    """
    a = check_nonnegative(alpha, "alpha")
    x = _z(z)
    with np.errstate(under="ignore"):  # e^z -> 0 for z << 0 is correct, and so is scaling it
        slope = np.where(x > 0, 1, a * np.exp(np.minimum(x, 0)))
    return np.asarray(slope, dtype=x.dtype)


# ---------------------------------------------------------------------------
# SiLU / Swish
# ---------------------------------------------------------------------------

# Beyond |z| = 800 the sigmoid of -|z| is exactly 0 in float64, so z * sigma(-z) is 0 there;
# clipping keeps inf * 0 from producing NaN.
_SIG_CLIP: float = 800.0


def silu(z: ArrayLike) -> FloatArray:
    r"""SiLU, or Swish with :math:`\beta = 1` (Elfwing et al., 2018; Ramachandran et al., 2017): :math:`z\,\sigma(z)`.

    Smooth, not monotone: the minimum is about -0.278 at ``z = -1.278`` (where
    :math:`1 + z\,\sigma(-z) = 0`); :math:`\mathrm{silu}(z) \to z` for ``z >> 0`` and
    :math:`\to 0^-` for ``z << 0``.
    """
    x = _z(z)
    # -inf * sigma(-inf) = -inf * 0 is NaN; the limit is 0, reached by using 0.
    x_safe = np.where(np.isneginf(x), 0, x).astype(x.dtype, copy=False)
    with np.errstate(under="ignore"):  # z * sigma(z) -> 0 for z << 0 is correct
        return np.asarray(x_safe * expit(x_safe), dtype=x.dtype)


def dsilu(z: ArrayLike) -> FloatArray:
    r"""Derivative of SiLU, :math:`\sigma(z)\,\big(1 + z\,\sigma(-z)\big) = \sigma(z) + z\,\sigma'(z)`, in ``[-0.1, 1.1]``.

    :math:`\mathrm{silu}'(0) = 1/2`, like GELU's; the slope exceeds 1 for ``z`` above about 2.4
    (maximum 1.0998 at ``z = 2.3994``) and is negative below ``z = -1.278`` (minimum -0.0998 at
    ``z = -2.3994``). Written with :math:`\sigma(-z)` so that neither tail cancels.
    """
    x = _z(z)
    xc = np.clip(x, -_SIG_CLIP, _SIG_CLIP)
    with np.errstate(under="ignore"):  # sigma(z) -> 0 for z << 0 is correct, and so is scaling it
        return np.asarray(expit(x) * (1 + xc * expit(-xc)), dtype=x.dtype)


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An activation ``g`` together with its derivative ``dg``.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"sigmoid"``.
    g : Callable
        ``g(z)``, elementwise, shape ``(...) -> (...)``.
    dg : Callable
        ``g'(z)``, elementwise, shape ``(...) -> (...)``.
    dg_given_g : Callable or None
        ``dg_given_g(z, a)``: the same slope ``g'(z)``, computed mostly from ``a = g(z)``, which the
        forward pass already holds (``1 - a**2`` for tanh, ``a (1 - a)`` for the sigmoid). ``None``
        where there is no such shortcut. Used by :meth:`slope`.

    Calling the object applies ``g``: ``get("tanh")(z) == tanh(z)``.
    """

    name: str
    g: Callable[[ArrayLike], FloatArray]
    dg: Callable[[ArrayLike], FloatArray]
    dg_given_g: Callable[[FloatArray, FloatArray], FloatArray] | None = None

    def __call__(self, z: ArrayLike) -> FloatArray:
        return self.g(z)

    def slope(self, z: FloatArray, a: FloatArray) -> FloatArray:
        """``g'(z)`` given ``a = g(z)`` as well (arrays of one shape, from a forward pass; unchecked).

        Equal to :attr:`dg` ``(z)`` to a relative 4e-15 (tested). Back-propagation asks for
        the slope of every unit at every step, and for tanh and the sigmoid recomputing it from
        ``z`` costs exponentials that ``a`` already paid for.
        """
        if self.dg_given_g is None:
            return self.dg(z)
        return self.dg_given_g(z, a)


# 1 - a^2 (tanh) and 1 - a (sigmoid) cancel as the unit saturates; up to |z| = 2 (tanh) or z = 2
# (sigmoid) they lose less than one digit (measured: relative error < 4e-15 against dg), beyond that
# the entries are recomputed from z. Other dtypes than float64 take the exact path throughout.
_SHORTCUT_Z: float = 2.0


def _dtanh_given_g(z: FloatArray, a: FloatArray) -> FloatArray:
    if a.dtype != np.float64 or z.shape != a.shape:
        return dtanh(z)
    d = 1.0 - a * a
    far = np.abs(z) > _SHORTCUT_Z
    if far.any():  # dtanh's own formula, 4 s (1 - s) with s = sigmoid(-2|z|), without its checks
        s = expit(-2.0 * np.abs(z[far]))
        d[far] = 4 * (s * (1 - s))
    return d


def _dsigmoid_given_g(z: FloatArray, a: FloatArray) -> FloatArray:
    if a.dtype != np.float64 or z.shape != a.shape:
        return dsigmoid(z)
    d = a * (1.0 - a)
    far = z > _SHORTCUT_Z  # for z < 0, a is small and 1 - a exact enough: no cancellation
    if far.any():  # dsigmoid's own formula, s (1 - s) with s = sigmoid(-z), without its checks
        s = expit(-z[far])
        d[far] = s * (1 - s)
    return d


#: Every activation by name; leaky ReLU uses its default ``alpha = 0.01`` (other slopes: :func:`leaky`).
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, dsigmoid, _dsigmoid_given_g),
        Activation("tanh", tanh, dtanh, _dtanh_given_g),
        Activation("relu", relu, drelu),
        Activation("leaky_relu", leaky_relu, dleaky_relu),
        Activation("linear", linear, dlinear),
        Activation("softplus", softplus, dsoftplus),
        Activation("gelu", gelu, dgelu),
        Activation("selu", selu, dselu),
        Activation("elu", elu, delu),
        Activation("silu", silu, dsilu),
    )
}

#: Registry names, in a fixed order for tables and plots.
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def leaky(alpha: float = 0.01) -> Activation:
    """Leaky ReLU with slope ``alpha`` for ``z <= 0``, ready for a network or the mean-field code.

    ``leaky(0.01)`` is the registry's ``"leaky_relu"``; another slope gives an
    activation named ``"leaky_relu(alpha=...)"``. ``alpha`` is a finite real ``>= 0``.
    """
    a = check_nonnegative(alpha, "alpha")
    if a == 0.01:
        return ACTIVATIONS["leaky_relu"]
    return Activation(f"leaky_relu(alpha={a:g})", partial(leaky_relu, alpha=a), partial(dleaky_relu, alpha=a))


def elu_with(alpha: float = 1.0) -> Activation:
    """ELU with ``alpha``, ready for a network or the mean-field code, like :func:`leaky` for leaky ReLU.

    ``elu_with(1.0)`` is the registry's ``"elu"``; another ``alpha`` gives an activation named
    ``"elu(alpha=...)"``. ``alpha`` is a finite real ``>= 0``.
    """
    a = check_nonnegative(alpha, "alpha")
    if a == 1.0:
        return ACTIVATIONS["elu"]
    return Activation(f"elu(alpha={a:g})", partial(elu, alpha=a), partial(delu, alpha=a))


def get(name: str | Activation) -> Activation:
    """The activation called ``name`` (one of :data:`NAMES`); an :class:`Activation` is returned unchanged."""
    if isinstance(name, Activation):
        return name
    return lookup(ACTIVATIONS, name, "activation", or_instance=" or an Activation")
