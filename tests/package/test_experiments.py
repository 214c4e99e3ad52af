"""gradlab.experiments: layer speeds, float32 overflow and trainability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradlab import data, experiments, mlp, train


@pytest.fixture(scope="module")
def blobs() -> data.Dataset:
    return data.gaussian_blobs(200, n_features=8, n_classes=3, rng=0)


def test_layer_speeds_shapes_and_statistics(blobs: data.Dataset) -> None:
    sizes = (8, 10, 10, 10, 3)
    res = experiments.layer_speeds(sizes, blobs.X_train, blobs.y_train, seeds=range(4),
                                   hidden="sigmoid", init="lecun_normal", bias_std=1.0)
    assert res.sizes == sizes
    assert res.speed.shape == (4, 4) and res.ratio.shape == (4, 3) and res.bound.shape == (4, 3)
    assert np.allclose(res.mean, res.speed.mean(axis=0))
    assert np.allclose(res.sd, res.speed.std(axis=0, ddof=1))
    # Speed of seed 0, recomputed by hand through the public API.
    net = mlp.init_network(sizes, rng=0, hidden="sigmoid", init="lecun_normal", bias_std=1.0)
    _, _, grads = mlp.loss_and_gradients(net, blobs.X_train, blobs.y_train, "softmax_cross_entropy")
    assert np.allclose(res.speed[0], [np.linalg.norm(grads.db[l]) for l in range(1, 5)])
    assert np.allclose(res.speed_W[0], [np.linalg.norm(grads.dW[l]) for l in range(1, 5)])
    assert res.bound[0, 0] == pytest.approx(0.25 * np.linalg.norm(net.W[2], 2), rel=1e-6)


def test_ratio_never_exceeds_the_bound(blobs: data.Dataset) -> None:
    # ||(W^T d) * g'(z)|| <= max g' * ||W||_2 * ||d|| holds example by example.
    for hidden in ("sigmoid", "tanh", "relu"):
        res = experiments.layer_speeds((8, 12, 12, 12, 3), blobs.X_train, blobs.y_train, seeds=range(3),
                                       hidden=hidden, init="xavier_normal", gain=3.0)
        assert np.all(res.ratio_max <= res.bound * (1 + 1e-12))
        assert np.all(res.ratio <= res.ratio_max)


def test_layer_speeds_needs_two_seeds(blobs: data.Dataset) -> None:
    with pytest.raises(ValueError, match="seeds must hold at least two seeds"):
        experiments.layer_speeds((8, 3), blobs.X_train, blobs.y_train, seeds=[0])


def test_float32_overflow_predicted_equals_measured() -> None:
    net = mlp.init_network([16] + [32] * 150 + [4], hidden="relu", init="he_normal", gain=2.0, rng=3)
    x = np.random.default_rng(0).standard_normal((8, 16))
    rep = experiments.float32_overflow(net, x)
    assert rep.predicted_layer is not None
    assert rep.measured_layer == rep.predicted_layer
    assert not rep.float32_grad_finite
    # Before the overflow layer the float64 maximum is below float32's largest value, after it above.
    limit = np.log10(np.finfo(np.float32).max)
    assert rep.log10_max_abs_z[rep.predicted_layer - 2] <= limit < rep.log10_max_abs_z[rep.predicted_layer - 1]
    # ReLU with He gain 2: the norm doubles per layer, so log10 grows by log10(2) per layer on average.
    slope = np.polyfit(np.arange(1, 151), rep.log10_max_abs_z[:150], 1)[0]
    assert slope == pytest.approx(np.log10(2.0), rel=0.1)


def test_float32_overflow_none_for_a_tame_network() -> None:
    net = mlp.init_network([5, 8, 8, 2], hidden="tanh", init="xavier_normal", rng=0)
    rep = experiments.float32_overflow(net, np.ones((3, 5)))
    assert rep.predicted_layer is None and rep.measured_layer is None and rep.float32_grad_finite
    assert rep.log10_delta_norm.shape == (3,)


def test_float32_overflow_rejects_non_network() -> None:
    with pytest.raises(TypeError, match="net must be a gradlab.mlp.Network"):
        experiments.float32_overflow("net", np.ones((1, 2)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- wide random networks


def test_trainability_grid_shape_and_pattern() -> None:
    blobs = data.gaussian_blobs(300, n_features=8, n_classes=3, rng=1)
    acc = experiments.trainability(blobs, (2, 30), (1.0, 16.0), sigma_b2=0.05, width=16, epochs=3, seed=2)
    assert acc.shape == (2, 2)
    assert np.all((0 <= acc) & (acc <= 1))
    # A 2-layer net near the edge of chaos learns the blobs; a 30-layer net deep in the chaotic
    # phase (sigma_w2 = 16, xi_c of about 3 layers) cannot, and scores near chance (1/3).
    assert acc[0, 0] > 0.7
    assert acc[1, 1] < 0.4
    # Same seed, same numbers: the grid's pattern is not seed noise.
    again = experiments.trainability(blobs, (2, 30), (1.0, 16.0), sigma_b2=0.05, width=16, epochs=3, seed=2)
    assert np.array_equal(acc, again)


def test_trainability_matches_train_sgd() -> None:
    blobs = data.gaussian_blobs(120, n_features=4, n_classes=2, rng=0)
    acc = experiments.trainability(blobs, (3,), (2.0,), sigma_b2=0.1, width=8, lr=0.05, epochs=2, batch_size=16, seed=5)
    net = mlp.init_network((4, 8, 8, 2), hidden="tanh", output="linear", init="lecun_normal", gain=np.sqrt(2.0),
                           bias_std=np.sqrt(0.1), rng=5)
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.05, epochs=2, batch_size=16, rng=5)
    assert acc[0, 0] == train.accuracy(hist.network, blobs.X_test, blobs.y_test)


def test_trainability_scores_a_diverged_run_zero() -> None:
    blobs = data.gaussian_blobs(60, n_features=4, n_classes=2, rng=0)
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
def test_trainability_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = dict(dataset=data.gaussian_blobs(20, n_features=2, n_classes=2, rng=0), depths=(2,),
                                sigma_w2s=(1.0,), sigma_b2=0.0, width=4, epochs=1)
    args.update(kwargs)
    ds, depths, sw2s = args.pop("dataset"), args.pop("depths"), args.pop("sigma_w2s")
    with pytest.raises(error, match=match):
        experiments.trainability(ds, depths, sw2s, **args)
