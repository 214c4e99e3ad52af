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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import digamma, polygamma

from ._validate import check_positive, check_positive_int, check_rng

__all__ = ["lyapunov_gaussian", "log_norm_step_sd", "log_norms_of_products"]


def lyapunov_gaussian(n: int, s2: float = 1.0) -> float:
    r"""Top Lyapunov exponent :math:`\lambda_1` of i.i.d. :math:`\mathcal N(0, s^2)` matrices of size n.
    """
    n = check_positive_int(n, "n")
    s2 = check_positive(s2, "s2")
    return float(0.5 * (np.log(2 * s2) + digamma(n / 2)))


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
    so depth 10,000 neither overflows nor underflows.

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
    for i in range(n_seeds):
        v = np.zeros(n)
        v[0] = 1.0  # any unit vector: the Gaussian ensemble is rotation invariant
        for k in range(1, depth + 1):
            v = (s * gen.standard_normal((n, n))) @ v
            norm = np.linalg.norm(v)
            out[i, k] = out[i, k - 1] + np.log(norm)
            v /= norm
    return out
