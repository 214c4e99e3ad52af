"""Tests for gradlab.data: the digits split and its standardisation, reproducibility and
argument errors; and for the synthetic sets the unit tests train on (conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits

from gradlab import data

Maker = Callable[..., data.Dataset]


@pytest.fixture(scope="module")
def raw() -> Any:
    return load_digits()


@pytest.fixture(scope="module")
def digits() -> data.Dataset:
    return data.digits(rng=0)


def unstandardise(ds: data.Dataset, raw_X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Undo the per-pixel affine map without knowing it.

    Each column j of train and test went through the same increasing map
    t = (v - m_j) / s_j. If train + test is a permutation of the raw rows, the
    smallest and largest t are the images of the raw column's min and max,
    which fixes m_j and s_j. Returns (raw train, raw test, m, s).
    """
    both = np.vstack([ds.X_train, ds.X_test])
    lo, hi = raw_X.min(axis=0), raw_X.max(axis=0)
    tlo, thi = both.min(axis=0), both.max(axis=0)
    s = np.ones(raw_X.shape[1])
    varying = hi > lo
    s[varying] = (hi[varying] - lo[varying]) / (thi[varying] - tlo[varying])
    m = lo - tlo * s
    return ds.X_train * s + m, ds.X_test * s + m, m, s


# --------------------------------------------------------------------------- digits


def test_digits_shapes_and_types(digits: data.Dataset) -> None:
    n_test = round(0.25 * 1797)  # 449
    assert digits.X_test.shape == (n_test, 64)
    assert digits.X_train.shape == (1797 - n_test, 64)
    assert digits.y_train.shape == (1797 - n_test,) and digits.y_test.shape == (n_test,)
    assert digits.n_features == 64
    assert digits.n_classes == 10
    assert digits.X_train.dtype == np.float64 and digits.X_test.dtype == np.float64
    assert digits.y_train.dtype == np.int64 and digits.y_test.dtype == np.int64
    assert set(np.unique(digits.y_train)) == set(range(10)) == set(np.unique(digits.y_test))


@pytest.mark.parametrize(("fraction", "n_test"), [(0.1, 180), (0.5, 898), (0.9, 1617)])
def test_digits_test_fraction_is_respected(fraction: float, n_test: int) -> None:
    ds = data.digits(test_fraction=fraction, rng=1)
    assert len(ds.y_test) == n_test == round(fraction * 1797)
    assert len(ds.y_train) == 1797 - n_test


def test_digits_training_columns_are_standardised(digits: data.Dataset, raw: Any) -> None:
    assert_allclose(digits.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = digits.X_train.std(axis=0)
    constant = std < 1e-12
    assert 0 < constant.sum() < 64  # the always-blank corner pixels exist, but most pixels vary
    assert_allclose(std[~constant], 1.0, rtol=1e-12)
    assert_array_equal(digits.X_train[:, constant], 0.0)  # constant pixels are only centred
    # the test set is *not* exactly standardised: it used the training statistics
    assert np.max(np.abs(digits.X_test.mean(axis=0))) > 1e-3


@pytest.mark.parametrize("fraction", [0.25, 0.9])
def test_digits_split_is_a_partition_of_the_raw_rows_without_leakage(fraction: float, raw: Any) -> None:
    digits = data.digits(test_fraction=fraction, rng=0)
    if fraction == 0.9:
        # with 180 training images some pixels are blank in training but not in
        # test: they must be centred only (divided by 1), not rescaled
        assert np.any((digits.X_train.std(axis=0) == 0) & (digits.X_test.std(axis=0) > 0))
    X_raw = raw.data.astype(np.float64)
    assert len(np.unique(X_raw, axis=0)) == 1797  # raw images are distinct, so rows identify examples
    tr, te, m, s = unstandardise(digits, X_raw)
    assert_allclose(tr, np.round(tr), atol=1e-9)  # recovers integer pixel values
    assert_allclose(te, np.round(te), atol=1e-9)
    label = {tuple(row): int(k) for row, k in zip(X_raw, raw.target)}
    train_rows = [tuple(r) for r in np.round(tr)]
    test_rows = [tuple(r) for r in np.round(te)]
    assert len(set(train_rows)) == len(train_rows) and len(set(test_rows)) == len(test_rows)
    assert not set(train_rows) & set(test_rows)  # no example in both
    assert set(train_rows) | set(test_rows) == set(label)  # and none left out
    assert [label[r] for r in train_rows] == digits.y_train.tolist()  # labels travel with their rows
    assert [label[r] for r in test_rows] == digits.y_test.tolist()
    # standardised with the *training* mean and std only (std 1 for constant pixels)
    raw_train = np.array(train_rows)
    std = raw_train.std(axis=0)
    std[std == 0] = 1.0
    assert_allclose(m, raw_train.mean(axis=0), atol=1e-9)
    assert_allclose(s, std, rtol=1e-9)


def test_digits_seeded_split_is_reproducible() -> None:
    a, b, c = data.digits(rng=3), data.digits(rng=np.random.default_rng(3)), data.digits(rng=4)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.y_train, c.y_train)
    assert not np.array_equal(a.X_test, c.X_test)


# --------------------------------------------------------------------------- synthetic sets (tests/package/conftest.py)


def test_blobs_shapes_labels_and_types(gaussian_blobs: Maker) -> None:
    ds = gaussian_blobs(100, n_features=5, n_classes=4, test_fraction=0.2, rng=0)
    assert ds.X_train.shape == (80, 5) and ds.X_test.shape == (20, 5)
    assert ds.y_train.shape == (80,) and ds.y_test.shape == (20,)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    labels = np.concatenate([ds.y_train, ds.y_test])
    assert labels.min() >= 0 and labels.max() <= 3
    assert set(labels) == {0, 1, 2, 3}
    assert ds.n_features == 5 and ds.n_classes == 4


def test_blobs_defaults(gaussian_blobs: Maker) -> None:
    ds = gaussian_blobs(40, rng=1)
    assert ds.n_features == 2
    assert len(ds.y_test) == 10 and len(ds.y_train) == 30
    assert set(np.concatenate([ds.y_train, ds.y_test])) <= {0, 1, 2}


def test_blobs_are_clusters_of_the_given_spread(gaussian_blobs: Maker) -> None:
    ds = gaussian_blobs(3000, n_features=3, n_classes=3, spread=0.5, test_fraction=0.5, rng=2)
    X = np.vstack([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    centres = np.array([X[y == k].mean(axis=0) for k in range(3)])
    for k in range(3):
        assert_allclose(X[y == k].std(axis=0), 0.5, rtol=0.1)  # spread is the within-class std
    # each point is nearest to its own class centre (centres are ~3 apart, spread 0.5)
    nearest = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y) > 0.9


def test_blobs_split_has_no_overlap_and_loses_nothing(gaussian_blobs: Maker) -> None:
    ds = gaussian_blobs(60, rng=3)
    train = {tuple(r) for r in ds.X_train}
    test = {tuple(r) for r in ds.X_test}
    assert len(train) == len(ds.X_train) and len(test) == len(ds.X_test)
    assert not train & test
    assert len(train | test) == 60


def test_blobs_reproducible_and_seed_dependent(gaussian_blobs: Maker) -> None:
    a = gaussian_blobs(50, rng=7)
    b = gaussian_blobs(50, rng=np.random.default_rng(7))
    c = gaussian_blobs(50, rng=8)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)
    gen = np.random.default_rng(0)  # a shared Generator advances: two draws differ
    assert not np.array_equal(gaussian_blobs(20, rng=gen).X_train, gaussian_blobs(20, rng=gen).X_train)


@pytest.mark.parametrize(("n", "fraction"), [(2, 0.25), (3, 0.1), (4, 0.1), (2, 0.9)])
def test_small_blobs_split_keeps_both_sides_non_empty(n: int, fraction: float, gaussian_blobs: Maker) -> None:
    # BUG (see report): n >= 2 is accepted, but round(fraction * n) can be 0 or
    # n, leaving the test (or training) set empty; Dataset.n_classes then fails
    # with numpy's "zero-size array to reduction operation maximum".
    ds = gaussian_blobs(n, test_fraction=fraction, rng=0)
    assert len(ds.y_train) >= 1 and len(ds.y_test) >= 1
    assert len(ds.y_train) + len(ds.y_test) == n
    assert ds.n_classes >= 1


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(test_fraction=0), ValueError, r"test_fraction must be > 0, got 0\.0"),
        (dict(test_fraction=-0.2), ValueError, r"test_fraction must be > 0, got -0\.2"),
        (dict(test_fraction=1.5), ValueError, r"test_fraction must lie strictly between 0 and 1, got 1\.5"),
        (dict(test_fraction=1.0), ValueError, r"test_fraction must lie strictly between 0 and 1, got 1\.0"),
        (dict(test_fraction="0.2"), TypeError, r"test_fraction must be a real number, got str"),
        (dict(rng=-1), ValueError, r"rng seed must be >= 0, got -1"),
        (dict(rng=None), TypeError, r"rng must be a numpy\.random\.Generator or an integer seed, got NoneType"),
    ],
)
def test_digits_errors(kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        data.digits(**kwargs)


def test_teacher_regression_is_learnable_structure_plus_stated_noise(teacher_regression: Maker) -> None:
    ds = teacher_regression(4000, n_features=3, noise=0.1, rng=0)
    assert ds.X_train.shape == (3000, 3) and ds.y_train.shape == (3000, 1)
    assert ds.X_test.shape == (1000, 3) and ds.y_test.shape == (1000, 1)
    # Same seed, noise 0: the noiseless teacher outputs; the difference is the noise alone.
    clean = teacher_regression(4000, n_features=3, noise=0.0, rng=0)
    resid = (ds.y_train - clean.y_train).ravel()
    assert np.allclose(ds.X_train, clean.X_train)
    assert resid.std(ddof=1) == pytest.approx(0.1, rel=0.1)  # 3000 draws: sd known to ~1.3%, 10% is ~8 se
    assert clean.y_train.std() > 0.1  # the signal is not drowned by the noise
    with pytest.raises(ValueError, match="n_classes is defined for integer class labels"):
        _ = ds.n_classes


def test_teacher_regression_reproducible(teacher_regression: Maker) -> None:
    a = teacher_regression(50, rng=3)
    assert np.array_equal(a.y_test, teacher_regression(50, rng=3).y_test)
    assert not np.array_equal(a.y_test, teacher_regression(50, rng=4).y_test)


def test_the_test_only_makers_left_gradlab() -> None:
    assert not hasattr(data, "gaussian_blobs") and not hasattr(data, "teacher_regression")
