r"""Deep linear networks trained by full-batch gradient descent on a linear teacher task.

A deep linear network, :math:`a^{(L)} = W^{(L)} \cdots W^{(1)} x`, computes only a linear map,
but its gradient descent is nonlinear: the gradient of one layer is multiplied by all the
others. Saxe et al. (2014) solved these dynamics for white inputs and found that the learning
time need not grow with depth when the initial product is an isometry. This module provides
their task (:func:`linear_teacher`) and the trainer (:func:`train_deep_linear`); the spectra of
the networks are in :mod:`gradlab.isometry`.

References
----------
A. M. Saxe, J. L. McClelland, S. Ganguli (2014), "Exact solutions to the nonlinear dynamics of
learning in deep linear neural networks".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import mlp
from ._validate import as_array, check_finite, check_nonnegative, check_positive_int, check_rng

__all__ = ["linear_teacher", "LinearRun", "train_deep_linear"]

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
            back = PS - s_yx  # (W(L)...W(l+1))^T (W Sxx - Syx), starting at l = L
            for l in range(L, 0, -1):
                grad = back @ below[l - 1].T
                back = W[l].T @ back
                W[l] -= lr * grad
    for l in range(1, L + 1):
        work.W[l] = W[l].astype(net.dtype, copy=False)
    return LinearRun(np.asarray(losses), steps, diverged, work)
