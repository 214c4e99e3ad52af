"""Tests for gradlab.activations: derivatives, known values, limits, dtypes, registry."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate

from gradlab import activations as A
from gradlab import theory

# A grid of 120 points on [-6, 6] that does not contain 0 (0 would need index
# 59.5), so it never straddles the kinks of relu / leaky_relu / selu: the
# nearest point to 0 is 6/119 ~ 0.05, far more than the step h.
GRID = np.linspace(-6.0, 6.0, 120)
H = 1e-6

# Central difference error: truncation h^2/6 |g'''| <= 1e-12, rounding about
# eps |g| / h <= 2.2e-16 * 6.4 / 1e-6 ~ 1.4e-9 (selu is the largest, |g| <= 6.4).
# atol = 1e-8 is ~7x the worst rounding error; rtol = 1e-6 on top.
FD_RTOL, FD_ATOL = 1e-6, 1e-8

PAIRS: list[tuple[str, Callable[..., Any], Callable[..., Any]]] = [
    (n, A.get(n).g, A.get(n).dg) for n in A.NAMES
] + [
    (
        "leaky_relu(alpha=0.3)",
        lambda z: A.leaky_relu(z, alpha=0.3),
        lambda z: A.dleaky_relu(z, alpha=0.3),
    ),
    ("elu(alpha=0.5)", A.elu_with(0.5).g, A.elu_with(0.5).dg),
    ("elu(alpha=2)", lambda z: A.elu(z, alpha=2.0), lambda z: A.delu(z, alpha=2.0)),
]


@pytest.fixture
def strict_fp():
    """Turn every numpy floating-point event (even underflow) and every warning into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            yield


# --------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize(("name", "g", "dg"), PAIRS, ids=[p[0] for p in PAIRS])
def test_derivative_matches_central_difference(name: str, g: Callable[..., Any], dg: Callable[..., Any]) -> None:
    fd = (g(GRID + H) - g(GRID - H)) / (2 * H)
    assert_allclose(dg(GRID), fd, rtol=FD_RTOL, atol=FD_ATOL, err_msg=name)


# --------------------------------------------------------------------------- known values


def test_sigmoid_known_values_and_max_slope() -> None:
    assert A.sigmoid(0.0) == 0.5
    assert A.dsigmoid(0.0) == 0.25
    z = np.linspace(-8, 8, 1601)  # contains 0 exactly (index 800)
    d = A.dsigmoid(z)
    assert z[np.argmax(d)] == 0.0
    assert d.max() == 0.25
    assert_allclose(A.sigmoid(np.log(3.0)), 0.75, rtol=1e-15)


def test_dsigmoid_and_dtanh_keep_relative_accuracy_in_the_tails() -> None:
    # The naive sigma(1 - sigma) and 1 - tanh^2 both return exactly 0 here.
    assert_allclose(A.dsigmoid(50.0), math.exp(-50.0), rtol=1e-12)
    assert_allclose(A.dsigmoid(-50.0), math.exp(-50.0), rtol=1e-12)
    assert_allclose(A.dtanh(20.0), 4 * math.exp(-40.0), rtol=1e-12)


def test_dtanh_is_one_minus_tanh_squared() -> None:
    z = np.linspace(-5, 5, 101)
    assert_allclose(A.dtanh(z), 1 - A.tanh(z) ** 2, rtol=1e-12, atol=1e-15)
    assert A.dtanh(0.0) == 1.0
    assert_allclose(A.tanh(z), np.tanh(z), rtol=0, atol=0)


def test_softplus_values_and_dsoftplus_is_sigmoid() -> None:
    assert_allclose(A.softplus(0.0), math.log(2.0), rtol=1e-15)
    assert_array_equal(A.dsoftplus(GRID), A.sigmoid(GRID))
    # softplus(z) - softplus(-z) = z, and softplus(-40) = log1p(e^-40) ~ e^-40
    assert_allclose(A.softplus(GRID) - A.softplus(-GRID), GRID, rtol=1e-12, atol=1e-15)
    assert_allclose(A.softplus(-40.0), math.exp(-40.0), rtol=1e-12)


def test_gelu_is_exact_not_tanh_approximation() -> None:
    phi_1 = 0.8413447460685429  # Phi(1), standard normal CDF
    assert_allclose(A.gelu(1.0), phi_1, rtol=1e-15)
    assert A.gelu(0.0) == 0.0
    assert A.dgelu(0.0) == 0.5
    erf_form = np.array([x * 0.5 * math.erfc(-x / math.sqrt(2)) for x in GRID])  # erfc: no cancellation for x < 0
    assert_allclose(A.gelu(GRID), erf_form, rtol=1e-13, atol=1e-16)
    # the tanh approximation differs by ~1e-4 around |z| ~ 2; make sure we are not it
    tanh_approx = 0.5 * GRID * (1 + np.tanh(math.sqrt(2 / math.pi) * (GRID + 0.044715 * GRID**3)))
    assert np.max(np.abs(A.gelu(GRID) - tanh_approx)) > 1e-5


def test_selu_constants_make_zero_mean_unit_variance_a_fixed_point() -> None:
    assert_allclose(A.SELU_ALPHA, 1.6732632423543772, rtol=1e-15)
    assert_allclose(A.SELU_SCALE, 1.0507009873554805, rtol=1e-15)
    assert_allclose(A.selu(1.0), A.SELU_SCALE, rtol=1e-15)
    assert_allclose(A.selu(-np.inf), -A.SELU_SCALE * A.SELU_ALPHA, rtol=1e-15)

    # Defining property (Klambauer et al.): Z ~ N(0, 1) => E selu(Z) = 0, E selu(Z)^2 = 1.
    def moment(k: int) -> float:
        f = lambda x: float(A.selu(x)) ** k * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return integrate.quad(f, -np.inf, 0)[0] + integrate.quad(f, 0, np.inf)[0]

    assert abs(moment(1)) < 1e-9
    assert abs(moment(2) - 1) < 1e-9


def test_kink_conventions() -> None:
    assert A.drelu(0.0) == 0.0  # documented convention relu'(0) = 0
    assert_array_equal(A.drelu([-2.0, 0.0, 3.0]), [0.0, 0.0, 1.0])
    assert A.dleaky_relu(0.0) == 0.01
    assert A.dleaky_relu(0.0, alpha=0.2) == 0.2
    assert_allclose(A.dselu(0.0), A.SELU_SCALE * A.SELU_ALPHA, rtol=1e-15)
    assert_allclose(A.leaky_relu(-2.0, alpha=0.3), -0.6, rtol=1e-15)
    assert_array_equal(A.linear([1.5, -2.0]), [1.5, -2.0])
    assert_array_equal(A.dlinear([1.5, -2.0]), [1.0, 1.0])


# --------------------------------------------------------------------------- limits

SA = A.SELU_SCALE * A.SELU_ALPHA
# name -> (g(z) for z << 0, g(z) for z >> 0, g' for z << 0, g' for z >> 0)
LIMITS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], float, float]] = {
    "sigmoid": (lambda z: 0.0, lambda z: 1.0, 0.0, 0.0),
    "tanh": (lambda z: -1.0, lambda z: 1.0, 0.0, 0.0),
    "relu": (lambda z: 0.0, lambda z: z, 0.0, 1.0),
    "leaky_relu": (lambda z: 0.01 * z, lambda z: z, 0.01, 1.0),
    "linear": (lambda z: z, lambda z: z, 1.0, 1.0),
    "softplus": (lambda z: 0.0, lambda z: z, 0.0, 1.0),
    "gelu": (lambda z: 0.0, lambda z: z, 0.0, 1.0),
    "selu": (lambda z: -SA, lambda z: A.SELU_SCALE * z, 0.0, A.SELU_SCALE),
    "elu": (lambda z: -1.0, lambda z: z, 0.0, 1.0),
    "silu": (lambda z: 0.0, lambda z: z, 0.0, 1.0),
}


@pytest.mark.parametrize("name", A.NAMES)
def test_limits_are_exact_and_raise_no_fp_warning(name: str, strict_fp: None) -> None:
    act = A.get(name)
    g_neg, g_pos, dg_neg, dg_pos = LIMITS[name]
    for dtype, rtol in ((np.float64, 1e-14), (np.float32, 1e-6)):
        for z in (1000.0, 1e4, np.inf):
            pos, neg = np.array(z, dtype=dtype), np.array(-z, dtype=dtype)
            msg = f"{dtype.__name__}, |z| = {z}"
            assert_allclose(act.g(neg), g_neg(-z), rtol=rtol, atol=0, err_msg=msg)
            assert_allclose(act.g(pos), g_pos(z), rtol=rtol, atol=0, err_msg=msg)
            assert_allclose(act.dg(neg), dg_neg, rtol=rtol, atol=0, err_msg=msg)
            assert_allclose(act.dg(pos), dg_pos, rtol=rtol, atol=0, err_msg=msg)
            assert act.g(neg).dtype == dtype and act.dg(pos).dtype == dtype


EDGES = [0.0, 1e-300, 1.0, 30.0, 38.0, 709.0, 720.0, 740.0, 745.0, 1e4, np.inf]
EDGE_Z = np.array(sorted({s * v for v in EDGES for s in (1.0, -1.0)}))


@pytest.mark.parametrize("name", A.NAMES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_edge_values_raise_no_floating_point_event(name: str, dtype: type, strict_fp: None) -> None:
    # The independent check found dselu(-720) warning of underflow: the SELU scale was
    # multiplied outside the block that silences it. Every g and g' on every edge value,
    # as an array and one scalar at a time, under np.errstate(all="raise").
    act = A.get(name)
    with np.errstate(under="ignore"):  # 1e-300 rounds to 0 in float32 (the cast, not gradlab)
        z = EDGE_Z.astype(dtype)
    for f in (act.g, act.dg):
        out = f(z)
        assert out.dtype == dtype and not np.any(np.isnan(out)), (name, f.__name__)
        for v in z:
            assert f(v) == out[list(z).index(v)] or np.isnan(f(v)), (name, f.__name__, v)
    for alpha in (0.0, 0.2):
        A.leaky(alpha).g(z), A.leaky(alpha).dg(z)
    for alpha in (0.0, 0.5, 3.0):
        assert not np.any(np.isnan(A.elu_with(alpha).g(z))) and not np.any(np.isnan(A.elu_with(alpha).dg(z)))


TINY = np.finfo(np.float64).tiny  # 2.2e-308, the smallest normal double


def _erfc_phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


# Reference values from the math module, which returns subnormal results where they exist.
REFERENCE: dict[str, Callable[[float], float]] = {
    "sigmoid": lambda z: math.exp(z) / (1 + math.exp(z)) if z < 0 else 1 / (1 + math.exp(-z)),
    "dsigmoid": lambda z: math.exp(-abs(z)) / (1 + math.exp(-abs(z))) ** 2,
    "softplus": lambda z: math.log1p(math.exp(z)) if z < 30 else z + math.log1p(math.exp(-z)),
    "dsoftplus": lambda z: math.exp(z) / (1 + math.exp(z)) if z < 0 else 1 / (1 + math.exp(-z)),
    "gelu": lambda z: z * _erfc_phi(z),
    "dgelu": lambda z: _erfc_phi(z) + z * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi),
    "dtanh": lambda z: 4 * math.exp(-2 * abs(z)) / (1 + math.exp(-2 * abs(z))) ** 2,
    "dselu": lambda z: A.SELU_SCALE * A.SELU_ALPHA * math.exp(z) if z <= 0 else A.SELU_SCALE,
    "delu": lambda z: math.exp(z) if z <= 0 else 1.0,
    "silu": lambda z: z * math.exp(z) / (1 + math.exp(z)) if z < 0 else z / (1 + math.exp(-z)),
    # sigma(z) (1 + z sigma(-z)), each sigmoid from the math module
    "dsilu": lambda z: (math.exp(z) / (1 + math.exp(z)) * (1 + z / (1 + math.exp(z))) if z < 0
                        else 1 / (1 + math.exp(-z)) * (1 + z * math.exp(-z) / (1 + math.exp(-z)))),
}


@pytest.mark.parametrize("fname", sorted(REFERENCE))
def test_results_below_the_smallest_normal_may_flush_to_zero(fname: str, strict_fp: None) -> None:
    # The documented decision: an exact result below TINY may come back as 0 or -0.0
    # (absolute error < TINY); at or above TINY the relative error is that of float64.
    f = getattr(A, fname)
    tails = np.concatenate([-np.geomspace(20.0, 760.0, 400), np.geomspace(20.0, 760.0, 400)])
    for z in tails:
        exact, got = REFERENCE[fname](float(z)), float(f(z))
        if abs(exact) < TINY:
            assert abs(got) < TINY and abs(got - exact) < TINY, (fname, z, got, exact)
        else:
            assert got == pytest.approx(exact, rel=1e-12), (fname, z)


def test_the_flushed_examples_of_the_docstring() -> None:
    assert math.exp(-745.0) == 5e-324  # the exact answer is a subnormal ...
    assert A.sigmoid(-745.0) == 0.0 and A.dsoftplus(-745.0) == 0.0  # ... returned as 0
    g = A.gelu(-38.0)
    assert g == 0.0 and np.signbit(g)  # -0.0: the sign of the exact -1.1e-314 survives
    assert A.sigmoid(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-14)  # normal results are kept


def test_dsigmoid_is_the_chapter_formula_in_both_tails() -> None:
    # sigma(z)(1 - sigma(z)) = sigma(z) sigma(-z); the code uses s = sigma(-|z|), so neither tail
    # loses its relative accuracy and the maximum 1/4 is never exceeded.
    z = np.linspace(-30, 30, 6001)
    s = A.sigmoid(z)
    assert_allclose(A.dsigmoid(z), s * A.sigmoid(-z), rtol=4e-16, atol=0)
    assert A.dsigmoid(np.float32(1e-7)) <= 0.25 and A.dsigmoid(1e-14) <= 0.25


def test_leaky_slope_is_a_parameter() -> None:
    assert A.leaky() is A.get("leaky_relu") and A.leaky(0.01) is A.ACTIVATIONS["leaky_relu"]
    act = A.leaky(0.2)
    assert act.name == "leaky_relu(alpha=0.2)"
    assert_allclose(act(np.array([-2.0, 3.0])), [-0.4, 3.0], rtol=1e-15)
    assert_array_equal(act.dg(np.array([-2.0, 0.0, 3.0])), [0.2, 0.2, 1.0])
    assert A.leaky(0.0).g(-np.inf) == 0.0
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -0.5"):
        A.leaky(-0.5)
    with pytest.raises(TypeError, match=r"alpha must be a real number, got str"):
        A.leaky("0.1")  # type: ignore[arg-type]


def test_nan_propagates(strict_fp: None) -> None:
    for name in A.NAMES:
        act = A.get(name)
        assert np.isnan(act.g(np.nan)), name
        assert np.isnan(act.dg(np.nan)), name


# --------------------------------------------------------------------------- dtypes and shapes


@pytest.mark.parametrize(
    ("values", "out_dtype"),
    [
        (np.linspace(-3, 3, 6, dtype=np.float32).reshape(2, 3), np.float32),
        (np.linspace(-3, 3, 6).reshape(2, 3), np.float64),
        (np.arange(-3, 3).reshape(2, 3), np.float64),
    ],
    ids=["float32", "float64", "int"],
)
def test_dtype_and_shape_preserved(values: np.ndarray, out_dtype: type) -> None:
    reference = values.astype(np.float64)
    for name in A.NAMES:
        act = A.get(name)
        for f in (act.g, act.dg):
            out = f(values)
            assert out.shape == (2, 3), name
            assert out.dtype == out_dtype, (name, out.dtype)
            # float32 results agree with float64 ones to float32 precision
            assert_allclose(out, f(reference), rtol=1e-6, atol=1e-7, err_msg=name)


def test_scalar_in_array_out_and_linear_copies() -> None:
    for name in A.NAMES:
        out = A.get(name).g(0.5)
        assert isinstance(out, np.ndarray) and out.shape == (), name
    z = np.array([1.0, 2.0])
    out = A.linear(z)
    out[0] = 99.0
    assert z[0] == 1.0


# --------------------------------------------------------------------------- properties

reals = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)
reals_and_inf = st.one_of(reals, st.sampled_from([-np.inf, np.inf]))


@settings(database=None, deadline=None)
@given(z=reals_and_inf)
def test_dsigmoid_in_zero_quarter_and_even(z: float) -> None:
    d = A.dsigmoid(z)
    assert 0.0 <= d <= 0.25
    assert d == A.dsigmoid(-z)


@settings(database=None, deadline=None)
@given(z=reals_and_inf)
def test_sigmoid_reflection(z: float) -> None:
    assert abs(A.sigmoid(-z) - (1.0 - A.sigmoid(z))) <= 1e-15


@settings(database=None, deadline=None)
@given(z=reals_and_inf)
def test_every_slope_is_finite_bounded_and_silent(z: float) -> None:
    # Underflow stays ignored here: for a subnormal z, results such as
    # alpha * z are genuinely subnormal (IEEE gradual underflow, not an error).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            slopes = {n: float(A.get(n).dg(z)) for n in A.NAMES}
            values = {n: float(A.get(n).g(z)) for n in A.NAMES}
    assert all(math.isfinite(s) for s in slopes.values()), slopes
    assert not any(math.isnan(v) for v in values.values()), values
    assert 0.0 <= slopes["tanh"] <= 1.0
    assert slopes["relu"] in (0.0, 1.0)
    assert -0.13 <= slopes["gelu"] <= 1.13  # extrema -/+0.1289 +{0, 1} at z = -/+sqrt(2)
    assert 0.0 <= slopes["selu"] <= SA
    assert values["softplus"] >= values["relu"]
    assert 0.0 <= slopes["elu"] <= 1.0 and values["elu"] >= -1.0
    assert -0.0999 <= slopes["silu"] <= 1.0999  # extrema -/+0.09984 +{0, 1} at z = -/+2.3994
    assert values["silu"] >= -0.2785  # minimum -0.27846 at z = -1.2785


# --------------------------------------------------------------------------- registry and errors


def test_registry_names_and_lookup() -> None:
    assert A.NAMES == tuple(A.ACTIVATIONS)
    assert {"elu", "silu"} <= set(A.NAMES)
    assert set(LIMITS) == set(A.NAMES)  # the limits test covers every activation
    assert A.get("elu").g is A.elu and A.get("silu").dg is A.dsilu
    act = A.get("tanh")
    assert act.name == "tanh" and act.g is A.tanh and act.dg is A.dtanh
    assert_array_equal(act(GRID), A.tanh(GRID))
    assert A.get(act) is act
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.name = "other"  # type: ignore[misc]


def test_get_unknown_name_lists_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown activation 'sigmod'; expected one of: sigmoid, tanh, relu, leaky_relu, linear, softplus, gelu, selu, elu, silu$",
    ):
        A.get("sigmod")


def test_get_non_string_is_type_error() -> None:
    with pytest.raises(TypeError, match=r"activation must be a name \(str\) or an Activation, got int"):
        A.get(3)  # type: ignore[arg-type]


def test_bad_alpha_names_alpha() -> None:
    cases: list[tuple[Any, type[Exception], str]] = [
        (-0.1, ValueError, r"alpha must be >= 0, got -0.1"),
        (float("nan"), ValueError, r"alpha must be finite"),
        ("0.1", TypeError, r"alpha must be a real number, got str"),
    ]
    for alpha, exc, match in cases:
        for f in (A.leaky_relu, A.dleaky_relu, A.elu, A.delu):
            with pytest.raises(exc, match=match):
                f(1.0, alpha=alpha)


def test_bad_z_names_z() -> None:
    with pytest.raises(TypeError, match=r"^z must"):
        A.sigmoid("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^z must hold real numbers"):
        A.relu(np.array([1 + 2j]))


def test_tanh_is_a_rescaled_sigmoid() -> None:
    Z = np.linspace(-8, 8, 1601)
    np.testing.assert_allclose(A.dtanh(Z), 4 * A.dsigmoid(2 * Z), rtol=1e-15)
    np.testing.assert_allclose(A.tanh(Z), 2 * A.sigmoid(2 * Z) - 1, atol=1e-15)
    a = np.linspace(-4, 4, 80001)[::97]
    for w, b in ((1.5, 0.3), (-2.5, 1.0), (8.0, -0.7)):
        lhs = abs(w) * A.dtanh(w * a + b)
        rhs = abs(4 * w) * A.dsigmoid(4 * w * a / 2 + 2 * b)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", A.NAMES)
def test_slope_given_the_forward_output_is_the_derivative(name: str) -> None:
    # Activation.slope(z, a) is what back-propagation multiplies by; tanh and the sigmoid reuse
    # a = g(z) (1 - a^2, a(1 - a)) and recompute from z only where that would cancel.
    act = A.get(name)
    z = np.concatenate([np.linspace(-60.0, 60.0, 240_001), [0.0, 1e4, -1e4, np.inf, -np.inf, np.nan]])
    with np.errstate(all="raise"):
        got = act.slope(z, act.g(z))
    want = act.dg(z)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.all(np.abs(got[ok] - want[ok]) <= 4e-15 * np.abs(want[ok]))
    if act.dg_given_g is None:  # no shortcut: the slope is dg itself, to the bit
        assert np.array_equal(got, want, equal_nan=True)
    z32 = z.astype(np.float32)  # float32 takes the exact path: 1 - a^2 would keep ~3 digits at |z| = 2
    assert np.array_equal(act.slope(z32, act.g(z32)), act.dg(z32), equal_nan=True)


def test_slope_shortcut_is_used_and_differs_from_dg_only_in_rounding() -> None:
    # The shortcut exists for tanh and the sigmoid; without it this test would not distinguish the paths.
    z = np.random.default_rng(0).standard_normal(10_000)
    for name in ("tanh", "sigmoid"):
        act = A.get(name)
        assert act.dg_given_g is not None
        got, want = act.slope(z, act.g(z)), act.dg(z)
        assert not np.array_equal(got, want)  # a different formula...
        assert np.max(np.abs(got - want) / want) < 4e-15  # ...with the same value


# --------------------------------------------------------------------------- ELU and SiLU (issue 10)


def test_elu_known_values_and_kink() -> None:
    assert A.elu(0.0) == 0.0 and A.elu(2.5) == 2.5
    assert_allclose(A.elu(-1.0), math.expm1(-1.0), rtol=1e-15)
    assert_allclose(A.elu(-1e-10), -1e-10, rtol=1e-9)  # expm1 keeps relative accuracy near 0
    assert_allclose(A.elu(-2.0, alpha=0.5), 0.5 * math.expm1(-2.0), rtol=1e-15)
    assert A.delu(0.0) == 1.0 and A.delu(0.0, alpha=0.3) == 0.3  # the left derivative alpha at the kink
    assert_allclose(A.delu(-2.0, alpha=0.3), 0.3 * math.exp(-2.0), rtol=1e-15)
    # alpha = 1: g' is continuous at 0 (both one-sided slopes 1), for other alpha it jumps
    assert_allclose(A.delu(-1e-12), 1.0, rtol=1e-11)
    assert A.delu(-1e-12, alpha=2.0) == pytest.approx(2.0) and A.delu(1e-12, alpha=2.0) == 1.0
    # alpha = 0 is relu, and SELU is lambda * elu(z; SELU_ALPHA)
    assert_array_equal(A.elu(GRID, alpha=0.0), A.relu(GRID))
    assert_allclose(A.selu(GRID), A.SELU_SCALE * A.elu(GRID, alpha=A.SELU_ALPHA), rtol=1e-15, atol=1e-300)
    assert_allclose(A.dselu(GRID), A.SELU_SCALE * A.delu(GRID, alpha=A.SELU_ALPHA), rtol=1e-15, atol=1e-300)


def test_elu_with_makes_an_activation_like_leaky() -> None:
    assert A.elu_with() is A.get("elu") and A.elu_with(1) is A.ACTIVATIONS["elu"]
    act = A.elu_with(0.5)
    assert act.name == "elu(alpha=0.5)"
    assert_allclose(act(np.array([-1.0, 3.0])), [0.5 * math.expm1(-1.0), 3.0], rtol=1e-15)
    assert_allclose(act.dg(np.array([-1.0, 0.0, 3.0])), [0.5 * math.exp(-1.0), 0.5, 1.0], rtol=1e-15)
    assert A.elu_with(2.0).g(-np.inf) == -2.0
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -1.0"):
        A.elu_with(-1.0)
    with pytest.raises(TypeError, match=r"alpha must be a real number, got str"):
        A.elu_with("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"alpha must be finite"):
        A.elu_with(float("inf"))


def test_silu_known_values_and_extrema() -> None:
    assert A.silu(0.0) == 0.0 and A.dsilu(0.0) == 0.5
    assert_allclose(A.silu(1.0), 1 / (1 + math.exp(-1.0)), rtol=1e-15)
    assert_allclose(A.silu(GRID), GRID * A.sigmoid(GRID), rtol=1e-15, atol=1e-300)
    assert_allclose(A.dsilu(GRID), A.sigmoid(GRID) + GRID * A.dsigmoid(GRID), rtol=1e-12, atol=1e-15)
    # silu(z) - silu(-z) = z, so silu' (z) + silu'(-z) = 1
    assert_allclose(A.silu(GRID) - A.silu(-GRID), GRID, rtol=1e-14, atol=1e-15)
    assert_allclose(A.dsilu(GRID) + A.dsilu(-GRID), 1.0, rtol=1e-14)
    # the minimum of silu is where silu' = 0, i.e. 1 + z sigma(-z) = 0, near z = -1.2785
    z = np.linspace(-1.3, -1.25, 50001)
    i = int(np.argmin(A.silu(z)))
    assert z[i] == pytest.approx(-1.27846, abs=1e-5)
    assert A.dsilu(z[i - 5]) < 0 < A.dsilu(z[i + 5])
    assert_allclose(A.silu(z[i]), -0.278464, rtol=1e-5)
    # the slope overshoots 1: maximum 1.09984 near z = 2.3994
    zz = np.linspace(0, 6, 600001)
    assert_allclose(A.dsilu(zz).max(), 1.0998393, rtol=1e-7)
    # the tails keep their relative accuracy: silu(-50) = -50 e^-50 / (1 + e^-50)
    assert_allclose(A.silu(-50.0), -50 * math.exp(-50.0), rtol=1e-14)
    assert_allclose(A.dsilu(-50.0), math.exp(-50.0) * (1 - 50.0), rtol=1e-12)
    assert_allclose(A.dsilu(50.0), 1 + 49 * math.exp(-50.0), rtol=1e-15)


def _chi1_elu(alpha: float, sw2: float, q: float) -> float:
    # E[g'(z)^2], z ~ N(0, q): 1/2 from z > 0, plus
    # int_{-inf}^0 alpha^2 e^{2z} phi_q(z) dz = alpha^2 e^{2q} Phi(-2 sqrt q) (complete the square)
    return sw2 * (0.5 + alpha**2 * math.exp(2 * q) * 0.5 * math.erfc(2 * math.sqrt(q) / math.sqrt(2)))


@pytest.mark.parametrize("alpha", [1.0, 0.5, 1.7])
def test_theory_chi1_of_elu_closed_form_and_monte_carlo(alpha: float) -> None:
    # ELU's slope jumps at 0 for alpha != 1 and g'' jumps for alpha = 1; the quadrature puts a
    # panel edge at 0, so chi1 is exact to rounding. Then a simulation of what chi1 means: one wide
    # layer's back-propagation, delta = (W^T delta') * g'(z), grows ||delta||^2 by chi1 on average.
    act, sw2, sb2 = A.elu_with(alpha), 1.8, 0.05
    q_star = theory.fixed_point_q(act, sw2, sb2)
    chi = theory.chi1(act, sw2, sb2)
    assert chi == pytest.approx(_chi1_elu(alpha, sw2, q_star), rel=1e-12)
    assert theory.chi1(act, sw2, sb2, q=0.7) == pytest.approx(_chi1_elu(alpha, sw2, 0.7), rel=1e-12)

    rng = np.random.default_rng(10)
    xi = rng.standard_normal(400_000)
    mc = sw2 * np.square(act.dg(math.sqrt(q_star) * xi))
    assert abs(mc.mean() - chi) < 5 * mc.std() / math.sqrt(mc.size)  # 5 standard errors

    n, trials, ratios = 500, 40, []
    for _ in range(trials):
        W = rng.standard_normal((n, n)) * math.sqrt(sw2 / n)
        z = math.sqrt(q_star) * rng.standard_normal(n)
        d_next = rng.standard_normal(n)
        d = (W.T @ d_next) * act.dg(z)
        ratios.append(float(d @ d / (d_next @ d_next)))
    r = np.array(ratios)
    assert abs(r.mean() - chi) < 5 * r.std(ddof=1) / math.sqrt(trials)


def test_theory_handles_silu_against_scipy() -> None:
    # SiLU is smooth; chi1 at a given q against an adaptive scipy integral.
    sw2, q = 2.0, 1.3
    f = lambda x: float(A.dsilu(x)) ** 2 * math.exp(-x * x / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
    ref = sw2 * (integrate.quad(f, -np.inf, 0)[0] + integrate.quad(f, 0, np.inf)[0])
    assert theory.chi1("silu", sw2, 0.0, q=q) == pytest.approx(ref, rel=1e-10)
    assert theory.chi1("silu", sw2, 0.0, q=0.0) == pytest.approx(sw2 * 0.25, rel=1e-12)  # silu'(0)^2 = 1/4
    assert theory.critical_sigma_w2("silu", 0.0) == pytest.approx(4.0, rel=1e-8)  # q* = 0 at criticality, like gelu
