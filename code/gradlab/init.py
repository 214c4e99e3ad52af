"""Weight initialisation schemes.

The variance of the initial weights decides how the size of activations and
gradients changes from layer to layer: too small and signals vanish, too large
and they explode. Each scheme here draws one weight matrix; :func:`variance`
gives the per-entry variance the scheme is designed to produce, so the book
can compare theory and samples.

Conventions shared by every scheme:

* ``W`` has shape ``(n_out, n_in)``, as in the book's ``z = W a + b`` where
  ``W^(l)`` is ``n_l x n_{l-1}``;
* entries are float64 with mean 0;
* ``rng`` is keyword-only and required (a ``numpy.random.Generator`` or an
  integer seed) so there is no hidden global randomness; a ``Generator`` is
  advanced by the draw, an integer seed always gives the same matrix;
* ``gain`` multiplies every entry of the same draw (so the variance by
  ``gain**2``): with the same seed, ``gain=2`` gives exactly twice the
  ``gain=1`` matrix. ``gain = sqrt(2)`` turns Xavier or orthogonal into a
  ReLU-friendly scheme; the He schemes already include that factor.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._validate import check_nonnegative, check_positive, check_positive_int, check_rng, lookup

__all__ = [
    "Initialiser",
    "normal",
    "standard",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "orthogonal",
    "variance",
    "INITIALISERS",
    "NAMES",
    "get",
]


class Initialiser(Protocol):
    """Signature shared by every scheme: ``(n_in, n_out, *, gain, rng) -> W``."""

    def __call__(
        self, n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
    ) -> NDArray[np.float64]: ...


def _check(n_in: Any, n_out: Any, gain: Any) -> tuple[int, int, float]:
    return (
        check_positive_int(n_in, "n_in"),
        check_positive_int(n_out, "n_out"),
        check_positive(gain, "gain"),
    )


def _uniform(bound: float, n_in: int, n_out: int, rng: Any) -> NDArray[np.float64]:
    return check_rng(rng, "rng").uniform(-bound, bound, size=(n_out, n_in))


def _normal(std: float, n_in: int, n_out: int, rng: Any) -> NDArray[np.float64]:
    return check_rng(rng, "rng").normal(0.0, std, size=(n_out, n_in))


def normal(
    n_in: int,
    n_out: int,
    *,
    std: float = 1.0,
    gain: float = 1.0,
    rng: np.random.Generator | int,
) -> NDArray[np.float64]:
    r"""Gaussian weights with a fixed standard deviation.

    .. math:: W_{ij} \sim \mathcal{N}\bigl(0, (\text{gain}\cdot\text{std})^2\bigr)

    The "naive" scheme: the variance ignores the layer width, so the signal
    grows or shrinks by a factor ``n * std**2`` per layer.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    std : float, default 1.0
        Standard deviation before ``gain``; finite and ``>= 0``.
    gain : float, default 1.0
        Finite and ``> 0``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)

    Raises
    ------
    TypeError, ValueError
        On a non-integer or non-positive size, a negative or non-finite
        ``std``, a non-positive or non-finite ``gain``, or a bad ``rng``.
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    std = check_nonnegative(std, "std")
    return gain * _normal(std, n_in, n_out, rng)


def standard(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""Glorot & Bengio's (2010) "standard" uniform initialisation.

    .. math:: W_{ij} \sim U\Bigl[-\frac{\text{gain}}{\sqrt{n_\text{in}}},
              \frac{\text{gain}}{\sqrt{n_\text{in}}}\Bigr],
              \qquad \operatorname{Var} W_{ij} = \frac{\text{gain}^2}{3\,n_\text{in}}

    The common heuristic that Glorot & Bengio showed makes back-propagated
    gradients shrink layer by layer (``n_in Var W = 1/3``).

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
        Entries in ``[-gain/sqrt(n_in), gain/sqrt(n_in))``.
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _uniform(1.0 / math.sqrt(n_in), n_in, n_out, rng)


def xavier_uniform(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""Glorot/Xavier uniform initialisation (Glorot & Bengio, 2010).

    .. math:: W_{ij} \sim U[-a, a], \qquad
              a = \text{gain}\sqrt{\frac{6}{n_\text{in} + n_\text{out}}}, \qquad
              \operatorname{Var} W_{ij} = \frac{2\,\text{gain}^2}{n_\text{in} + n_\text{out}}

    A compromise between keeping forward activations (``n_in Var W = 1``) and
    backward gradients (``n_out Var W = 1``) at constant size for
    tanh/linear layers.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
        Entries in ``[-a, a)``.
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _uniform(math.sqrt(6.0 / (n_in + n_out)), n_in, n_out, rng)


def xavier_normal(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""Glorot/Xavier normal initialisation.

    .. math:: W_{ij} \sim \mathcal{N}(0, s^2), \qquad
              s = \text{gain}\sqrt{\frac{2}{n_\text{in} + n_\text{out}}}

    Same variance as :func:`xavier_uniform`, Gaussian shape.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _normal(math.sqrt(2.0 / (n_in + n_out)), n_in, n_out, rng)


def he_uniform(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""He/Kaiming uniform initialisation (He et al., 2015), fan-in mode.

    .. math:: W_{ij} \sim U[-a, a], \qquad
              a = \text{gain}\sqrt{\frac{6}{n_\text{in}}}, \qquad
              \operatorname{Var} W_{ij} = \frac{2\,\text{gain}^2}{n_\text{in}}

    The factor 2 compensates ReLU zeroing half of its inputs, so
    ``E[a^2]`` stays constant through ReLU layers.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0`` (the ReLU factor 2 is already included).
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
        Entries in ``[-a, a)``.
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _uniform(math.sqrt(6.0 / n_in), n_in, n_out, rng)


def he_normal(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""He/Kaiming normal initialisation, fan-in mode.

    .. math:: W_{ij} \sim \mathcal{N}(0, s^2), \qquad
              s = \text{gain}\sqrt{\frac{2}{n_\text{in}}}

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0`` (the ReLU factor 2 is already included).
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _normal(math.sqrt(2.0 / n_in), n_in, n_out, rng)


def lecun_normal(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""LeCun normal initialisation, :math:`\mathcal{N}(0, \text{gain}^2/n_\text{in})`.

    .. math:: W_{ij} \sim \mathcal{N}(0, s^2), \qquad s = \frac{\text{gain}}{\sqrt{n_\text{in}}}

    The default of Nielsen's ``network2`` ("weights with standard deviation
    1/√n_in"), which chapter 1 ports to the digits.

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    return gain * _normal(math.sqrt(1.0 / n_in), n_in, n_out, rng)


def orthogonal(
    n_in: int, n_out: int, *, gain: float = 1.0, rng: np.random.Generator | int
) -> NDArray[np.float64]:
    r"""Random (semi-)orthogonal initialisation (Saxe et al., 2014).

    .. math:: W = \text{gain}\cdot Q, \qquad
              \begin{cases} W W^\top = \text{gain}^2 I_{n_\text{out}} & n_\text{out} \le n_\text{in} \\
                            W^\top W = \text{gain}^2 I_{n_\text{in}} & n_\text{out} \ge n_\text{in}
              \end{cases}

    Every singular value equals ``gain``, so a linear layer preserves the norm
    of every vector (or of every vector in its row space): products of many
    such layers neither vanish nor explode.

    ``Q`` is Haar-distributed (uniform over semi-orthogonal matrices): take
    the QR decomposition ``G = Q R`` of a Gaussian matrix and flip column
    signs by ``sign(diag R)``; without that correction ``Q`` would be biased
    by the sign convention of the QR routine (Mezzadri, 2007).

    Parameters
    ----------
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``; every singular value of ``W``.
    rng : numpy.random.Generator or int
        Source of randomness or seed (required).

    Returns
    -------
    ndarray of float64, shape (n_out, n_in)
        Orthonormal columns (tall or square) or rows (wide), times ``gain``.
        Per-entry variance ``gain**2 / max(n_in, n_out)``.
    """
    n_in, n_out, gain = _check(n_in, n_out, gain)
    generator = check_rng(rng, "rng")
    big, small = max(n_in, n_out), min(n_in, n_out)
    q, r = np.linalg.qr(generator.standard_normal((big, small)))
    # np.sign would zero a column if diag(R) had a 0 (probability 0, but free to avoid).
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    w = q if n_out >= n_in else q.T
    return gain * np.ascontiguousarray(w)


#: Every scheme by name.
INITIALISERS: dict[str, Initialiser] = {
    "normal": normal,
    "standard": standard,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_normal": lecun_normal,
    "orthogonal": orthogonal,
}

#: Registry names, in a fixed order for tables and plots.
NAMES: tuple[str, ...] = tuple(INITIALISERS)


def get(name: str) -> Initialiser:
    """Look up an initialisation scheme by name.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    callable
        The scheme, called as ``scheme(n_in, n_out, *, gain=1.0, rng=...)``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not a registered scheme; the message lists the valid
        names.
    """
    return lookup(INITIALISERS, name, "initialiser")


def variance(name: str, n_in: int, n_out: int, *, gain: float = 1.0, std: float = 1.0) -> float:
    r"""Theoretical per-entry variance :math:`\operatorname{Var} W_{ij}` of a scheme.

    ================  ==========================================
    scheme            variance :math:`\operatorname{Var} W_{ij}`
    ================  ==========================================
    normal            :math:`(\text{gain}\cdot\text{std})^2`
    standard          :math:`\text{gain}^2 / (3 n_\text{in})`
    xavier_uniform    :math:`2\,\text{gain}^2 / (n_\text{in} + n_\text{out})`
    xavier_normal     :math:`2\,\text{gain}^2 / (n_\text{in} + n_\text{out})`
    he_uniform        :math:`2\,\text{gain}^2 / n_\text{in}`
    he_normal         :math:`2\,\text{gain}^2 / n_\text{in}`
    lecun_normal      :math:`\text{gain}^2 / n_\text{in}`
    orthogonal        :math:`\text{gain}^2 / \max(n_\text{in}, n_\text{out})`
    ================  ==========================================

    For ``orthogonal``: the ``min(n_in, n_out)`` orthonormal vectors (columns
    of a tall ``W``, rows of a wide one) each have ``max(n_in, n_out)``
    entries and unit length, and by symmetry of the Haar measure every entry
    has the same mean square, ``1 / max(n_in, n_out)``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    n_in, n_out : int
        Fan-in and fan-out, each ``>= 1``.
    gain : float, default 1.0
        Finite and ``> 0``.
    std : float, default 1.0
        Only for ``"normal"``; finite and ``>= 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``std`` is given a value other than 1.0 for a scheme other than
        ``"normal"`` (it would be silently ignored by that scheme), plus the
        errors of :func:`get` and of the schemes' arguments.
    """
    get(name)
    n_in, n_out, gain = _check(n_in, n_out, gain)
    std = check_nonnegative(std, "std")
    if name != "normal" and std != 1.0:
        raise ValueError(f"std only applies to the 'normal' scheme, got std={std} for {name!r}")
    g2 = gain * gain
    if name == "normal":
        return g2 * std * std
    if name == "standard":
        return g2 / (3.0 * n_in)
    if name in ("xavier_uniform", "xavier_normal"):
        return 2.0 * g2 / (n_in + n_out)
    if name in ("he_uniform", "he_normal"):
        return 2.0 * g2 / n_in
    if name == "lecun_normal":
        return g2 / n_in
    return g2 / max(n_in, n_out)  # orthogonal
