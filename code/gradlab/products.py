r"""Products of random matrices: why deep gradients spread over orders of magnitude.

Back-propagation multiplies a vector by one Jacobian per layer. With i.i.d.
Gaussian :math:`n \times n` matrices :math:`M_k`, entries
:math:`\mathcal N(0, s^2)`, the norm of :math:`v_k = M_k \cdots M_1 v_0`
grows at the rate of the top Lyapunov exponent (Cohen & Newman, 1984)

.. math:: \lambda_1 = \tfrac12\Big[\ln(2 s^2) + \psi\big(\tfrac n2\big)\Big],

with :math:`\psi` the digamma function. Because a Gaussian matrix maps any
unit vector to a vector whose squared norm is :math:`s^2\chi^2_n`, the steps
are independent, so :math:`\ln\|v_k\|` is a random walk: mean
:math:`k\lambda_1`, standard deviation :math:`\sqrt{k}\,\tfrac12\sqrt{\psi'(n/2)}`.

Two scalings keep a product "the same size", and they differ:
:math:`s^2 = 1/n` keeps the mean square :math:`\mathbb E\,\|v_k\|^2` fixed, while
:math:`s^2 = e^{-\psi(n/2)}/2` (:func:`zero_lyapunov_s2`) keeps the typical size
:math:`e^{\mathbb E \ln\|v_k\|}` fixed. Neither changes the spread, which does not
depend on :math:`s`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, polygamma

from ._validate import check_positive, check_positive_int, check_rng

__all__ = ["lyapunov_gaussian", "zero_lyapunov_s2", "log_norm_step_sd", "log_norms_of_products"]


def lyapunov_gaussian(n: int, s2: float = 1.0) -> float:
    r"""Top Lyapunov exponent :math:`\lambda_1` of i.i.d. :math:`\mathcal N(0, s^2)` matrices of size n.
    """
    n = check_positive_int(n, "n")
    s2 = check_positive(s2, "s2")
    return float(0.5 * (np.log(2 * s2) + digamma(n / 2)))


def zero_lyapunov_s2(n: int) -> float:
    r"""Entry variance :math:`s^2` at which :math:`\lambda_1 = 0`: the typical norm neither grows nor shrinks.

    For :math:`M` with i.i.d. :math:`\mathcal N(0, s^2)` entries and any unit vector
    :math:`v`, :math:`\|Mv\|^2 = s^2\chi^2_n` and
    :math:`\mathbb E\ln\chi^2_n = \psi(n/2) + \ln 2`, so
    :math:`\lambda_1 = \tfrac12\big[\ln(2s^2) + \psi(n/2)\big]` vanishes at

    .. math:: s^2_0 = \tfrac12\, e^{-\psi(n/2)}, \qquad
              n\,s^2_0 = \frac{n}{2\,e^{\psi(n/2)}} .

    In units of the mean-square-preserving variance :math:`1/n` this is
    :math:`n s^2_0 > e^{1/n} > 1` (from :math:`\psi(x) < \ln x - 1/(2x)`), and
    :math:`n s^2_0 = 1 + 1/n + 5/(6n^2) + O(n^{-3})` for large n. At
    :math:`s^2_0` the typical size stays put while the mean square
    :math:`\mathbb E\|v_k\|^2 = (n s^2_0)^k\,\|v_0\|^2` grows.

    Parameters
    ----------
    n : int
        Size of the square matrices, at least 1.

    Returns
    -------
    float
        :math:`s^2_0`, the variance of each entry (pass it as ``s2`` to
        :func:`lyapunov_gaussian` or :func:`log_norms_of_products`).
    """
    n = check_positive_int(n, "n")
    return float(0.5 * np.exp(-digamma(n / 2)))


def log_norm_step_sd(n: int) -> float:
    r"""Standard deviation of one step :math:`\ln\|M v\| - \ln\|v\|`: :math:`\tfrac12\sqrt{\psi'(n/2)}` (independent of s).
    """
    n = check_positive_int(n, "n")
    return float(0.5 * np.sqrt(polygamma(1, n / 2)))


def log_norms_of_products(
    n: int, depth: int, *, n_seeds: int, s2: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r""":math:`\ln\|M_k \cdots M_1 v_0\|` for k = 0..depth, one row per independent run.

    The vector is renormalised after every product and the logarithms summed,
    so depth 10,000 neither overflows nor underflows. The runs are advanced
    together, one matrix per run and step, in batches of about a million
    matrix entries; identical arguments give identical results, but the runs
    of ``n_seeds = 10`` are not the first rows of ``n_seeds = 20``.

    Returns
    -------
    array, shape (n_seeds, depth + 1)
        Column 0 is :math:`\ln\|v_0\| = 0` (a unit start vector).
    """
    n = check_positive_int(n, "n")
    depth = check_positive_int(depth, "depth")
    n_seeds = check_positive_int(n_seeds, "n_seeds")
    s = np.sqrt(check_positive(s2, "s2"))
    gen = check_rng(rng)
    out = np.zeros((n_seeds, depth + 1))
    batch = max(1, 2**20 // (n * n))
    for start in range(0, n_seeds, batch):
        rows = slice(start, min(start + batch, n_seeds))
        m = rows.stop - rows.start
        v = np.zeros((m, n, 1))
        v[:, 0, 0] = 1.0  # any unit vector: the Gaussian ensemble is rotation invariant
        for k in range(1, depth + 1):
            v = (s * gen.standard_normal((m, n, n))) @ v
            norm = np.linalg.norm(v, axis=(1, 2))
            out[rows, k] = out[rows, k - 1] + np.log(norm)
            v /= norm[:, None, None]
    return out
