"""gradlab.products: Lyapunov exponents of Gaussian matrix products, theory against simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma

from gradlab import products


def test_lyapunov_closed_form() -> None:
    # n = 2: 0.5 (ln 2 + psi(1)) = 0.5 (ln 2 - Euler's gamma)
    assert products.lyapunov_gaussian(2) == pytest.approx(0.5 * (np.log(2) - np.euler_gamma))
    # Scaling the entries by s multiplies every norm by s: lambda shifts by ln s.
    assert products.lyapunov_gaussian(5, 9.0) == pytest.approx(products.lyapunov_gaussian(5) + np.log(3.0))
    # Variance 1/n: slightly negative, tending to 0 like -1/(2n).
    for n in (16, 256, 4096):
        lam = products.lyapunov_gaussian(n, 1.0 / n)
        assert lam < 0
        assert lam == pytest.approx(-1 / (2 * n), rel=0.05)
    assert products.lyapunov_gaussian(4) == pytest.approx(0.5 * (np.log(2) + digamma(2)))


def test_zero_lyapunov_scale_closed_forms() -> None:
    # psi(1/2) = -gamma - 2 ln 2, psi(1) = -gamma, psi(2) = 1 - gamma: s2 = exp(-psi(n/2)) / 2
    g = np.euler_gamma
    assert products.zero_lyapunov_s2(1) == pytest.approx(2 * np.exp(g), rel=1e-14)
    assert products.zero_lyapunov_s2(2) == pytest.approx(np.exp(g) / 2, rel=1e-14)
    assert products.zero_lyapunov_s2(4) == pytest.approx(np.exp(g - 1) / 2, rel=1e-14)
    # it is the root of lambda_1, and the typical scale is not the mean-square scale 1/n
    for n in (1, 3, 4, 17, 256, 10_000):
        s2 = products.zero_lyapunov_s2(n)
        assert products.lyapunov_gaussian(n, s2) == pytest.approx(0.0, abs=1e-12)
        assert products.lyapunov_gaussian(n, 1.0 / n) < 0  # 1/n: the typical size shrinks
        # psi(x) < ln x - 1/(2x) gives n s2 > exp(1/n) > 1
        assert n * s2 > np.exp(1.0 / n) > 1


@pytest.mark.parametrize("n", [64, 256, 4096, 16384])
def test_zero_lyapunov_scale_large_n_limit(n: int) -> None:
    # n s2 = exp(ln(n/2) - psi(n/2)) = exp(1/n + 1/(3 n^2) + ...) = 1 + 1/n + 5/(6 n^2) + O(n^-3)
    excess = n * products.zero_lyapunov_s2(n) - 1 - 1 / n
    assert excess * n**2 == pytest.approx(5 / 6, rel=2.0 / n + 1e-6)


def test_zero_lyapunov_scale_keeps_the_typical_size_monte_carlo() -> None:
    # One step of ln||Mv|| at s2_0 has mean 0; its mean square n s2_0 is above one.
    n, runs = 4, 20000
    s2 = products.zero_lyapunov_s2(n)
    steps = products.log_norms_of_products(n, 1, n_seeds=runs, s2=s2, rng=11)[:, 1]
    sd = products.log_norm_step_sd(n)
    assert abs(steps.mean()) < 4 * sd / np.sqrt(runs)  # 4 standard errors of 0
    # E||Mv||^2 = n s2_0 = 2 exp(gamma - 1) = 1.31; one sample has variance (n s2)^2 (1 + 2/n) - (n s2)^2
    ms = np.exp(2 * steps)
    se = n * s2 * np.sqrt(2 / n) / np.sqrt(runs)
    assert abs(ms.mean() - n * s2) < 4 * se
    assert ms.mean() > 1.2


def test_one_step_distribution_matches_chi_square() -> None:
    # One step: ln||Mv|| = 0.5 ln(chi^2_n): mean lambda, sd log_norm_step_sd(n).
    n, runs = 4, 20000
    steps = products.log_norms_of_products(n, 1, n_seeds=runs, rng=1)[:, 1]
    lam, sd = products.lyapunov_gaussian(n), products.log_norm_step_sd(n)
    assert abs(steps.mean() - lam) < 4 * sd / np.sqrt(runs)  # 4 standard errors
    assert steps.std(ddof=1) == pytest.approx(sd, rel=0.03)


def test_growth_rate_over_depth_matches_theory() -> None:
    n, depth, runs = 4, 100, 300
    logs = products.log_norms_of_products(n, depth, n_seeds=runs, rng=7)
    lam, sd = products.lyapunov_gaussian(n), products.log_norm_step_sd(n)
    final = logs[:, -1]
    se = sd * np.sqrt(depth) / np.sqrt(runs)
    assert abs(final.mean() - depth * lam) < 3 * se  # 3 standard errors of the mean
    assert final.std(ddof=1) == pytest.approx(sd * np.sqrt(depth), rel=0.15)  # ~4 standard errors of an sd
    assert np.all(logs[:, 0] == 0)


def test_reproducible_and_seed_dependent() -> None:
    a = products.log_norms_of_products(3, 10, n_seeds=2, rng=5)
    assert np.array_equal(a, products.log_norms_of_products(3, 10, n_seeds=2, rng=5))
    assert not np.array_equal(a, products.log_norms_of_products(3, 10, n_seeds=2, rng=6))
    assert a.shape == (2, 11)


def test_deep_products_do_not_overflow() -> None:
    logs = products.log_norms_of_products(4, 5000, n_seeds=1, s2=100.0, rng=0)
    assert np.isfinite(logs).all() and logs[0, -1] > 5000  # ||v|| far beyond float64's range


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: products.lyapunov_gaussian(0), ValueError, "n must be >= 1"),
        (lambda: products.lyapunov_gaussian(4, -1.0), ValueError, "s2 must be > 0"),
        (lambda: products.log_norm_step_sd(2.0), TypeError, "n must be an integer"),
        (lambda: products.zero_lyapunov_s2(0), ValueError, "n must be >= 1"),
        (lambda: products.zero_lyapunov_s2(4.0), TypeError, "n must be an integer"),
        (lambda: products.zero_lyapunov_s2(True), TypeError, "n must be an integer"),
        (lambda: products.log_norms_of_products(4, 0, n_seeds=2, rng=0), ValueError, "depth must be >= 1"),
        (lambda: products.log_norms_of_products(4, 3, n_seeds=2, rng="x"), TypeError, "rng must be"),
    ],
)
def test_bad_input(call, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()
