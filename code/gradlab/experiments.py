r"""The book's measurements, one function each, so a chapter shows the idea and a test re-runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng
from .data import Dataset
from .mlp import Network, backward, forward, init_network, loss_and_gradients
from .train import accuracy, train_sgd

__all__ = [
    "LayerSpeeds", "layer_speeds", "OverflowReport", "float32_overflow",
    "trainability",
]


@dataclass(frozen=True)
class LayerSpeeds:
    r"""Per-layer gradient sizes of freshly initialised networks, one row per seed.

    Attributes
    ----------
    sizes : tuple[int, ...]
        ``(n_0, ..., n_L)``.
    speed : numpy.ndarray
        Shape (n_seeds, L): :math:`\|\partial L/\partial b^{(l)}\|` (Nielsen's speed of
        learning of layer l).
    speed_W : numpy.ndarray
        Shape (n_seeds, L): :math:`\|\partial L/\partial W^{(l)}\|_F` of the same networks.
    ratio : numpy.ndarray
        Shape (n_seeds, L - 1): mean over examples of
        :math:`\|\delta^{(l)}_i\| / \|\delta^{(l+1)}_i\|`, l = 1..L-1.
    ratio_max : numpy.ndarray
        Shape (n_seeds, L - 1): largest such per-example ratio.
    bound : numpy.ndarray
        Shape (n_seeds, L - 1): :math:`\max_u g'(u)\,\|W^{(l+1)}\|_2`, which no per-example
        ratio can exceed.
    """

    sizes: tuple[int, ...]
    speed: NDArray[np.float64]
    speed_W: NDArray[np.float64]
    ratio: NDArray[np.float64]
    ratio_max: NDArray[np.float64]
    bound: NDArray[np.float64]

    @property
    def mean(self) -> NDArray[np.float64]:
        """Mean speed per layer over seeds, shape (L,)."""
        return self.speed.mean(axis=0)

    @property
    def sd(self) -> NDArray[np.float64]:
        """Sample standard deviation (ddof = 1) of the speed over seeds, shape (L,)."""
        return self.speed.std(axis=0, ddof=1)


def _max_dg(net: Network) -> float:
    # sup of g' over a fine grid: 1/4 for the sigmoid, 1 for tanh and ReLU.
    return float(np.max(net.hidden.dg(np.linspace(-20, 20, 40001))))


def layer_speeds(
    sizes: Sequence[int],
    X: ArrayLike,
    y: ArrayLike,
    *,
    seeds: Iterable[int],
    loss: Any = "softmax_cross_entropy",
    **network: Any,
) -> LayerSpeeds:
    """Gradient sizes at initialisation for one architecture over several seeds.

    ``network`` is passed to :func:`gradlab.mlp.init_network` (``hidden``,
    ``init``, ``gain``, ``std``, ``bias_std``, ...). The gradient is that of
    the mean loss over all rows of ``X``.
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least two seeds (a spread needs two), got {len(seeds)}")
    speed, speed_W, ratio, ratio_max, bound = [], [], [], [], []
    for seed in seeds:
        net = init_network(sizes, rng=seed, **network)
        _, _, grads = loss_and_gradients(net, X, y, loss)
        speed.append(grads.norms["delta"])
        speed_W.append(grads.norms["W"])
        per_example = {l: np.linalg.norm(grads.delta[l], axis=1) for l in grads.delta}
        r = [per_example[l] / per_example[l + 1] for l in range(1, net.L)]
        ratio.append([v.mean() for v in r])
        ratio_max.append([v.max() for v in r])
        top = _max_dg(net)
        bound.append([top * np.linalg.norm(net.W[l + 1], 2) for l in range(1, net.L)])
    return LayerSpeeds(tuple(int(n) for n in sizes), *(np.array(v, dtype=np.float64) for v in (speed, speed_W, ratio, ratio_max, bound)))


@dataclass(frozen=True)
class OverflowReport:
    r"""Where a network's forward pass leaves float32's range.

    Attributes
    ----------
    log10_max_abs_z : numpy.ndarray
        Shape (L,): :math:`\log_{10} \max |z^{(l)}|` from a float64 forward pass.
    predicted_layer : int | None
        First layer whose float64 :math:`\max|z^{(l)}|` exceeds float32's largest value.
    measured_layer : int | None
        First layer whose float32 :math:`z^{(l)}` holds inf or NaN.
    log10_delta_norm : numpy.ndarray
        Shape (L,): :math:`\log_{10}\|\delta^{(l)}\|_F` from the float64 backward pass of
        :math:`L = \tfrac12\|a^{(L)}\|^2/B`.
    float32_grad_finite : bool
        Whether every float32 gradient entry is finite.
    """

    log10_max_abs_z: NDArray[np.float64]
    predicted_layer: int | None
    measured_layer: int | None
    log10_delta_norm: NDArray[np.float64]
    float32_grad_finite: bool


def _first(mask: Iterable[bool]) -> int | None:
    return next((l for l, m in enumerate(mask, start=1) if m), None)


def float32_overflow(net: Network, x: ArrayLike) -> OverflowReport:
    """Run ``net`` (any float dtype) in float64 and in float32 and find where float32 overflows.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a gradlab.mlp.Network, got {type(net).__name__}")
    as_dtype = {
        dt: Network({l: W.astype(dt) for l, W in net.W.items()}, {l: b.astype(dt) for l, b in net.b.items()},
                    net.hidden, net.output)
        for dt in (np.float64, np.float32)
    }
    big = float(np.finfo(np.float32).max)
    f64 = forward(as_dtype[np.float64], np.asarray(x, dtype=np.float64))
    L = net.L
    with np.errstate(divide="ignore"):
        log_z = np.array([np.log10(np.max(np.abs(f64.z[l]))) for l in range(1, L + 1)])
    g64 = backward(as_dtype[np.float64], f64, f64.a[L] / f64.a[L].shape[0])
    with np.errstate(divide="ignore"):
        log_delta = np.array([np.log10(np.linalg.norm(g64.delta[l])) for l in range(1, L + 1)])
    # Overflow is the subject here: silence numpy and look at the values instead.
    with np.errstate(over="ignore", invalid="ignore"):
        f32 = forward(as_dtype[np.float32], np.asarray(x, dtype=np.float32))
        g32 = backward(as_dtype[np.float32], f32, f32.a[L] / np.float32(f32.a[L].shape[0]))
    return OverflowReport(
        log10_max_abs_z=log_z,
        predicted_layer=_first(np.max(np.abs(f64.z[l])) > big for l in range(1, L + 1)),
        measured_layer=_first(not np.all(np.isfinite(f32.z[l])) for l in range(1, L + 1)),
        log10_delta_norm=log_delta,
        float32_grad_finite=bool(all(np.all(np.isfinite(g32.dW[l])) for l in range(1, L + 1))),
    )


def trainability(
    dataset: Dataset,
    depths: Sequence[int],
    sigma_w2s: Sequence[float],
    *,
    sigma_b2: float,
    activation: str | activations.Activation = "tanh",
    width: int = 64,
    lr: float = 0.02,
    epochs: int = 5,
    batch_size: int = 32,
    seed: int = 0,
) -> NDArray[np.float64]:
    r"""Test accuracy after a fixed training budget, for every depth L and weight variance :math:`\sigma_w^2`.

    Each network has L layers: L - 1 hidden layers of ``width`` units with activation g and a
    linear output layer with one unit per class, weights :math:`\mathcal N(0, \sigma_w^2/n_{l-1})`,
    biases :math:`\mathcal N(0, \sigma_b^2)`. It is trained by :func:`gradlab.train.train_sgd` on
    softmax cross-entropy. Every network is drawn and shuffled from ``seed``, so networks of one depth
    differ only in :math:`\sigma_w^2` (their weights are the same normal draws, rescaled), which keeps
    the grid's pattern from being seed noise. A run whose loss overflows scores 0.

    Returns
    -------
    numpy.ndarray
        Shape (len(depths), len(sigma_w2s)): test accuracy in [0, 1].
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a gradlab.data.Dataset, got {type(dataset).__name__}")
    depth_list = [check_positive_int(d, f"depths[{i}]", minimum=2) for i, d in enumerate(depths)]
    sw2_list = [check_positive(s, f"sigma_w2s[{i}]") for i, s in enumerate(sigma_w2s)]
    if not depth_list or not sw2_list:
        raise ValueError("depths and sigma_w2s must each hold at least one value")
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")
    n = check_positive_int(width, "width")
    seed = check_positive_int(seed, "seed", minimum=0)
    n_in, n_classes = dataset.X_train.shape[1], int(max(dataset.y_train.max(), dataset.y_test.max())) + 1
    acc = np.zeros((len(depth_list), len(sw2_list)))
    for i, L in enumerate(depth_list):
        sizes = (n_in,) + (n,) * (L - 1) + (n_classes,)
        for j, sw2 in enumerate(sw2_list):
            net = init_network(sizes, hidden=activation, output="linear", init="lecun_normal",
                               gain=float(np.sqrt(sw2)), bias_std=float(np.sqrt(sb2)), rng=seed)
            hist = train_sgd(net, dataset.X_train, dataset.y_train, lr=lr, epochs=epochs,
                             batch_size=batch_size, rng=seed)
            if hist.diverged_at is None:
                acc[i, j] = accuracy(hist.network, dataset.X_test, dataset.y_test)
    return acc
