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
        (lambda: products.log_norms_of_products(4, 0, n_seeds=2, rng=0), ValueError, "depth must be >= 1"),
        (lambda: products.log_norms_of_products(4, 3, n_seeds=2, rng="x"), TypeError, "rng must be"),
    ],
)
def test_bad_input(call, exc, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc, match=match):
        call()
