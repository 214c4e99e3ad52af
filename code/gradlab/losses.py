"""Loss functions and their gradients with respect to the network's output.

Both losses average over the batch (rows), so their gradients carry the
factor ``1/B``; the backward pass then *sums* over rows and the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_softmax, softmax

from ._validate import as_array, check_finite, check_positive_int, lookup

__all__ = [
    "Loss",
    "mse",
    "dmse",
    "softmax_cross_entropy",
    "dsoftmax_cross_entropy",
    "one_hot",
    "LOSSES",
    "NAMES",
    "get",
]


def _pair(a: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    a = check_finite(as_array(a, "a", ndim=2), "a")
    y = check_finite(as_array(y, "y", dtype=a.dtype), "y")
    if y.shape != a.shape:
        raise ValueError(f"y must have the same shape as a, {a.shape}, got {y.shape}")
    return a, y


def mse(a: ArrayLike, y: ArrayLike) -> float:
    r"""Squared error :math:`L = \frac{1}{2B}\sum_{i,k} (a_{ik} - y_{ik})^2`, halved and averaged over the batch.

    The factor ½ makes the gradient :math:`(a - y)/B` without a stray 2. Relative to
    the usual conventions, with :math:`n_L` outputs per example: it is
    :math:`n_L/2` times the mean over all entries (``np.mean((a - y)**2)``,
    scikit-learn's ``mean_squared_error``, PyTorch's ``MSELoss()``), and ½ times
    the per-example sum averaged over the batch (:math:`\frac1B\sum_{i,k}`).

    Parameters
    ----------
    a : array, shape (B, n_L)
        Network output :math:`a^{(L)}`, one row per example.
    y : array, shape (B, n_L)
        Targets.
    """
    a, y = _pair(a, y)
    return float(0.5 * np.sum((a - y) ** 2) / a.shape[0])


def dmse(a: ArrayLike, y: ArrayLike) -> NDArray[np.floating]:
    r""":math:`\partial L/\partial a^{(L)} = (a - y)/B`, shape (B, n_L).
    """
    a, y = _pair(a, y)
    return (a - y) / a.shape[0]


def one_hot(labels: ArrayLike, n_classes: int) -> NDArray[np.float64]:
    """Rows of the identity: ``one_hot([2, 0], 3) == [[0,0,1],[1,0,0]]``.
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    lab = np.asarray(labels)
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be a 1-d array of integers, got dtype {lab.dtype} and shape {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}], got values in [{lab.min()}, {lab.max()}]")
    return np.eye(n_classes)[lab]


def _targets(z: NDArray[np.floating], y: ArrayLike) -> NDArray[np.floating]:
    """Accept integer class labels (shape (B,)) or one-hot/probability rows (shape (B, K))."""
    y_arr = np.asarray(y)
    if y_arr.ndim == 1 and np.issubdtype(y_arr.dtype, np.integer):
        if y_arr.shape[0] != z.shape[0]:
            raise ValueError(f"y must have one label per row of z ({z.shape[0]}), got {y_arr.shape[0]}")
        return one_hot(y_arr, z.shape[1]).astype(z.dtype)
    t = check_finite(as_array(y, "y", dtype=z.dtype), "y")
    if t.shape != z.shape:
        raise ValueError(f"y must be integer labels of shape ({z.shape[0]},) or rows of shape {z.shape}, got {t.shape}")
    return t


def softmax_cross_entropy(z: ArrayLike, y: ArrayLike) -> float:
    r"""Cross-entropy of softmax(z) against targets, averaged over the batch.

    :math:`L = -\frac1B \sum_i \sum_k y_{ik} \log \operatorname{softmax}(z_i)_k`,
    computed with ``log_softmax`` so logits of ±1e4 neither overflow nor give
    ``log(0)``.

    Parameters
    ----------
    z : array, shape (B, K)
        Logits (the output layer's activation must be ``linear``).
    y : array, shape (B,) of int, or (B, K)
        Class labels, or one-hot / probability rows.
    """
    z = check_finite(as_array(z, "z", ndim=2), "z")
    t = _targets(z, y)
    return float(-np.sum(t * log_softmax(z, axis=1)) / z.shape[0])


def dsoftmax_cross_entropy(z: ArrayLike, y: ArrayLike) -> NDArray[np.floating]:
    r""":math:`\partial L/\partial z = (\operatorname{softmax}(z) - y)/B`, shape (B, K).
    """
    z = check_finite(as_array(z, "z", ndim=2), "z")
    t = _targets(z, y)
    return (softmax(z, axis=1) - t) / z.shape[0]


@dataclass(frozen=True)
class Loss:
    """A loss ``value(a, y) -> float`` and its gradient ``grad(a, y)`` with respect to ``a``.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"mse"``.
    value : Callable
        ``value(a, y)``, the loss averaged over the batch.
    grad : Callable
        ``grad(a, y)``, its gradient with respect to ``a``, shape of ``a``.
    """

    name: str
    value: Callable[[ArrayLike, ArrayLike], float]
    grad: Callable[[ArrayLike, ArrayLike], NDArray[np.floating]]

    def __call__(self, a: ArrayLike, y: ArrayLike) -> float:
        return self.value(a, y)


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", mse, dmse),
    "softmax_cross_entropy": Loss("softmax_cross_entropy", softmax_cross_entropy, dsoftmax_cross_entropy),
}
NAMES: tuple[str, ...] = tuple(LOSSES)


def get(name: str | Loss) -> Loss:
    """Return the loss called ``name`` (a :class:`Loss` is returned unchanged)."""
    if isinstance(name, Loss):
        return name
    return lookup(LOSSES, name, "loss", or_instance=" or a Loss")
