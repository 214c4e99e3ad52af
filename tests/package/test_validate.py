"""gradlab._validate: the shared argument checks behind every clear error message."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab import _validate as V


def test_as_array_keeps_float32_and_promotes_ints() -> None:
    assert V.as_array(np.ones(2, dtype=np.float32), "x").dtype == np.float32
    assert V.as_array([1, 2], "x").dtype == np.float64
    assert V.as_array([True], "x").dtype == np.float64


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        ("abc", TypeError, "x must be a number or an array of numbers, got str"),
        (None, TypeError, "x must be a number or an array of numbers, got NoneType"),
        ([[1, 2], [3]], TypeError, "x must be array-like"),
        ([1 + 2j], TypeError, "x must hold real numbers, got complex"),
        (np.array(["a"]), TypeError, "x must hold real numbers"),
    ],
)
def test_as_array_rejects_non_numbers(value, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        V.as_array(value, "x")


def test_as_array_checks_ndim() -> None:
    with pytest.raises(ValueError, match=r"x must be 2-dimensional, got shape \(3,\)"):
        V.as_array([1, 2, 3], "x", ndim=2)


def test_check_finite_counts_bad_entries() -> None:
    with pytest.raises(ValueError, match="x must be finite, but 2 entries are NaN or inf"):
        V.check_finite(np.array([np.nan, 1.0, np.inf]), "x")
    with pytest.raises(ValueError, match="1 entry is NaN"):
        V.check_finite(np.array([np.nan]), "x")


def test_scalar_checks() -> None:
    assert V.check_positive_int(3, "n") == 3
    assert V.check_positive_int(np.int64(3), "n") == 3
    with pytest.raises(ValueError, match="n must be >= 2, got 1"):
        V.check_positive_int(1, "n", minimum=2)
    with pytest.raises(TypeError, match="lr must be a real number, got str"):
        V.check_nonnegative("0.1", "lr")
    with pytest.raises(ValueError, match="lr must be finite, got nan"):
        V.check_nonnegative(float("nan"), "lr")
    with pytest.raises(ValueError, match="lr must be >= 0, got -0.1"):
        V.check_nonnegative(-0.1, "lr")
    with pytest.raises(ValueError, match="h must be > 0, got 0.0"):
        V.check_positive(0.0, "h")


def test_check_rng() -> None:
    g = np.random.default_rng(1)
    assert V.check_rng(g) is g
    assert V.check_rng(5).random() == np.random.default_rng(5).random()
    with pytest.raises(ValueError, match="rng seed must be >= 0, got -1"):
        V.check_rng(-1)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an integer seed, got float"):
        V.check_rng(1.5)
    with pytest.raises(TypeError, match="got RandomState"):
        V.check_rng(np.random.RandomState(0))


def test_lookup() -> None:
    reg = {"a": 1, "b": 2}
    assert V.lookup(reg, "b", "thing") == 2
    with pytest.raises(ValueError, match=r"unknown thing 'c'; expected one of: a, b"):
        V.lookup(reg, "c", "thing")
    with pytest.raises(TypeError, match=r"thing must be a name \(str\) or a Thing, got int"):
        V.lookup(reg, 3, "thing", or_instance=" or a Thing")


def test_as_array_passes_float_arrays_through_without_copying() -> None:
    x32 = np.ones((2, 3), dtype=np.float32)
    assert V.as_array(x32, "x") is x32  # the forward pass's fast path: no copy, precision kept
    assert V.as_array(x32, "x", ndim=2, dtype=np.float32) is x32
    converted = V.as_array(x32, "x", dtype=np.float64)
    assert converted.dtype == np.float64 and converted is not x32
    with pytest.raises(ValueError, match="x must be 1-dimensional, got shape"):
        V.as_array(x32, "x", ndim=1)
    # a subclass (a masked array) takes the full, checked path
    masked = np.ma.masked_array([1.0, 2.0])
    assert type(V.as_array(masked, "x")) is np.ndarray


def test_check_instance_names_the_argument_and_the_class_by_import_path() -> None:
    from gradlab import lstm, mlp, rnn

    net = rnn.init(2, 3, 1, rng=0)
    assert V.check_instance(net, rnn.RNN, "net") is net
    with pytest.raises(TypeError, match=r"^net must be a gradlab\.lstm\.LSTM, got RNN$"):
        V.check_instance(net, lstm.LSTM, "net")
    # the modules' public entry points say the same
    with pytest.raises(TypeError, match=r"^net must be a gradlab\.mlp\.Network, got dict$"):
        mlp.check_net({})


def test_per_layer_labels_lists_by_position_and_dicts_by_key() -> None:
    assert V.per_layer(["a", "b"], "grads") == [("grads[0]", "a"), ("grads[1]", "b")]
    assert V.per_layer({2: "b", 1: "a"}, "W") == [("W[1]", "a"), ("W[2]", "b")]
    with pytest.raises(TypeError, match=r"^grads must be a list, tuple or dict of arrays, one per layer, got ndarray$"):
        V.per_layer(np.ones(3), "grads")
    with pytest.raises(ValueError, match=r"^grads must hold at least one layer, got an empty tuple$"):
        V.per_layer((), "grads")
    with pytest.raises(TypeError, match="sortable keys"):
        V.per_layer({1: "a", "x": "b"}, "grads")
