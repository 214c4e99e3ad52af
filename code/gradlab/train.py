r"""Plain minibatch SGD that records how fast each layer learns.

The update is :math:`W^{(l)} \leftarrow W^{(l)} - \alpha\, \partial L/\partial W^{(l)}`
(and the same for :math:`b^{(l)}`): a step *down* the gradient. (The seed
note writes ``+``, which climbs the loss; chapter ``ch1_what`` shows it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_finite, check_nonnegative, check_positive_int, check_rng
from .mlp import DEFAULT_LOSS, Gradients, Network, backward, check_net, forward, resolve_loss

__all__ = ["History", "sgd_step", "train_sgd", "accuracy"]


@dataclass(frozen=True)
class History:
    r"""What :func:`train_sgd` recorded, one row per step.

    Attributes
    ----------
    loss : numpy.ndarray
        Shape (steps,), or (steps + 1,) after divergence: minibatch loss before
        each step; after divergence one last entry, ``inf``, for the step that
        could not be taken.
    grad_W : numpy.ndarray
        Shape (steps, L): :math:`\|\partial L/\partial W^{(l)}\|_F` per step and layer.
    grad_b : numpy.ndarray
        Shape (steps, L): :math:`\|\partial L/\partial b^{(l)}\| = \|\sum_{\text{batch}} \delta^{(l)}\|`,
        Nielsen's "speed of learning" of layer l.
    network : Network
        The trained network (a copy; the input network is untouched).
    diverged_at : int | None
        The first step whose output, loss or gradient was not finite
        (``loss[diverged_at] == inf``); training stopped there.
    """

    loss: NDArray[np.float64]
    grad_W: NDArray[np.float64]
    grad_b: NDArray[np.float64]
    network: Network
    diverged_at: int | None


def sgd_step(net: Network, grads: Gradients, lr: float) -> None:
    r"""In place: :math:`W^{(l)} \mathrel{-}= \alpha\,\partial L/\partial W^{(l)}`, same for :math:`b^{(l)}`.
    """
    lr = check_nonnegative(lr, "lr")
    for l in range(1, net.L + 1):
        net.W[l] -= lr * grads.dW[l]
        net.b[l] -= lr * grads.db[l]


def train_sgd(
    net: Network,
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: Any = DEFAULT_LOSS,
    lr: float,
    epochs: int = 1,
    batch_size: int = 32,
    rng: np.random.Generator | int,
) -> History:
    """Train a copy of ``net`` by minibatch SGD, shuffling with ``rng`` each epoch.

    Identical seeds give identical histories. Training stops early, with
    ``diverged_at`` set, as soon as the network's output stops being finite:
    that is what an exploding loss looks like in floating point. The loss is
    softmax cross-entropy unless ``loss`` names another.
    """
    X = check_finite(as_array(X, "X", ndim=2, dtype=check_net(net).dtype), "X")
    y_arr = np.asarray(y)
    if y_arr.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one target per row of X ({X.shape[0]}), got {y_arr.shape[0]}")
    lo = resolve_loss(net, loss)
    lr = check_nonnegative(lr, "lr")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    gen = check_rng(rng)
    work = net.copy()
    rec_loss: list[float] = []
    rec_W: list[NDArray[np.float64]] = []
    rec_b: list[NDArray[np.float64]] = []
    diverged_at = None
    for _ in range(epochs):
        order = gen.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start : start + batch_size]
            # Overflow is the phenomenon under study, not a bug: detect it and stop.
            with np.errstate(over="ignore", invalid="ignore"):
                fwd = forward(work, X[idx])
                out = fwd.a[work.L]
                finite = bool(np.all(np.isfinite(out)))
                if finite:
                    value = lo.value(out, y_arr[idx])
                    grads = backward(work, fwd, lo.grad(out, y_arr[idx]))
                    finite = bool(np.isfinite(value) and all(np.all(np.isfinite(v)) for v in grads.norms.values()))
            if not finite:
                diverged_at = len(rec_loss)
                rec_loss.append(np.inf)
                break
            rec_loss.append(value)
            rec_W.append(grads.norms["W"])
            rec_b.append(grads.norms["b"])
            with np.errstate(over="ignore", invalid="ignore"):  # an inf weight is caught at the next step
                sgd_step(work, grads, lr)
        if diverged_at is not None:
            break
    empty = np.empty((0, work.L))
    return History(
        loss=np.asarray(rec_loss, dtype=np.float64),
        grad_W=np.asarray(rec_W, dtype=np.float64) if rec_W else empty,
        grad_b=np.asarray(rec_b, dtype=np.float64) if rec_b else empty,
        network=work,
        diverged_at=diverged_at,
    )


def accuracy(net: Network, X: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of rows whose largest output is the true class.
    """
    out = forward(net, X).a[net.L]
    lab = np.asarray(labels)
    if lab.shape != (out.shape[0],):
        raise ValueError(f"labels must have shape ({out.shape[0]},), got {lab.shape}")
    return float(np.mean(np.argmax(out, axis=1) == lab))
