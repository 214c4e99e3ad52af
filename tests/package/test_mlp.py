"""Tests for gradlab.mlp: shapes, forward against hand-written maths, backward
against central differences, dtypes, and argument errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import activations, gradcheck, losses, mlp

# --------------------------------------------------------------------------- helpers


def tiny_params() -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """A 2 -> 3 -> 2 network with hand-picked weights (fresh dicts each call)."""
    W = {
        1: np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.6]]),
        2: np.array([[0.7, -0.8, 0.9], [-0.3, 0.2, 0.1]]),
    }
    b = {1: np.array([0.05, -0.1, 0.2]), 2: np.array([0.0, 0.5])}
    return W, b


def small_net(hidden: str = "tanh", output: str = "linear", *, seed: int = 0, dtype: Any = np.float64) -> mlp.Network:
    return mlp.init_network(
        (3, 4, 3, 2), hidden=hidden, output=output, init="xavier_normal", bias_std=0.3, rng=seed, dtype=dtype
    )


# --------------------------------------------------------------------------- shapes and structure


def test_init_network_shapes_and_properties() -> None:
    sizes = (5, 7, 4, 3)
    net = mlp.init_network(sizes, rng=0)
    assert net.L == 3
    assert net.sizes == sizes
    assert sorted(net.W) == [1, 2, 3] and sorted(net.b) == [1, 2, 3]
    for l in range(1, 4):
        assert net.W[l].shape == (sizes[l], sizes[l - 1])  # W^(l) is n_l x n_{l-1}
        assert net.b[l].shape == (sizes[l],)
        assert net.W[l].dtype == np.float64
        assert_array_equal(net.b[l], np.zeros(sizes[l]))  # bias_std = 0 by default
    assert net.hidden.name == "sigmoid" and net.output.name == "linear"  # documented defaults
    assert net.g(1) is net.hidden and net.g(2) is net.hidden and net.g(3) is net.output


def test_bias_std_draws_nonzero_biases() -> None:
    net = mlp.init_network((2, 400, 1), bias_std=0.5, rng=0)
    assert np.all(net.b[1] != 0)
    assert 0.4 < float(np.std(net.b[1])) < 0.6


def test_normal_init_passes_std_through() -> None:
    a = mlp.init_network((3, 4, 2), init="normal", std=1.0, rng=7)
    b = mlp.init_network((3, 4, 2), init="normal", std=2.0, rng=7)
    for l in (1, 2):
        assert_array_equal(b.W[l], 2.0 * a.W[l])


@pytest.mark.parametrize("init", ["standard", "he_normal", "orthogonal"])
def test_std_for_another_scheme_raises_instead_of_being_ignored(init: str) -> None:
    with pytest.raises(ValueError, match=rf"std only applies to the 'normal' scheme, got std=0.5 for '{init}'"):
        mlp.init_network((3, 4, 2), init=init, std=0.5, rng=0)
    mlp.init_network((3, 4, 2), init=init, rng=0)  # without std it is fine


def test_init_network_draws_what_the_scheme_draws() -> None:
    from gradlab import init

    gen = np.random.default_rng(3)
    net = mlp.init_network((5, 4, 2), init="he_uniform", gain=1.5, rng=3)
    assert_array_equal(net.W[1], init.he_uniform(5, 4, gain=1.5, rng=gen))
    gen.standard_normal(4)  # the biases of layer 1 come next from the same generator
    assert_array_equal(net.W[2], init.he_uniform(4, 2, gain=1.5, rng=gen))


def test_forward_keys_and_batch_shapes() -> None:
    net = small_net()
    x = np.random.default_rng(1).standard_normal((6, 3))
    fwd = mlp.forward(net, x)
    assert sorted(fwd.a) == [0, 1, 2, 3]
    assert sorted(fwd.z) == [1, 2, 3]
    assert_array_equal(fwd.a[0], x)
    for l, n in enumerate(net.sizes):
        assert fwd.a[l].shape == (6, n)
        if l:
            assert fwd.z[l].shape == (6, n)
            assert_array_equal(fwd.a[l], net.g(l).g(fwd.z[l]))


def test_forward_equals_hand_written_loop() -> None:
    W, b = tiny_params()
    net = mlp.Network(W, b, "tanh", "sigmoid")
    xs = [[0.3, -1.2], [2.0, 0.5]]
    fwd = mlp.forward(net, xs)
    for i, x in enumerate(xs):
        z1 = [sum(W[1][j][k] * x[k] for k in range(2)) + b[1][j] for j in range(3)]
        a1 = [math.tanh(v) for v in z1]
        z2 = [sum(W[2][j][k] * a1[k] for k in range(3)) + b[2][j] for j in range(2)]
        a2 = [1.0 / (1.0 + math.exp(-v)) for v in z2]
        assert_allclose(fwd.z[1][i], z1, rtol=1e-14)
        assert_allclose(fwd.a[1][i], a1, rtol=1e-14)
        assert_allclose(fwd.z[2][i], z2, rtol=1e-14)
        assert_allclose(fwd.a[2][i], a2, rtol=1e-14)


def test_one_example_forward_is_column_vector_maths() -> None:
    net = small_net("gelu", "softplus", seed=3)
    x = np.random.default_rng(2).standard_normal(3)
    fwd = mlp.forward(net, x[None, :])
    a = x.reshape(-1, 1)  # a^(0) as a column vector
    for l in range(1, net.L + 1):
        z = net.W[l] @ a + net.b[l].reshape(-1, 1)  # z = W a + b
        a = net.g(l).g(z)
        assert_allclose(fwd.z[l], z.T, rtol=1e-13, atol=1e-15)
        assert_allclose(fwd.a[l], a.T, rtol=1e-13, atol=1e-15)


def test_batch_rows_are_independent_examples() -> None:
    net = small_net("selu")
    x = np.random.default_rng(4).standard_normal((5, 3))
    batch = mlp.forward(net, x).a[net.L]
    for i in range(5):
        assert_allclose(batch[i], mlp.forward(net, x[i : i + 1]).a[net.L][0], rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- backward vs central differences

_COMBOS: dict[tuple[str, str, str], None] = {}
for _h in activations.NAMES:
    _COMBOS[(_h, _h, "mse")] = None  # same activation at the output
    _COMBOS[(_h, "linear", "mse")] = None
    _COMBOS[(_h, "linear", "softmax_cross_entropy")] = None
COMBOS = list(_COMBOS)


def _batch(loss: str, seed: int) -> tuple[np.ndarray, Any]:
    """Five inputs of width 3 and targets for ``loss`` (class labels or values in (0.1, 0.9))."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 3))
    return x, (rng.integers(0, 2, size=5) if loss == "softmax_cross_entropy" else rng.uniform(0.1, 0.9, (5, 2)))


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS, ids=["-".join(c) for c in COMBOS])
def test_backward_matches_central_differences(hidden: str, output: str, loss: str) -> None:
    net = small_net(hidden, output, seed=5)
    x, y = _batch(loss, seed=11)
    # every layer must receive a non-zero gradient, or the check would be vacuous
    _, _, grads = mlp.loss_and_gradients(net, x, y, loss)
    assert np.all(grads.norms["W"] > 1e-6) and np.all(grads.norms["b"] > 1e-6)
    report = gradcheck.check_network(net, x, y, loss)
    assert [(r.layer, r.param) for r in report.rows] == [(l, p) for l in (1, 2, 3) for p in ("W", "b")]
    assert report.max_rel_error < 1e-6, report
    assert report.passed()


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS, ids=["-".join(c) for c in COMBOS])
def test_input_gradient_matches_central_differences(hidden: str, output: str, loss: str) -> None:
    net = small_net(hidden, output, seed=6)
    x, y = _batch(loss, seed=12)
    _, _, grads = mlp.loss_and_gradients(net, x, y, loss)
    assert grads.da0.shape == x.shape and grads.da0.dtype == np.float64
    numeric = gradcheck.numerical_gradient(lambda x_: mlp.loss_and_gradients(net, x_, y, loss)[0], x)
    assert np.linalg.norm(numeric) > 1e-6  # not vacuous
    assert gradcheck.relative_error(grads.da0, numeric) < 1e-7


def test_input_gradient_is_one_more_backward_step() -> None:
    # da0 = delta^(1) W^(1) in rows; for a one-layer linear network it is (a - y)/B @ W
    W, b = tiny_params()
    net = mlp.Network({1: W[1]}, {1: b[1]}, "linear", "linear")
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    y = np.zeros((2, 3))
    _, fwd, grads = mlp.loss_and_gradients(net, x, y, "mse")
    assert_allclose(grads.da0, (fwd.a[1] - y) / 2 @ W[1], rtol=1e-15)


def test_default_loss_is_softmax_cross_entropy_everywhere() -> None:
    import inspect

    from gradlab import train

    assert mlp.DEFAULT_LOSS == "softmax_cross_entropy"
    for f in (mlp.loss_and_gradients, train.train_sgd, gradcheck.check_network):
        assert inspect.signature(f).parameters["loss"].default == mlp.DEFAULT_LOSS, f.__name__
    net = small_net()
    x, labels = np.random.default_rng(0).standard_normal((4, 3)), np.array([0, 1, 1, 0])
    assert mlp.loss_and_gradients(net, x, labels)[0] == mlp.loss_and_gradients(net, x, labels, "softmax_cross_entropy")[0]


def test_backward_delta_and_bias_gradient_by_hand() -> None:
    # linear output + mse: delta^(L) = (a - y)/B, dL/db^(L) = sum_rows delta^(L)
    W, b = tiny_params()
    net = mlp.Network(W, b, "tanh", "linear")
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    _, fwd, grads = mlp.loss_and_gradients(net, x, y, "mse")
    assert_allclose(grads.delta[2], (fwd.a[2] - y) / 2, rtol=1e-15)
    assert_allclose(grads.db[2], ((fwd.a[2] - y) / 2).sum(axis=0), rtol=1e-15)
    assert_allclose(grads.dW[2], ((fwd.a[2] - y) / 2).T @ fwd.a[1], rtol=1e-15)
    d1 = (grads.delta[2] @ W[2]) * (1 - np.tanh(fwd.z[1]) ** 2)
    assert_allclose(grads.delta[1], d1, rtol=1e-13)
    assert_allclose(grads.dW[1], d1.T @ x, rtol=1e-13)


def test_float32_network_stays_float32() -> None:
    net = small_net("tanh", "linear", dtype=np.float32)
    assert all(net.W[l].dtype == np.float32 and net.b[l].dtype == np.float32 for l in (1, 2, 3))
    assert net.dtype == np.float32
    x = np.random.default_rng(0).standard_normal((4, 3))  # float64 input
    for loss, y in (("mse", np.zeros((4, 2))), ("softmax_cross_entropy", np.array([0, 1, 1, 0]))):
        _, fwd, grads = mlp.loss_and_gradients(net, x, y, loss)
        for l in range(net.L + 1):
            assert fwd.a[l].dtype == np.float32
        for l in range(1, net.L + 1):
            assert fwd.z[l].dtype == np.float32
            assert grads.delta[l].dtype == np.float32
            assert grads.dW[l].dtype == np.float32
            assert grads.db[l].dtype == np.float32
        # and the float32 gradients agree with the float64 ones to float32 accuracy
        net64 = mlp.Network({l: w.astype(np.float64) for l, w in net.W.items()},
                            {l: v.astype(np.float64) for l, v in net.b.items()}, net.hidden, net.output)
        _, _, g64 = mlp.loss_and_gradients(net64, x.astype(np.float32), y, loss)
        for l in range(1, net.L + 1):
            assert_allclose(grads.dW[l], g64.dW[l], rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------- Gradients, copy, seeds


def test_gradient_norm_definitions() -> None:
    net = small_net("sigmoid")
    x = np.random.default_rng(3).standard_normal((7, 3))
    _, _, grads = mlp.loss_and_gradients(net, x, np.ones((7, 2)), "mse")
    assert grads.norms["W"].shape == (3,) and grads.norms["b"].shape == (3,)
    for l in (1, 2, 3):
        frob = math.sqrt(sum(float(v) ** 2 for v in grads.dW[l].ravel()))
        assert grads.norms["W"][l - 1] == pytest.approx(frob, rel=1e-13)
        summed = grads.delta[l].sum(axis=0)  # dL/db = batch-summed delta
        assert_allclose(grads.db[l], summed, rtol=1e-14)
        assert grads.norms["b"][l - 1] == pytest.approx(math.sqrt(float(summed @ summed)), rel=1e-13)


def test_copy_is_deep() -> None:
    net = small_net()
    twin = net.copy()
    assert twin.W is not net.W and twin.b is not net.b
    for l in (1, 2, 3):
        assert twin.W[l] is not net.W[l]
        assert_array_equal(twin.W[l], net.W[l])
    before = {l: w.copy() for l, w in net.W.items()}, {l: v.copy() for l, v in net.b.items()}
    twin.W[1][0, 0] += 10.0
    twin.b[2][:] = 99.0
    for l in (1, 2, 3):
        assert_array_equal(net.W[l], before[0][l])
        assert_array_equal(net.b[l], before[1][l])


def test_identical_seeds_give_identical_networks() -> None:
    kw: dict[str, Any] = dict(hidden="relu", init="he_normal", bias_std=0.1)
    a = mlp.init_network((4, 5, 3), rng=42, **kw)
    b = mlp.init_network((4, 5, 3), rng=np.random.default_rng(42), **kw)
    c = mlp.init_network((4, 5, 3), rng=43, **kw)
    for l in (1, 2):
        assert_array_equal(a.W[l], b.W[l])
        assert_array_equal(a.b[l], b.b[l])
    assert not np.array_equal(a.W[1], c.W[1])


def test_softmax_cross_entropy_needs_linear_output() -> None:
    net = small_net("tanh", "sigmoid")
    with pytest.raises(ValueError, match=r"output activation must be 'linear', got 'sigmoid'"):
        mlp.loss_and_gradients(net, np.zeros((2, 3)), [0, 1], "softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'"):
        mlp.loss_and_gradients(net, np.zeros((2, 3)), [0, 1], "hinge")


# --------------------------------------------------------------------------- Network validation


@pytest.mark.parametrize(
    ("W", "b", "exc", "match"),
    [
        ({0: np.ones((2, 2)), 1: np.ones((2, 2))}, {0: np.zeros(2), 1: np.zeros(2)}, ValueError,
         r"W must have keys 1\.\.L, got \[0, 1\]"),
        ({1: np.ones((2, 2)), 3: np.ones((2, 2))}, {1: np.zeros(2), 3: np.zeros(2)}, ValueError,
         r"W must have keys 1\.\.L, got \[1, 3\]"),
        ({}, {}, ValueError, r"W must have keys 1\.\.L, got \[\]"),
        ({1: np.ones((2, 2))}, {2: np.zeros(2)}, ValueError, r"b must have the same layer keys as W \(1\.\.1\)"),
        ({1: np.ones((3, 2)), 2: np.ones((2, 4))}, {1: np.zeros(3), 2: np.zeros(2)}, ValueError,
         r"W\[2\] must have n_1 = 3 columns, got shape \(2, 4\)"),
        ({1: np.ones((3, 2))}, {1: np.zeros(2)}, ValueError, r"b\[1\] must have length n_1 = 3, got 2"),
        ({1: np.ones(3)}, {1: np.zeros(3)}, ValueError, r"W\[1\] must be 2-dimensional"),
        ({1: np.ones((3, 2))}, {1: np.zeros((3, 1))}, ValueError, r"b\[1\] must be 1-dimensional"),
        ([np.ones((3, 2))], {1: np.zeros(3)}, TypeError, r"W and b must be dicts"),
        ({1: "abc"}, {1: np.zeros(3)}, TypeError, r"W\[1\] must be a number or an array"),
    ],
)
def test_network_validation(W: Any, b: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        mlp.Network(W, b, "tanh", "linear")


def test_network_rejects_unknown_activation() -> None:
    W, b = tiny_params()
    with pytest.raises(ValueError, match=r"unknown activation 'swish'"):
        mlp.Network(W, b, "swish", "linear")


def test_network_casts_bias_to_weight_dtype() -> None:
    net = mlp.Network({1: np.ones((2, 3), dtype=np.float32)}, {1: [1, 2]}, "tanh", "linear")
    assert net.b[1].dtype == np.float32
    assert_array_equal(net.b[1], [1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(sizes=(3,)), ValueError, r"sizes must list at least an input and an output width, got \[3\]"),
        (dict(sizes=()), ValueError, r"sizes must list at least an input and an output width"),
        (dict(sizes=(3, 0, 2)), ValueError, r"sizes\[1\] must be >= 1, got 0"),
        (dict(sizes=(3, -4)), ValueError, r"sizes\[1\] must be >= 1, got -4"),
        (dict(sizes=(3, 2.0)), TypeError, r"sizes\[1\] must be an integer, got float"),
        (dict(sizes=(True, 2)), TypeError, r"sizes\[0\] must be an integer, got bool"),
        (dict(sizes="32"), TypeError, r"sizes must be a sequence of layer widths"),
        (dict(sizes=(3, 2), bias_std=-0.1), ValueError, r"bias_std must be >= 0, got -0\.1"),
        (dict(sizes=(3, 2), bias_std=float("nan")), ValueError, r"bias_std must be finite"),
        (dict(sizes=(3, 2), init="glorot"), ValueError, r"unknown initialiser 'glorot'"),
        (dict(sizes=(3, 2), hidden="swish"), ValueError, r"unknown activation 'swish'"),
        (dict(sizes=(3, 2), output="softmax"), ValueError, r"unknown activation 'softmax'"),
        (dict(sizes=(3, 2), gain=0.0), ValueError, r"gain must be > 0"),
        (dict(sizes=(3, 2), rng=-1), ValueError, r"rng seed must be >= 0"),
        (dict(sizes=(3, 2), rng="seed"), TypeError, r"rng must be a numpy\.random\.Generator or an integer seed"),
    ],
)
def test_init_network_errors(kwargs: dict[str, Any], exc: type[Exception], match: str) -> None:
    kwargs = {"rng": 0, **kwargs}
    sizes = kwargs.pop("sizes")
    with pytest.raises(exc, match=match):
        mlp.init_network(sizes, **kwargs)


# --------------------------------------------------------------------------- forward / backward errors


@pytest.mark.parametrize(
    ("x", "exc", "match"),
    [
        (np.zeros(3), ValueError, r"x must be 2-dimensional, got shape \(3,\)"),
        (np.zeros((2, 4)), ValueError, r"x must have shape \(B, n_0\) = \(B, 3\), got \(2, 4\)"),
        (np.array([[0.0, np.nan, 1.0]]), ValueError, r"x must be finite, but 1 entry is NaN or inf"),
        (np.array([[np.inf, np.nan, 1.0]]), ValueError, r"x must be finite, but 2 entries are NaN or inf"),
        ("abc", TypeError, r"x must be a number or an array of numbers, got str"),
        (None, TypeError, r"x must be a number or an array of numbers, got NoneType"),
    ],
)
def test_forward_errors(x: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        mlp.forward(small_net(), x)


def test_forward_rejects_non_network() -> None:
    with pytest.raises(TypeError, match=r"net must be a gradlab\.mlp\.Network, got dict"):
        mlp.forward({"W": {}}, np.zeros((1, 3)))  # type: ignore[arg-type]


def test_float32_forward_rejects_input_beyond_float32_range() -> None:
    # BUG (see report): 1e300 is finite in float64 but overflows when cast to
    # float32; the cast raises a numpy RuntimeWarning instead of the
    # documented "x must be finite" ValueError.
    net = small_net(dtype=np.float32)
    with pytest.raises(ValueError, match=r"x must be finite"):
        mlp.forward(net, np.array([[1e300, 0.0, 0.0]]))


def test_backward_errors() -> None:
    net = small_net()
    fwd = mlp.forward(net, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dL_daL must have the output's shape \(2, 2\), got \(2, 3\)"):
        mlp.backward(net, fwd, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dL_daL must have the output's shape \(2, 2\), got \(1, 2\)"):
        mlp.backward(net, fwd, np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"dL_daL must be 2-dimensional, got shape \(2,\)"):
        mlp.backward(net, fwd, np.zeros(2))
    with pytest.raises(TypeError, match=r"fwd must be the Forward returned by gradlab\.mlp\.forward, got dict"):
        mlp.backward(net, {"a": fwd.a, "z": fwd.z}, np.zeros((2, 2)))  # type: ignore[arg-type]


def test_every_entry_point_names_a_wrong_net() -> None:
    from gradlab import train

    x = np.zeros((1, 3))
    for call in (
        lambda: mlp.backward("net", None, x),  # type: ignore[arg-type]
        lambda: mlp.resolve_loss("net", "mse"),  # type: ignore[arg-type]
        lambda: mlp.loss_and_gradients("net", x, x),  # type: ignore[arg-type]
        lambda: train.train_sgd("net", x, [0], lr=0.1, rng=0),  # type: ignore[arg-type]
        lambda: gradcheck.check_network("net", x, [0]),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError, match=r"net must be a gradlab\.mlp\.Network, got str"):
            call()


def test_resolve_loss_accepts_loss_objects() -> None:
    net = small_net()
    assert mlp.resolve_loss(net, losses.LOSSES["mse"]) is losses.LOSSES["mse"]
    assert mlp.resolve_loss(net, "softmax_cross_entropy").name == "softmax_cross_entropy"
    with pytest.raises(TypeError, match=r"loss must be a name \(str\) or a Loss, got int"):
        mlp.resolve_loss(net, 3)


# --------------------------------------------------------------------------- back-propagation, entry by entry

JAC_SIZES = [4, 6, 6, 6, 6, 3]



def jacobian_setup(
    sizes: list[int] = JAC_SIZES, hidden: str = "sigmoid", output: str = "linear", rng: int = 5,
    x_seed: int = 6, y_seed: int = 7, gain: float = 1.0,
) -> dict[str, Any]:
    """The page's Jacobian cell, as a function (defaults = the page's network)."""
    net = mlp.init_network(sizes, hidden=hidden, output=output, bias_std=0.1, gain=gain, rng=rng)
    x1 = np.random.default_rng(x_seed).standard_normal((1, sizes[0]))
    y1 = np.random.default_rng(y_seed).uniform(size=(1, sizes[-1]))
    _, fwd, grads = mlp.loss_and_gradients(net, x1, y1, "mse")
    L = net.L
    dL_daL = losses.dmse(fwd.a[L], y1)[0]
    gp = {k: net.g(k).dg(fwd.z[k][0]) for k in range(1, L + 1)}
    J = {L: np.eye(net.sizes[L])}
    for l in range(L - 1, -1, -1):
        J[l] = J[l + 1] @ np.diag(gp[l + 1]) @ net.W[l + 1]
    delta_jac = {l: gp[l] * (J[l].T @ dL_daL) for l in range(1, L + 1)}
    jac_diff = max(np.max(np.abs(delta_jac[l] - grads.delta[l][0])) for l in range(1, L + 1))

    def output_i(i: int) -> Any:
        return lambda xx: mlp.forward(net, xx).a[L][0, i]

    J_fd = np.stack([gradcheck.numerical_gradient(output_i(i), x1, h=1e-5)[0] for i in range(net.sizes[L])])
    norm_delta = {l: float(np.linalg.norm(grads.delta[l][0])) for l in range(1, L + 1)}
    factor = {k: float(np.linalg.norm(net.W[k], 2) * np.max(np.abs(gp[k - 1]))) for k in range(2, L + 1)}
    bound = {L: norm_delta[L]}
    for l in range(L - 1, 0, -1):
        bound[l] = bound[l + 1] * factor[l + 1]
    return dict(net=net, x1=x1, y1=y1, fwd=fwd, grads=grads, gp=gp, J=J, J_fd=J_fd, dL_daL=dL_daL,
                jac_diff=float(jac_diff), jac_fd_rel=gradcheck.relative_error(J[0], J_fd),
                norm_delta=norm_delta, factor=factor, bound=bound)


def backward_by_loops(net: mlp.Network, fwd: mlp.Forward, dL_daL: np.ndarray) -> tuple[dict, dict, dict]:
    """The component formulas of the page, one example at a time, summed over the batch."""
    L, B = net.L, dL_daL.shape[0]
    delta = {l: np.zeros((B, net.sizes[l])) for l in range(1, L + 1)}
    for i in range(B):
        for j in range(net.sizes[L]):
            delta[L][i, j] = dL_daL[i, j] * float(net.g(L).dg(fwd.z[L][i, j]))
        for l in range(L - 1, 0, -1):
            for k in range(net.sizes[l]):
                s = sum(net.W[l + 1][j, k] * delta[l + 1][i, j] for j in range(net.sizes[l + 1]))
                delta[l][i, k] = s * float(net.g(l).dg(fwd.z[l][i, k]))
    dW = {l: np.zeros_like(net.W[l]) for l in range(1, L + 1)}
    db = {l: np.zeros_like(net.b[l]) for l in range(1, L + 1)}
    for l in range(1, L + 1):
        for i in range(B):
            for j in range(net.sizes[l]):
                db[l][j] += delta[l][i, j]
                for k in range(net.sizes[l - 1]):
                    dW[l][j, k] += delta[l][i, j] * fwd.a[l - 1][i, k]
    return delta, dW, db


@pytest.mark.parametrize("hidden,output", [("sigmoid", "sigmoid"), ("tanh", "linear"), ("relu", "softplus")])
def test_backward_is_the_component_formulas(hidden: str, output: str) -> None:
    net = mlp.init_network([3, 5, 4, 2], hidden=hidden, output=output, bias_std=0.2, rng=21)
    X = np.random.default_rng(22).standard_normal((3, 3))
    Y = np.random.default_rng(23).uniform(size=(3, 2))
    _, fwd, grads = mlp.loss_and_gradients(net, X, Y, "mse")
    delta, dW, db = backward_by_loops(net, fwd, losses.dmse(fwd.a[net.L], Y))
    for l in range(1, net.L + 1):
        np.testing.assert_allclose(grads.delta[l], delta[l], rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(grads.dW[l], dW[l], rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(grads.db[l], db[l], rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize(
    "hidden,output,gain",
    [("tanh", "sigmoid", 1.0), ("relu", "linear", 2.0), ("gelu", "tanh", 3.0), ("sigmoid", "linear", 4.0)],
)
def test_jacobian_product_and_bound_other_networks(hidden: str, output: str, gain: float) -> None:
    jac = jacobian_setup([3, 5, 5, 5, 2], hidden=hidden, output=output, rng=31, x_seed=32, y_seed=33, gain=gain)
    assert jac["jac_diff"] <= 1e-12 * max(1.0, max(jac["norm_delta"].values()))
    assert jac["jac_fd_rel"] < 1e-6
    for l, n in jac["norm_delta"].items():
        assert n <= jac["bound"][l] * (1 + 1e-12)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_per_example_ratio_never_exceeds_max_slope_times_spectral_norm(hidden: str, gaussian_blobs: Any) -> None:
    # ||delta_i^(l)|| = ||(W^(l+1)T delta_i^(l+1)) * g'(z_i^(l))|| <= max g' ||W^(l+1)||_2 ||delta_i^(l+1)||, example by
    # example (chapter 1 draws its bound line from this).
    blobs = gaussian_blobs(200, n_features=8, n_classes=3, rng=0)
    top = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}[hidden]
    for seed in range(3):
        net = mlp.init_network((8, 12, 12, 12, 3), hidden=hidden, init="xavier_normal", gain=3.0, rng=seed)
        _, _, grads = mlp.loss_and_gradients(net, blobs.X_train, blobs.y_train, "softmax_cross_entropy")
        for l in range(1, net.L):
            ratio = np.linalg.norm(grads.delta[l], axis=1) / np.linalg.norm(grads.delta[l + 1], axis=1)
            assert np.all(ratio <= top * np.linalg.norm(net.W[l + 1], 2) * (1 + 1e-12))
