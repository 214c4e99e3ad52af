r"""Deep linear networks trained by full-batch gradient descent on a linear teacher task.

A deep linear network, :math:`a^{(L)} = W^{(L)} \cdots W^{(1)} x`, computes only a linear map,
but its gradient descent is nonlinear: the gradient of one layer is multiplied by all the
others. Saxe et al. (2014) solved these dynamics for white inputs and found that the learning
time need not grow with depth when the initial product is an isometry. This module provides
their task (:func:`linear_teacher`), the trainer (:func:`train_deep_linear`), and their exact
learning time of one mode of the teacher (:func:`learning_time`) with its inverse, the mode's
strength at a given time (:func:`mode_strength`); the spectra of the networks are in
:mod:`gradlab.isometry`.

References
----------
A. M. Saxe, J. L. McClelland, S. Ganguli (2014), "Exact solutions to the nonlinear dynamics of
learning in deep linear neural networks".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scipy.integrate import quad
from scipy.optimize import brentq

from . import mlp
from ._validate import (
    as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_real, check_rng,
)

__all__ = ["linear_teacher", "LinearRun", "train_deep_linear", "learning_time", "mode_strength"]

Array = NDArray[np.float64]

# Training stops as diverged when the loss exceeds this many times its initial value (long
# before float64 overflows).
_DIVERGED: float = 1e10


def linear_teacher(
    n_in: int, n_out: int, n_samples: int, *, rng: np.random.Generator | int
) -> tuple[Array, Array, Array]:
    r"""A linear regression task with white inputs: :math:`y = M x`, :math:`\tfrac1N X^\top X = I`.

    The teacher :math:`M` (n_out × n_in) has i.i.d. :math:`\mathcal N(0, 1/n_\text{in})` entries;
    the rows of :math:`X` are :math:`\sqrt N` times the orthonormal columns of the QR factor of a
    Gaussian :math:`N \times n_\text{in}` matrix, the white inputs Saxe et al. (2014) analyse.
    The mean squared error of a linear map :math:`W` is then :math:`\tfrac12\|W - M\|_F^2`.

    Parameters
    ----------
    n_in, n_out : int
        ``>= 1``.
    n_samples : int
        :math:`N \ge n_\text{in}`.
    rng : numpy.random.Generator or int
        The teacher is drawn first, then the inputs.

    Returns
    -------
    tuple of ndarray
        ``(X, Y, M)`` of shapes (N, n_in), (N, n_out), (n_out, n_in).

    Raises
    ------
    TypeError, ValueError
        If a size is not a positive integer, ``n_samples < n_in``, or ``rng`` is bad.
    """
    n_in = check_positive_int(n_in, "n_in")
    n_out = check_positive_int(n_out, "n_out")
    N = check_positive_int(n_samples, "n_samples")
    if N < n_in:
        raise ValueError(f"n_samples must be >= n_in = {n_in} for the inputs to be white, got {N}")
    gen = check_rng(rng)
    M = gen.standard_normal((n_out, n_in)) / math.sqrt(n_in)
    q, _ = np.linalg.qr(gen.standard_normal((N, n_in)))
    X = math.sqrt(N) * q
    return X, X @ M.T, M


@dataclass(frozen=True)
class LinearRun:
    r"""What :func:`train_deep_linear` recorded.

    Attributes
    ----------
    loss : numpy.ndarray
        Shape (steps + 1,): the full-batch loss before each step, and after the last.
    steps : int | None
        The first step count t with ``loss[t] <= target_loss``; None if not reached.
    diverged : bool
        True if the loss exceeded :math:`10^{10}` times its initial value (or was not finite);
        training stopped there.
    network : gradlab.mlp.Network
        The trained network (a copy; the input network is untouched).
    """

    loss: Array
    steps: int | None
    diverged: bool
    network: mlp.Network


def train_deep_linear(
    net: mlp.Network,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    lr: float,
    target_loss: float,
    max_steps: int,
) -> LinearRun:
    r"""Full-batch gradient descent on the mean squared error of a deep linear network.

    .. math:: L = \frac{1}{2N}\sum_{i=1}^N \|W x_i - y_i\|^2,
              \qquad W = W^{(L)} \cdots W^{(1)},

    the loss of :func:`gradlab.losses.mse` on the whole set. For a linear network it depends on
    the data only through :math:`\Sigma_{xx} = X^\top X/N` and :math:`\Sigma_{yx} = Y^\top X/N`, and
    the gradient of layer l,

    .. math:: \frac{\partial L}{\partial W^{(l)}}
              = \big(W^{(L)} \cdots W^{(l+1)}\big)^\top \big(W \Sigma_{xx} - \Sigma_{yx}\big)
                \big(W^{(l-1)} \cdots W^{(1)}\big)^\top,

    is what :func:`gradlab.mlp.backward` computes from the whole batch, at a cost independent of
    N. Every layer takes the step :math:`W^{(l)} \leftarrow W^{(l)} - \alpha\,\partial L/\partial W^{(l)}`
    at once.

    Parameters
    ----------
    net : gradlab.mlp.Network
        Linear hidden and output activations and zero biases; copied, not modified.
    X : array_like, shape (N, n_0)
    Y : array_like, shape (N, n_L)
    lr : float
        :math:`\alpha`, ``>= 0``.
    target_loss : float
        Stop as soon as the loss is ``<= target_loss`` (``>= 0``).
    max_steps : int
        Stop after this many steps, ``>= 1``.

    Returns
    -------
    LinearRun

    Raises
    ------
    TypeError
        If ``net`` is not a Network or an argument has the wrong type.
    ValueError
        If the network is not linear or has a non-zero bias, the shapes of ``X`` and ``Y`` do
        not fit it, or a number is out of range.
    """
    mlp.check_net(net)
    if net.hidden.name != "linear" or net.output.name != "linear":
        raise ValueError(
            "net must be a deep linear network (hidden and output 'linear'), "
            f"got {net.hidden.name!r} and {net.output.name!r}"
        )
    if any(np.any(b != 0) for b in net.b.values()):
        raise ValueError("net must have zero biases (a deep linear network without offsets)")
    Xa = check_finite(as_array(X, "X", ndim=2, dtype=np.float64), "X")
    Ya = check_finite(as_array(Y, "Y", ndim=2, dtype=np.float64), "Y")
    if Xa.shape[1] != net.sizes[0]:
        raise ValueError(f"X must have shape (N, n_0) = (N, {net.sizes[0]}), got {Xa.shape}")
    if Ya.shape != (Xa.shape[0], net.sizes[-1]):
        raise ValueError(f"Y must have shape (N, n_L) = ({Xa.shape[0]}, {net.sizes[-1]}), got {Ya.shape}")
    lr = check_nonnegative(lr, "lr")
    target = check_nonnegative(target_loss, "target_loss")
    max_steps = check_positive_int(max_steps, "max_steps")

    N = Xa.shape[0]
    s_xx = Xa.T @ Xa / N
    s_yx = Ya.T @ Xa / N
    const = 0.5 * float(np.sum(Ya * Ya)) / N
    work = net.copy()
    W = {l: w.astype(np.float64) for l, w in work.W.items()}
    L = net.L
    eye = np.eye(net.sizes[0])
    losses: list[float] = []
    steps: int | None = None
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below, not warned about
        for step in range(max_steps + 1):
            below = [eye]  # below[l] = W(l) ... W(1), shape (n_l, n_0)
            for l in range(1, L + 1):
                below.append(W[l] @ below[-1])
            P = below[L]
            PS = P @ s_xx
            loss = 0.5 * float(np.sum(PS * P)) - float(np.sum(P * s_yx)) + const
            losses.append(loss)
            if not math.isfinite(loss) or loss > _DIVERGED * max(losses[0], 1e-300):
                diverged = True
                break
            if loss <= target:
                steps = step
                break
            if step == max_steps:
                break
            # lr (W(L)...W(l+1))^T (W Sxx - Syx), starting at l = L; the step lr dL/dW(l) is then one product
            back = lr * (PS - s_yx)
            for l in range(L, 0, -1):
                step = back @ below[l - 1].T
                back = W[l].T @ back  # with W(l) before its step
                W[l] -= step
    for l in range(1, L + 1):
        work.W[l] = W[l].astype(net.dtype, copy=False)
    return LinearRun(np.asarray(losses), steps, diverged, work)


# ---------------------------------------------------------------------------
# Saxe et al.'s exact learning time of one mode
# ---------------------------------------------------------------------------


def _check_mode(s: Any, u0: Any, depth: Any, lr: Any) -> tuple[float, float, int, float]:
    checked = check_positive(s, "s"), check_positive(u0, "u0")
    return checked[0], checked[1], check_positive_int(depth, "depth"), check_positive(lr, "lr")


def _time_to(y: float, s: float, u0: float, depth: int, lr: float) -> float:
    """Time for the gap s - u to shrink from s - u0 to exp(y) (s - u0), y <= 0 (see learning_time)."""
    if y == 0.0 or s == u0:
        return 0.0
    p = 2.0 - 2.0 / depth
    value, _ = quad(lambda v: (s - math.exp(v) * (s - u0)) ** -p, y, 0.0, epsabs=0.0, epsrel=1e-12, limit=200)
    return value / (depth * lr)


def learning_time(s: float, u0: float, uf: float, *, depth: int, lr: float) -> float:
    r"""Saxe et al.'s exact time for one mode of a deep linear network to go from strength ``u0`` to ``uf``.

    With white inputs, a teacher :math:`M = \sum_k s_k\, o_k i_k^\top` (its singular value decomposition)
    and *decoupled* initial conditions (every layer maps the teacher's singular directions onto each
    other, with the same strength :math:`a` in all L layers), gradient flow with learning rate
    :math:`\alpha` keeps the modes apart, and the strength :math:`u = a^L` of the product along
    one mode obeys (Saxe et al., 2014, with their :math:`N_l - 1 = L` and :math:`\tau = 1/\alpha`)

    .. math:: \frac{1}{\alpha}\frac{du}{dt} = L\,u^{2 - 2/L}\,(s - u),
              \qquad\text{so}\qquad
              t = \frac{1}{\alpha L}\int_{u_0}^{u_f} \frac{du}{u^{2-2/L}\,(s - u)} .

    For :math:`L = 1` this is :math:`\tfrac1\alpha \ln\frac{s - u_0}{s - u_f}`, for :math:`L = 2`
    (one hidden layer) their closed form :math:`\frac{1}{2\alpha s}\ln\frac{u_f(s - u_0)}{u_0(s - u_f)}`;
    as :math:`L \to \infty` with :math:`\alpha L` fixed, the integrand tends to
    :math:`1/(u^2(s-u))` and the time stays finite. The integral is evaluated in the variable
    :math:`y = \ln\frac{s - u}{s - u_0}`, in which it is :math:`\int_{y_f}^0 u(y)^{-(2-2/L)}\,dy`,
    with a smooth, bounded integrand, by adaptive quadrature to a relative :math:`10^{-12}`.
    ``t`` is in units of steps of size :math:`\alpha`: gradient descent with that step follows it
    in the limit of small :math:`\alpha`.

    Parameters
    ----------
    s : float
        The teacher's singular value, ``> 0``.
    u0 : float
        The initial strength, ``> 0`` (below or above ``s``).
    uf : float
        The final strength: between ``u0`` (included) and ``s`` (excluded), which u approaches
        but never reaches.
    depth : int
        L, the number of weight matrices, ``>= 1``.
    lr : float
        :math:`\alpha`, ``> 0``.

    Returns
    -------
    float
        The time t, ``>= 0``.

    Raises
    ------
    TypeError
        If an argument is not a real number (``depth`` not an integer).
    ValueError
        If a number is out of range, or ``uf`` is not between ``u0`` and ``s``.
    """
    s, u0, depth, lr = _check_mode(s, u0, depth, lr)
    uf = check_real(uf, "uf")
    if not (min(u0, s) <= uf <= max(u0, s)) or (uf == s and u0 != s):
        raise ValueError(f"uf must lie between u0 = {u0} (included) and s = {s} (excluded), got {uf}")
    if u0 == s:
        return 0.0
    return _time_to(math.log((s - uf) / (s - u0)), s, u0, depth, lr)


def mode_strength(t: float, s: float, u0: float, *, depth: int, lr: float) -> float:
    r"""The strength :math:`u(t)` of one mode in Saxe et al.'s solution: the inverse of :func:`learning_time`.

    Solves ``learning_time(s, u0, u, depth=depth, lr=lr) == t`` for u, between ``u0`` and ``s``, by
    Brent's method in :math:`y = \ln\frac{s - u}{s - u_0}`; :math:`u(t)` approaches s
    monotonically and is returned as ``s`` once the gap underflows.

    Parameters
    ----------
    t : float
        Time in steps of size ``lr``, ``>= 0``.
    s, u0 : float
        The teacher's singular value and the initial strength, each ``> 0``.
    depth : int
        L, ``>= 1``.
    lr : float
        :math:`\alpha`, ``> 0``.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or is out of range.
    """
    t = check_nonnegative(t, "t")
    s, u0, depth, lr = _check_mode(s, u0, depth, lr)
    if t == 0.0 or u0 == s:
        return u0
    # the integrand is >= max(u0, s)^-p, so the time to the gap exp(y) is >= |y| max(u0, s)^-p / (alpha L)
    y_lo = -(t * depth * lr * max(u0, s) ** (2.0 - 2.0 / depth) + 1.0)
    if y_lo < -700.0 and _time_to(-700.0, s, u0, depth, lr) <= t:
        return s  # the gap is below exp(-700) (s - u0): u = s in double precision
    y = brentq(lambda v: _time_to(v, s, u0, depth, lr) - t, max(y_lo, -700.0), 0.0, xtol=1e-14, rtol=1e-14)
    return s - math.exp(y) * (s - u0)
