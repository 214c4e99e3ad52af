r"""The book's measurements, one function each, so a chapter shows the idea and a test re-runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng
from .data import Dataset
from .mlp import Network, backward, forward, init_network, loss_and_gradients
from .train import accuracy, train_sgd

__all__ = ["trainability"]


def trainability(
    dataset: Dataset,
    depths: Sequence[int],
    sigma_w2s: Sequence[float],
    *,
    sigma_b2: float,
    activation: str | activations.Activation = "tanh",
    width: int = 64,
    lr: float = 0.02,
    epochs: int = 5,
    batch_size: int = 32,
    seed: int = 0,
) -> NDArray[np.float64]:
    r"""Test accuracy after a fixed training budget, for every depth L and weight variance :math:`\sigma_w^2`.

    Each network has L layers: L - 1 hidden layers of ``width`` units with activation g and a
    linear output layer with one unit per class, weights :math:`\mathcal N(0, \sigma_w^2/n_{l-1})`,
    biases :math:`\mathcal N(0, \sigma_b^2)`. It is trained by :func:`gradlab.train.train_sgd` on
    softmax cross-entropy. Every network is drawn and shuffled from ``seed``, so networks of one depth
    differ only in :math:`\sigma_w^2` (their weights are the same normal draws, rescaled), which keeps
    the grid's pattern from being seed noise. A run whose loss overflows scores 0.

    Returns
    -------
    numpy.ndarray
        Shape (len(depths), len(sigma_w2s)): test accuracy in [0, 1].
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a gradlab.data.Dataset, got {type(dataset).__name__}")
    depth_list = [check_positive_int(d, f"depths[{i}]", minimum=2) for i, d in enumerate(depths)]
    sw2_list = [check_positive(s, f"sigma_w2s[{i}]") for i, s in enumerate(sigma_w2s)]
    if not depth_list or not sw2_list:
        raise ValueError("depths and sigma_w2s must each hold at least one value")
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")
    n = check_positive_int(width, "width")
    seed = check_positive_int(seed, "seed", minimum=0)
    n_in, n_classes = dataset.X_train.shape[1], int(max(dataset.y_train.max(), dataset.y_test.max())) + 1
    acc = np.zeros((len(depth_list), len(sw2_list)))
    for i, L in enumerate(depth_list):
        sizes = (n_in,) + (n,) * (L - 1) + (n_classes,)
        for j, sw2 in enumerate(sw2_list):
            net = init_network(sizes, hidden=activation, output="linear", init="lecun_normal",
                               gain=float(np.sqrt(sw2)), bias_std=float(np.sqrt(sb2)), rng=seed)
            hist = train_sgd(net, dataset.X_train, dataset.y_train, lr=lr, epochs=epochs,
                             batch_size=batch_size, rng=seed)
            if hist.diverged_at is None:
                acc[i, j] = accuracy(hist.network, dataset.X_test, dataset.y_test)
    return acc
