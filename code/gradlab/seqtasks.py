r"""Synthetic long-range tasks for recurrent networks: the adding problem and the copy task.

Both put the information a network needs at the start of a sequence and ask for it at the end, so
learning them needs a gradient that survives the lag between the two (Hochreiter & Schmidhuber, 1997).
Each generator returns a :class:`SeqBatch` (inputs, targets and the mask of steps that carry a loss);
:func:`loss` and :func:`accuracy` judge a model's read-outs :math:`\hat y^{(t)}` on it. Steps are
numbered t = 1..T in the text and stored at index t - 1.

**Adding problem** (:func:`adding_problem`), in the convention of Arjovsky, Shah & Bengio (2016,
section 4.2), also used by Le, Jaitly & Hinton (2015): :math:`x^{(t)} = (v_t, m_t)` with values
:math:`v_t \sim U(0, 1)` and markers :math:`m_t \in \{0, 1\}`; exactly two markers, one at a uniformly
drawn step of the first half :math:`t \le \lfloor T/2 \rfloor`, the other in the second half. The target
is the sum of the two marked values, read at step :math:`T` only; the loss is the mean squared error
:math:`(\hat y^{(T)} - y)^2` (no factor 1/2). Predicting the mean, 1, whatever the input, scores the
variance of a sum of two independent :math:`U(0,1)`, :math:`2 \cdot \tfrac1{12} = \tfrac16`
(:data:`ADDING_BASELINE_MSE`). A sequence is solved when :math:`|\hat y^{(T)} - y| < 0.04`
(Hochreiter & Schmidhuber's criterion).

**Copy task** (:func:`copy_task`), after Hochreiter & Schmidhuber (1997) and Arjovsky et al. (2016):
classes 0 = blank, 1..S = the symbols (S = ``n_symbols``), S + 1 = the cue. With :math:`\ell` = ``length``
and :math:`D` = ``delay``, the input has :math:`T = \ell + D + \ell` steps:

* steps :math:`1..\ell`: the symbols to remember, uniform on 1..S;
* steps :math:`\ell+1..\ell+D`: blanks, except the cue S + 1 at the last of them, step :math:`\ell + D`;
* steps :math:`\ell+D+1..T`: blanks, during which the model must output the :math:`\ell` symbols in order.

(Arjovsky et al.'s ``T`` is our :math:`D`: their :math:`T - 1` blanks and the delimiter.) Inputs are
one-hot, :math:`n_{in} = S + 2`; targets are class ids, 0 on the first :math:`\ell + D` steps; the loss
is softmax cross-entropy averaged over the last :math:`\ell` steps only, read from
:math:`n_{out} \ge S + 1` logits (class :math:`c` is logit :math:`c`; ``SeqBatch.n_out`` = S + 1,
blank and symbols). A model without memory that knows the symbol alphabet scores :math:`\log S` per output
step (:func:`copy_baseline`); Arjovsky et al. average over all :math:`T` steps instead and quote
:math:`\ell \log S / T`, which :func:`copy_baseline` returns when given the delay.

References
----------
S. Hochreiter & J. Schmidhuber (1997), "Long short-term memory", *Neural Computation* 9(8), 1735-1780.
Q. V. Le, N. Jaitly & G. E. Hinton (2015), "A simple way to initialize recurrent networks of rectified
linear units", arXiv:1504.00941.
M. Arjovsky, A. Shah & Y. Bengio (2016), "Unitary evolution recurrent neural networks", *ICML*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_array, check_positive_int, check_rng

__all__ = [
    "TASKS", "ADDING_BASELINE_MSE", "ADDING_TOLERANCE", "SeqBatch", "adding_problem", "copy_task",
    "copy_baseline", "loss", "accuracy",
]

Array = NDArray[np.float64]

#: Task names, as in ``SeqBatch.name``.
TASKS: tuple[str, ...] = ("adding", "copy")
#: The MSE of the constant prediction 1 on the adding problem, the variance 1/6 of a sum of two U(0, 1).
ADDING_BASELINE_MSE: float = 1.0 / 6.0
#: A sequence of the adding problem counts as solved when :math:`|\hat y - y|` is below this (Hochreiter & Schmidhuber).
ADDING_TOLERANCE: float = 0.04


@dataclass(frozen=True)
class SeqBatch:
    r"""A batch of sequences of one task.

    Attributes
    ----------
    x : numpy.ndarray
        Inputs, (B, T, n_in), float64.
    target : numpy.ndarray
        (B, T): the target at each step, meaningful where ``mask`` is True and 0 elsewhere; float64
        sums for ``"adding"``, int64 class ids for ``"copy"``.
    mask : numpy.ndarray
        (B, T) bool: the steps that carry a loss.
    name : str
        ``"adding"`` or ``"copy"``.
    n_out : int
        The read-out width the task's :func:`loss` expects: 1 for adding, S + 1 (at least) for copy.
    """

    x: Array
    target: NDArray[Any]
    mask: NDArray[np.bool_]
    name: str
    n_out: int

    @property
    def B(self) -> int:
        """Number of sequences."""
        return int(self.x.shape[0])

    @property
    def T(self) -> int:
        """Sequence length."""
        return int(self.x.shape[1])

    @property
    def n_in(self) -> int:
        """Input features per step."""
        return int(self.x.shape[2])


def adding_problem(n: int, T: int, *, rng: np.random.Generator | int) -> SeqBatch:
    r"""``n`` sequences of the adding problem of length ``T`` (>= 2): inputs (n, T, 2) = (value, marker).

    The marked steps are uniform on :math:`1..\lfloor T/2\rfloor` and :math:`\lfloor T/2\rfloor + 1..T`;
    the target, at step T, is the sum of the two marked values. Draws values, then the first and the
    second marker positions, from ``rng``.
    """
    n = check_positive_int(n, "n")
    T = check_positive_int(T, "T", minimum=2)
    gen = check_rng(rng)
    values = gen.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = gen.integers(0, half, size=n)
    second = gen.integers(half, T, size=n)
    rows = np.arange(n)
    markers = np.zeros((n, T))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = np.zeros((n, T))
    target[:, -1] = values[rows, first] + values[rows, second]
    mask = np.zeros((n, T), dtype=bool)
    mask[:, -1] = True
    return SeqBatch(np.stack([values, markers], axis=2), target, mask, "adding", 1)


def copy_task(n: int, delay: int, *, n_symbols: int = 8, length: int = 10, rng: np.random.Generator | int) -> SeqBatch:
    r"""``n`` sequences of the copy task: ``length`` symbols, ``delay`` blanks ending in the cue, ``length`` outputs.

    T = 2 ``length`` + ``delay``; inputs one-hot, (n, T, n_symbols + 2); targets (n, T) class ids,
    the symbols on the last ``length`` steps (the mask) and 0 before. See the module docstring.
    """
    n = check_positive_int(n, "n")
    delay = check_positive_int(delay, "delay")
    S = check_positive_int(n_symbols, "n_symbols")
    length = check_positive_int(length, "length")
    gen = check_rng(rng)
    T = 2 * length + delay
    symbols = gen.integers(1, S + 1, size=(n, length))
    ids = np.zeros((n, T), dtype=np.int64)
    ids[:, :length] = symbols
    ids[:, length + delay - 1] = S + 1  # the cue, at the last blank
    x = np.zeros((n, T, S + 2))
    np.put_along_axis(x, ids[:, :, None], 1.0, axis=2)
    target = np.zeros((n, T), dtype=np.int64)
    target[:, -length:] = symbols
    mask = np.zeros((n, T), dtype=bool)
    mask[:, -length:] = True
    return SeqBatch(x, target, mask, "copy", S + 1)


def copy_baseline(n_symbols: int, *, length: int | None = None, delay: int | None = None) -> float:
    r"""Cross-entropy of a memoryless model that outputs the uniform distribution over the S symbols.

    :math:`\log S` per output step, the convention of :func:`loss`; with ``length`` and ``delay`` given,
    Arjovsky et al.'s average over all :math:`T = 2\ell + D` steps (blanks predicted perfectly),
    :math:`\ell \log S / T`.
    """
    S = check_positive_int(n_symbols, "n_symbols")
    if (length is None) != (delay is None):
        raise ValueError("give both length and delay (Arjovsky et al.'s all-steps average) or neither")
    if length is None:
        return math.log(S)
    length = check_positive_int(length, "length")
    delay = check_positive_int(delay, "delay")
    return length * math.log(S) / (2 * length + delay)


def _check(batch: Any, Y: ArrayLike) -> tuple[SeqBatch, Array]:
    if not isinstance(batch, SeqBatch):
        raise TypeError(f"batch must be a gradlab.seqtasks.SeqBatch, got {type(batch).__name__}")
    if batch.name not in TASKS:
        raise ValueError(f"batch.name must be one of {list(TASKS)}, got {batch.name!r}")
    Y = as_array(Y, "Y", ndim=3, dtype=np.float64)
    if Y.shape[:2] != batch.mask.shape:
        raise ValueError(f"Y must have shape (B, T, n_out) with (B, T) = {batch.mask.shape}, got {Y.shape}")
    if batch.name == "adding" and Y.shape[2] != 1:
        raise ValueError(f"Y must have n_out = 1 for the adding problem, got {Y.shape[2]}")
    if batch.name == "copy" and Y.shape[2] < batch.n_out:
        raise ValueError(f"Y must have n_out >= {batch.n_out} logits (blank and symbols) for the copy task, got {Y.shape[2]}")
    if not batch.mask.any():
        raise ValueError("batch.mask must mark at least one step")
    return batch, Y


def loss(batch: SeqBatch, Y: ArrayLike) -> tuple[float, Array]:
    r"""The task's loss, averaged over the masked steps, and :math:`\partial L/\partial\hat y` (B, T, n_out).

    Adding: :math:`L = \frac1N \sum_{(b,t)\ \text{masked}} (\hat y_{b}^{(t)} - y_{b}^{(t)})^2`. Copy: softmax
    cross-entropy :math:`L = \frac1N \sum_{\text{masked}} \big(\log\sum_c e^{\hat y_c} - \hat y_{y}\big)`,
    computed with the max subtracted (no overflow for any finite logits). :math:`N` is the number of
    masked steps; ``dY`` is zero at unmasked steps. Non-finite read-outs give a non-finite loss (no error:
    that is how a blow-up shows), without floating-point warnings.
    """
    batch, Y = _check(batch, Y)
    m = batch.mask
    N = int(m.sum())
    dY = np.zeros_like(Y)
    with np.errstate(all="ignore"):
        if batch.name == "adding":
            r = np.where(m, Y[:, :, 0] - batch.target, 0.0)
            dY[:, :, 0] = 2.0 * r / N
            return float(np.sum(r * r) / N), dY
        z = Y[m]  # (N, n_out) logits at the masked steps
        y = batch.target[m]
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.sum(np.exp(z), axis=1))
        value = float(np.sum(lse - z[np.arange(N), y]) / N)
        p = np.exp(z - lse[:, None])
        p[np.arange(N), y] -= 1.0
        dY[m] = p / N
    return value, dY


def accuracy(batch: SeqBatch, Y: ArrayLike) -> float:
    r"""Fraction of masked steps predicted correctly.

    Adding: :math:`|\hat y - y| <` :data:`ADDING_TOLERANCE` (0.04). Copy: the largest logit is the target symbol.
    """
    batch, Y = _check(batch, Y)
    m = batch.mask
    if batch.name == "adding":
        with np.errstate(invalid="ignore"):
            ok = np.abs(Y[:, :, 0][m] - batch.target[m]) < ADDING_TOLERANCE
    else:
        ok = np.argmax(Y[m], axis=1) == batch.target[m]
    return float(np.mean(ok))
