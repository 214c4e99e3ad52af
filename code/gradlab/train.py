r"""Plain minibatch SGD that records how fast each layer learns.

The update is :math:`W^{(l)} \leftarrow W^{(l)} - \alpha\, \partial L/\partial W^{(l)}`
(and the same for :math:`b^{(l)}`): a step *down* the gradient. (The seed
note writes ``+``, which climbs the loss; chapter ``ch1_what`` shows it.)
Optionally the gradient is first clipped by its global norm
(:func:`clip_by_global_norm`), the remedy for exploding gradients of
Pascanu, Mikolov & Bengio (2013), or entry by entry (:func:`clip_by_value`);
and the step can come from another rule of :mod:`gradlab.optim` (momentum,
RMSProp, Adam) instead of plain SGD.

Recurrent networks (:mod:`gradlab.rnn`, :mod:`gradlab.lstm`, :mod:`gradlab.gru`) train with
:func:`train_recurrent` on the tasks of :mod:`gradlab.seqtasks`; the clipping functions accept their
gradients (:class:`gradlab.bptt.SeqGradients`) and any parameter dict ``{name: gradient}`` as well.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng
from . import bptt, optim, seqtasks
from .mlp import DEFAULT_LOSS, Gradients, Network, _norm, backward, check_net, forward, resolve_loss

__all__ = [
    "History", "global_norm", "clip_by_global_norm", "clip_by_value", "sgd_step", "train_sgd", "accuracy",
    "RecurrentHistory", "train_recurrent",
]

#: What the clipping functions accept: an MLP's gradients, a recurrent net's, or a parameter dict.
GradLike = Gradients | bptt.SeqGradients | dict[str, NDArray[Any]]


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
        Shape (steps, L): :math:`\|\partial L/\partial W^{(l)}\|_F` per step and layer
        (before any clipping: the gradient the network produced).
    grad_b : numpy.ndarray
        Shape (steps, L): :math:`\|\partial L/\partial b^{(l)}\| = \|\sum_{\text{batch}} \delta^{(l)}\|`,
        Nielsen's "speed of learning" of layer l.
    network : Network
        The trained network (a copy; the input network is untouched).
    diverged_at : int | None
        The first step whose output, loss or gradient was not finite
        (``loss[diverged_at] == inf``); training stopped there.
    update_ratio : numpy.ndarray
        Shape (steps, L): the update-to-weight ratio
        :math:`\|\Delta W^{(l)}\|_F / \|W^{(l)}\|_F` of each step and layer, with
        :math:`\Delta W^{(l)}` the step the optimiser took (after clipping; for SGD
        :math:`\alpha\,\partial L/\partial W^{(l)}`) and :math:`W^{(l)}` the weights
        before it; ``inf`` where :math:`W^{(l)} = 0`. ``None`` only in a History built by hand.
    clipped : numpy.ndarray
        Shape (steps,), bool: whether the step's gradient was changed by clipping
        (always ``False`` without clipping). ``None`` only in a History built by hand.
    """

    loss: NDArray[np.float64]
    grad_W: NDArray[np.float64]
    grad_b: NDArray[np.float64]
    network: Network
    diverged_at: int | None
    update_ratio: NDArray[np.float64] | None = None
    clipped: NDArray[np.bool_] | None = None

    @property
    def clipped_fraction(self) -> float:
        """The fraction of steps whose gradient was clipped (NaN when no step was taken)."""
        if self.clipped is None or self.clipped.size == 0:
            return float("nan")
        return float(np.mean(self.clipped))


def _check_grads(grads: Any) -> GradLike:
    if isinstance(grads, (Gradients, bptt.SeqGradients)):
        return grads
    if isinstance(grads, Mapping) and grads and all(
            isinstance(k, str) and isinstance(v, np.ndarray) and v.dtype.kind == "f" for k, v in grads.items()):
        return grads
    raise TypeError("grads must be a gradlab.mlp.Gradients, a gradlab.bptt.SeqGradients or a non-empty dict "
                    f"{{name: float array}}, got {type(grads).__name__}")


def _param_arrays(grads: GradLike) -> list[NDArray[Any]]:
    """The arrays a step uses: dW and db of an MLP, the parameter gradients otherwise."""
    if isinstance(grads, Gradients):
        return [*grads.dW.values(), *grads.db.values()]
    return list((grads.params if isinstance(grads, bptt.SeqGradients) else grads).values())


def global_norm(grads: GradLike) -> float:
    r"""The norm of the whole parameter gradient, every layer's weights and biases together.

    .. math:: \|g\| = \Big(\sum_{l=1}^{L} \big\|\partial L/\partial W^{(l)}\big\|_F^2
              + \big\|\partial L/\partial b^{(l)}\big\|^2\Big)^{1/2}

    Computed in float64 from ``grads.norms``. For a :class:`gradlab.bptt.SeqGradients` or a parameter
    dict ``{name: gradient}``, the same over every parameter.
    """
    grads = _check_grads(grads)
    if not isinstance(grads, Gradients):
        return float(np.sqrt(sum(float(np.vdot(v, v)) for v in _param_arrays(grads))))
    return float(np.sqrt(np.sum(grads.norms["W"] ** 2) + np.sum(grads.norms["b"] ** 2)))


def clip_by_global_norm(grads: GradLike, max_norm: float) -> GradLike:
    r"""Gradient clipping: rescale the gradient so that its global norm is at most ``max_norm``.

    With :math:`g` the whole parameter gradient (:func:`global_norm`) and threshold
    :math:`\theta`,

    .. math:: g \leftarrow \begin{cases} g & \|g\| \le \theta, \\
              \theta\, g / \|g\| & \|g\| > \theta, \end{cases}

    which keeps the direction of the step and bounds its length by
    :math:`\alpha\theta` (Pascanu, Mikolov & Bengio, 2013). All layers are scaled by
    the same factor :math:`c = \min(1, \theta/\|g\|)`; so are ``delta`` and ``da0``,
    so the result is the gradient of :math:`c\,L`.

    Parameters
    ----------
    grads : Gradients, SeqGradients or dict
        From :func:`gradlab.mlp.backward`, from a recurrent net's ``backward``
        (:class:`gradlab.bptt.SeqGradients`; its ``dstates`` and ``dx`` are scaled too), or a
        parameter dict ``{name: gradient}``; every entry must be finite.
    max_norm : float
        The threshold :math:`\theta > 0`.

    Returns
    -------
    The same kind as ``grads``
        ``grads`` itself when its norm is at most ``max_norm``, otherwise a rescaled copy
        (same dtypes).
    """
    grads = _check_grads(grads)
    max_norm = check_positive(max_norm, "max_norm")
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise ValueError(f"grads must be finite to be clipped, but its global norm is {norm}")
    if norm <= max_norm:
        return grads
    c = max_norm / norm

    def scaled(d: dict[Any, NDArray[Any]]) -> dict[Any, NDArray[Any]]:
        return {l: (c * v).astype(v.dtype, copy=False) for l, v in d.items()}

    if isinstance(grads, bptt.SeqGradients):
        return bptt.SeqGradients(scaled(grads.params), scaled(grads.dstates), c * grads.dx)
    if not isinstance(grads, Gradients):
        return scaled(grads)
    return Gradients(scaled(grads.delta), scaled(grads.dW), scaled(grads.db),
                     (c * grads.da0).astype(grads.da0.dtype, copy=False))


def clip_by_value(grads: GradLike, limit: float) -> GradLike:
    r"""Gradient clipping entry by entry: cap every partial derivative at :math:`\pm` ``limit``.

    With threshold :math:`\tau`, every entry of every
    :math:`\partial L/\partial W^{(l)}` and :math:`\partial L/\partial b^{(l)}` becomes

    .. math:: g_i \leftarrow \max(-\tau, \min(g_i, \tau)).

    Unlike :func:`clip_by_global_norm` this changes the *direction* of the step
    as soon as some entries are capped and others are not (Mikolov, 2012, used
    it for recurrent networks): the largest partial derivatives lose their lead.
    The result is the gradient of no loss, so ``delta`` and ``da0`` are passed
    through unchanged; only ``dW`` and ``db`` (what a step uses) are clipped.

    Parameters
    ----------
    grads : Gradients, SeqGradients or dict
        From :func:`gradlab.mlp.backward`, a :class:`gradlab.bptt.SeqGradients` (only its ``params``
        are clipped), or a parameter dict ``{name: gradient}``; the parameter gradients must be finite.
    limit : float
        The threshold :math:`\tau > 0`.

    Returns
    -------
    The same kind as ``grads``
        ``grads`` itself when no entry exceeds ``limit`` in absolute value, otherwise a
        copy with clipped ``dW`` and ``db`` (the parameter gradients; same dtypes).
    """
    grads = _check_grads(grads)
    limit = check_positive(limit, "limit")
    arrays = _param_arrays(grads)
    if not all(np.all(np.isfinite(v)) for v in arrays):
        raise ValueError("grads must be finite to be clipped")
    if all(np.max(np.abs(v), initial=0.0) <= limit for v in arrays):
        return grads

    def capped(d: dict[Any, NDArray[Any]]) -> dict[Any, NDArray[Any]]:
        return {l: np.clip(v, -limit, limit).astype(v.dtype, copy=False) for l, v in d.items()}

    if isinstance(grads, bptt.SeqGradients):
        return bptt.SeqGradients(capped(grads.params), grads.dstates, grads.dx)
    if not isinstance(grads, Gradients):
        return capped(grads)
    return Gradients(grads.delta, capped(grads.dW), capped(grads.db), grads.da0)


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
    clip_norm: float | None = None,
    rng: np.random.Generator | int,
    optimiser: str | optim.Optimiser = "sgd",
    clip_value: float | None = None,
) -> History:
    r"""Train a copy of ``net`` by minibatch SGD, shuffling with ``rng`` each epoch.

    Identical seeds give identical histories. Training stops early, with
    ``diverged_at`` set, as soon as the network's output stops being finite:
    that is what an exploding loss looks like in floating point. The loss is
    softmax cross-entropy unless ``loss`` names another. With ``clip_norm`` set,
    each step uses :func:`clip_by_global_norm` of the minibatch gradient with that
    threshold; with ``clip_value`` set, :func:`clip_by_value` (not both). The
    history records the gradient before clipping, and whether it was clipped.

    The step is plain SGD, :math:`\Delta = \alpha g` with :math:`\alpha` = ``lr``,
    unless ``optimiser`` names another rule of :mod:`gradlab.optim` (``"momentum"``,
    ``"nesterov"``, ``"rmsprop"``, ``"adam"``, with default hyperparameters) or is an
    :class:`gradlab.optim.Optimiser` such as ``optim.Adam(beta2=0.99)``; every rule
    gets the same ``lr`` and starts from a fresh state.
    """
    X = check_finite(as_array(X, "X", ndim=2, dtype=check_net(net).dtype), "X")
    y_arr = np.asarray(y)
    if y_arr.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one target per row of X ({X.shape[0]}), got {y_arr.shape[0]}")
    lo = resolve_loss(net, loss)
    lr = check_nonnegative(lr, "lr")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if clip_norm is not None:
        clip_norm = check_positive(clip_norm, "clip_norm")
    if clip_value is not None:
        clip_value = check_positive(clip_value, "clip_value")
        if clip_norm is not None:
            raise ValueError("give clip_norm or clip_value, not both")
    opt = optim.get(optimiser)
    gen = check_rng(rng)
    work = net.copy()
    state = opt.init(work)
    layers = range(1, work.L + 1)
    rec_loss: list[float] = []
    rec_W: list[NDArray[np.float64]] = []
    rec_b: list[NDArray[np.float64]] = []
    rec_ratio: list[NDArray[np.float64]] = []
    rec_clipped: list[bool] = []
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
            unclipped = grads
            if clip_norm is not None:
                grads = clip_by_global_norm(grads, clip_norm)
            elif clip_value is not None:
                grads = clip_by_value(grads, clip_value)
            rec_clipped.append(grads is not unclipped)
            # an inf weight is caught at the next step; W = 0 gives the ratio inf
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # opt.step and optim.apply without their argument checks: these arguments are known good
                delta, state = opt._step(optim.LayerArrays(grads.dW, grads.db), state, lr)
                rec_ratio.append(np.array([_norm(delta.W[l]) for l in layers])
                                 / np.array([_norm(work.W[l]) for l in layers]))
                optim._apply(work, delta)  # W <- W - delta: for SGD exactly sgd_step(work, grads, lr)
        if diverged_at is not None:
            break
    empty = np.empty((0, work.L))
    return History(
        loss=np.asarray(rec_loss, dtype=np.float64),
        grad_W=np.asarray(rec_W, dtype=np.float64) if rec_W else empty,
        grad_b=np.asarray(rec_b, dtype=np.float64) if rec_b else empty,
        network=work,
        diverged_at=diverged_at,
        update_ratio=np.asarray(rec_ratio, dtype=np.float64) if rec_ratio else empty,
        clipped=np.asarray(rec_clipped, dtype=bool),
    )


def accuracy(net: Network, X: ArrayLike, labels: ArrayLike) -> float:
    """Fraction of rows whose largest output is the true class.
    """
    out = forward(net, X).a[net.L]
    lab = np.asarray(labels)
    if lab.shape != (out.shape[0],):
        raise ValueError(f"labels must have shape ({out.shape[0]},), got {lab.shape}")
    return float(np.mean(np.argmax(out, axis=1) == lab))


@dataclass(frozen=True)
class RecurrentHistory:
    r"""What :func:`train_recurrent` recorded.

    Attributes
    ----------
    loss : numpy.ndarray
        (steps,): the task loss (:func:`gradlab.seqtasks.loss`) of each step's batch before the step;
        shorter after a blow-up, whose last entry is the non-finite loss (or the loss whose gradient
        was not finite).
    grad_norm : numpy.ndarray
        (steps,): the global norm of the gradient before clipping; the last entry may be inf or NaN
        after a blow-up.
    clipped : numpy.ndarray
        (steps,) bool: whether clipping changed the step's gradient.
    record_steps : numpy.ndarray
        The steps (0-based) at which ``accuracy`` was recorded: 0, ``record_every``, ...
    accuracy : numpy.ndarray
        :func:`gradlab.seqtasks.accuracy` of the batch of each recorded step, before the step.
    network : Any
        The trained net (a copy; the input net is untouched).
    diverged_at : int | None
        The step whose loss or gradient was not finite; training stopped there (no step taken).
    """

    loss: NDArray[np.float64]
    grad_norm: NDArray[np.float64]
    clipped: NDArray[np.bool_]
    record_steps: NDArray[np.int64]
    accuracy: NDArray[np.float64]
    network: Any
    diverged_at: int | None

    @property
    def clipped_fraction(self) -> float:
        """The fraction of steps whose gradient was clipped (NaN when no step was taken)."""
        return float(np.mean(self.clipped)) if self.clipped.size else float("nan")


def train_recurrent(
    cell: Any,
    net: Any,
    batches: Callable[[int], seqtasks.SeqBatch],
    *,
    steps: int,
    optimiser: str | optim.Optimiser = "adam",
    lr: float,
    clip_norm: float | None = None,
    truncate: int | None = None,
    record_every: int = 1,
) -> RecurrentHistory:
    r"""Train a copy of a recurrent ``net`` on the batches ``batches(0), batches(1), ...``, one step each.

    Each step runs :func:`gradlab.bptt.forward`, the task loss of :func:`gradlab.seqtasks.loss`,
    :func:`gradlab.bptt.backward` (BPTT(k) with ``truncate=k``), optionally
    :func:`clip_by_global_norm` with threshold ``clip_norm``, and one step of ``optimiser``
    (a name of :mod:`gradlab.optim` or an :class:`gradlab.optim.Optimiser`) with learning rate ``lr``
    on the net's parameter dict. A non-finite loss or gradient is recorded and ends training
    (``diverged_at``), without an error or a warning, so a blow-up can be shown.

    ``batches`` maps the step number to a :class:`gradlab.seqtasks.SeqBatch`; seed it yourself, e.g.
    ``lambda i: seqtasks.adding_problem(32, 50, rng=1000 + i)``, so identical arguments give identical runs.
    """
    bptt._check_cell(cell)
    bptt._net_params(net)
    if not callable(batches):
        raise TypeError(f"batches must be callable, step -> SeqBatch, got {type(batches).__name__}")
    steps = check_positive_int(steps, "steps")
    lr = check_nonnegative(lr, "lr")
    if clip_norm is not None:
        clip_norm = check_positive(clip_norm, "clip_norm")
    truncate = bptt.check_truncate(truncate)
    record_every = check_positive_int(record_every, "record_every")
    opt = optim.get(optimiser)
    work = copy.deepcopy(net)
    state = opt.init(work.params)
    losses: list[float] = []
    norms: list[float] = []
    clipped: list[bool] = []
    acc: list[float] = []
    diverged_at = None
    for i in range(steps):
        batch = batches(i)
        if not isinstance(batch, seqtasks.SeqBatch):
            raise TypeError(f"batches({i}) must return a gradlab.seqtasks.SeqBatch, got {type(batch).__name__}")
        with np.errstate(all="ignore"):  # overflow is the phenomenon under study: detect it, stop
            fwd = bptt.forward(cell, work, batch.x)
            value, dY = seqtasks.loss(batch, fwd.Y)
            losses.append(value)
            if i % record_every == 0:
                acc.append(seqtasks.accuracy(batch, fwd.Y))
            if not np.isfinite(value):
                diverged_at = i
                break
            grads = bptt.backward(cell, work, fwd, dY, truncate=truncate)
            norm = grads.norm()
            norms.append(norm)
            if not np.isfinite(norm):
                diverged_at = i
                break
            g = raw = grads.as_dict()
            if clip_norm is not None:
                g = clip_by_global_norm(raw, clip_norm)
            clipped.append(g is not raw)
            delta, state = opt.step(g, state, lr)
            optim.apply(work.params, delta)
    return RecurrentHistory(
        loss=np.asarray(losses, dtype=np.float64),
        grad_norm=np.asarray(norms, dtype=np.float64),
        clipped=np.asarray(clipped, dtype=bool),
        record_steps=np.arange(0, len(losses), record_every, dtype=np.int64)[: len(acc)],
        accuracy=np.asarray(acc, dtype=np.float64),
        network=work,
        diverged_at=diverged_at,
    )
