"""gradlab.diagnose: per-layer norms and ratios against hand-made arrays and an independent reference,
dead and saturated units built on purpose, every failure mode on both sides of its threshold, the
gradlab.mlp adapter, the Monitor, low-precision inputs, no numpy warnings at inf/NaN/huge inputs,
and every argument error."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest

from gradlab import diagnose, mlp, train


def layers_with_grad_norms(norms: list[float]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights of norm 5 and gradients of the given norms, as 3-4-5 triangles (shape (1, 2))."""
    W = [np.array([[3.0, 4.0]]) for _ in norms]
    G = [np.array([[0.6, 0.8]]) * n for n in norms]
    return W, G


def modes(rep: diagnose.Report) -> list[str]:
    return [f.mode for f in rep.findings]


@pytest.fixture(autouse=True)
def no_numpy_warnings():
    # A RuntimeWarning from overflow or 0/0 anywhere in diagnose is a defect.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_docstring_examples_run() -> None:
    result = doctest.testmod(diagnose, raise_on_error=True)
    assert result.attempted > 0


def test_failure_modes_are_exactly_the_documented_keys() -> None:
    assert list(diagnose.FAILURE_MODES) == [
        "nonfinite", "vanishing", "exploding", "dead_units", "saturation", "large_updates", "small_updates"]
    assert all(isinstance(v, str) and v for v in diagnose.FAILURE_MODES.values())


# ----------------------------------------------------------------------------------------------
# The numbers
# ----------------------------------------------------------------------------------------------


def test_norms_and_ratios_of_3_4_5_triangles() -> None:
    W = [np.array([[3.0, 4.0]]), np.array([[0.0], [0.0]]), np.array([[0.0, 0.0]])]
    G = [np.array([[0.3, 0.4]]), np.array([[6.0], [8.0]]), np.array([[0.0, 0.0]])]
    U = [np.array([[0.003, -0.004]]), np.array([[0.0], [1.0]]), np.array([[0.0, 0.0]])]
    rep = diagnose.report(W, G, updates=U, vanish_ratio=1e-9, explode_ratio=1e9)
    s1, s2, s3 = rep.layers
    assert (s1.name, s2.name, s3.name) == ("1", "2", "3")
    assert s1.grad_norm == pytest.approx(0.5, rel=1e-15) and s1.weight_norm == 5.0
    assert s1.grad_to_weight == pytest.approx(0.1, rel=1e-15)
    assert s1.update_to_weight == pytest.approx(1e-3, rel=1e-15)
    # zero weights: a nonzero numerator gives inf, a zero one nan
    assert s2.grad_norm == 10.0 and s2.weight_norm == 0.0 and s2.grad_to_weight == math.inf
    assert s2.update_to_weight == math.inf
    assert math.isnan(s3.grad_to_weight) and math.isnan(s3.update_to_weight)
    assert all(s.finite for s in rep.layers)
    assert s1.dead_fraction is None and s1.saturated_fraction is None  # no activations given
    assert rep.to_dict()["grad_norm"] == [s1.grad_norm, 10.0, 0.0]


def test_norms_match_an_independent_reference_any_shape() -> None:
    rng = np.random.default_rng(3)
    shapes = [(7, 3), (5, 7), (4, 5, 3, 3), (6,)]  # dense layers, a conv kernel, a gain vector
    W = [rng.standard_normal(s) for s in shapes]
    G = [rng.standard_normal(s) * 1e-3 for s in shapes]
    U = [rng.standard_normal(s) * 1e-5 for s in shapes]
    rep = diagnose.report(W, G, updates=U, vanish_ratio=1e-9, explode_ratio=1e9)
    for s, w, g, u in zip(rep.layers, W, G, U):
        ref_w, ref_g, ref_u = (math.sqrt(sum(float(v) ** 2 for v in x.ravel())) for x in (w, g, u))
        assert s.weight_norm == pytest.approx(ref_w, rel=1e-12)
        assert s.grad_norm == pytest.approx(ref_g, rel=1e-12)
        assert s.grad_to_weight == pytest.approx(ref_g / ref_w, rel=1e-12)
        assert s.update_to_weight == pytest.approx(ref_u / ref_w, rel=1e-12)


def test_huge_and_tiny_finite_entries_do_not_overflow_or_underflow() -> None:
    W = [np.array([[3e200, 4e200]]), np.array([[3e-200, 4e-200]])]
    G = [np.array([[3e-170, 4e-170]]), np.array([[3e170, 4e170]])]
    rep = diagnose.report(W, G, vanish_ratio=1e-300, explode_ratio=1e300)
    assert rep.layers[0].weight_norm == pytest.approx(5e200, rel=1e-14)
    assert rep.layers[1].weight_norm == pytest.approx(5e-200, rel=1e-14)
    assert rep.layers[0].grad_norm == pytest.approx(5e-170, rel=1e-14)
    assert rep.layers[1].grad_norm == pytest.approx(5e170, rel=1e-14)
    # the true ratios, 1e-370 and 1e370, are beyond float64: they round to 0 and inf, quietly
    assert rep.layers[0].grad_to_weight == 0.0 and rep.layers[1].grad_to_weight == math.inf


def test_float16_and_float32_inputs_are_diagnosed_in_float64() -> None:
    # 300 entries of 100 in float16: the sum of squares, 3e6, would overflow float16 (max 65504)
    W = [np.full((30, 10), 100.0, dtype=np.float16), np.ones((2, 30), dtype=np.float32)]
    G = [np.full((30, 10), 1e-3, dtype=np.float16), np.full((2, 30), 0.5, dtype=np.float32)]
    A = [np.zeros((4, 30), dtype=np.float16), np.ones((4, 2), dtype=np.float32)]
    rep = diagnose.report(W, G, activations=A, vanish_ratio=1e-9, explode_ratio=1e9)
    assert rep.layers[0].weight_norm == pytest.approx(100.0 * math.sqrt(300), rel=1e-12)
    assert rep.layers[0].grad_norm == pytest.approx(float(np.float16(1e-3)) * math.sqrt(300), rel=1e-12)
    assert rep.layers[1].grad_norm == pytest.approx(0.5 * math.sqrt(60), rel=1e-12)
    assert rep.layers[0].dead_fraction == 1.0 and rep.layers[1].dead_fraction == 0.0
    assert all(isinstance(s.grad_norm, float) for s in rep.layers)
    # +-1e4 in float16 (squares beyond float16's range) and +-inf: no warning, the right norms
    big = np.array([[1e4, -1e4], [np.inf, -np.inf]], dtype=np.float16)
    rep = diagnose.report([big[:1], big[1:]], [big[:1], big[:1]], activations=[big[:1].T, big[1:].T], bounds=(-1, 1))
    assert rep.layers[0].grad_norm == pytest.approx(1e4 * math.sqrt(2), rel=1e-12)
    assert rep.layers[1].weight_norm == math.inf and rep.layers[1].grad_to_weight == 0.0
    assert rep.layers[0].saturated_fraction == 1.0 and [f.mode for f in rep.findings][0] == "nonfinite"


def test_dict_input_keyed_like_gradlab_mlp_is_read_in_key_order() -> None:
    W = {2: np.array([[3.0, 4.0]]), 1: np.array([[6.0, 8.0]])}
    G = {1: np.array([[0.6, 0.8]]), 2: np.array([[0.3, 0.4]])}
    rep = diagnose.report(W, G)
    assert [s.weight_norm for s in rep.layers] == [10.0, 5.0]
    assert [s.grad_norm for s in rep.layers] == pytest.approx([1.0, 0.5], rel=1e-15)


# ----------------------------------------------------------------------------------------------
# Dead and saturated units, built on purpose
# ----------------------------------------------------------------------------------------------


def relu_layer_with_dead_units(n_dead: int, n_units: int = 8, B: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU layer whose first ``n_dead`` units have zero weights and bias -1 (a = 0 on every example);
    the others have bias +1 and small weights, so they are positive on every example."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (B, 3))
    W = rng.uniform(-0.2, 0.2, (n_units, 3))
    b = np.ones(n_units)
    W[:n_dead], b[:n_dead] = 0.0, -1.0
    return W, np.maximum(x @ W.T + b, 0.0)


def test_dead_relu_units_are_counted_and_flagged_from_dead_flag_on() -> None:
    W, a = relu_layer_with_dead_units(4)  # 4 of 8 units: 0.5
    G = np.full_like(W, 1e-2)
    rep = diagnose.report([W], [G], activations=[a])
    assert rep.layers[0].dead_fraction == 0.5
    assert modes(rep) == ["dead_units"]
    assert rep.findings[0].layer == "1"
    assert rep.findings[0].message == "4 of the 8 units of layer 1 (50%) are dead: activation <= 0 on all 32 examples"
    assert modes(diagnose.report([W], [G], activations=[a], dead_flag=0.51)) == []
    W, a = relu_layer_with_dead_units(3)
    assert diagnose.report([W], [G], activations=[a]).layers[0].dead_fraction == 3 / 8
    assert not diagnose.report([W], [G], activations=[a]).flagged("dead_units")


def test_a_unit_alive_on_one_example_is_not_dead_and_dead_tol_moves_the_line() -> None:
    a = np.zeros((10, 4))
    a[7, 0] = 1e-3  # unit 0 fires on one example only
    W = np.ones((4, 2))
    rep = diagnose.report([W], [W], activations=[a])
    assert rep.layers[0].dead_fraction == 3 / 4
    assert diagnose.report([W], [W], activations=[a], dead_tol=1e-3).layers[0].dead_fraction == 1.0
    assert diagnose.report([W], [W], activations=[a], dead_tol=-1e-9).layers[0].dead_fraction == 0.0


def test_tanh_layer_saturated_on_purpose() -> None:
    # Units 0..5 get pre-activations of +-5 (|tanh| = 0.99991), units 6..9 of +-0.1.
    rng = np.random.default_rng(1)
    signs = rng.choice([-1.0, 1.0], size=(20, 10))
    z = signs * np.where(np.arange(10) < 6, 5.0, 0.1)
    a = np.tanh(z)
    W = np.ones((10, 4))
    rep = diagnose.report([W], [W], activations=[a], bounds=(-1, 1))
    assert rep.layers[0].saturated_fraction == 0.6
    assert modes(rep) == ["saturation"]
    assert rep.findings[0].message == "60% of the activations of layer 1 lie within 0.01 of a bound of (-1, 1)"
    assert not diagnose.report([W], [W], activations=[a], bounds=(-1, 1), saturation_flag=0.61).flagged("saturation")
    # A wider band (saturation 0.8: |a| >= 0.8) does not reach tanh(0.1) = 0.0997 either
    assert diagnose.report([W], [W], activations=[a], bounds=(-1, 1), saturation=0.8).layers[0].saturated_fraction == 0.6
    # No bounds: not measured
    assert diagnose.report([W], [W], activations=[a]).layers[0].saturated_fraction is None


def test_saturation_band_is_a_fraction_of_the_range_at_both_bounds() -> None:
    # bounds (0, 1), saturation 0.9: band 0.05, so a >= 0.95 or a <= 0.05
    a = np.array([[0.96, 0.94, 0.04, 0.06, 0.5]])
    W = np.ones((5, 1))
    rep = diagnose.report([W], [W], activations=[a], bounds=(0.0, 1.0), saturation=0.9)
    assert rep.layers[0].saturated_fraction == pytest.approx(2 / 5)
    # (-3, 5): range 8, saturation 0.75 gives a band of 1: a >= 4 or a <= -2
    a = np.array([[4.01, 3.99, -2.01, -1.99]])
    rep = diagnose.report([np.ones((4, 1))], [np.ones((4, 1))], activations=[a], bounds=(-3, 5), saturation=0.75)
    assert rep.layers[0].saturated_fraction == 0.5


def test_per_layer_bounds_and_none_activations() -> None:
    a1 = np.full((3, 2), 0.999)
    a2 = np.full((3, 2), 0.999)
    W = [np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2))]
    rep = diagnose.report(W, W, activations=[a1, a2, None], bounds=[(-1, 1), None, (0, 1)])
    assert [s.saturated_fraction for s in rep.layers] == [1.0, None, None]
    assert [s.dead_fraction for s in rep.layers] == [0.0, 0.0, None]


# ----------------------------------------------------------------------------------------------
# Every failure mode, on both sides of its threshold
# ----------------------------------------------------------------------------------------------


def test_vanishing_on_both_sides_of_vanish_ratio() -> None:
    W, G = layers_with_grad_norms([0.5e-2, 1.0, 1.0])
    rep = diagnose.report(W, G)
    assert modes(rep) == ["vanishing"]
    assert rep.findings[0].layer == "1"
    assert rep.findings[0].message == "gradient norm falls 200-fold from the last layer (3) to the first (1)"
    W, G = layers_with_grad_norms([1.01e-2, 1e-6, 1.0])  # just above the line; the middle layer does not count
    assert modes(diagnose.report(W, G)) == []
    W, G = layers_with_grad_norms([0.99e-2, 1.0])
    assert modes(diagnose.report(W, G)) == ["vanishing"]
    W, G = layers_with_grad_norms([0.5e-3, 1.0])
    assert modes(diagnose.report(W, G, vanish_ratio=1e-3)) == ["vanishing"]
    assert modes(diagnose.report(W, G, vanish_ratio=0.4e-3)) == []


def test_vanishing_to_exactly_zero_and_names_in_the_message() -> None:
    W, G = layers_with_grad_norms([0.0, 1.0, 4.0])
    rep = diagnose.report(W, G, names=["fc1", "fc2", "fc3"])
    assert rep.findings == (diagnose.Finding(
        "vanishing", "fc1", "gradient norm is 0 in the first layer (fc1) but 4 in the last (fc3)"),)


def test_exploding_on_both_sides_of_explode_ratio() -> None:
    W, G = layers_with_grad_norms([3.2e4, 1.0, 1.0])
    rep = diagnose.report(W, G, names=["fc1", "fc2", "fc4"])
    assert modes(rep) == ["exploding"]
    assert rep.findings[0].message == "gradient norm grows 3.2e+04-fold from the last layer (fc4) to the first (fc1)"
    W, G = layers_with_grad_norms([0.99e2, 1.0])
    assert modes(diagnose.report(W, G)) == []
    W, G = layers_with_grad_norms([1.01e2, 1.0])
    assert modes(diagnose.report(W, G)) == ["exploding"]
    assert modes(diagnose.report(W, G, explode_ratio=1.02e2)) == []


def test_max_grad_norm_flags_each_layer_above_it_and_is_off_by_default() -> None:
    W, G = layers_with_grad_norms([10.0, 20.0, 5.0])
    assert modes(diagnose.report(W, G)) == []
    rep = diagnose.report(W, G, max_grad_norm=9.0)
    assert [(f.mode, f.layer) for f in rep.findings] == [("exploding", "1"), ("exploding", "2")]
    assert rep.findings[1].message == "gradient norm 20 in layer 2 is above max_grad_norm = 9"
    assert modes(diagnose.report(W, G, max_grad_norm=21.0)) == []


def test_first_and_last_are_not_compared_for_one_layer_or_a_zero_last_gradient() -> None:
    W, G = layers_with_grad_norms([1e-9])
    assert modes(diagnose.report(W, G)) == []
    W, G = layers_with_grad_norms([1.0, 0.0])
    assert modes(diagnose.report(W, G)) == []


def test_update_modes_on_both_sides_of_their_thresholds() -> None:
    W, G = layers_with_grad_norms([1.0, 1.0, 1.0, 1.0])
    # update/weight ratios just above and below each threshold (1e-2 and 1e-4)
    U = [w * r for w, r in zip(W, (1.01e-2, 0.99e-2, 1.01e-4, 0.99e-4))]
    rep = diagnose.report(W, G, updates=U)
    assert [(f.mode, f.layer) for f in rep.findings] == [("large_updates", "1"), ("small_updates", "4")]
    assert rep.findings[0].message == "update/weight ratio 0.0101 in layer 1 is above update_high = 0.01"
    assert rep.findings[1].message == "update/weight ratio 9.9e-05 in layer 4 is below update_low = 0.0001"
    rep = diagnose.report(W, G, updates=U, update_low=0.98e-4, update_high=1.02e-2)
    assert modes(rep) == []
    assert [s.update_to_weight for s in rep.layers] == pytest.approx([1.01e-2, 0.99e-2, 1.01e-4, 0.99e-4], rel=1e-12)


def test_nonfinite_entries_are_counted_per_array_without_warnings() -> None:
    W, G = layers_with_grad_norms([1.0, 1.0, 1.0])
    G[1] = np.array([[np.nan, np.inf]])
    A = [np.ones((2, 1)), np.array([[np.inf], [1.0]]), np.ones((2, 1))]
    rep = diagnose.report(W, G, activations=A, bounds=(-1.0, 1.0))
    assert [s.finite for s in rep.layers] == [True, False, True]
    assert math.isnan(rep.layers[1].grad_norm) and math.isnan(rep.layers[1].grad_to_weight)
    assert rep.layers[1].saturated_fraction == 1.0  # inf is beyond the bound; NaN never counts
    assert modes(rep) == ["nonfinite", "saturation", "saturation", "saturation"]
    assert rep.findings[0] == diagnose.Finding(
        "nonfinite", "2", "layer 2 holds NaN or inf: 2 entries in grads, 1 entry in activations")
    # an inf first-layer gradient is reported as nonfinite only, not as exploding
    W, G = layers_with_grad_norms([1.0, 1.0])
    G[0] = np.array([[np.inf, 0.0]])
    assert modes(diagnose.report(W, G)) == ["nonfinite"]
    W[1] = np.array([[-np.inf, 1.0]])
    rep = diagnose.report(W, G, updates=[np.zeros((1, 2)), np.full((1, 2), np.nan)])
    # layer 1: inf gradient; layer 2: inf weight and NaN update; a zero update is the smallest update of all
    assert [(f.mode, f.layer) for f in rep.findings] == [("nonfinite", "1"), ("nonfinite", "2"), ("small_updates", "1")]
    assert rep.findings[1].message == "layer 2 holds NaN or inf: 1 entry in weights, 2 entries in updates"


def test_findings_come_in_the_order_of_failure_modes_then_layers() -> None:
    W, G = layers_with_grad_norms([1e-3, 1.0, 1.0])
    U = [w * 1e-6 for w in W]
    A = [np.zeros((2, 1)), np.zeros((2, 1)), np.ones((2, 1))]
    rep = diagnose.report(W, G, updates=U, activations=A)
    assert [(f.mode, f.layer) for f in rep.findings] == [
        ("vanishing", "1"), ("dead_units", "1"), ("dead_units", "2"),
        ("small_updates", "1"), ("small_updates", "2"), ("small_updates", "3")]
    assert rep.flagged("dead_units") and not rep.flagged("exploding")


# ----------------------------------------------------------------------------------------------
# Report: summary, to_dict, flagged
# ----------------------------------------------------------------------------------------------


def test_summary_is_a_fixed_width_table_with_three_significant_digits() -> None:
    W, G = layers_with_grad_norms([1.23456e-5, 0.0282843])
    rep = diagnose.report(W, G, names=["fc1", "out"])
    lines = rep.summary().splitlines()
    assert lines[0].split() == ["layer", "grad", "weight", "grad/weight", "finite"]
    assert lines[1].split() == ["fc1", "1.23e-05", "5", "2.47e-06", "yes"]
    assert lines[2].split() == ["out", "0.0283", "5", "0.00566", "yes"]
    assert len({len(line) for line in lines[:3]}) == 1  # fixed width
    assert lines[3] == "flagged vanishing: gradient norm falls 2.29e+03-fold from the last layer (out) to the first (fc1)"
    assert len(lines) == 4
    assert str(rep) == rep.summary()


def test_summary_without_findings_and_with_every_column() -> None:
    W, G = layers_with_grad_norms([1.0, 1.0])
    rep = diagnose.report(W, G, updates=[w * 1e-3 for w in W], activations=[np.full((3, 1), 0.5), np.full((3, 1), 0.5)],
                          bounds=[(-1, 1), None])
    lines = rep.summary().splitlines()
    assert lines[0].split() == ["layer", "grad", "weight", "grad/weight", "update/weight", "dead", "saturated", "finite"]
    assert lines[2].split()[-2] == "-"  # saturation not measured in layer 2
    assert lines[-1] == "no known failure mode flagged"


def test_to_dict_has_every_column_in_layer_order() -> None:
    W, G = layers_with_grad_norms([1.0, 2.0])
    d = diagnose.report(W, G).to_dict()
    assert list(d) == ["name", "grad_norm", "weight_norm", "grad_to_weight", "update_to_weight", "dead_fraction",
                       "saturated_fraction", "finite"]
    assert d["name"] == ["1", "2"] and d["update_to_weight"] == [None, None] and d["finite"] == [True, True]
    assert d["grad_norm"] == pytest.approx([1.0, 2.0], rel=1e-15)


def test_flagged_rejects_an_unknown_mode() -> None:
    W, G = layers_with_grad_norms([1.0])
    with pytest.raises(ValueError, match="unknown mode 'dead'; expected one of: nonfinite, vanishing"):
        diagnose.report(W, G).flagged("dead")


# ----------------------------------------------------------------------------------------------
# report_mlp
# ----------------------------------------------------------------------------------------------


def batch(n_in: int = 10, B: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((B, n_in)), rng.integers(0, 3, B)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_mlp_flags_vanishing_in_a_deep_sigmoid_network(seed: int) -> None:
    X, y = batch()
    net = mlp.init_network([10] + [32] * 8 + [3], hidden="sigmoid", rng=seed)
    _, fwd, g = mlp.loss_and_gradients(net, X, y)
    rep = diagnose.report_mlp(net, g, fwd=fwd)
    assert rep.flagged("vanishing")
    assert rep.layers[0].grad_norm < 1e-4 * rep.layers[-1].grad_norm  # each sigmoid layer costs >= 4x
    assert [s.grad_norm for s in rep.layers] == pytest.approx(list(g.norms["W"]), rel=1e-12)
    assert not rep.flagged("saturation") and not rep.flagged("dead_units")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_mlp_healthy_shallow_tanh_network_flags_at_most_update_modes(seed: int) -> None:
    X, y = batch()
    net = mlp.init_network([10, 32, 32, 3], hidden="tanh", rng=seed)
    previous = net.copy()
    _, fwd, g = mlp.loss_and_gradients(net, X, y)
    train.sgd_step(net, g, 0.1)
    rep = diagnose.report_mlp(net, g, fwd=fwd, previous=previous)
    assert set(modes(rep)) <= {"large_updates", "small_updates"}
    # bounds (-1, 1) for the tanh layers, none for the linear output; logits get no dead fraction
    assert rep.layers[0].saturated_fraction is not None and rep.layers[0].saturated_fraction < 0.05
    assert rep.layers[-1].saturated_fraction is None and rep.layers[-1].dead_fraction is None
    for l, s in enumerate(rep.layers, start=1):
        ref = 0.1 * np.linalg.norm(g.dW[l]) / np.linalg.norm(net.W[l])  # SGD: the update is lr * dW
        assert s.update_to_weight == pytest.approx(ref, rel=1e-9)


def test_report_mlp_relu_dead_fraction_and_no_bounds() -> None:
    X, y = batch()
    net = mlp.init_network([10, 16, 3], hidden="relu", rng=0)
    net.b[1][:12] = -100.0  # 12 of 16 hidden units are off on every example
    _, fwd, g = mlp.loss_and_gradients(net, X, y)
    rep = diagnose.report_mlp(net, g, fwd=fwd, names=["hidden", "out"])
    assert rep.layers[0].dead_fraction == 0.75 and rep.layers[0].saturated_fraction is None
    assert [(f.mode, f.layer) for f in rep.findings if f.mode == "dead_units"] == [("dead_units", "hidden")]


def test_report_mlp_sigmoid_bounds_and_errors() -> None:
    X, y = batch()
    net = mlp.init_network([10, 8, 3], hidden="sigmoid", init="normal", std=20.0, rng=0)
    _, fwd, g = mlp.loss_and_gradients(net, X, y)
    rep = diagnose.report_mlp(net, g, fwd=fwd)
    assert rep.flagged("saturation")
    sat = np.mean((fwd.a[1] >= 0.995) | (fwd.a[1] <= 0.005))  # (0, 1) with the default 0.99
    assert rep.layers[0].saturated_fraction == pytest.approx(sat)
    with pytest.raises(TypeError, match="net must be a gradlab.mlp.Network"):
        diagnose.report_mlp([net.W[1]], g)
    with pytest.raises(TypeError, match="grads must be a gradlab.mlp.Gradients"):
        diagnose.report_mlp(net, [g.dW[1], g.dW[2]])
    with pytest.raises(TypeError, match="fwd must be a gradlab.mlp.Forward"):
        diagnose.report_mlp(net, g, fwd=fwd.a)
    with pytest.raises(TypeError, match="report_mlp got unexpected keyword argument 'updates'"):
        diagnose.report_mlp(net, g, updates=[g.dW[1], g.dW[2]])
    other = mlp.init_network([10, 9, 3], rng=0)
    with pytest.raises(ValueError, match=r"previous must have the widths of net, \(10, 8, 3\), got \(10, 9, 3\)"):
        diagnose.report_mlp(net, g, previous=other)
    with pytest.raises(ValueError, match="vanish_ratio must be > 0"):
        diagnose.report_mlp(net, g, vanish_ratio=0)


# ----------------------------------------------------------------------------------------------
# Monitor
# ----------------------------------------------------------------------------------------------


def test_monitor_records_norms_and_finds_the_first_nonfinite_step() -> None:
    mon = diagnose.Monitor()
    W, _ = layers_with_grad_norms([1.0, 1.0, 1.0])
    for step in range(12):
        G = [np.array([[0.6, 0.8]]) * 2.0**-l * (step + 1) for l in range(3)]
        if step >= 7:
            G[1] = np.array([[np.nan, 0.8]])  # layer 2 breaks at step 7 ...
        if step >= 9:
            G[0] = np.array([[np.inf, 0.8]])  # ... and layer 1 later
        mon.record(step, G, weights=W)
    assert mon.first_nonfinite == (7, "2")
    assert mon.names == ("1", "2", "3")
    assert np.array_equal(mon.steps, np.arange(12))
    gn = mon.grad_norms
    assert gn.shape == (12, 3)
    assert gn[3] == pytest.approx([4.0, 2.0, 1.0], rel=1e-15)
    assert np.isnan(gn[7:, 1]).all() and np.isinf(gn[9:, 0]).all() and np.isfinite(gn[:, 2]).all()
    assert mon.grad_to_weight is not None and mon.grad_to_weight[3] == pytest.approx([0.8, 0.4, 0.2], rel=1e-15)
    assert mon.update_ratios is None


def test_monitor_update_ratios_names_and_gaps() -> None:
    mon = diagnose.Monitor(names=["a", "b"])
    assert mon.steps.shape == (0,) and mon.grad_norms.shape == (0, 0) and mon.first_nonfinite is None
    W = {1: np.array([[3.0, 4.0]]), 2: np.array([[6.0, 8.0]])}
    G = {1: np.ones((1, 2)), 2: np.ones((1, 2))}
    mon.record(0, G)
    mon.record(10, G, weights=W, updates={1: W[1] * 1e-3, 2: W[2] * 2e-3})
    assert np.array_equal(mon.steps, [0, 10])
    ur = mon.update_ratios
    assert ur is not None and np.isnan(ur[0]).all() and ur[1] == pytest.approx([1e-3, 2e-3], rel=1e-12)
    assert mon.first_nonfinite is None
    mon.record(11, [np.array([[np.nan, 1.0]], dtype=np.float16), np.ones((1, 2), dtype=np.float16)])
    assert mon.first_nonfinite == (11, "a")


def test_monitor_finds_a_forward_overflow_before_the_gradients_break() -> None:
    # a diverging run: the output overflows at step 3 while every gradient is still finite
    mon = diagnose.Monitor()
    G = [np.ones((2, 2)), np.ones((2, 2))]
    for step in range(5):
        out = np.full((4, 2), np.inf if step >= 3 else 1.0)
        mon.record(step, G, activations=[None, out])
    assert mon.first_nonfinite == (3, "2")
    assert np.isfinite(mon.grad_norms).all()
    # without the activations the same run shows nothing
    blind = diagnose.Monitor()
    for step in range(5):
        blind.record(step, G)
    assert blind.first_nonfinite is None
    with pytest.raises(ValueError, match="activations has 1 layers but grads has 2"):
        diagnose.Monitor().record(0, G, activations=[np.ones((4, 2))])
    with pytest.raises(TypeError, match=r"activations\[0\] must be a real floating array, got dtype int64"):
        diagnose.Monitor().record(0, G, activations=[np.ones((4, 2), dtype=np.int64), None])


def test_monitor_errors() -> None:
    mon = diagnose.Monitor()
    G = [np.ones((2, 2)), np.ones((2, 2))]
    mon.record(5, G)
    with pytest.raises(ValueError, match="step must be greater than the last recorded step 5, got 5"):
        mon.record(5, G)
    with pytest.raises(ValueError, match="grads has 3 layers but the monitor recorded 2"):
        mon.record(6, G + G[:1])
    with pytest.raises(ValueError, match="updates need weights"):
        mon.record(6, G, updates=G)
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 3\) but grads\[1\] has shape \(2, 2\)"):
        mon.record(6, G, weights=[np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(TypeError, match="step must be an integer, got bool"):
        mon.record(True, G)
    with pytest.raises(ValueError, match="step must be >= 0, got -1"):
        diagnose.Monitor().record(-1, G)
    with pytest.raises(ValueError, match="grads has 2 layers but names has 3 entries"):
        diagnose.Monitor(names=["a", "b", "c"]).record(0, G)
    with pytest.raises(ValueError, match="names must be unique, got 'a' twice"):
        diagnose.Monitor(names=["a", "a"])
    assert mon.steps.tolist() == [5]  # failed records leave nothing behind


# ----------------------------------------------------------------------------------------------
# Errors of report
# ----------------------------------------------------------------------------------------------


def test_report_without_weights_judges_the_gradients_alone() -> None:
    # e.g. dL/dh(t) of a recurrent network, the time steps as layers: norms 2**-10, 2**-5, 1 (3-4-5 rows)
    G = [np.array([[0.6, 0.8]]) * 2.0**-10, np.array([[0.6, 0.8]]) * 2.0**-5, np.array([[0.6, 0.8]])]
    rep = diagnose.report(None, G, activations=[np.ones((3, 1)), None, np.zeros((3, 1))])
    assert [s.grad_norm for s in rep.layers] == pytest.approx([2.0**-10, 2.0**-5, 1.0], rel=1e-15)
    assert all(s.weight_norm is None and s.grad_to_weight is None and s.update_to_weight is None
               for s in rep.layers)
    assert rep.flagged("vanishing") and rep.findings[0].message == (
        "gradient norm falls 1.02e+03-fold from the last layer (3) to the first (1)")
    assert rep.layers[2].dead_fraction == 1.0 and rep.flagged("dead_units")
    assert "weight" not in rep.summary().splitlines()[0]  # columns never measured are left out
    G[1] = np.array([[np.nan, 0.8]])
    bad = diagnose.report(None, G)
    assert [f.message for f in bad.findings if f.mode == "nonfinite"] == ["layer 2 holds NaN or inf: 1 entry in grads"]
    with pytest.raises(ValueError, match="updates need weights"):
        diagnose.report(None, G, updates=G)
    with pytest.raises(ValueError, match="activations has 1 layers but grads has 3"):
        diagnose.report(None, G, activations=[np.ones((3, 1))])


def test_mismatched_layer_lists_and_shapes() -> None:
    W = [np.ones((4, 3)), np.ones((5, 4)), np.ones((4, 3)), np.ones((2, 4))]
    with pytest.raises(ValueError, match="grads has 3 layers but weights has 4"):
        diagnose.report(W, W[:3])
    G = [np.ones((4, 3)), np.ones((5, 4)), np.ones((3, 4)), np.ones((2, 4))]
    with pytest.raises(ValueError, match=r"grads\[2\] has shape \(3, 4\) but weights\[2\] has shape \(4, 3\)"):
        diagnose.report(W, G)
    with pytest.raises(ValueError, match="updates has 2 layers but weights has 4"):
        diagnose.report(W, W, updates=W[:2])
    with pytest.raises(ValueError, match=r"updates\[0\] has shape \(3, 4\) but weights\[0\] has shape \(4, 3\)"):
        diagnose.report(W, W, updates=[np.ones((3, 4))] + W[1:])
    with pytest.raises(ValueError, match="activations has 1 layers but weights has 4"):
        diagnose.report(W, W, activations=[np.ones((2, 4))])
    A = [np.ones((8, 4)), np.ones((8, 4)), np.ones((8, 4)), np.ones((8, 2))]
    with pytest.raises(ValueError, match=r"activations\[1\] must have 5 columns \(rows of weights\[1\]\)"):
        diagnose.report(W, W, activations=A)
    with pytest.raises(ValueError, match=r"activations\[0\] must be 2-dimensional \(B, n_l\), got shape \(4,\)"):
        diagnose.report(W, W, activations=[np.ones(4)] + A[1:])
    # a dict is indexed by its keys in messages
    Wd = {1: np.ones((2, 2)), 2: np.ones((3, 2))}
    with pytest.raises(ValueError, match=r"grads\[2\] has shape \(2, 3\) but weights\[2\] has shape \(3, 2\)"):
        diagnose.report(Wd, {1: np.ones((2, 2)), 2: np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"grads has keys \[0, 1\] but weights has keys \[1, 2\]"):
        diagnose.report(Wd, {0: np.ones((2, 2)), 1: np.ones((3, 2))})


def test_dtypes_and_containers() -> None:
    W = [np.ones((2, 2))]
    with pytest.raises(TypeError, match="grads\\[0\\] must be a real floating array, got dtype int64"):
        diagnose.report(W, [np.ones((2, 2), dtype=np.int64)])
    with pytest.raises(TypeError, match="weights\\[0\\] must be a real floating array, got dtype complex128"):
        diagnose.report([np.ones((2, 2), dtype=complex)], W)
    with pytest.raises(TypeError, match="activations\\[0\\] must be a real floating array, got dtype bool"):
        diagnose.report(W, W, activations=[np.ones((2, 2), dtype=bool)])
    with pytest.raises(TypeError, match="weights must be a list, tuple or dict of arrays, one per layer, got ndarray"):
        diagnose.report(np.ones((3, 2, 2)), W)
    with pytest.raises(ValueError, match="weights must hold at least one layer, got an empty list"):
        diagnose.report([], [])
    with pytest.raises(ValueError, match=r"grads\[0\] must not be empty, got shape \(0, 2\)"):
        diagnose.report(W, [np.ones((0, 2))])
    with pytest.raises(ValueError, match="weights\\[0\\] must have at least one dimension, got a scalar"):
        diagnose.report([np.float64(1.0)], [np.float64(1.0)])


def test_names_and_bounds_errors() -> None:
    W = [np.ones((2, 2)), np.ones((2, 2))]
    with pytest.raises(ValueError, match="names has 3 entries but weights has 2 layers"):
        diagnose.report(W, W, names=["a", "b", "c"])
    with pytest.raises(ValueError, match="names must be unique, got 'a' twice"):
        diagnose.report(W, W, names=["a", "a"])
    with pytest.raises(TypeError, match=r"names\[1\] must be a str, got int"):
        diagnose.report(W, W, names=["a", 2])
    with pytest.raises(TypeError, match="names must be a sequence of str, one per layer, got str"):
        diagnose.report(W, W, names="ab")
    with pytest.raises(ValueError, match=r"bounds must have lo < hi, got \(1, -1\)"):
        diagnose.report(W, W, bounds=(1, -1))
    with pytest.raises(ValueError, match=r"bounds\[1\] must have lo < hi, got \(0, 0\)"):
        diagnose.report(W, W, bounds=[(-1, 1), (0, 0)])
    with pytest.raises(ValueError, match="bounds has 3 entries but weights has 2 layers"):
        diagnose.report(W, W, bounds=[(-1, 1), None, None])
    with pytest.raises(TypeError, match="bounds must hold real numbers, not bool"):
        diagnose.report(W, W, bounds=(False, True))
    with pytest.raises(ValueError, match="bounds lo must be finite, got -inf"):
        diagnose.report(W, W, bounds=(-math.inf, 1.0))
    with pytest.raises(TypeError, match=r"bounds\[0\] must be None or a pair \(lo, hi\)"):
        diagnose.report(W, W, bounds=[1.0, None])


@pytest.mark.parametrize(("kw", "exc", "message"), [
    ({"vanish_ratio": 0}, ValueError, "vanish_ratio must be > 0, got 0"),
    ({"explode_ratio": -1.0}, ValueError, "explode_ratio must be > 0, got -1"),
    ({"max_grad_norm": 0.0}, ValueError, "max_grad_norm must be > 0, got 0"),
    ({"update_low": 0.0}, ValueError, "update_low must be > 0, got 0"),
    ({"update_high": math.nan}, ValueError, "update_high must be finite, got nan"),
    ({"saturation": 1.5}, ValueError, r"saturation must be in \(0, 1\], got 1.5"),
    ({"saturation": 0.0}, ValueError, "saturation must be > 0, got 0"),
    ({"dead_flag": 2}, ValueError, r"dead_flag must be in \(0, 1\], got 2"),
    ({"saturation_flag": -0.1}, ValueError, "saturation_flag must be > 0, got -0.1"),
    ({"vanish_ratio": 10.0, "explode_ratio": 5.0}, ValueError, "vanish_ratio must be below explode_ratio, got 10 and 5"),
    ({"update_low": 0.1, "update_high": 0.01}, ValueError, "update_low must be below update_high, got 0.1 and 0.01"),
    ({"dead_tol": True}, TypeError, "dead_tol must be a real number, got bool"),
    ({"explode_ratio": True}, TypeError, "explode_ratio must be a real number, got bool"),
    ({"max_grad_norm": "1"}, TypeError, "max_grad_norm must be a real number, got str"),
])
def test_threshold_errors(kw: dict, exc: type, message: str) -> None:
    W = [np.ones((2, 2))]
    with pytest.raises(exc, match=message):
        diagnose.report(W, W, **kw)
