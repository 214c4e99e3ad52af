"""Fixtures shared by the unit tests of gradlab: small synthetic data sets.

The makers are fixtures, not part of gradlab: only the tests train on them.
Each returns a :class:`gradlab.data.Dataset` split like :func:`gradlab.data.digits`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradlab import data

Maker = Callable[..., data.Dataset]


def make_gaussian_blobs(
    n: int, *, n_features: int = 2, n_classes: int = 3, spread: float = 1.0, test_fraction: float = 0.25,
    rng: np.random.Generator | int,
) -> data.Dataset:
    """``n`` points in ``n_classes`` Gaussian clusters (standard deviation ``spread``) around centres 3 N(0, I)."""
    gen = np.random.default_rng(rng)
    centres = 3.0 * gen.standard_normal((n_classes, n_features))
    y = gen.integers(0, n_classes, size=n)
    X = centres[y] + spread * gen.standard_normal((n, n_features))
    return data._split(X, y.astype(np.int64), test_fraction, gen)


def make_teacher_regression(
    n: int, *, n_features: int = 4, noise: float = 0.1, test_fraction: float = 0.25, rng: np.random.Generator | int
) -> data.Dataset:
    r"""Targets of a random one-hidden-layer teacher, :math:`y = \tanh(x V^\top) u + \varepsilon`, shape (n, 1).

    ``V`` (8 x n_features) and ``u`` (8,) are standard normal scaled by fan-in,
    :math:`x \sim \mathcal N(0, I)` and :math:`\varepsilon \sim \mathcal N(0, \text{noise}^2)`: a network of
    the same shape can fit it up to the noise.
    """
    gen = np.random.default_rng(rng)
    V = gen.standard_normal((8, n_features)) / np.sqrt(n_features)
    u = gen.standard_normal(8) / np.sqrt(8)
    X = gen.standard_normal((n, n_features))
    y = (np.tanh(X @ V.T) @ u + noise * gen.standard_normal(n))[:, None]
    return data._split(X, y, test_fraction, gen)


@pytest.fixture(scope="session")
def gaussian_blobs() -> Maker:
    """The maker :func:`make_gaussian_blobs`, called as ``gaussian_blobs(n, ..., rng=seed)``."""
    return make_gaussian_blobs


@pytest.fixture(scope="session")
def teacher_regression() -> Maker:
    """The maker :func:`make_teacher_regression`, called as ``teacher_regression(n, ..., rng=seed)``."""
    return make_teacher_regression
