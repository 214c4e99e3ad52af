"""Tests for gradlab.init: variances, bounds, orthogonality, seeding, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import init as I

# Deliberately non-square so that a scheme using n_out where it should use
# n_in (or max where it should use min) lands on the wrong variance.
N_IN, N_OUT = 300, 500
N = N_IN * N_OUT
GAIN = 1.5
KWARGS: dict[str, dict[str, float]] = {"normal": {"std": 0.2}}

UNIFORM_BOUND = {  # half-width a of U[-a, a] for gain = 1
    "standard": 1 / math.sqrt(N_IN),
    "xavier_uniform": math.sqrt(6 / (N_IN + N_OUT)),
    "he_uniform": math.sqrt(6 / N_IN),
}


@pytest.mark.parametrize("name", I.NAMES)
def test_sample_variance_matches_theory(name: str) -> None:
    kw = KWARGS.get(name, {})
    w = I.get(name)(N_IN, N_OUT, gain=GAIN, rng=12345, **kw)  # type: ignore[call-arg]
    v = I.variance(name, N_IN, N_OUT, gain=GAIN, **kw)
    # Entries have mean 0, so mean(W^2) estimates Var W_ij. Its standard error
    # over N iid entries is sqrt((mu4 - v^2) / N) <= v sqrt(2 / N) (the
    # Gaussian case, mu4 = 3 v^2; uniform has mu4 = 1.8 v^2, orthogonal rows
    # are exactly unit length so the error is far smaller). Tolerance: 5 SE,
    # i.e. 5 * sqrt(2 / 150000) ~ 1.8 % of v.
    se = v * math.sqrt(2 / N)
    assert abs(np.mean(w**2) - v) <= 5 * se, (np.mean(w**2), v)
    # mean: SE = sqrt(v / N), tolerance 5 SE
    assert abs(np.mean(w)) <= 5 * math.sqrt(v / N)


@pytest.mark.parametrize("name", list(UNIFORM_BOUND))
def test_uniform_schemes_fill_exactly_their_interval(name: str) -> None:
    a = GAIN * UNIFORM_BOUND[name]
    w = I.get(name)(N_IN, N_OUT, gain=GAIN, rng=7)
    assert np.all(np.abs(w) <= a)
    # With 150000 uniform draws the extremes are within ~1e-4 a of +-a with
    # probability 1 - 2 exp(-15); a too-narrow interval fails this.
    assert w.max() > 0.999 * a and w.min() < -0.999 * a
    assert_allclose(np.var(w), a * a / 3, rtol=0.02)


@pytest.mark.parametrize("name", I.NAMES)
def test_shape_dtype_seeding_and_gain(name: str) -> None:
    scheme = I.get(name)
    w = scheme(3, 5, rng=2024)
    assert w.shape == (5, 3)  # (n_out, n_in): z = W a + b
    assert w.dtype == np.float64
    assert scheme(7, 2, rng=0).shape == (2, 7)
    assert_array_equal(scheme(3, 5, rng=2024), w)  # same seed, same draw
    assert_array_equal(scheme(3, 5, rng=np.random.default_rng(2024)), w)  # Generator == its seed
    assert not np.array_equal(scheme(3, 5, rng=2025), w)  # different seed, different draw
    gen = np.random.default_rng(1)
    assert not np.array_equal(scheme(3, 5, rng=gen), scheme(3, 5, rng=gen))  # a Generator advances
    # gain rescales the very same draw
    assert_allclose(scheme(3, 5, gain=2.5, rng=2024), 2.5 * w, rtol=1e-15, atol=0)


@pytest.mark.parametrize(("n_in", "n_out"), [(6, 6), (9, 4), (4, 9)], ids=["square", "wide", "tall"])
def test_orthogonal_has_orthonormal_rows_or_columns(n_in: int, n_out: int) -> None:
    gain = 2.0
    w = I.orthogonal(n_in, n_out, gain=gain, rng=3) / gain
    if n_out <= n_in:
        assert_allclose(w @ w.T, np.eye(n_out), rtol=0, atol=1e-12)
    if n_out >= n_in:
        assert_allclose(w.T @ w, np.eye(n_in), rtol=0, atol=1e-12)
    # every singular value equals gain
    sv = np.linalg.svd(I.orthogonal(n_in, n_out, gain=gain, rng=3), compute_uv=False)
    assert_allclose(sv, gain, rtol=1e-12)


def test_orthogonal_is_haar_not_biased_by_qr_signs() -> None:
    # Haar-distributed Q has E[Q_00] = 0. Without the sign(diag R) correction,
    # Householder QR makes Q_00 = -|G_00| / ||G_:0|| < 0 always (mean ~ -0.4).
    # Var Q_00 = 1/4 for 4x4, so the mean of 400 draws has SE 0.025: tolerance
    # 5 SE = 0.125.
    rng = np.random.default_rng(99)
    q00 = np.array([I.orthogonal(4, 4, rng=rng)[0, 0] for _ in range(400)])
    assert abs(q00.mean()) < 0.125
    # 1x1: both signs must occur
    signs = {float(I.orthogonal(1, 1, rng=s)[0, 0]) for s in range(40)}
    assert signs == {-1.0, 1.0}


def test_variance_formulas_by_hand() -> None:
    assert I.variance("normal", 10, 20, std=0.1, gain=2.0) == pytest.approx(0.04)
    assert I.variance("normal", 10, 20, std=0.0) == 0.0
    assert I.variance("standard", 100, 7) == pytest.approx(1 / 300)
    assert I.variance("xavier_uniform", 100, 300) == pytest.approx(0.005)
    assert I.variance("xavier_normal", 100, 300) == pytest.approx(0.005)
    assert I.variance("he_uniform", 50, 9, gain=math.sqrt(2)) == pytest.approx(4 / 50)
    assert I.variance("he_normal", 50, 9) == pytest.approx(2 / 50)
    assert I.variance("lecun_normal", 50, 9, gain=2.0) == pytest.approx(4 / 50)
    assert I.variance("orthogonal", 3, 5) == pytest.approx(1 / 5)
    assert I.variance("orthogonal", 5, 3, gain=3.0) == pytest.approx(9 / 5)
    assert_array_equal(I.normal(4, 3, std=0.0, rng=0), np.zeros((3, 4)))


def test_variance_rejects_std_for_other_schemes() -> None:
    with pytest.raises(ValueError, match=r"std only applies to the 'normal' scheme"):
        I.variance("he_normal", 10, 10, std=2.0)


ERRORS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"n_in": 0}, ValueError, r"n_in must be >= 1, got 0"),
    ({"n_in": 2.5}, TypeError, r"n_in must be an integer, got float"),
    ({"n_in": True}, TypeError, r"n_in must be an integer, got bool"),
    ({"n_out": -3}, ValueError, r"n_out must be >= 1, got -3"),
    ({"gain": 0.0}, ValueError, r"gain must be > 0, got 0.0"),
    ({"gain": float("inf")}, ValueError, r"gain must be finite"),
    ({"rng": "x"}, TypeError, r"rng must be a numpy.random.Generator or an integer seed, got str"),
    ({"rng": None}, TypeError, r"rng must be a numpy.random.Generator or an integer seed, got NoneType"),
]


@pytest.mark.parametrize(("bad", "exc", "match"), ERRORS, ids=["{}={!r}".format(*next(iter(e[0].items()))) for e in ERRORS])
def test_bad_arguments_name_the_argument(bad: dict[str, Any], exc: type[Exception], match: str) -> None:
    for name in I.NAMES:
        args: dict[str, Any] = {"n_in": 4, "n_out": 3, "gain": 1.0, "rng": 0, **bad}
        with pytest.raises(exc, match=match):
            I.get(name)(**args)


def test_negative_std_names_std() -> None:
    with pytest.raises(ValueError, match=r"std must be >= 0, got -1.0"):
        I.normal(4, 3, std=-1.0, rng=0)
    with pytest.raises(ValueError, match=r"std must be >= 0"):
        I.variance("normal", 4, 3, std=-1.0)


def test_rng_is_required() -> None:
    with pytest.raises(TypeError, match=r"rng"):
        I.he_normal(4, 3)  # type: ignore[call-arg]


def test_registry_and_get_errors() -> None:
    assert I.NAMES == (
        "normal", "standard", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "lecun_normal",
        "orthogonal",
    )
    assert I.get("he_normal") is I.he_normal
    with pytest.raises(
        ValueError,
        match=r"unknown initialiser 'xavier'; expected one of: normal, standard, xavier_uniform, "
        r"xavier_normal, he_uniform, he_normal, lecun_normal, orthogonal",
    ):
        I.get("xavier")
    with pytest.raises(ValueError, match=r"unknown initialiser 'glorot'"):
        I.variance("glorot", 3, 3)
    with pytest.raises(TypeError, match=r"initialiser must be a name \(str\), got int"):
        I.get(1)  # type: ignore[arg-type]


def test_one_table_drives_draws_and_variances() -> None:
    assert tuple(I.SCHEMES) == I.NAMES == tuple(I.INITIALISERS)
    for name, scheme in I.SCHEMES.items():
        assert scheme.law in ("normal", "uniform", "orthogonal")
        # the named function is the table's draw
        assert_array_equal(I.get(name)(6, 4, gain=1.5, rng=9), I.draw(name, 6, 4, gain=1.5, rng=9))
        assert I.variance(name, 6, 4, gain=1.5) == pytest.approx(2.25 * scheme.var(6, 4, 1.0), rel=1e-15)
        if scheme.law == "uniform":  # U[-a, a] has variance a^2/3
            a = math.sqrt(3 * scheme.var(6, 4, 1.0))
            W = I.draw(name, 6, 4, rng=9)
            assert np.all(np.abs(W) <= a)
            assert_array_equal(W, np.random.default_rng(9).uniform(-a, a, size=(4, 6)))


@pytest.mark.parametrize("call", [I.draw, I.variance])
def test_std_is_refused_by_every_scheme_but_normal(call: Any) -> None:
    kwargs: dict[str, Any] = {"rng": 0} if call is I.draw else {}
    for name in I.NAMES:
        if name == "normal":
            call(name, 3, 2, std=0.5, **kwargs)
            continue
        with pytest.raises(ValueError, match=rf"std only applies to the 'normal' scheme, got std=1.0 for '{name}'"):
            call(name, 3, 2, std=1.0, **kwargs)  # even the neutral value: it would be ignored


def test_uniform_bound_closed_forms_and_samples() -> None:
    # Glorot's sqrt(6/(n_in + n_out)), He's sqrt(6/n_in), the standard 1/sqrt(n_in); a = sqrt(3 Var W)
    for name, a in UNIFORM_BOUND.items():
        assert I.uniform_bound(name, N_IN, N_OUT) == pytest.approx(a, rel=1e-14)
        assert I.uniform_bound(name, N_IN, N_OUT, gain=GAIN) == pytest.approx(GAIN * a, rel=1e-14)
        assert I.uniform_bound(name, N_IN, N_OUT) ** 2 / 3 == pytest.approx(I.variance(name, N_IN, N_OUT), rel=1e-14)
        # the draw fills [-a, a] and its sample variance is a^2/3: 150000 uniform entries have
        # sd of mean(W^2) = v sqrt(0.8 / N) ~ 0.23 % of v, tolerance 5 sd
        W = I.draw(name, N_IN, N_OUT, rng=21)
        assert np.abs(W).max() <= a
        assert np.mean(W**2) == pytest.approx(a * a / 3, rel=5 * math.sqrt(0.8 / N))


def test_uniform_bound_refuses_schemes_that_are_not_uniform() -> None:
    for name in ("normal", "xavier_normal", "he_normal", "lecun_normal", "orthogonal"):
        with pytest.raises(ValueError, match=rf"name must be a uniform scheme \(standard, xavier_uniform, he_uniform\), got '{name}'"):
            I.uniform_bound(name, 4, 3)
    with pytest.raises(ValueError, match="unknown initialiser 'glorot'"):
        I.uniform_bound("glorot", 4, 3)
    with pytest.raises(ValueError, match="n_in must be >= 1"):
        I.uniform_bound("he_uniform", 0, 3)
    with pytest.raises(ValueError, match="gain must be > 0"):
        I.uniform_bound("he_uniform", 4, 3, gain=-1.0)
