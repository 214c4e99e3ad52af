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
* are exact at the limits: ``z = +-inf`` gives the limiting value, and
  ``|z|`` up to ``1e4`` (or any size whose result is representable) raises
  no numpy floating-point warning; values that underflow to 0 in the tails
  are the correct answer, so not even an underflow is signalled there;
* propagate NaN (NaN in, NaN out).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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
    "ACTIVATIONS",
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
    r"""Logistic sigmoid.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}}

    Parameters
    ----------
    z : array_like, shape (...)
        Pre-activations.

    Returns
    -------
    ndarray, shape (...)
        Values in ``[0, 1]``; ``sigma(-inf) = 0``, ``sigma(+inf) = 1``.

    Notes
    -----
    Uses :func:`scipy.special.expit`, which never overflows ``exp(-z)``.
    """
    x = _z(z)
    return np.asarray(expit(x), dtype=x.dtype)


def dsigmoid(z: ArrayLike) -> FloatArray:
    r"""Derivative of the sigmoid.

    .. math:: \sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = \sigma(z)\,\sigma(-z)

    The maximum is ``sigma'(0) = 1/4``, which is why a deep stack of sigmoid
    layers shrinks gradients by at least a factor 4 per layer.

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``[0, 1/4]``.

    Notes
    -----
    Computed as :math:`e/(1+e)^2` with :math:`e = e^{-|z|}` (equal to
    :math:`\sigma(z)\sigma(-z)`) instead of ``sigma(z) * (1 - sigma(z))``,
    because ``1 - sigma(z)`` rounds to exactly 0 once ``z > 37``, whereas this
    form keeps full relative accuracy in both tails (``sigma'(50) ~ 1.9e-22``
    rather than 0) and needs a single exponential.
    """
    x = _z(z)
    return np.asarray(_sigmoid_slope(x), dtype=x.dtype)


def _sigmoid_slope(x: FloatArray) -> FloatArray:
    # sigma'(x) = e / (1 + e)^2 with e = exp(-|x|) <= 1: it never overflows,
    # keeps full relative accuracy in both tails, and costs one exp instead
    # of two logistic evaluations (the backward pass calls it once per layer).
    e = np.empty_like(x)
    np.abs(x, out=e)
    np.negative(e, out=e)
    with np.errstate(under="ignore"):  # exp(-800) = 0 is the right answer
        np.exp(e, out=e)
    d = 1.0 + e
    d *= d
    np.divide(e, d, out=e)
    # Near 0 rounding can land one ulp above 1/4; the clamp restores the
    # exact bound sigma' <= 1/4 the book relies on.
    return np.minimum(e, 0.25, out=e)


# ---------------------------------------------------------------------------
# tanh
# ---------------------------------------------------------------------------


def tanh(z: ArrayLike) -> FloatArray:
    r"""Hyperbolic tangent.

    .. math:: \tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}} = 2\sigma(2z) - 1

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``[-1, 1]``.
    """
    x = _z(z)
    return np.asarray(np.tanh(x), dtype=x.dtype)


def dtanh(z: ArrayLike) -> FloatArray:
    r"""Derivative of tanh.

    .. math:: \tanh'(z) = 1 - \tanh^2(z) = 4\,\sigma(2z)\,\sigma(-2z)

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``[0, 1]``, maximal at ``z = 0``.

    Notes
    -----
    Computed as ``4 sigma(2z) sigma(-2z)`` (equal to ``1 - tanh^2``) because
    ``1 - tanh^2`` cancels to exactly 0 for ``|z| > 19`` while the true slope
    is still ~1e-16; the sigmoid form keeps relative accuracy in the tails.
    """
    x = _z(z)
    return np.asarray(4 * _sigmoid_slope(2 * x), dtype=x.dtype)


# ---------------------------------------------------------------------------
# ReLU and leaky ReLU
# ---------------------------------------------------------------------------


def relu(z: ArrayLike) -> FloatArray:
    r"""Rectified linear unit.

    .. math:: \mathrm{relu}(z) = \max(z, 0)

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
    """
    x = _z(z)
    return np.asarray(np.maximum(x, 0), dtype=x.dtype)


def drelu(z: ArrayLike) -> FloatArray:
    r"""Derivative of ReLU.

    .. math:: \mathrm{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    ReLU is not differentiable at 0; by convention (as in PyTorch and
    TensorFlow) ``relu'(0) = 0``, the left derivative.

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``{0, 1}``.
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
    r"""Leaky ReLU.

    .. math:: g(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}

    Parameters
    ----------
    z : array_like, shape (...)
    alpha : float, default 0.01
        Slope for negative inputs; a finite real ``>= 0``. ``alpha = 0`` is
        plain ReLU.

    Returns
    -------
    ndarray, shape (...)

    Raises
    ------
    TypeError, ValueError
        If ``alpha`` is not a finite real number ``>= 0``.
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
    r"""Derivative of leaky ReLU.

    .. math:: g'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}

    At the kink ``z = 0`` the left derivative ``alpha`` is returned, matching
    the ``relu'(0) = 0`` convention of :func:`drelu`.

    Parameters
    ----------
    z : array_like, shape (...)
    alpha : float, default 0.01
        Slope for negative inputs; a finite real ``>= 0``.

    Returns
    -------
    ndarray, shape (...)
        Values in ``{alpha, 1}``.
    """
    a = check_nonnegative(alpha, "alpha")
    x = _z(z)
    return _keep_nan(np.where(x > 0, 1.0, a).astype(x.dtype), x)


# ---------------------------------------------------------------------------
# linear (identity)
# ---------------------------------------------------------------------------


def linear(z: ArrayLike) -> FloatArray:
    r"""Identity activation, :math:`g(z) = z`.

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        A copy of ``z``, so writing into the result never changes the input.
    """
    return _z(z).copy()


def dlinear(z: ArrayLike) -> FloatArray:
    r"""Derivative of the identity, :math:`g'(z) = 1`.

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Ones (NaN where ``z`` is NaN).
    """
    x = _z(z)
    return _keep_nan(np.ones_like(x), x)


# ---------------------------------------------------------------------------
# softplus
# ---------------------------------------------------------------------------


def softplus(z: ArrayLike) -> FloatArray:
    r"""Softplus, a smooth ReLU.

    .. math:: g(z) = \log(1 + e^{z})

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Positive values; ``g(z) ~ z`` for large ``z`` and ``~ e^z`` for very
        negative ``z``.

    Notes
    -----
    Evaluated as ``max(z, 0) + log1p(exp(-|z|))``, the same rearrangement as
    ``np.logaddexp(0, z)``: ``e^z`` is never formed for large ``z`` (no
    overflow) and ``log1p`` keeps relative accuracy when ``e^z`` is tiny.
    Spelled out rather than calling ``logaddexp`` because the latter raises
    an "invalid value" warning on NaN input. Underflow of ``e^{-|z|}`` to 0
    is the correct answer in the tails, so that warning is silenced.
    """
    x = _z(z)
    with np.errstate(under="ignore"):
        return np.asarray(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))), dtype=x.dtype)


def dsoftplus(z: ArrayLike) -> FloatArray:
    r"""Derivative of softplus: the sigmoid.

    .. math:: g'(z) = \frac{e^{z}}{1 + e^{z}} = \sigma(z)

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``[0, 1]``.
    """
    return sigmoid(z)


# ---------------------------------------------------------------------------
# GELU
# ---------------------------------------------------------------------------


def gelu(z: ArrayLike) -> FloatArray:
    r"""Gaussian error linear unit, exact form (Hendrycks & Gimpel, 2016).

    .. math:: g(z) = z\,\Phi(z),
              \qquad \Phi(z) = \tfrac12\bigl(1 + \operatorname{erf}(z/\sqrt2)\bigr)

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        ``g(-inf) = 0``, ``g(+inf) = +inf``; the minimum is about ``-0.17``
        near ``z = -0.75``.

    Notes
    -----
    :math:`\Phi` is :func:`scipy.special.ndtr`, not the tanh approximation.
    """
    x = _z(z)
    # -inf * Phi(-inf) = -inf * 0 is NaN; the limit is 0, reached by using 0.
    x_safe = np.where(np.isneginf(x), 0, x).astype(x.dtype, copy=False)
    with np.errstate(under="ignore"):  # z * Phi(z) -> 0 for z << 0 is correct
        return np.asarray(x_safe * ndtr(x_safe), dtype=x.dtype)


def dgelu(z: ArrayLike) -> FloatArray:
    r"""Derivative of the exact GELU.

    .. math:: g'(z) = \Phi(z) + z\,\varphi(z),
              \qquad \varphi(z) = \frac{e^{-z^2/2}}{\sqrt{2\pi}}

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        About ``[-0.13, 1.13]``; tends to 0 as ``z -> -inf`` and 1 as
        ``z -> +inf``.
    """
    x = _z(z)
    xc = np.clip(x, -_PHI_CLIP, _PHI_CLIP)
    with np.errstate(under="ignore"):  # phi(z) -> 0 in the tails is correct
        phi = _INV_SQRT_2PI * np.exp(-0.5 * xc * xc)
        return np.asarray(ndtr(x) + xc * phi, dtype=x.dtype)


# ---------------------------------------------------------------------------
# SELU
# ---------------------------------------------------------------------------


def selu(z: ArrayLike) -> FloatArray:
    r"""Scaled exponential linear unit (Klambauer et al., 2017).

    .. math:: g(z) = \lambda \begin{cases} z & z > 0 \\
              \alpha\,(e^{z} - 1) & z \le 0 \end{cases}

    with :math:`\alpha \approx 1.6733` (:data:`SELU_ALPHA`) and
    :math:`\lambda \approx 1.0507` (:data:`SELU_SCALE`).

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        ``g(-inf) = -lambda * alpha ~ -1.7581``.

    Notes
    -----
    ``expm1`` is evaluated on ``min(z, 0)`` so the discarded positive branch
    never overflows, and ``expm1`` keeps accuracy for small ``|z|``.
    """
    x = _z(z)
    with np.errstate(under="ignore"):  # e^z -> 0 for z << 0 is correct
        neg = SELU_ALPHA * np.expm1(np.minimum(x, 0))
    return np.asarray(SELU_SCALE * np.where(x > 0, x, neg), dtype=x.dtype)


def dselu(z: ArrayLike) -> FloatArray:
    r"""Derivative of SELU.

    .. math:: g'(z) = \lambda \begin{cases} 1 & z > 0 \\
              \alpha\,e^{z} & z \le 0 \end{cases}

    At the kink ``z = 0`` the left derivative ``lambda * alpha ~ 1.7581`` is
    returned (same side as the :func:`drelu` convention).

    Parameters
    ----------
    z : array_like, shape (...)

    Returns
    -------
    ndarray, shape (...)
        Values in ``(0, lambda * alpha]``.
    """
    x = _z(z)
    with np.errstate(under="ignore"):  # e^z -> 0 for z << 0 is correct
        neg = SELU_ALPHA * np.exp(np.minimum(x, 0))
    return np.asarray(SELU_SCALE * np.where(x > 0, 1, neg), dtype=x.dtype)


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

    Calling the object applies ``g``: ``get("tanh")(z) == tanh(z)``.
    """

    name: str
    g: Callable[[ArrayLike], FloatArray]
    dg: Callable[[ArrayLike], FloatArray]

    def __call__(self, z: ArrayLike) -> FloatArray:
        return self.g(z)


#: Every activation by name; leaky ReLU uses its default ``alpha = 0.01``.
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, dsigmoid),
        Activation("tanh", tanh, dtanh),
        Activation("relu", relu, drelu),
        Activation("leaky_relu", leaky_relu, dleaky_relu),
        Activation("linear", linear, dlinear),
        Activation("softplus", softplus, dsoftplus),
        Activation("gelu", gelu, dgelu),
        Activation("selu", selu, dselu),
    )
}

#: Registry names, in a fixed order for tables and plots.
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def get(name: str | Activation) -> Activation:
    """Look up an activation by name.

    Parameters
    ----------
    name : str or Activation
        One of :data:`NAMES`. An :class:`Activation` is returned unchanged, so
        functions can accept either form.

    Returns
    -------
    Activation

    Raises
    ------
    TypeError
        If ``name`` is neither a string nor an :class:`Activation`.
    ValueError
        If ``name`` is not a registered activation; the message lists the
        valid names.
    """
    if isinstance(name, Activation):
        return name
    return lookup(ACTIVATIONS, name, "activation", or_instance=" or an Activation")
