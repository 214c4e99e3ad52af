"""Data the book trains on: scikit-learn's 8×8 digits.

Nothing is downloaded: the digits (1,797 images of 64 pixels, 10 classes)
ship inside scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._validate import check_positive, check_rng

__all__ = ["Dataset", "digits"]


@dataclass(frozen=True)
class Dataset:
    """A train/test split; ``X_*`` are (n, n_features) float64, ``y_*`` integer labels (n,).

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Inputs, one example per row.
    y_train, y_test : numpy.ndarray
        Class labels 0..K-1 (or regression targets of shape (n, 1)).
    """

    X_train: NDArray[np.float64]
    y_train: NDArray[Any]
    X_test: NDArray[np.float64]
    y_test: NDArray[Any]

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X_train``)."""
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (labels are 0..K-1); a ValueError for regression targets."""
        if not np.issubdtype(self.y_train.dtype, np.integer):
            raise ValueError("n_classes is defined for integer class labels, but y holds regression targets")
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def _split(X: NDArray[np.float64], y: NDArray[Any], test_fraction: float, rng: np.random.Generator) -> Dataset:
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    order = rng.permutation(len(y))
    # At least one row on each side, so tiny synthetic sets still give two usable halves.
    n_test = min(max(int(round(test_fraction * len(y))), 1), len(y) - 1)
    test, train = order[:n_test], order[n_test:]
    return Dataset(X[train], y[train], X[test], y[test])


def digits(*, test_fraction: float = 0.25, rng: np.random.Generator | int = 0) -> Dataset:
    """scikit-learn's digits, shuffled with ``rng`` and standardised.

    Each pixel is centred and scaled with the *training* mean and standard
    deviation (pixels that are constant in the training set, the always-blank
    corners, are only centred), so no test information leaks into training.
    """
    from sklearn.datasets import load_digits  # imported lazily: only this function needs scikit-learn

    test_fraction = check_positive(test_fraction, "test_fraction")
    raw = load_digits()
    ds = _split(raw.data.astype(np.float64), raw.target.astype(np.int64), test_fraction, check_rng(rng))
    mean = ds.X_train.mean(axis=0)
    std = ds.X_train.std(axis=0)
    std[std == 0] = 1.0
    return Dataset((ds.X_train - mean) / std, ds.y_train, (ds.X_test - mean) / std, ds.y_test)
