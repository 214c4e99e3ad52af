r"""Batch normalisation and layer normalisation: forward and backward pass.

Both layers standardise a pre-activation and then rescale it with learned
parameters :math:`\gamma, \beta \in \mathbb R^n`,

.. math:: \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad
          y = \gamma \odot \hat x + \beta,

and differ only in *which* numbers the mean :math:`\mu` and the (biased)
variance :math:`\sigma^2` are taken over. A batch is stored as rows, ``x`` of
shape (B, n), as in :mod:`gradlab.mlp`:

* **batch norm** (Ioffe and Szegedy, 2015) standardises each *feature* over
  the B examples of the batch (axis 0) in training, so every example's output
  depends on every other example of the batch; at inference it uses running
  estimates of the mean and variance instead, and each example is on its own;
* **layer norm** (Ba, Kiros and Hinton, 2016) standardises each *example* over
  its n features (axis 1), the same way in training and at inference.

Every function computes in float64 (other floating or integer input is
converted), rejects NaN and infinite input with a ValueError naming the
argument, and raises no floating-point warning: a constant feature (variance
0) gives :math:`\hat x = 0` exactly and a finite gradient, because
:math:`\varepsilon > 0`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_finite, check_positive, lookup

__all__ = [
    "BatchNormCache",
    "LayerNormCache",
    "batch_norm_forward",
    "batch_norm_backward",
    "update_running_stats",
    "layer_norm_forward",
    "layer_norm_backward",
    "MODES",
]

Array = NDArray[np.float64]

#: The two modes of :func:`batch_norm_forward`: ``"train"`` normalises with the
#: statistics of the batch, ``"inference"`` with running statistics.
MODES: tuple[str, ...] = ("train", "inference")
_MODES = {m: m for m in MODES}


@dataclass(frozen=True)
class BatchNormCache:
    r"""What :func:`batch_norm_backward` and :func:`update_running_stats` need from the forward pass.

    Attributes
    ----------
    x_hat : numpy.ndarray
        :math:`\hat x`, shape (B, n).
    inv_std : numpy.ndarray
        :math:`1/\sqrt{\sigma^2 + \varepsilon}` per feature, shape (n,).
    gamma : numpy.ndarray
        :math:`\gamma`, shape (n,).
    mode : str
        ``"train"`` or ``"inference"``.
    mean : numpy.ndarray
        The mean that was subtracted, shape (n,): the batch mean in train
        mode, the running mean in inference mode.
    var : numpy.ndarray
        The variance that was used, shape (n,): the biased batch variance
        :math:`\sigma^2_B` in train mode, the running variance in inference mode.
    """

    x_hat: Array
    inv_std: Array
    gamma: Array
    mode: str
    mean: Array
    var: Array


@dataclass(frozen=True)
class LayerNormCache:
    r"""What :func:`layer_norm_backward` needs from the forward pass.

    Attributes
    ----------
    x_hat : numpy.ndarray
        :math:`\hat x`, shape (B, n).
    inv_std : numpy.ndarray
        :math:`1/\sqrt{\sigma^2 + \varepsilon}` per example, shape (B,).
    gamma : numpy.ndarray
        :math:`\gamma`, shape (n,).
    """

    x_hat: Array
    inv_std: Array
    gamma: Array


# --------------------------------------------------------------------------- checks and statistics


def _check_x(x: ArrayLike) -> Array:
    arr = check_finite(as_array(x, "x", ndim=2, dtype=np.float64), "x")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"x must hold at least one example and one feature, got shape {arr.shape}")
    return arr


def _check_vector(v: ArrayLike, name: str, n: int) -> Array:
    arr = check_finite(as_array(v, name, ndim=1, dtype=np.float64), name)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n,) = ({n},), one entry per feature of x, got {arr.shape}")
    return arr


def _check_variance(v: ArrayLike, name: str, n: int) -> Array:
    arr = _check_vector(v, name, n)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (it is a variance), got minimum {float(arr.min())}")
    return arr


def _check_dy(dy: ArrayLike, shape: tuple[int, ...]) -> Array:
    arr = check_finite(as_array(dy, "dy", ndim=2, dtype=np.float64), "dy")
    if arr.shape != shape:
        raise ValueError(f"dy must have the shape of the forward output, {shape}, got {arr.shape}")
    return arr


def _moments(x: Array, axis: int) -> tuple[Array, Array]:
    """Mean and biased variance of ``x`` along ``axis`` (kept as a length-1 axis)."""
    # Overflow and inf - inf are reported below as one clear error instead of a warning and a NaN.
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x.mean(axis=axis, keepdims=True)
        # The rounded mean of B copies of c can miss c by an ulp, and x - mean would then be a
        # tiny nonzero number blown up by 1/sqrt(eps); taking the mean of a constant slice to be
        # its value makes x_hat = 0 there exactly, as the maths says.
        first = np.take(x, [0], axis=axis)
        mean = np.where(np.all(x == first, axis=axis, keepdims=True), first, mean)
        centred = x - mean
        var = np.mean(centred * centred, axis=axis, keepdims=True)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ValueError(
            "x is too large: its mean or variance overflows float64 (entries up to about 1e150 in size are safe)"
        )
    return mean, var


# --------------------------------------------------------------------------- batch norm


def batch_norm_forward(
    x: ArrayLike,
    gamma: ArrayLike,
    beta: ArrayLike,
    *,
    eps: float = 1e-5,
    mode: str = "train",
    running_mean: ArrayLike | None = None,
    running_var: ArrayLike | None = None,
) -> tuple[Array, BatchNormCache]:
    r"""Batch normalisation of ``x`` (B, n), feature by feature: ``(y, cache)``.

    In ``mode="train"`` each feature j is standardised with the statistics of
    the batch,

    .. math:: \mu_j = \frac1B \sum_{b=1}^B x_{bj}, \qquad
              \sigma_j^2 = \frac1B \sum_{b=1}^B (x_{bj} - \mu_j)^2, \qquad
              \hat x_{bj} = \frac{x_{bj} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
              y_{bj} = \gamma_j \hat x_{bj} + \beta_j,

    so the output of each feature has batch mean :math:`\beta_j` and batch
    variance :math:`\gamma_j^2 \sigma_j^2/(\sigma_j^2 + \varepsilon)`, whatever
    the scale of ``x``. In ``mode="inference"`` ``running_mean`` and
    ``running_var`` (see :func:`update_running_stats`) replace
    :math:`\mu_j, \sigma_j^2`, and the layer is an affine map of each example
    alone.

    Parameters
    ----------
    x : array, shape (B, n)
        A batch, one example per row; train mode needs B >= 2.
    gamma, beta : array, shape (n,)
        Scale :math:`\gamma` and shift :math:`\beta` per feature.
    eps : float
        :math:`\varepsilon > 0`, which keeps :math:`\hat x` finite for a constant feature.
    mode : {"train", "inference"}
    running_mean, running_var : array, shape (n,), optional
        Required in inference mode, and refused in train mode (where they would
        be ignored; update them with :func:`update_running_stats`).

    Returns
    -------
    y : numpy.ndarray, shape (B, n)
    cache : BatchNormCache
        For :func:`batch_norm_backward` and :func:`update_running_stats`.
    """
    mode = lookup(_MODES, mode, "mode")
    x = _check_x(x)
    B, n = x.shape
    gamma = _check_vector(gamma, "gamma", n)
    beta = _check_vector(beta, "beta", n)
    eps = check_positive(eps, "eps")
    if mode == "train":
        if running_mean is not None or running_var is not None:
            raise ValueError(
                "running_mean and running_var are used only in mode='inference'; in train mode the batch "
                "statistics normalise x (update the running ones with update_running_stats)"
            )
        if B < 2:
            raise ValueError(
                "x must hold at least 2 examples in train mode: the variance of a batch of one example is "
                "undefined as an estimate (the biased one is 0, so x_hat = 0 whatever x is)"
            )
        mean2, var2 = _moments(x, axis=0)
        mean, var = mean2[0], var2[0]
    else:
        for name, value in (("running_mean", running_mean), ("running_var", running_var)):
            if value is None:
                raise ValueError(f"mode='inference' needs running_mean and running_var, got {name}=None")
        mean = _check_vector(running_mean, "running_mean", n)  # type: ignore[arg-type]
        var = _check_variance(running_var, "running_var", n)  # type: ignore[arg-type]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    y = gamma * x_hat + beta
    return y, BatchNormCache(x_hat, inv_std, gamma, mode, mean, var)


def _check_cache(cache: Any, cls: type, producer: str) -> None:
    if not isinstance(cache, cls):
        raise TypeError(f"cache must be the {cls.__name__} returned by {producer}, got {type(cache).__name__}")


def batch_norm_backward(dy: ArrayLike, cache: BatchNormCache) -> tuple[Array, Array, Array]:
    r"""Back-propagate :math:`\partial L/\partial y` through batch norm: ``(dx, dgamma, dbeta)``.

    With :math:`d\hat x = \gamma \odot dy` and :math:`s_j = 1/\sqrt{\sigma_j^2 + \varepsilon}`,

    .. math:: \frac{\partial L}{\partial \beta_j} = \sum_b dy_{bj}, \qquad
              \frac{\partial L}{\partial \gamma_j} = \sum_b dy_{bj}\, \hat x_{bj},

    and in train mode, where :math:`\mu_j` and :math:`\sigma_j^2` depend on
    every example of the batch,

    .. math:: \frac{\partial L}{\partial x_{bj}} = \frac{s_j}{B}\Big(B\, d\hat x_{bj}
              - \sum_{b'} d\hat x_{b'j} - \hat x_{bj} \sum_{b'} d\hat x_{b'j}\, \hat x_{b'j}\Big).

    Per feature this is :math:`s_j P\, d\hat x_{\cdot j}` with
    :math:`P = I - \frac1B \mathbf 1 \mathbf 1^\top - \frac1B \hat x_{\cdot j} \hat x_{\cdot j}^\top`:
    the part of :math:`dy` that is the same for every example of the batch
    does not reach ``x`` at all, and the part along :math:`\hat x` reaches it
    only shrunk by the factor :math:`\varepsilon/(\sigma_j^2+\varepsilon)`. In inference mode the statistics
    are constants and :math:`\partial L/\partial x_{bj} = s_j\, d\hat x_{bj}`.

    Parameters
    ----------
    dy : array, shape (B, n)
        :math:`\partial L/\partial y`.
    cache : BatchNormCache
        From :func:`batch_norm_forward`.
    """
    _check_cache(cache, BatchNormCache, "batch_norm_forward")
    dy = _check_dy(dy, cache.x_hat.shape)
    x_hat, s = cache.x_hat, cache.inv_std
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx_hat = dy * cache.gamma
    if cache.mode == "inference":
        return dx_hat * s, dgamma, dbeta
    B = x_hat.shape[0]
    # Chain rule through x_hat_b = (x_b - mu) s with dmu/dx_b = 1/B and ds/dx_b = -s^2 x_hat_b / B
    # (from dsigma^2/dx_b = 2 (x_b - mu)/B): dx_hat_c/dx_b = s (delta_bc - 1/B - x_hat_b x_hat_c / B).
    # Summing d x_hat_c times this over c gives the three terms; the last two are the coupling.
    dx = (s / B) * (B * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


def update_running_stats(
    running_mean: ArrayLike,
    running_var: ArrayLike,
    cache_or_x: BatchNormCache | ArrayLike,
    *,
    momentum: float = 0.1,
) -> tuple[Array, Array]:
    r"""New running mean and variance after one training batch: ``(mean, var)``.

    PyTorch's convention, an exponential moving average with weight
    :math:`m` = ``momentum`` on the *new* batch,

    .. math:: \hat\mu \leftarrow (1 - m)\, \hat\mu + m\, \mu_B, \qquad
              \hat\sigma^2 \leftarrow (1 - m)\, \hat\sigma^2 + m\, \frac{B}{B-1}\, \sigma_B^2,

    where :math:`\sigma_B^2` is the biased batch variance that normalised the
    batch. The running variance takes the unbiased :math:`\frac{B}{B-1}\sigma_B^2`,
    as PyTorch does, because at inference it stands for the variance of the
    feature over the whole data, which the unbiased estimator estimates without
    the :math:`(B-1)/B` shrinkage of small batches; PyTorch's convention is kept
    so that numbers here can be compared with it. (Keras writes the same
    average with its momentum on the *old* value, so its 0.99 is our
    :math:`m = 0.01`, and keeps the biased variance.) After k updates with the same batch the running
    mean is :math:`\mu_B + (1-m)^k(\hat\mu_0 - \mu_B)`.

    Parameters
    ----------
    running_mean, running_var : array, shape (n,)
        The current estimates (not modified); ``running_var`` >= 0.
    cache_or_x : BatchNormCache or array of shape (B, n)
        The train-mode cache of :func:`batch_norm_forward` for the batch, or
        the batch itself (B >= 2); both give the same result.
    momentum : float
        :math:`m \in (0, 1]`; 1 replaces the estimates by the batch statistics.
    """
    if isinstance(cache_or_x, BatchNormCache):
        if cache_or_x.mode != "train":
            raise ValueError(
                "cache_or_x must come from batch_norm_forward in mode='train': an inference-mode cache holds "
                "the running statistics themselves, not a batch's"
            )
        B = cache_or_x.x_hat.shape[0]
        batch_mean, batch_var = cache_or_x.mean, cache_or_x.var
    else:
        x = check_finite(as_array(cache_or_x, "cache_or_x", ndim=2, dtype=np.float64), "cache_or_x")
        B = x.shape[0]
        if B < 2 or x.shape[1] == 0:
            raise ValueError(
                f"cache_or_x must hold at least 2 examples and one feature (the unbiased variance of one "
                f"example is 0/0), got shape {x.shape}"
            )
        mean2, var2 = _moments(x, axis=0)
        batch_mean, batch_var = mean2[0], var2[0]
    n = batch_mean.shape[0]
    running_mean = _check_vector(running_mean, "running_mean", n)
    running_var = _check_variance(running_var, "running_var", n)
    m = check_positive(momentum, "momentum")
    if m > 1:
        raise ValueError(f"momentum must be in (0, 1], got {m}")
    new_mean = (1.0 - m) * running_mean + m * batch_mean
    new_var = (1.0 - m) * running_var + m * (B / (B - 1)) * batch_var
    return new_mean, new_var


# --------------------------------------------------------------------------- layer norm


def layer_norm_forward(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, *, eps: float = 1e-5
) -> tuple[Array, LayerNormCache]:
    r"""Layer normalisation of ``x`` (B, n), example by example: ``(y, cache)``.

    .. math:: \mu_b = \frac1n \sum_{j=1}^n x_{bj}, \qquad
              \sigma_b^2 = \frac1n \sum_{j=1}^n (x_{bj} - \mu_b)^2, \qquad
              \hat x_{bj} = \frac{x_{bj} - \mu_b}{\sqrt{\sigma_b^2 + \varepsilon}}, \qquad
              y_{bj} = \gamma_j \hat x_{bj} + \beta_j.

    Each example is on its own, in training and at inference alike. Shifting an
    example by :math:`c_b` leaves :math:`y_b` unchanged, and scaling it by
    :math:`a_b > 0` is the same as dividing :math:`\varepsilon` by :math:`a_b^2`,
    so :math:`y_b` is invariant to scale up to that :math:`\varepsilon`.

    Parameters
    ----------
    x : array, shape (B, n)
        A batch, one example per row, with n >= 2 features.
    gamma, beta : array, shape (n,)
        Scale and shift per feature.
    eps : float
        :math:`\varepsilon > 0`.

    Returns
    -------
    y : numpy.ndarray, shape (B, n)
    cache : LayerNormCache
        For :func:`layer_norm_backward`.
    """
    x = _check_x(x)
    n = x.shape[1]
    gamma = _check_vector(gamma, "gamma", n)
    beta = _check_vector(beta, "beta", n)
    eps = check_positive(eps, "eps")
    if n < 2:
        raise ValueError(
            "x must have at least 2 features for layer norm: over one feature the mean is the feature itself, "
            "so x_hat = 0 and y = beta whatever x is"
        )
    mean, var = _moments(x, axis=1)
    inv_std = 1.0 / np.sqrt(var + eps)  # (B, 1)
    x_hat = (x - mean) * inv_std
    y = gamma * x_hat + beta
    return y, LayerNormCache(x_hat, inv_std[:, 0], gamma)


def layer_norm_backward(dy: ArrayLike, cache: LayerNormCache) -> tuple[Array, Array, Array]:
    r"""Back-propagate :math:`\partial L/\partial y` through layer norm: ``(dx, dgamma, dbeta)``.

    The batch-norm formula with the roles of examples and features swapped:
    with :math:`d\hat x = \gamma \odot dy` and :math:`s_b = 1/\sqrt{\sigma_b^2 + \varepsilon}`,

    .. math:: \frac{\partial L}{\partial x_{bj}} = \frac{s_b}{n}\Big(n\, d\hat x_{bj}
              - \sum_{j'} d\hat x_{bj'} - \hat x_{bj} \sum_{j'} d\hat x_{bj'}\, \hat x_{bj'}\Big),
              \qquad
              \frac{\partial L}{\partial \gamma_j} = \sum_b dy_{bj}\, \hat x_{bj}, \qquad
              \frac{\partial L}{\partial \beta_j} = \sum_b dy_{bj}.

    Parameters
    ----------
    dy : array, shape (B, n)
        :math:`\partial L/\partial y`.
    cache : LayerNormCache
        From :func:`layer_norm_forward`.
    """
    _check_cache(cache, LayerNormCache, "layer_norm_forward")
    dy = _check_dy(dy, cache.x_hat.shape)
    x_hat = cache.x_hat
    n = x_hat.shape[1]
    s = cache.inv_std[:, None]
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx_hat = dy * cache.gamma
    # Same chain rule as batch_norm_backward, along axis 1: mu_b and sigma_b^2 couple the features of one example.
    dx = (s / n) * (n * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                    - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True))
    return dx, dgamma, dbeta
