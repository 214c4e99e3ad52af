"""gradlab.wide: the simulated wide networks start where mean-field theory starts, and are seeded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradlab import theory, wide


def test_wide_network_signals_first_layer_is_exact() -> None:
    # Layer 1 is linear in x: mean over units of z^2 has expectation q_in for the probe and q* for the
    # other rows, and the correlation of rows 1, 2 has expectation c_in. One network of width 4000:
    # relative sd of a mean of n chi-square(1) terms is sqrt(2/n) = 2.2 %, so 10 % is > 4 sd.
    sw2, sb2 = 1.5, 0.1
    res = wide.wide_network_signals("tanh", sw2, sb2, q_in=2.0, c_in=0.3, width=4000, depth=2,
                                           n_inputs=4, n_networks=1, rng=0)
    assert res.q.shape == res.m.shape == res.c.shape == res.delta2.shape == (1, 2)
    assert res.ratio.shape == (1, 1)
    assert res.q[0, 0] == pytest.approx(2.0, rel=0.1)
    assert res.c[0, 0] == pytest.approx(0.3, abs=0.1)
    # m is the mean of tanh(z)^2 for the same input: below q, and what the length map says for it
    assert res.m[0, 0] < res.q[0, 0]
    expected_m = (theory.length_map(res.q[0, 0], "tanh", sw2, sb2) - sb2) / sw2
    assert res.m[0, 0] == pytest.approx(expected_m, rel=0.1)


def test_wide_network_signals_is_seeded_and_matches_chi1() -> None:
    a = wide.wide_network_signals("tanh", 2.5, 0.05, q_in=1.0, c_in=0.5, width=500, depth=6, rng=3)
    b = wide.wide_network_signals("tanh", 2.5, 0.05, q_in=1.0, c_in=0.5, width=500, depth=6, rng=3)
    assert np.array_equal(a.delta2, b.delta2) and np.array_equal(a.c, b.c)
    # 3 networks x 5 ratios x 16 inputs at width 500: the per-ratio sd is about 9 %, the mean's about 1.5 %
    # (networks share nothing), so 5 % is over three standard errors.
    assert a.ratio.mean() == pytest.approx(theory.chi1("tanh", 2.5, 0.05), rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(q_in=0.01), ValueError, "q_in must exceed sigma_b2"),
        (dict(c_in=1.5), ValueError, r"c_in must be a correlation in \[-1, 1\]"),
        (dict(c_in="x"), TypeError, "c_in must be a number"),
        (dict(c_in=[0.1, 0.2]), ValueError, "c_in must be 0-dimensional"),
        (dict(c_in=float("nan")), ValueError, "c_in"),
        (dict(c_in=-1.0), ValueError, "c_in = -1.0 cannot be reached"),
        (dict(n_inputs=1), ValueError, "n_inputs must be"),
        (dict(width=10, n_inputs=16), ValueError, "width must be at least n_inputs"),
        (dict(depth=1), ValueError, "depth must be"),
        (dict(sigma_w2=-1.0), ValueError, "sigma_w2"),
        (dict(activation="nope"), ValueError, "nope"),
        (dict(rng="x"), TypeError, "rng"),
    ],
)
def test_wide_network_signals_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.05, q_in=1.0, c_in=0.5, width=50,
                                depth=3, n_inputs=4, n_networks=1, rng=0)
    args.update(kwargs)
    act, sw2, sb2 = args.pop("activation"), args.pop("sigma_w2"), args.pop("sigma_b2")
    with pytest.raises(error, match=match):
        wide.wide_network_signals(act, sw2, sb2, **args)


def test_wide_network_signals_needs_a_nonzero_fixed_point() -> None:
    # tanh without bias below criticality: q* = 0, no input can start there
    with pytest.raises(ValueError, match="is not above sigma_b2"):
        wide.wide_network_signals("tanh", 0.5, 0.0, q_in=1.0, c_in=0.5, width=50, rng=0)


# --------------------------------------------------------------------------- trainability


# --------------------------------------------------------------------------- exact finite-width ReLU law


def _simulate_relu_log_norms(widths: tuple[int, ...], n_nets: int, seed: int) -> np.ndarray:
    """log(||a(L)||^2 / ||x||^2) of n_nets He-normal ReLU nets (zero biases), -inf where a(L) = 0."""
    gen = np.random.default_rng(seed)
    a = np.ones((n_nets, widths[0]))
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        W = gen.standard_normal((n_nets, n_out, n_in)) * np.sqrt(2.0 / n_in)
        a = np.maximum(np.einsum("bij,bj->bi", W, a), 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(a**2, axis=1) / widths[0])


def test_relu_log_norm_law_matches_monte_carlo_at_tiny_unequal_widths() -> None:
    # Unequal widths, so that a law using n_l where it needs n_{l-1} (the fan-in sets the scale,
    # the fan-out the number of chi-square terms) is off by log(n_l / n_{l-1}) per layer.
    widths = (5, 3, 6, 2, 4)
    law = wide.relu_log_norm_law(widths)
    N = 200_000
    v = _simulate_relu_log_norms(widths, N, seed=11)
    alive = np.isfinite(v)
    # P(alive) = (7/8)(63/64)(3/4)(15/16); binomial SE of the fraction < 0.0011, tolerance 5 SE
    assert law.p_alive == pytest.approx((7 / 8) * (63 / 64) * (3 / 4) * (15 / 16), rel=1e-12)
    assert abs(alive.mean() - law.p_alive) < 5 * np.sqrt(law.p_alive * (1 - law.p_alive) / N)
    w = v[alive]
    m, s2 = w.mean(), w.var(ddof=1)
    se_mean = np.sqrt(s2 / w.size)
    se_var = np.sqrt((np.mean((w - m) ** 4) - s2**2) / w.size)
    assert abs(m - law.mean) < 5 * se_mean, (m, law.mean, se_mean)
    assert abs(s2 - law.var) < 5 * se_var, (s2, law.var, se_var)
    # the per-layer rows add up, and the leading order 5 sum 1/n_j is far off at these widths
    assert law.mean == pytest.approx(law.mean_layer.sum(), rel=1e-12)
    assert law.var == pytest.approx(law.var_layer.sum(), rel=1e-12)
    assert law.mean_layer.shape == law.var_layer.shape == (4,)
    assert abs(law.var - 5 * sum(1 / n for n in widths[1:])) > 10 * se_var


def test_relu_log_norm_law_one_unit_is_a_scaled_chi_square_one() -> None:
    # widths (1, 1): K = 1 given alive, R = 2 chi2_1: E log = log 4 + psi(1/2) = -gamma, Var = psi'(1/2) = pi^2/2
    law = wide.relu_log_norm_law((1, 1))
    assert law.mean == pytest.approx(-np.euler_gamma, rel=1e-12)
    assert law.var == pytest.approx(np.pi**2 / 2, rel=1e-12)
    assert law.p_alive == 0.5
    # L layers of width 1: L times each, alive with probability 2^-L
    law3 = wide.relu_log_norm_law((1, 1, 1, 1))
    assert law3.mean == pytest.approx(-3 * np.euler_gamma, rel=1e-12)
    assert law3.var == pytest.approx(3 * np.pi**2 / 2, rel=1e-12)
    assert law3.p_alive == 0.125


@pytest.mark.parametrize("n", [1_000, 10_000, 100_000])
def test_relu_log_norm_law_large_width_limit_is_five_over_n(n: int) -> None:
    # Leading order per layer: Var = 5/n, mean = -5/(2n) (the chapter's 5 sum 1/n_j and -5/2 sum 1/n_j).
    # The next order is O(1/n^2) (about 18.5/n^2 and -4.1/n^2), so n Var - 5 shrinks tenfold per decade.
    law = wide.relu_log_norm_law((n, n))
    assert abs(n * law.var - 5) < 25 / n
    assert abs(n * law.mean + 2.5) < 6 / n
    assert n * law.var > 5 and n * law.mean < -2.5  # both corrections have a definite sign
    assert law.p_alive == 1.0


def test_relu_log_norm_law_sigma_w2_shifts_only_the_mean() -> None:
    widths = (8, 12, 8, 16)
    he, other = wide.relu_log_norm_law(widths), wide.relu_log_norm_law(widths, sigma_w2=1.0)
    assert other.mean == pytest.approx(he.mean + 3 * np.log(0.5), rel=1e-12)
    assert other.var == pytest.approx(he.var, rel=1e-12)


@pytest.mark.parametrize(
    ("widths", "kwargs", "error", "match"),
    [
        ("16", {}, TypeError, "widths must be a sequence"),
        (16, {}, TypeError, "widths must be a sequence"),
        ((16,), {}, ValueError, "widths must list at least an input and an output width"),
        ((16, 0), {}, ValueError, r"widths\[1\] must be >= 1, got 0"),
        ((16, 2.0), {}, TypeError, r"widths\[1\] must be an integer"),
        ((4, 4), {"sigma_w2": 0.0}, ValueError, "sigma_w2 must be > 0"),
        ((4, 4), {"sigma_w2": "2"}, TypeError, "sigma_w2 must be a real number"),
    ],
)
def test_relu_log_norm_law_errors(widths: Any, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        wide.relu_log_norm_law(widths, **kwargs)


def test_relu_log_norm_law_equals_the_untruncated_binomial_sums() -> None:
    # At n = 3000 the law sums over K within 10 sqrt(n) of n/2 only; the full sums over K = 1..n agree.
    from scipy.special import digamma, polygamma
    from scipy.stats import binom

    n = 3000
    k = np.arange(1, n + 1)
    p = binom.pmf(k, n, 0.5) / (1 - 0.5**n)
    psi = digamma(k / 2)
    mean = np.log(4 / n) + p @ psi
    var = p @ polygamma(1, k / 2) + p @ (psi - p @ psi) ** 2
    law = wide.relu_log_norm_law((n, n))
    assert law.mean == pytest.approx(mean, rel=1e-12)
    assert law.var == pytest.approx(var, rel=1e-12)
