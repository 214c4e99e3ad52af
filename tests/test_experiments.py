"""gradlab.experiments: layer speeds at initialisation and float32 overflow."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab import data, experiments, mlp


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
