"""gradlab.experiments.trainability (until chapter 7 holds the experiment itself)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradlab import data, experiments, mlp, train


def test_trainability_grid_shape_and_pattern(gaussian_blobs: Any) -> None:
    blobs = gaussian_blobs(300, n_features=8, n_classes=3, rng=1)
    acc = experiments.trainability(blobs, (2, 30), (1.0, 16.0), sigma_b2=0.05, width=16, epochs=3, seed=2)
    assert acc.shape == (2, 2)
    assert np.all((0 <= acc) & (acc <= 1))
    # A 2-layer net near the edge of chaos learns the blobs; a 30-layer net deep in the chaotic
    # phase (sigma_w2 = 16, xi_c of about 3 layers) cannot, and scores near chance (1/3).
    assert acc[0, 0] > 0.7
    assert acc[1, 1] < 0.5
    # Same seed, same numbers: the grid's pattern is not seed noise.
    again = experiments.trainability(blobs, (2, 30), (1.0, 16.0), sigma_b2=0.05, width=16, epochs=3, seed=2)
    assert np.array_equal(acc, again)


def test_trainability_matches_train_sgd(gaussian_blobs: Any) -> None:
    blobs = gaussian_blobs(120, n_features=4, n_classes=2, rng=0)
    acc = experiments.trainability(blobs, (3,), (2.0,), sigma_b2=0.1, width=8, lr=0.05, epochs=2, batch_size=16, seed=5)
    net = mlp.init_network((4, 8, 8, 2), hidden="tanh", output="linear", init="lecun_normal", gain=np.sqrt(2.0),
                           bias_std=np.sqrt(0.1), rng=5)
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.05, epochs=2, batch_size=16, rng=5)
    assert acc[0, 0] == train.accuracy(hist.network, blobs.X_test, blobs.y_test)


def test_trainability_scores_a_diverged_run_zero(gaussian_blobs: Any) -> None:
    blobs = gaussian_blobs(60, n_features=4, n_classes=2, rng=0)
    # A linear net with sigma_w2 = 1e20: the first step multiplies the weights by ~1e20 and the
    # output overflows a few steps later.
    acc = experiments.trainability(blobs, (4,), (1e20,), sigma_b2=0.0, activation="linear", width=8, lr=1.0,
                                   epochs=2, seed=0)
    assert acc[0, 0] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(dataset="digits"), TypeError, "dataset must be a gradlab.data.Dataset"),
        (dict(depths=(1,)), ValueError, r"depths\[0\] must be"),
        (dict(sigma_w2s=(1.0, -2.0)), ValueError, r"sigma_w2s\[1\]"),
        (dict(depths=()), ValueError, "depths and sigma_w2s must each hold at least one value"),
        (dict(sigma_b2=-0.1), ValueError, "sigma_b2"),
        (dict(seed=-1), ValueError, "seed"),
    ],
)
def test_trainability_errors(kwargs: dict[str, Any], error: type[Exception], match: str, gaussian_blobs: Any) -> None:
    args: dict[str, Any] = dict(dataset=gaussian_blobs(20, n_features=2, n_classes=2, rng=0), depths=(2,),
                                sigma_w2s=(1.0,), sigma_b2=0.0, width=4, epochs=1)
    args.update(kwargs)
    ds, depths, sw2s = args.pop("dataset"), args.pop("depths"), args.pop("sigma_w2s")
    with pytest.raises(error, match=match):
        experiments.trainability(ds, depths, sw2s, **args)
