"""Tests for gradlab.train: reproducibility, that SGD is gradient descent (bit for bit a loop of
sgd_step), divergence detection without numpy warnings, History shapes and its update ratios and
clipping record, clipping by norm and by value, other optimisers, accuracy, errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import bptt, data, mlp, optim, rnn, seqtasks, train

CE = "softmax_cross_entropy"


@pytest.fixture(scope="module")
def blobs(gaussian_blobs: Callable[..., data.Dataset]) -> data.Dataset:
    return gaussian_blobs(200, n_features=2, n_classes=3, rng=0)  # 150 train, 50 test


def tanh_net(**kw: Any) -> mlp.Network:
    return mlp.init_network((2, 16, 3), hidden="tanh", output="linear", init="xavier_normal", rng=1, **kw)


def full_loss(net: mlp.Network, X: np.ndarray, y: Any, loss: str = CE) -> float:
    return mlp.loss_and_gradients(net, X, y, loss)[0]


# --------------------------------------------------------------------------- reproducibility


def test_identical_seeds_give_identical_histories(blobs: data.Dataset) -> None:
    kw: dict[str, Any] = dict(lr=0.3, epochs=3, batch_size=16)
    h1 = train.train_sgd(tanh_net(), blobs.X_train, blobs.y_train, rng=5, **kw)
    h2 = train.train_sgd(tanh_net(), blobs.X_train, blobs.y_train, rng=np.random.default_rng(5), **kw)
    assert_array_equal(h1.loss, h2.loss)
    assert_array_equal(h1.grad_W, h2.grad_W)
    assert_array_equal(h1.grad_b, h2.grad_b)
    for l in (1, 2):
        assert_array_equal(h1.network.W[l], h2.network.W[l])
        assert_array_equal(h1.network.b[l], h2.network.b[l])
    assert h1.diverged_at is None and h2.diverged_at is None


def test_different_seeds_shuffle_differently(blobs: data.Dataset) -> None:
    kw: dict[str, Any] = dict(lr=0.3, epochs=2, batch_size=16)
    h1 = train.train_sgd(tanh_net(), blobs.X_train, blobs.y_train, rng=5, **kw)
    h2 = train.train_sgd(tanh_net(), blobs.X_train, blobs.y_train, rng=6, **kw)
    assert h1.loss.shape == h2.loss.shape
    assert h1.loss[0] != h2.loss[0]  # different first minibatch
    assert not np.array_equal(h1.grad_W, h2.grad_W)
    assert not np.array_equal(h1.network.W[1], h2.network.W[1])


# --------------------------------------------------------------------------- it is gradient descent


def test_full_batch_training_is_plain_gradient_descent(blobs: data.Dataset) -> None:
    X, y, lr = blobs.X_train, blobs.y_train, 0.5
    hist = train.train_sgd(tanh_net(), X, y, lr=lr, epochs=6, batch_size=len(X), rng=0)
    manual = tanh_net()
    expected_loss, expected_W = [], []
    for _ in range(6):
        value, _, grads = mlp.loss_and_gradients(manual, X, y, CE)
        expected_loss.append(value)
        expected_W.append(grads.norms["W"])
        for l in (1, 2):  # W <- W - lr dL/dW: a step *down* the gradient
            manual.W[l] = manual.W[l] - lr * grads.dW[l]
            manual.b[l] = manual.b[l] - lr * grads.db[l]
    # a permutation of the rows only reorders the sums: equal up to rounding
    assert_allclose(hist.loss, expected_loss, rtol=1e-12)
    assert_allclose(hist.grad_W, expected_W, rtol=1e-10)
    for l in (1, 2):
        assert_allclose(hist.network.W[l], manual.W[l], rtol=1e-10, atol=1e-13)
        assert_allclose(hist.network.b[l], manual.b[l], rtol=1e-10, atol=1e-13)
    assert np.all(np.diff(hist.loss) < 0)  # small steps on a smooth loss: every step goes down


def test_minibatch_sgd_reduces_loss_and_improves_accuracy(blobs: data.Dataset) -> None:
    net = tanh_net()
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.2, epochs=20, batch_size=16, rng=2)
    before = full_loss(net, blobs.X_train, blobs.y_train)
    after = full_loss(hist.network, blobs.X_train, blobs.y_train)
    assert after < 0.5 * before
    assert np.mean(hist.loss[-8:]) < 0.6 * np.mean(hist.loss[:8])
    assert train.accuracy(hist.network, blobs.X_test, blobs.y_test) > train.accuracy(net, blobs.X_test, blobs.y_test)
    assert train.accuracy(hist.network, blobs.X_train, blobs.y_train) > 0.75


def test_mse_training_with_one_hot_targets(blobs: data.Dataset) -> None:
    net = mlp.init_network((2, 8, 3), hidden="sigmoid", output="sigmoid", init="xavier_normal", rng=3)
    Y = np.eye(3)[blobs.y_train]
    hist = train.train_sgd(net, blobs.X_train, Y, loss="mse", lr=2.0, epochs=15, batch_size=len(Y), rng=0)
    assert hist.loss.shape == (15,)
    assert hist.loss[-1] < hist.loss[0]
    assert hist.loss[0] == pytest.approx(full_loss(net, blobs.X_train, Y, "mse"), rel=1e-12)


def test_sgd_step_moves_parameters_by_minus_lr_times_gradient() -> None:
    net = tanh_net()
    x = np.random.default_rng(0).standard_normal((5, 2))
    _, _, grads = mlp.loss_and_gradients(net, x, [0, 1, 2, 0, 1], CE)
    stepped = net.copy()
    train.sgd_step(stepped, grads, 0.25)
    for l in (1, 2):
        assert_array_equal(stepped.W[l], net.W[l] - 0.25 * grads.dW[l])
        assert_array_equal(stepped.b[l], net.b[l] - 0.25 * grads.db[l])
        assert not np.array_equal(stepped.W[l], net.W[l])
    frozen = net.copy()
    train.sgd_step(frozen, grads, 0)  # lr = 0 is allowed and does nothing
    for l in (1, 2):
        assert_array_equal(frozen.W[l], net.W[l])


def test_sgd_step_keeps_float32() -> None:
    net = tanh_net(dtype=np.float32)
    _, _, grads = mlp.loss_and_gradients(net, np.ones((2, 2)), [0, 1], CE)
    train.sgd_step(net, grads, 0.1)
    assert net.W[1].dtype == np.float32 and net.b[2].dtype == np.float32


def test_training_leaves_the_input_network_untouched(blobs: data.Dataset) -> None:
    net = tanh_net()
    W0 = {l: w.copy() for l, w in net.W.items()}
    b0 = {l: v.copy() for l, v in net.b.items()}
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.5, epochs=2, rng=0)
    assert hist.network is not net
    for l in (1, 2):
        assert_array_equal(net.W[l], W0[l])
        assert_array_equal(net.b[l], b0[l])
        assert hist.network.W[l] is not net.W[l]
        assert not np.array_equal(hist.network.W[l], W0[l])


# --------------------------------------------------------------------------- History


@pytest.mark.parametrize(("epochs", "batch_size"), [(3, 32), (1, 150), (2, 1000), (1, 7)])
def test_history_shapes(blobs: data.Dataset, epochs: int, batch_size: int) -> None:
    net = mlp.init_network((2, 5, 4, 3), hidden="tanh", rng=0)
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.1, epochs=epochs, batch_size=batch_size, rng=0)
    steps = epochs * math.ceil(150 / batch_size)
    assert hist.loss.shape == (steps,)
    assert hist.grad_W.shape == (steps, 3)
    assert hist.grad_b.shape == (steps, 3)
    assert hist.loss.dtype == hist.grad_W.dtype == hist.grad_b.dtype == np.float64
    assert np.all(np.isfinite(hist.loss)) and np.all(hist.grad_W > 0) and np.all(hist.grad_b > 0)
    assert hist.diverged_at is None
    assert hist.update_ratio.shape == (steps, 3) and hist.update_ratio.dtype == np.float64
    assert np.all(hist.update_ratio > 0) and np.all(np.isfinite(hist.update_ratio))
    assert hist.clipped.shape == (steps,) and hist.clipped.dtype == bool and not hist.clipped.any()
    assert hist.clipped_fraction == 0.0


def test_absurd_learning_rate_diverges_and_stops(blobs: data.Dataset) -> None:
    for seed in (0, 1, 2):
        net = mlp.init_network((2, 16, 16, 3), hidden="relu", output="linear", init="he_normal", rng=seed,
                               dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # overflow is detected, never reported as a numpy warning
            hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=1e6, epochs=5, batch_size=30, rng=seed)
        assert hist.diverged_at is not None
        k = hist.diverged_at
        assert 0 < k < 5 * 5  # stopped early: 25 steps were planned
        assert hist.loss.shape == (k + 1,)
        assert hist.loss[k] == np.inf
        assert np.all(np.isfinite(hist.loss[:k]))
        assert hist.loss[k - 1] > 1e6 * hist.loss[0]  # it exploded before it overflowed
        assert hist.grad_W.shape == (k, 3) and hist.grad_b.shape == (k, 3)
        assert hist.update_ratio.shape == (k, 3) and hist.clipped.shape == (k,)
        assert hist.network.W[1].dtype == np.float32
        assert hist.update_ratio[k - 1].max() > 1  # the last steps were larger than the weights


# BUG (see report): train_sgd only silences floating-point errors around the
# forward pass; the loss, the backward pass and Gradients.norms then overflow
# with numpy RuntimeWarnings instead of setting diverged_at.
LEAKS = [
    # (dtype, hidden, output, loss, lr, seed): where the warning currently comes from
    (np.float64, "relu", "linear", CE, 1e6, 1),  # np.linalg.norm in Gradients.norms: "overflow encountered in dot"
    (np.float64, "relu", "linear", "mse", 1e3, 0),  # losses.mse: "overflow encountered in reduce"
    (np.float32, "selu", "relu", "mse", 1e3, 1),  # mlp.backward: "invalid value encountered in matmul"
]


@pytest.mark.parametrize(("dtype", "hidden", "output", "loss", "lr", "seed"), LEAKS,
                         ids=["norms-dot", "mse-overflow", "backward-matmul"])
def test_exploding_training_never_leaks_numpy_warnings(
    dtype: Any, hidden: str, output: str, loss: str, lr: float, seed: int, gaussian_blobs: Callable[..., data.Dataset]
) -> None:
    ds = gaussian_blobs(200, rng=0)
    net = mlp.init_network((2, 16, 16, 3), hidden=hidden, output=output, init="he_normal", rng=seed, dtype=dtype)
    y = ds.y_train if loss == CE else np.eye(3)[ds.y_train]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = train.train_sgd(net, ds.X_train, y, loss=loss, lr=lr, epochs=5, batch_size=20, rng=seed)
    # every recorded step is finite, or training stopped at the first one that was not
    k = len(hist.loss) if hist.diverged_at is None else hist.diverged_at
    assert np.all(np.isfinite(hist.loss[:k]))
    assert np.all(np.isfinite(hist.grad_W)) and hist.grad_W.shape == (k, 3)


# --------------------------------------------------------------------------- gradient clipping


def small_grads(dtype: Any = np.float64) -> mlp.Gradients:
    net = tanh_net(dtype=dtype)
    x = np.random.default_rng(3).standard_normal((6, 2))
    return mlp.loss_and_gradients(net, x, [0, 1, 2, 0, 1, 2], CE)[2]


def test_global_norm_by_hand() -> None:
    g = small_grads()
    by_hand = math.sqrt(sum(float(np.sum(g.dW[l] ** 2) + np.sum(g.db[l] ** 2)) for l in (1, 2)))
    assert train.global_norm(g) == pytest.approx(by_hand, rel=1e-12)
    # a two-layer gradient with ||dW|| = 3, ||db|| = 4 in layer 1 and 12 in layer 2: norm 13
    hand = mlp.Gradients({1: np.zeros((1, 1))}, {1: np.array([[3.0]]), 2: np.zeros((1, 1))},
                         {1: np.array([4.0]), 2: np.array([12.0])}, np.zeros((1, 1)))
    assert train.global_norm(hand) == 13.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clipping_caps_the_norm_and_keeps_the_direction(dtype: Any) -> None:
    g = small_grads(dtype)
    norm = train.global_norm(g)
    theta = norm / 7
    c = train.clip_by_global_norm(g, theta)
    assert c is not g
    assert train.global_norm(c) == pytest.approx(theta, rel=1e-5 if dtype == np.float32 else 1e-12)  # capped
    for l in (1, 2):
        # the same direction: every entry scaled by the same positive factor theta / norm
        assert_allclose(c.dW[l], g.dW[l] / 7, rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert_allclose(c.db[l], g.db[l] / 7, rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert_allclose(c.delta[l], g.delta[l] / 7, rtol=1e-5 if dtype == np.float32 else 1e-12)
        assert c.dW[l].dtype == c.db[l].dtype == dtype
        cos = np.sum(c.dW[l] * g.dW[l]) / (np.linalg.norm(c.dW[l]) * np.linalg.norm(g.dW[l]))
        assert cos == pytest.approx(1.0, abs=1e-6)
    assert_allclose(c.da0, g.da0 / 7, rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert_array_equal(g.dW[1], small_grads(dtype).dW[1])  # the input is not modified


def test_clipping_below_the_threshold_is_a_no_op() -> None:
    g = small_grads()
    norm = train.global_norm(g)
    assert train.clip_by_global_norm(g, 2 * norm) is g
    assert train.clip_by_global_norm(g, norm) is g  # at the threshold: untouched


def test_clipped_training_takes_bounded_steps(blobs: data.Dataset) -> None:
    # With clip_norm = theta every step moves the parameters by at most lr * theta,
    # and a clipping threshold above every gradient changes nothing.
    net = mlp.init_network((2, 16, 16, 3), hidden="relu", output="linear", init="he_normal", rng=0)
    lr, theta = 0.5, 0.05
    full = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=1, batch_size=150, rng=0)
    clipped = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=1, batch_size=150, rng=0,
                              clip_norm=theta)
    g0 = np.sqrt(np.sum(full.grad_W[0] ** 2) + np.sum(full.grad_b[0] ** 2))
    assert g0 > theta  # the test clips for real
    moved = math.sqrt(sum(float(np.sum((clipped.network.W[l] - net.W[l]) ** 2)
                                + np.sum((clipped.network.b[l] - net.b[l]) ** 2)) for l in (1, 2, 3)))
    assert moved == pytest.approx(lr * theta, rel=1e-9)
    assert_array_equal(clipped.grad_W, full.grad_W)  # the history records the gradient before clipping
    loose = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=3, batch_size=50, rng=0, clip_norm=1e6)
    plain = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=3, batch_size=50, rng=0)
    assert_array_equal(loose.loss, plain.loss)


def test_clipping_tames_an_absurd_learning_rate(blobs: data.Dataset) -> None:
    # the float32 network of test_absurd_learning_rate_diverges_and_stops
    net = mlp.init_network((2, 16, 16, 3), hidden="relu", output="linear", init="he_normal", rng=0,
                           dtype=np.float32)
    plain = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=1e6, epochs=5, batch_size=30, rng=0)
    clipped = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=1e6, epochs=5, batch_size=30, rng=0,
                              clip_norm=1e-7)  # steps of length at most 0.1
    assert plain.diverged_at is not None
    assert clipped.diverged_at is None and np.all(np.isfinite(clipped.loss))
    assert clipped.loss.max() < 10 * clipped.loss[0]


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda g: train.clip_by_global_norm(g, 0.0), ValueError, r"max_norm must be > 0, got 0\.0"),
        (lambda g: train.clip_by_global_norm(g, -1), ValueError, r"max_norm must be > 0"),
        (lambda g: train.clip_by_global_norm(g, float("nan")), ValueError, r"max_norm must be finite"),
        (lambda g: train.clip_by_global_norm(g, "1"), TypeError, r"max_norm must be a real number, got str"),
        (lambda g: train.clip_by_global_norm({"W": 1}, 1.0), TypeError, r"grads must be a gradlab\.mlp\.Gradients"),
        (lambda g: train.clip_by_global_norm({}, 1.0), TypeError, r"non-empty dict"),
        (lambda g: train.global_norm(None), TypeError, r"grads must be a gradlab\.mlp\.Gradients, .* got NoneType"),
        (lambda g: train.clip_by_global_norm({"W": np.array([np.inf])}, 1.0), ValueError, r"grads must be finite"),
        (lambda g: train.clip_by_global_norm(
            mlp.Gradients({1: np.zeros((1, 1))}, {1: np.array([[np.inf]])}, {1: np.zeros(1)}, np.zeros((1, 1))), 1.0),
         ValueError, r"grads must be finite to be clipped"),
    ],
)
def test_clipping_errors(call: Callable[[mlp.Gradients], Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call(small_grads())


def test_clip_by_value_caps_entries_and_changes_the_direction() -> None:
    g = small_grads()
    tau = 0.5 * float(np.max(np.abs(g.dW[1])))  # caps some entries of dW[1], not all
    c = train.clip_by_value(g, tau)
    assert c is not g
    for l in (1, 2):
        assert np.max(np.abs(c.dW[l])) <= tau and np.max(np.abs(c.db[l])) <= tau
        small = np.abs(g.dW[l]) <= tau
        assert_array_equal(c.dW[l][small], g.dW[l][small])  # the rest is untouched ...
        assert_array_equal(c.dW[l][~small], tau * np.sign(g.dW[l][~small]))  # ... the big ones are capped
    assert_array_equal(c.delta[1], g.delta[1])  # passed through: clipped dW is the gradient of no loss
    assert c.da0 is g.da0

    def cosine(a: mlp.Gradients, b: mlp.Gradients) -> float:
        flat = lambda x: np.concatenate([x.dW[l].ravel() for l in (1, 2)] + [x.db[l] for l in (1, 2)])  # noqa: E731
        return float(flat(a) @ flat(b) / (np.linalg.norm(flat(a)) * np.linalg.norm(flat(b))))

    # clipping by value turns the step; clipping by the global norm to the same length does not
    by_norm = train.clip_by_global_norm(g, train.global_norm(c))
    assert cosine(c, g) < 0.999
    assert cosine(by_norm, g) == pytest.approx(1.0, abs=1e-12)
    assert train.global_norm(by_norm) == pytest.approx(train.global_norm(c), rel=1e-12)


def test_clip_by_value_below_the_limit_is_a_no_op_and_keeps_float32() -> None:
    g = small_grads()
    biggest = max(float(np.max(np.abs(d[l]))) for d in (g.dW, g.db) for l in (1, 2))
    assert train.clip_by_value(g, biggest) is g
    g32 = small_grads(np.float32)
    c32 = train.clip_by_value(g32, 1e-3)
    assert c32.dW[1].dtype == c32.db[2].dtype == np.float32
    assert np.max(np.abs(c32.dW[1])) <= np.float32(1e-3)


def test_default_training_is_bit_for_bit_a_loop_of_sgd_step(blobs: data.Dataset) -> None:
    # what train_sgd did before it took an optimiser: shuffle, forward, backward, sgd_step
    X, y, lr, B, seed = blobs.X_train, blobs.y_train, 0.3, 16, 4
    hist = train.train_sgd(tanh_net(), X, y, lr=lr, epochs=2, batch_size=B, rng=seed)
    manual, gen = tanh_net(), np.random.default_rng(seed)
    losses, gW, ratios = [], [], []
    for _ in range(2):
        order = gen.permutation(len(X))
        for start in range(0, len(X), B):
            idx = order[start : start + B]
            value, _, grads = mlp.loss_and_gradients(manual, X[idx], y[idx], CE)
            losses.append(value)
            gW.append(grads.norms["W"])
            ratios.append([np.linalg.norm(lr * grads.dW[l]) / np.linalg.norm(manual.W[l]) for l in (1, 2)])
            train.sgd_step(manual, grads, lr)
    assert_array_equal(hist.loss, losses)
    assert_array_equal(hist.grad_W, gW)
    for l in (1, 2):
        assert_array_equal(hist.network.W[l], manual.W[l])
        assert_array_equal(hist.network.b[l], manual.b[l])
    assert_allclose(hist.update_ratio, ratios, rtol=1e-12)  # ||lr dL/dW|| / ||W||, W before the step
    # naming SGD, passing it, or momentum with beta = 0: the same bits
    for opt in ("sgd", optim.SGD(), optim.Momentum(beta=0.0)):
        same = train.train_sgd(tanh_net(), X, y, lr=lr, epochs=2, batch_size=B, rng=seed, optimiser=opt)
        assert_array_equal(same.loss, hist.loss)
        assert_array_equal(same.update_ratio, hist.update_ratio)
        assert_array_equal(same.network.W[2], hist.network.W[2])


def test_clipped_steps_are_recorded(blobs: data.Dataset) -> None:
    net = mlp.init_network((2, 16, 16, 3), hidden="relu", output="linear", init="he_normal", rng=0)
    kw: dict[str, Any] = dict(lr=0.1, epochs=2, batch_size=25, rng=0)
    plain = train.train_sgd(net, blobs.X_train, blobs.y_train, **kw)
    norms = np.sqrt(np.sum(plain.grad_W**2, axis=1) + np.sum(plain.grad_b**2, axis=1))  # global norm per step
    theta = float(np.median(norms))
    half = train.train_sgd(net, blobs.X_train, blobs.y_train, clip_norm=theta, **kw)
    # the first step is the same; after it the clipped run differs, so compare with its own gradients
    own = np.sqrt(np.sum(half.grad_W**2, axis=1) + np.sum(half.grad_b**2, axis=1))
    assert_array_equal(half.clipped, own > theta)
    assert 0 < half.clipped_fraction < 1
    assert half.clipped_fraction == np.mean(own > theta)
    assert train.train_sgd(net, blobs.X_train, blobs.y_train, clip_norm=1e-9, **kw).clipped_fraction == 1.0
    assert train.train_sgd(net, blobs.X_train, blobs.y_train, clip_norm=1e9, **kw).clipped_fraction == 0.0


def test_clipping_by_value_in_training_bounds_every_entry_of_the_step(blobs: data.Dataset) -> None:
    net = mlp.init_network((2, 16, 16, 3), hidden="relu", output="linear", init="he_normal", rng=0)
    lr, tau = 0.5, 1e-3
    one = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=1, batch_size=150, rng=0, clip_value=tau)
    assert one.clipped.tolist() == [True]
    for l in (1, 2, 3):
        assert np.max(np.abs(one.network.W[l] - net.W[l])) <= lr * tau * (1 + 1e-12)
        assert np.max(np.abs(one.network.W[l] - net.W[l])) == pytest.approx(lr * tau, rel=1e-12)  # some entry is capped
    kw: dict[str, Any] = dict(lr=lr, epochs=2, batch_size=50, rng=0)
    loose = train.train_sgd(net, blobs.X_train, blobs.y_train, clip_value=1e9, **kw)
    assert_array_equal(loose.loss, train.train_sgd(net, blobs.X_train, blobs.y_train, **kw).loss)
    assert not loose.clipped.any()


def test_update_ratio_of_adams_first_step(blobs: data.Dataset) -> None:
    # Adam's first step is lr sign(g) up to eps in every entry: ||Delta W|| = lr sqrt(n_l n_{l-1})
    net, lr = tanh_net(), 1e-3
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=1, batch_size=150, rng=0, optimiser="adam")
    expected = [lr * math.sqrt(net.W[l].size) / np.linalg.norm(net.W[l]) for l in (1, 2)]
    assert_allclose(hist.update_ratio[0], expected, rtol=1e-4)
    # plain SGD's ratio follows the gradient instead
    sgd = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=1, batch_size=150, rng=0)
    assert_allclose(sgd.update_ratio[0], [lr * sgd.grad_W[0, l - 1] / np.linalg.norm(net.W[l]) for l in (1, 2)],
                    rtol=1e-12)


def test_update_ratio_is_inf_for_zero_weights_without_warnings(blobs: data.Dataset) -> None:
    net = tanh_net()
    net.W[2][:] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=0.1, epochs=1, batch_size=150, rng=0)
    assert hist.update_ratio[0, 1] == np.inf and np.isfinite(hist.update_ratio[0, 0])


@pytest.mark.parametrize("name", optim.NAMES)
def test_every_optimiser_trains(blobs: data.Dataset, name: str) -> None:
    lr = {"sgd": 0.2, "momentum": 0.02, "nesterov": 0.02, "rmsprop": 0.003, "adam": 0.01}[name]
    net = tanh_net()
    hist = train.train_sgd(net, blobs.X_train, blobs.y_train, lr=lr, epochs=15, batch_size=16, rng=2, optimiser=name)
    assert hist.diverged_at is None
    # measured 0.43-0.45 for every rule with seeds 2 and 3
    assert full_loss(hist.network, blobs.X_train, blobs.y_train) < 0.6 * full_loss(net, blobs.X_train, blobs.y_train)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda g: train.clip_by_value(g, -1.0), ValueError, r"limit must be > 0, got -1\.0"),
        (lambda g: train.clip_by_value(g, 0), ValueError, r"limit must be > 0, got 0"),
        (lambda g: train.clip_by_value(g, None), TypeError, r"limit must be a real number, got NoneType"),
        (lambda g: train.clip_by_value(g.dW, 1.0), TypeError, r"grads must be a gradlab\.mlp\.Gradients, .* got dict"),
        (lambda g: train.clip_by_value({"W": np.array([np.nan])}, 1.0), ValueError, r"grads must be finite to be clipped"),
        (lambda g: train.clip_by_value(
            mlp.Gradients({1: np.zeros((1, 1))}, {1: np.array([[np.nan]])}, {1: np.zeros(1)}, np.zeros((1, 1))), 1.0),
         ValueError, r"grads must be finite to be clipped"),
    ],
)
def test_clip_by_value_errors(call: Callable[[mlp.Gradients], Any], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        call(small_grads())


# --------------------------------------------------------------------------- accuracy


def test_accuracy_by_hand() -> None:
    net = mlp.Network({1: np.eye(2)}, {1: np.zeros(2)}, "tanh", "linear")  # output = input
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0], [5.0, 1.0]])  # argmax 0, 1, 1, 0
    assert train.accuracy(net, X, [0, 1, 0, 0]) == 0.75
    assert train.accuracy(net, X, [0, 1, 1, 0]) == 1.0
    assert train.accuracy(net, X, [1, 0, 0, 1]) == 0.0


def test_accuracy_is_a_fraction(blobs: data.Dataset) -> None:
    acc = train.accuracy(tanh_net(), blobs.X_test, blobs.y_test)
    assert 0.0 <= acc <= 1.0
    assert acc * len(blobs.y_test) == pytest.approx(round(acc * len(blobs.y_test)), abs=1e-9)  # k / n


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (dict(lr=-0.1), ValueError, r"lr must be >= 0, got -0\.1"),
        (dict(lr=float("inf")), ValueError, r"lr must be finite, got inf"),
        (dict(epochs=0), ValueError, r"epochs must be >= 1, got 0"),
        (dict(epochs=2.0), TypeError, r"epochs must be an integer, got float"),
        (dict(batch_size=0), ValueError, r"batch_size must be >= 1, got 0"),
        (dict(y=np.zeros(9, dtype=int)), ValueError, r"y must have one target per row of X \(10\), got 9"),
        (dict(X=np.full((10, 2), np.nan)), ValueError, r"X must be finite, but 20 entries are NaN or inf"),
        (dict(X=np.zeros(10)), ValueError, r"X must be 2-dimensional, got shape \(10,\)"),
        (dict(net="net"), TypeError, r"net must be a gradlab\.mlp\.Network, got str"),
        (dict(net=mlp.init_network((2, 3), output="sigmoid", rng=0)), ValueError,
         r"softmax_cross_entropy expects logits.*got 'sigmoid'"),
        (dict(loss="l1"), ValueError, r"unknown loss 'l1'"),
        (dict(clip_norm=0), ValueError, r"clip_norm must be > 0, got 0"),
        (dict(clip_norm="big"), TypeError, r"clip_norm must be a real number, got str"),
        (dict(rng=1.5), TypeError, r"rng must be a numpy\.random\.Generator or an integer seed, got float"),
        (dict(optimiser="adamw"), ValueError, r"unknown optimiser 'adamw'; expected one of: sgd, momentum"),
        (dict(optimiser=optim.Adam), TypeError, r"optimiser must be a name \(str\) or an Optimiser, got type"),
        (dict(clip_value=-1), ValueError, r"clip_value must be > 0, got -1"),
        (dict(clip_value="1"), TypeError, r"clip_value must be a real number, got str"),
        (dict(clip_value=1.0, clip_norm=1.0), ValueError, r"give clip_norm or clip_value, not both"),
    ],
)
def test_train_sgd_errors(change: dict[str, Any], exc: type[Exception], match: str) -> None:
    args: dict[str, Any] = dict(net=tanh_net(), X=np.zeros((10, 2)), y=np.zeros(10, dtype=int), lr=0.1, rng=0)
    args.update(change)
    net, X, y = args.pop("net"), args.pop("X"), args.pop("y")
    with pytest.raises(exc, match=match):
        train.train_sgd(net, X, y, **args)


def test_sgd_step_and_accuracy_errors() -> None:
    net = tanh_net()
    _, _, grads = mlp.loss_and_gradients(net, np.ones((2, 2)), [0, 1], CE)
    with pytest.raises(ValueError, match=r"lr must be >= 0, got -1\.0"):
        train.sgd_step(net, grads, -1.0)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\), got \(3,\)"):
        train.accuracy(net, np.zeros((4, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\), got \(4, 1\)"):
        train.accuracy(net, np.zeros((4, 2)), np.zeros((4, 1), dtype=int))


# --------------------------------------------------------------------------- parameter dicts, recurrent nets


def as_param_dict(g: mlp.Gradients) -> dict[str, np.ndarray]:
    return {f"{k}{l}": v for k, d in (("W", g.dW), ("b", g.db)) for l, v in d.items()}


@pytest.mark.parametrize("factor", [0.3, 3.0])
def test_a_dict_and_a_gradients_clip_identically(factor: float) -> None:
    g = small_grads()
    d = as_param_dict(g)
    assert train.global_norm(d) == pytest.approx(train.global_norm(g), rel=1e-14)
    theta = factor * train.global_norm(g)
    cg, cd = train.clip_by_global_norm(g, theta), train.clip_by_global_norm(d, theta)
    assert isinstance(cd, dict) and (cd is d) == (cg is g) == (factor > 1)
    for key, v in as_param_dict(cg).items():
        assert_array_equal(cd[key], v)
    tau = factor * float(np.max(np.abs(g.dW[1])))
    vg, vd = train.clip_by_value(g, tau), train.clip_by_value(d, tau)
    assert isinstance(vd, dict) and (vd is d) == (vg is g) == (factor > 1)
    for key, v in as_param_dict(vg).items():
        assert_array_equal(vd[key], v)
    assert_array_equal(d["W1"], g.dW[1])  # the input dict is not modified


def _rnn_grads() -> tuple[rnn.RNN, bptt.SeqGradients]:
    net = rnn.init(2, 3, 1, rng=0)
    fwd = rnn.forward(net, np.random.default_rng(1).standard_normal((2, 5, 2)))
    return net, rnn.backward(net, fwd, np.ones_like(fwd.Y))


def test_seq_gradients_clip_like_their_parameter_dict() -> None:
    _, g = _rnn_grads()
    assert train.global_norm(g) == pytest.approx(g.norm(), rel=1e-15) == train.global_norm(g.as_dict())
    theta = g.norm() / 4
    c = train.clip_by_global_norm(g, theta)
    assert isinstance(c, bptt.SeqGradients) and c.norm() == pytest.approx(theta, rel=1e-13)
    assert_allclose(c.dH, g.dH / 4, rtol=1e-14)  # the gradient of L/4: states scaled too
    for k, v in train.clip_by_global_norm(g.as_dict(), theta).items():
        assert_array_equal(c.params[k], v)
    v = train.clip_by_value(g, 1e-3)
    assert isinstance(v, bptt.SeqGradients) and v.dH is g.dH
    assert max(float(np.max(np.abs(a))) for a in v.params.values()) <= 1e-3


def adding_batches(T: int = 8, n: int = 16):
    return lambda i: seqtasks.adding_problem(n, T, rng=1000 + i)


def test_train_recurrent_is_a_loop_of_bptt_and_optimiser_steps() -> None:
    net = rnn.init(2, 4, 1, rng=0)
    hist = train.train_recurrent(rnn, net, adding_batches(), steps=3, optimiser="sgd", lr=0.1, truncate=3)
    work = net.copy()
    for i in range(3):
        b = adding_batches()(i)
        fwd = rnn.forward(work, b.x)
        value, dY = seqtasks.loss(b, fwd.Y)
        assert hist.loss[i] == value
        g = rnn.backward(work, fwd, dY, truncate=3)
        assert hist.grad_norm[i] == g.norm()
        for k, v in g.params.items():
            work.params[k] -= 0.1 * v
    for k in work.params:
        assert_array_equal(hist.network.params[k], work.params[k])
    assert hist.diverged_at is None and not hist.clipped.any() and hist.clipped_fraction == 0.0


def test_train_recurrent_learns_and_leaves_the_input_untouched() -> None:
    net = rnn.init(2, 8, 1, rng=0)
    before = {k: v.copy() for k, v in net.params.items()}
    hist = train.train_recurrent(rnn, net, adding_batches(T=6, n=32), steps=150, lr=0.01, record_every=50)
    assert all(np.array_equal(net.params[k], before[k]) for k in before)
    assert hist.loss.shape == hist.grad_norm.shape == hist.clipped.shape == (150,)
    assert_array_equal(hist.record_steps, [0, 50, 100]) and hist.accuracy.shape == (3,)
    assert np.all((hist.accuracy >= 0) & (hist.accuracy <= 1))
    assert hist.loss[-20:].mean() < 0.5 * hist.loss[:5].mean()
    again = train.train_recurrent(rnn, net, adding_batches(T=6, n=32), steps=150, lr=0.01, record_every=50)
    assert_array_equal(again.loss, hist.loss)


def test_train_recurrent_clips_and_records_it() -> None:
    net = rnn.init(2, 4, 1, scale=2.0, rng=0)
    free = train.train_recurrent(rnn, net, adding_batches(), steps=5, lr=0.01)
    theta = 0.5 * float(free.grad_norm.min())
    hist = train.train_recurrent(rnn, net, adding_batches(), steps=5, lr=0.01, clip_norm=theta)
    assert hist.clipped.all() and hist.clipped_fraction == 1.0
    assert hist.loss[0] == free.loss[0] and hist.grad_norm[0] == free.grad_norm[0]  # recorded before clipping


def test_train_recurrent_stops_at_a_blow_up_without_warnings() -> None:
    net = rnn.init(2, 8, 1, activation="relu", recurrent="identity", scale=1.5, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = train.train_recurrent(rnn, net, adding_batches(T=40), steps=50, optimiser="sgd", lr=1e3)
    assert hist.diverged_at is not None and hist.diverged_at < 50
    assert len(hist.loss) == hist.diverged_at + 1
    assert not (np.isfinite(hist.loss[-1]) and np.isfinite(hist.grad_norm[-1]))


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"lr": -1.0}, ValueError, "lr must be >= 0"),
        ({"clip_norm": 0.0}, ValueError, "clip_norm must be > 0"),
        ({"truncate": 0}, ValueError, "truncate must be >= 1"),
        ({"truncate": True}, TypeError, "truncate must be an integer"),
        ({"record_every": 0}, ValueError, "record_every must be >= 1"),
        ({"optimiser": "adagrad"}, ValueError, "unknown optimiser"),
        ({"batches": [1, 2]}, TypeError, "batches must be callable"),
        ({"batches": lambda i: (1, 2)}, TypeError, r"batches\(0\) must return"),
        ({"net": object()}, TypeError, "net must be"),
        ({"cell": np}, TypeError, "cell must provide"),
    ],
)
def test_train_recurrent_errors(change: dict[str, Any], exc: type[Exception], match: str) -> None:
    kw: dict[str, Any] = {"cell": rnn, "net": rnn.init(2, 3, 1, rng=0), "batches": adding_batches(), "steps": 2,
                          "lr": 0.01}
    kw.update(change)
    cell, net, batches = kw.pop("cell"), kw.pop("net"), kw.pop("batches")
    with pytest.raises(exc, match=match):
        train.train_recurrent(cell, net, batches, **kw)
