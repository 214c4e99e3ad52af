"""Unit tests of gradlab.precision: format limits, rounding, ulp, loss scaling, master weights, logsumexp.

The rounding is checked against an independent reference written here (np.rint on the float64
significand scaled into the format's exponent range), on random float32 bit patterns.
"""

from __future__ import annotations

import dataclasses
import doctest
import math
import sys
import warnings

import numpy as np
import pytest

import gradlab.precision as precision
from gradlab.precision import (
    FORMATS, DynamicLossScale, info, logsumexp, lowp_step, master_weights_step, naive_logsumexp,
    overflow_fraction, round_to, scale_and_check, static_loss_scale, ulp, underflow_fraction,
)

# (mantissa bits m, e_min, e_max) of each format, from the IEEE 754 / bfloat16 definitions.
PARAMS = {"float16": (10, -14, 15), "bfloat16": (7, -126, 127), "float32": (23, -126, 127), "float64": (52, -1022, 1023)}


def reference_round(x: np.ndarray, m: int, emin: int, emax: int) -> np.ndarray:
    """Round to nearest, ties to even, into a format with m mantissa bits and exponents emin..emax."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    fin = np.isfinite(x)
    a = np.abs(x[fin])
    e = np.floor(np.log2(np.where(a > 0, a, 1.0))).astype(np.int64)
    # log2 may be off by one next to a power of two: fix e so that 2**e <= a < 2**(e+1).
    e = np.where(np.ldexp(1.0, e) > a, e - 1, e)
    e = np.where(np.ldexp(1.0, e + 1) <= a, e + 1, e)
    q = np.ldexp(1.0, np.maximum(e, emin) - m)  # the spacing; subnormals share e_min's
    r = np.rint(a / q) * q  # a / q is exact (q a power of two), np.rint ties to even
    r = np.where(r > (2 - 2.0**-m) * 2.0**emax, np.inf, r)
    out[fin] = np.copysign(r, x[fin])
    return out


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as float32 bit patterns (so -0.0 differs from 0.0), NaNs compared by position only."""
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if not np.array_equal(np.isnan(a32), np.isnan(b32)):
        return False
    ok = ~np.isnan(a32)
    return bool(np.array_equal(a32[ok].view(np.uint32), b32[ok].view(np.uint32)))


def random_float32(n: int, seed: int) -> np.ndarray:
    """n float32 values from uniformly random bit patterns (every exponent), NaNs removed."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return x[~np.isnan(x)]


# ---------------------------------------------------------------- formats


def test_formats_and_field_widths() -> None:
    assert FORMATS == ("float16", "bfloat16", "float32", "float64")
    widths = {f: (info(f).bits, info(f).exponent_bits, info(f).mantissa_bits) for f in FORMATS}
    assert widths == {"float16": (16, 5, 10), "bfloat16": (16, 8, 7), "float32": (32, 8, 23), "float64": (64, 11, 52)}
    for f in FORMATS:
        fi = info(f)
        assert 1 + fi.exponent_bits + fi.mantissa_bits == fi.bits
        assert fi.name == f
        assert fi.unit_roundoff == fi.eps / 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_limits_match_closed_forms(fmt: str) -> None:
    m, emin, emax = PARAMS[fmt]
    fi = info(fmt)
    assert fi.max == (2 - 2.0**-m) * 2.0**emax
    assert fi.smallest_normal == 2.0**emin
    assert fi.smallest_subnormal == 2.0 ** (emin - m)
    assert fi.eps == 2.0**-m


def test_float16_and_bfloat16_known_values() -> None:
    f16, bf16 = info("float16"), info("bfloat16")
    assert (f16.max, f16.smallest_normal, f16.smallest_subnormal, f16.eps) == (65504.0, 2.0**-14, 2.0**-24, 2.0**-10)
    assert bf16.max == (2 - 2.0**-7) * 2.0**127
    assert (bf16.smallest_normal, bf16.smallest_subnormal, bf16.eps) == (2.0**-126, 2.0**-133, 2.0**-7)
    # bfloat16 has float32's range: its largest finite is float32's with the low 16 bits cleared.
    f32max_bits = np.array([np.finfo(np.float32).max], np.float32).view(np.uint32)
    assert float((f32max_bits & np.uint32(0xFFFF0000)).view(np.float32)[0]) == bf16.max


def test_format_info_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        info("float16").max = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------- round_to


def test_round_to_bfloat16_known_values() -> None:
    cases = {
        1 + 2.0**-8: 1.0,  # halfway, ties to even (1 has an even last bit)
        1 + 3 * 2.0**-8: 1 + 2.0**-6,  # halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        1 + 2.0**-8 + 2.0**-20: 1 + 2.0**-7,  # just above the midpoint
        info("bfloat16").max: info("bfloat16").max,
        2.0**-133: 2.0**-133,  # smallest subnormal kept
        2.0**-134: 0.0,  # half of it: tie to even (0)
        3 * 2.0**-134: 2.0**-132,  # 1.5 subnormal units: tie to even (2 units)
        -2.5: -2.5,
    }
    for x, want in cases.items():
        assert float(round_to(x, "bfloat16")) == want, x


def test_round_to_overflow_threshold() -> None:
    for fmt, up in (("bfloat16", 2.0**104), ("float16", 2.0**-8)):
        fi = info(fmt)
        half_ulp = float(ulp(fi.max, fmt)) / 2
        threshold = fi.max + half_ulp
        # `up` is the float32 spacing at the threshold: the largest float32 below it.
        below = np.float32(threshold - up)
        assert float(below) < threshold
        assert float(round_to(below, fmt)) == fi.max
        assert float(round_to(np.float32(threshold), fmt)) == np.inf
        assert float(round_to(-np.float32(threshold), fmt)) == -np.inf
    assert float(round_to(65519.99, "float16")) == 65504.0
    assert float(round_to(65520.0, "float16")) == np.inf


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_to_special_values(fmt: str) -> None:
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    r = round_to(x, fmt)
    assert r[0] == 0 and not np.signbit(r[0])
    assert r[1] == 0 and np.signbit(r[1])
    assert r[2] == np.inf and r[3] == -np.inf and np.isnan(r[4])


def test_bfloat16_nan_never_rounds_to_inf() -> None:
    # Payload only in the low 16 bits: naive rounding would carry it into an inf pattern.
    nans = np.array([0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FC00000], dtype=np.uint32).view(np.float32)
    r = round_to(nans, "bfloat16")
    assert np.all(np.isnan(r))
    assert np.array_equal(np.signbit(r), [False, True, False, True, False])
    assert np.all(r.view(np.uint32) & np.uint32(0xFFFF) == 0)  # a bfloat16 pattern


def test_round_to_dtypes_and_shapes() -> None:
    x = np.arange(6.0).reshape(2, 3)
    for fmt in ("float16", "bfloat16", "float32"):
        assert round_to(x, fmt).dtype == np.float32 and round_to(x, fmt).shape == (2, 3)
    assert round_to(x, "float64").dtype == np.float64
    assert round_to(3, "bfloat16").shape == ()
    y = x.copy()
    round_to(y[:, ::2], "bfloat16")
    assert np.array_equal(x, y)  # the input is never modified
    assert round_to(np.float16(0.1), "float16") == np.float32(np.float16(0.1))


def test_double_rounding_through_float32() -> None:
    # 1 + 2^-8 + 2^-30 lies above the bfloat16 midpoint 1 + 2^-8: correctly rounded it is 1 + 2^-7.
    # float32 first rounds it to the midpoint (2^-30 < half of float32's ulp 2^-23), which ties to 1.
    x = 1 + 2.0**-8 + 2.0**-30
    assert reference_round(np.array([x]), 7, -126, 127)[0] == 1 + 2.0**-7
    assert float(round_to(x, "bfloat16")) == 1.0
    # The same in float16, where numpy's direct float64 -> float16 cast is correctly rounded.
    y = 1 + 2.0**-11 + 2.0**-30
    assert float(np.float64(y).astype(np.float16)) == 1 + 2.0**-10
    assert float(round_to(y, "float16")) == 1.0


@pytest.mark.parametrize("fmt", ["bfloat16", "float16"])
def test_round_to_matches_reference_on_random_bit_patterns(fmt: str) -> None:
    m, emin, emax = PARAMS[fmt]
    rng = np.random.default_rng(7)
    x = random_float32(150_000, seed=1)
    # Uniform bit patterns rarely hit a tie or the float16 range: add both on purpose.
    drop = 23 - m
    upper = rng.integers(0, 2**32, size=20_000, dtype=np.uint64).astype(np.uint32) & ~np.uint32(2**drop - 1)
    ties = (upper | np.uint32(2 ** (drop - 1))).view(np.float32)
    exps = rng.integers(emin - m - 3, min(emax + 3, 128), size=50_000)  # float32 holds exponents <= 127
    in_range = (np.ldexp(rng.uniform(1, 2, size=50_000), exps) * rng.choice([-1, 1], 50_000)).astype(np.float32)
    x = np.concatenate([x, ties[~np.isnan(ties)], in_range])
    assert x.size > 200_000
    assert same_bits(round_to(x, fmt), reference_round(x, m, emin, emax))


def test_round_to_float32_of_float64_matches_reference() -> None:
    rng = np.random.default_rng(3)
    x = np.ldexp(rng.uniform(1, 2, 20_000), rng.integers(-160, 140, 20_000))
    assert same_bits(round_to(x, "float32"), reference_round(x, 23, -126, 127))
    assert np.array_equal(round_to(x, "float64"), x)


# ---------------------------------------------------------------- ulp


@pytest.mark.parametrize("fmt", FORMATS)
def test_ulp_closed_forms(fmt: str) -> None:
    m, emin, emax = PARAMS[fmt]
    fi = info(fmt)
    assert float(ulp(1.0, fmt)) == fi.eps
    assert float(ulp(-1.0, fmt)) == fi.eps
    for k in (-5, 0, 3, 10):
        assert float(ulp(2.0**k, fmt)) == 2.0 ** (k - m)
        assert float(ulp(2.0**k * (1 - 2.0**-53), fmt)) == 2.0 ** (k - 1 - m)  # just below: one binade down
    tiny = np.array([0.0, fi.smallest_subnormal, fi.smallest_normal / 3, fi.smallest_normal])
    assert np.all(ulp(tiny, fmt) == fi.smallest_subnormal)  # constant across the subnormal range
    assert float(ulp(fi.max, fmt)) == 2.0 ** (emax - m)
    assert np.all(np.isnan(ulp([np.inf, -np.inf, np.nan], fmt)))


def test_ulp_beyond_the_range_is_inf() -> None:
    assert float(ulp(65536.0, "float16")) == np.inf
    assert float(ulp(65535.0, "float16")) == 32.0
    assert float(ulp(1e39, "bfloat16")) == np.inf


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_ulp_matches_numpy_spacing(dtype: type) -> None:
    fmt = np.dtype(dtype).name
    x = np.abs(random_float32(50_000, seed=4).astype(np.float64))
    x = x[x < float(np.finfo(dtype).max)].astype(dtype)  # representable, below the top value
    assert x.size > 1000
    assert np.array_equal(ulp(x, fmt), np.spacing(x).astype(np.float64))


def test_ulp_of_bfloat16_is_the_gap_to_the_next_pattern() -> None:
    bits = np.arange(0, 0x7F7F, 37, dtype=np.uint32)  # positive finite bfloat16 patterns below max
    x = (bits << np.uint32(16)).view(np.float32).astype(np.float64)
    nxt = ((bits + np.uint32(1)) << np.uint32(16)).view(np.float32).astype(np.float64)
    assert np.array_equal(ulp(x, "bfloat16"), nxt - x)


# ---------------------------------------------------------------- underflow / overflow


def test_underflow_fraction_hand_made() -> None:
    x = np.array([0.0, 1e-8, 1e-3, -1e-9, 1.0])  # 4 nonzero; 1e-8 and 1e-9 are below 2^-25 ~ 3e-8
    assert underflow_fraction(x, "float16") == 0.5
    assert underflow_fraction(x, "float16", scale=2.0**10) == 0.0
    assert underflow_fraction(x, "bfloat16") == 0.0
    assert underflow_fraction(np.zeros(3), "float16") == 0.0
    assert underflow_fraction([2.0**-25, 2.0**-25 * (1 + 2.0**-10)], "float16") == 0.5  # the tie goes to 0


def test_underflow_fraction_matches_threshold_count() -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(np.log(1e-12), np.log(1.0), 20_000)) * rng.choice([-1, 1], 20_000)
    for s in (1.0, 2.0**8, 2.0**16):
        assert underflow_fraction(x, "float16", scale=s) == np.mean(np.abs(s * x) <= 2.0**-25)


def test_overflow_fraction_hand_made() -> None:
    x = np.array([1.0, 100.0, 1e5, np.inf, np.nan, 0.0])  # 4 finite
    assert overflow_fraction(x, "float16") == 0.25
    assert overflow_fraction(x, "float16", scale=1000.0) == 0.5
    assert overflow_fraction(x, "bfloat16", scale=1000.0) == 0.0
    assert overflow_fraction([np.inf], "float16") == 0.0


# ---------------------------------------------------------------- loss scaling


def test_dynamic_loss_scale_grow_and_back_off() -> None:
    s = DynamicLossScale(scale=8.0, growth_interval=3)
    assert [s.update(True), s.update(True)] == [True, True] and (s.scale, s.good_steps) == (8.0, 2)
    assert s.update(True) and (s.scale, s.good_steps) == (16.0, 0)
    assert s.update(True) and s.good_steps == 1
    assert s.update(False) is False and (s.scale, s.good_steps) == (8.0, 0)
    assert s.update(np.bool_(True)) is True


def test_dynamic_loss_scale_defaults_and_floor() -> None:
    s = DynamicLossScale()
    assert (s.scale, s.growth_factor, s.backoff_factor, s.growth_interval, s.min_scale) == (2.0**15, 2.0, 0.5, 2000, 1.0)
    for _ in range(20):
        s.update(False)
    assert s.scale == 1.0  # never below min_scale


def test_static_loss_scale_never_changes() -> None:
    s = static_loss_scale(128.0)
    assert s.growth_interval == sys.maxsize
    for _ in range(5000):
        assert s.update(True)
    assert s.update(False) is False
    assert s.scale == 128.0
    assert static_loss_scale(0.25).scale == 0.25


def test_scaling_loop_backs_off_to_the_largest_safe_power_of_two() -> None:
    grads = [np.array([10.0, 1e-6]), np.array([[3e-9]])]
    scaler, skipped = DynamicLossScale(), 0
    for _ in range(6):
        g, finite = scale_and_check(grads, scaler.scale, "float16")
        skipped += not scaler.update(finite)
    # 10 * 2^15 and 10 * 2^13 overflow past 65504; 10 * 2^12 = 40960 does not.
    assert skipped == 3 and scaler.scale == 2.0**12
    # 3e-9 * 2^12 = 1.2e-5 is a float16 subnormal: absolute error at most half a subnormal step, unscaled.
    assert g[1][0, 0] != 0 and abs(g[1][0, 0] - 3e-9) <= 2.0**-25 / 2.0**12
    assert scale_and_check(grads, 1.0, "float16")[0][1][0, 0] == 0  # unscaled: 3e-9 underflows


def test_scale_and_check_kinds_values_and_dtypes() -> None:
    g = [np.array([1e-8, 0.5]), np.array([70000.0])]
    out, finite = scale_and_check(g, 1.0, "float16")
    assert isinstance(out, list) and not finite
    assert out[0].dtype == np.float32 and out[0][0] == 0 and out[0][1] == 0.5 and out[1][0] == np.inf
    out, finite = scale_and_check(tuple(g[:1]), 2.0**16, "float16")
    assert isinstance(out, tuple) and finite and abs(out[0][0] - 1e-8) <= 2.0**-11 * 1e-8
    out, finite = scale_and_check({1: g[0], 2: np.float32([2.0])}, 4.0, "bfloat16")
    assert list(out) == [1, 2] and finite and out[2][0] == 2.0
    out, _ = scale_and_check([np.array([0.1])], 1.0, "float64")
    assert out[0].dtype == np.float64 and out[0][0] == 0.1


# ---------------------------------------------------------------- master weights and stagnation


def test_float16_update_stagnates_but_master_weights_accumulate() -> None:
    u = 2.0**-12  # below half of ulp(1) = 2^-10 upward
    w = np.float32(1.0)
    master = np.float32(1.0)
    for _ in range(2**10):
        w = lowp_step(w, -u, 1.0, "float16")
        master, model = master_weights_step(master, -u, 1.0, "float16")
    assert float(w) == 1.0
    assert float(master) == 1.25  # 1 + k 2^-12 is exact in float32 for every k
    assert float(model) == 1.25 and master.dtype == np.float32
    # Downward from 1 the spacing is 2^-11, so 2^-12 is exactly half: a tie, resolved to even (1).
    assert float(lowp_step(1.0, u, 1.0, "float16")) == 1.0
    assert float(lowp_step(1.0, 2 * u, 1.0, "float16")) == 1 - 2.0**-11


def test_bfloat16_stagnates_earlier_than_float16() -> None:
    u = 2.0**-9  # below half of bfloat16's ulp(1) = 2^-7, above float16's 2^-11
    assert float(lowp_step(1.0, -u, 1.0, "bfloat16")) == 1.0
    assert float(lowp_step(1.0, -u, 1.0, "float16")) == 1 + u
    assert float(lowp_step(1.0, -2.0**-25, 1.0, "float32")) == 1.0
    assert float(lowp_step(1.0, -2.0**-25, 1.0, "float64")) == 1 + 2.0**-25


@pytest.mark.parametrize("fmt", ["float16", "bfloat16"])
def test_lowp_step_is_correctly_rounded(fmt: str) -> None:
    m, emin, emax = PARAMS[fmt]
    rng = np.random.default_rng(11)
    n = 20_000
    w = round_to(np.ldexp(rng.uniform(-2, 2, n), rng.integers(-8, 8, n)), fmt)
    u = round_to(np.ldexp(rng.uniform(-2, 2, n), rng.integers(-24, 8, n)), fmt)
    exact = w.astype(np.float64) - u.astype(np.float64)  # exact: both have few bits in a narrow range
    assert same_bits(lowp_step(w, u, 1.0, fmt), reference_round(exact, m, emin, emax))


def test_master_weights_step_arrays() -> None:
    master = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = np.array([[0.1, 0.2], [-0.3, 0.0]])
    new, model = master_weights_step(master, grad, 0.5, "bfloat16")
    want = np.float32(master) - np.float32(0.5) * np.float32(grad)
    assert new.dtype == np.float32 and np.array_equal(new, want)
    assert same_bits(model, reference_round(want, 7, -126, 127))


# ---------------------------------------------------------------- logsumexp


def test_logsumexp_closed_forms_and_limits() -> None:
    log2 = math.log(2)
    assert float(logsumexp([3.0, 3.0])) == pytest.approx(3 + log2, rel=1e-15)
    assert float(logsumexp([1e4, 1e4])) == pytest.approx(1e4 + log2, rel=1e-15)
    assert float(logsumexp([-1e4, -1e4])) == pytest.approx(-1e4 + log2, rel=1e-15)
    assert float(logsumexp([1e4, -1e4])) == 1e4
    assert float(logsumexp([np.inf, 1e4, -np.inf])) == np.inf
    assert float(logsumexp([-np.inf, -np.inf])) == -np.inf
    assert float(logsumexp([-np.inf, 0.0])) == 0.0
    assert np.isnan(logsumexp([np.nan, 1.0]))


def test_logsumexp_matches_naive_form_axes_and_dtypes() -> None:
    x = np.random.default_rng(2).normal(size=(4, 5, 3))
    for axis in (0, 1, -1):
        assert np.allclose(logsumexp(x, axis=axis), np.log(np.sum(np.exp(x), axis=axis)), rtol=1e-14)
    assert np.allclose(logsumexp(x, axis=None), np.log(np.sum(np.exp(x))), rtol=1e-14)
    assert logsumexp(x, axis=None).shape == () and logsumexp(x, axis=1).shape == (4, 3)
    for dt in (np.float16, np.float32, np.float64):
        assert logsumexp(x.astype(dt)).dtype == dt
    assert logsumexp([1, 2]).dtype == np.float64


def test_float16_naive_logsumexp_overflows_where_stable_does_not() -> None:
    # exp(x) exceeds 65504 + 16 (float16 overflows) from x = ln 65520 = 11.0901...; the float16
    # numbers around it are 11.0859375 and 11.09375 (spacing 2^-7).
    lo, hi = np.float16(11.0859375), np.float16(11.09375)
    assert float(lo) < math.log(65520) < float(hi)
    with np.errstate(over="ignore"):
        assert np.isfinite(naive_logsumexp(np.array([lo])))
        assert naive_logsumexp(np.array([hi])) == np.inf
        assert naive_logsumexp(np.array([710.0])) == np.inf  # float64: past ln(1.8e308) = 709.78
    with np.errstate(divide="ignore", under="ignore"):
        assert naive_logsumexp(np.array([-1e4, -1e4])) == -np.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        naive_logsumexp(np.array([12.0], dtype=np.float16))
    x = np.array([10.0, 12.0], dtype=np.float16)
    assert float(logsumexp(x)) == 12.125  # 12 + log(1 + e^-2) = 12.127, nearest float16
    assert float(logsumexp(np.array([hi]))) == float(hi)


def test_no_floating_point_warnings_at_extreme_inputs() -> None:
    extreme = np.array([1e4, -1e4, np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30, 1e38])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for fmt in FORMATS:
            round_to(extreme, fmt)
            ulp(extreme, fmt)
            underflow_fraction(extreme, fmt, scale=1e30)
            overflow_fraction(extreme, fmt, scale=1e30)
            scale_and_check([extreme], 2.0**15, fmt)
            master_weights_step(extreme, extreme, 1e30, fmt)
            lowp_step(extreme, extreme, 1e30, fmt)
        for dt in (np.float16, np.float32, np.float64):
            logsumexp(extreme[:7].astype(dt))  # +-1e4, +-inf, NaN, +-0: all hold in float16
            logsumexp(np.array([[-np.inf, -np.inf], [1e4, -1e4]], dtype=dt))


# ---------------------------------------------------------------- errors


def test_errors_name_the_argument() -> None:
    fmts = "'float16', 'bfloat16', 'float32', 'float64'"
    with pytest.raises(ValueError, match=f"fmt must be one of {fmts}, got 'fp8'"):
        round_to(1.0, "fp8")
    with pytest.raises(TypeError, match="fmt must be a format name"):
        info(16)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="x must hold real numbers"):
        round_to(np.array(["a"]), "float16")
    with pytest.raises(TypeError, match="x must hold real numbers, got complex"):
        ulp(np.array([1j]), "float16")
    with pytest.raises(ValueError, match=r"scale must be > 0, got 0.0"):
        underflow_fraction([1.0], "float16", scale=0.0)
    with pytest.raises(ValueError, match="scale must be finite"):
        overflow_fraction([1.0], "float16", scale=np.inf)
    with pytest.raises(TypeError, match="scale must be a real number, got bool"):
        scale_and_check([np.ones(2)], True, "float16")
    with pytest.raises(TypeError, match="grads must be a list, tuple or dict of arrays"):
        scale_and_check(np.ones(2), 1.0, "float16")
    with pytest.raises(ValueError, match="grads must hold at least one array"):
        scale_and_check([], 1.0, "float16")
    with pytest.raises(TypeError, match=r"grads\[1\] must hold real numbers"):
        scale_and_check([np.ones(2), np.array(["x"])], 1.0, "float16")
    with pytest.raises(TypeError, match=r"grads\['b'\] must be a number or an array"):
        scale_and_check({"a": np.ones(2), "b": None}, 1.0, "float16")
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but master has shape \(2,\)"):
        master_weights_step(np.ones(2), np.ones(3), 0.1, "float16")
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but w has shape \(2,\)"):
        lowp_step(np.ones(2), np.ones(3), 0.1, "float16")
    with pytest.raises(ValueError, match="lr must be finite, got nan"):
        master_weights_step(1.0, 1.0, float("nan"), "float16")
    with pytest.raises(ValueError, match="lr must be >= 0"):
        lowp_step(1.0, 1.0, -0.1, "float16")
    with pytest.raises(TypeError, match="lr must be a real number, got bool"):
        lowp_step(1.0, 1.0, True, "float16")


def test_loss_scale_errors() -> None:
    with pytest.raises(ValueError, match="growth_factor must be > 1, got 1.0"):
        DynamicLossScale(growth_factor=1.0)
    with pytest.raises(ValueError, match=r"backoff_factor must lie in \(0, 1\], got 0.0"):
        DynamicLossScale(backoff_factor=0.0)
    with pytest.raises(ValueError, match=r"backoff_factor must lie in \(0, 1\], got 1.5"):
        DynamicLossScale(backoff_factor=1.5)
    with pytest.raises(ValueError, match="growth_interval must be >= 1, got 0"):
        DynamicLossScale(growth_interval=0)
    with pytest.raises(TypeError, match="growth_interval must be an integer, got float"):
        DynamicLossScale(growth_interval=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale must be > 0, got -1.0"):
        DynamicLossScale(scale=-1.0)
    with pytest.raises(ValueError, match="scale must be finite, got inf"):
        DynamicLossScale(scale=float("inf"))
    with pytest.raises(TypeError, match="scale must be a real number, got bool"):
        DynamicLossScale(scale=True)
    with pytest.raises(ValueError, match="min_scale must be <= scale"):
        DynamicLossScale(scale=0.5)
    with pytest.raises(TypeError, match="finite must be a bool, got int"):
        DynamicLossScale().update(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale must be > 0"):
        static_loss_scale(0)


def test_logsumexp_errors() -> None:
    with pytest.raises(ValueError, match=r"axis must lie in \[-1, 1\) for x of shape \(3,\), got 1"):
        logsumexp(np.ones(3), axis=1)
    with pytest.raises(TypeError, match="axis must be an integer or None, got bool"):
        logsumexp(np.ones(3), axis=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x must have at least one entry along axis -1"):
        naive_logsumexp(np.ones((2, 0)))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        logsumexp(["a", "b"])


def test_docstring_examples_run() -> None:
    result = doctest.testmod(precision, raise_on_error=True)
    assert result.attempted > 0 and result.failed == 0
