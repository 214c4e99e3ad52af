r"""The book's measurements, one function each, so a chapter shows the idea and a test re-runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, theory
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng
from .data import Dataset
from .mlp import Network, backward, forward, init_network, loss_and_gradients
from .train import accuracy, train_sgd

__all__ = [
    "LayerSpeeds", "layer_speeds", "OverflowReport", "float32_overflow",
    "WideSignals", "wide_network_signals", "trainability",
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


@dataclass(frozen=True)
class WideSignals:
    r"""What :func:`wide_network_signals` measured, one row per network and one column per layer l = 1..L.

    Attributes
    ----------
    q : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1n\sum_i (z^{(l)}_i)^2` for the *length probe*, the
        input that starts at :math:`q^{(1)} = q_\text{in}`. Mean-field theory predicts the
        length map's iterates.
    m : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1n\sum_i (a^{(l)}_i)^2` for the length probe.
    c : numpy.ndarray
        Shape (n_networks, L): the correlation :math:`z^{(l)}\cdot z'^{(l)} / (|z^{(l)}|\,|z'^{(l)}|)`
        of two inputs that start at :math:`q^{(1)} = q^*` with correlation :math:`c_\text{in}`.
    delta2 : numpy.ndarray
        Shape (n_networks, L): :math:`\tfrac1{nB}\sum_{i,k} (\delta^{(l)}_{ik})^2` over the units i
        and the B inputs k that start at :math:`q^*`, for a standard normal
        :math:`\partial L/\partial a^{(L)}`. Mean-field theory predicts that it grows by
        :math:`\chi_1` per layer from the output towards the input.
    """

    q: NDArray[np.float64]
    m: NDArray[np.float64]
    c: NDArray[np.float64]
    delta2: NDArray[np.float64]

    @property
    def ratio(self) -> NDArray[np.float64]:
        r"""The per-layer gradient ratios :math:`\overline{(\delta^{(l)})^2} / \overline{(\delta^{(l+1)})^2}`, l = 1..L-1.

        One row per network, shape (n_networks, L - 1); mean-field theory predicts :math:`\chi_1`.
        """
        return self.delta2[:, :-1] / self.delta2[:, 1:]


def wide_network_signals(
    activation: str | activations.Activation,
    sigma_w2: float,
    sigma_b2: float,
    *,
    q_in: float,
    c_in: float,
    width: int = 1000,
    depth: int = 10,
    n_inputs: int = 16,
    n_networks: int = 3,
    rng: np.random.Generator | int,
) -> WideSignals:
    r"""Send inputs through wide random networks and measure what mean-field theory predicts.

    Every layer has width n = ``width``, activation g (output layer included), weights
    :math:`\mathcal N(0, \sigma_w^2/n)` and biases :math:`\mathcal N(0, \sigma_b^2)`. The inputs are
    built so that the first layer's statistics are exactly what the theory starts from: with
    orthonormal directions :math:`u_k` scaled to length :math:`\sqrt n`, an input
    :math:`x = s\,u` has :math:`q^{(1)} = \sigma_w^2 s^2 + \sigma_b^2` in expectation. Row 0 is the
    length probe (:math:`q^{(1)} = q_\text{in}`); rows 1..``n_inputs`` start at :math:`q^*`, rows 1
    and 2 with correlation :math:`c_\text{in}`, the rest orthogonal. A standard normal
    :math:`\partial L/\partial a^{(L)}` is back-propagated from rows 1..``n_inputs``.

    Raises
    ------
    ValueError
        If ``q_in`` is not above ``sigma_b2``, if :math:`q^* \le \sigma_b^2` (no input can start at
        the fixed point), if ``c_in`` is outside [-1, 1] or cannot be reached by the first layer
        (:math:`c_\text{in} q^*` must lie within :math:`q^* - 2\sigma_b^2` of :math:`\sigma_b^2`),
        if ``n_inputs < 2`` or ``width < n_inputs + 1``, plus the errors of
        :func:`gradlab.theory.fixed_point_q`.
    """
    act = activations.get(activation)
    sw2 = check_positive(sigma_w2, "sigma_w2")
    sb2 = check_nonnegative(sigma_b2, "sigma_b2")
    q_in = check_positive(q_in, "q_in")
    c_in = float(check_finite(as_array(c_in, "c_in", ndim=0), "c_in"))
    n = check_positive_int(width, "width")
    L = check_positive_int(depth, "depth", minimum=2)
    B = check_positive_int(n_inputs, "n_inputs", minimum=2)
    K = check_positive_int(n_networks, "n_networks")
    gen = check_rng(rng)
    if n < B + 1:
        raise ValueError(f"width must be at least n_inputs + 1 = {B + 1} (one direction per input), got {n}")
    if q_in <= sb2:
        raise ValueError(f"q_in must exceed sigma_b2 = {sb2} (the bias alone gives q = sigma_b2), got {q_in}")
    if not -1.0 <= c_in <= 1.0:
        raise ValueError(f"c_in must be a correlation in [-1, 1], got {c_in}")
    q_star = theory.fixed_point_q(act, sw2, sb2)
    if q_star <= sb2:
        raise ValueError(f"q* = {q_star:g} is not above sigma_b2 = {sb2}: no input can start at the fixed point")
    p = (q_star - sb2) / sw2  # s^2 for inputs at q*
    # The first layer's correlation is (sigma_w2 p rho + sigma_b2) / q*: solve for the inputs' rho.
    rho = (c_in * q_star - sb2) / (sw2 * p)
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"c_in = {c_in} cannot be reached at the first layer with sigma_b2 = {sb2} (needs input correlation {rho:.3g})")
    q_out, m_out, c_out, d_out = [], [], [], []
    for _ in range(K):
        net = init_network((n,) * (L + 1), hidden=act, output=act, init="normal",
                           std=float(np.sqrt(sw2 / n)), bias_std=float(np.sqrt(sb2)), rng=gen)
        u = np.linalg.qr(gen.standard_normal((n, B + 1)))[0].T * np.sqrt(n)
        x = np.sqrt(p) * u
        x[0] = np.sqrt((q_in - sb2) / sw2) * u[0]
        x[2] = np.sqrt(p) * (rho * u[1] + np.sqrt(1.0 - rho * rho) * u[2])
        fwd = forward(net, x)
        # The length probe (row 0) sends no gradient: its z is not at q*.
        grads = backward(net, fwd, np.vstack([np.zeros((1, n)), gen.standard_normal((B, n))]))
        layers = range(1, L + 1)
        z1, z2 = (fwd.z[l][1] for l in layers), (fwd.z[l][2] for l in layers)
        q_out.append([np.mean(fwd.z[l][0] ** 2) for l in layers])
        m_out.append([np.mean(fwd.a[l][0] ** 2) for l in layers])
        c_out.append([a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) for a, b in zip(z1, z2)])
        d_out.append([np.mean(grads.delta[l][1:] ** 2) for l in layers])
    return WideSignals(*(np.array(v, dtype=np.float64) for v in (q_out, m_out, c_out, d_out)))


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
