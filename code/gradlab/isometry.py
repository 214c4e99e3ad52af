r"""Dynamical isometry: the whole spectrum of the input–output Jacobian, and deep linear networks.

Mean-field theory (:mod:`gradlab.theory`) controls the *mean* squared singular
value of the Jacobian :math:`J = \partial a^{(L)}/\partial x`: at criticality
:math:`\chi_1 = 1` it is 1 at every depth. Dynamical isometry (Saxe et al.,
2014; Pennington et al., 2017) asks that *all* squared singular values
:math:`\lambda` of :math:`J` stay near 1. This module computes their
spectra in finite networks (:func:`squared_singular_values`), the networks
and inputs that sit exactly at a chosen fixed point :math:`q^*` on the
critical line (:func:`critical_point`, :func:`critical_network`), the
free-probability prediction for the variance of :math:`\lambda`
(:func:`jacobian_variance_slope`), its exact finite-width counterpart for
Gaussian linear networks (:func:`linear_gaussian_variance`), and the
full-batch gradient descent of deep linear networks on a linear teacher
task (:func:`linear_teacher`, :func:`train_deep_linear`).

References
----------
A. M. Saxe, J. L. McClelland, S. Ganguli (2014), "Exact solutions to the
nonlinear dynamics of learning in deep linear neural networks".
J. Pennington, S. S. Schoenholz, S. Ganguli (2017), "Resurrecting the
sigmoid in deep learning through dynamical isometry: theory and practice".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import activations, mlp, theory
from ._validate import as_array, check_finite, check_nonnegative, check_positive, check_positive_int, check_rng

__all__ = [
    "WEIGHTS",
    "critical_point",
    "derivative_moments",
    "jacobian_variance_slope",
    "linear_gaussian_variance",
    "critical_network",
    "squared_singular_values",
    "linear_teacher",
    "LinearRun",
    "train_deep_linear",
]

Array = NDArray[np.float64]
ActivationLike = str | activations.Activation

#: The two weight distributions of the chapter and the :mod:`gradlab.init`
#: scheme that draws each: i.i.d. Gaussian :math:`\mathcal N(0, \sigma_w^2/n)`
#: and :math:`\sigma_w` times a Haar-random orthogonal matrix.
WEIGHTS: dict[str, str] = {"gaussian": "lecun_normal", "orthogonal": "orthogonal"}

# sigma_b^2 computed as q* - sigma_w^2 E[g^2] is exactly 0 for linear and relu;
# rounding leaves a few ulps of q*, of either sign. A value within this many
# q* of 0 is rounding and returned as 0 (about 50 ulps; tanh's true sigma_b^2,
# about 1.2 q*^3, is larger than that for q* > 1e-7).
_SB2_ROUNDING: float = 1e-14
# train_deep_linear stops as diverged when the loss exceeds this many times
# its initial value (long before float64 overflows).
_DIVERGED: float = 1e10


def _check_weights(weights: Any) -> str:
    if not isinstance(weights, str):
        raise TypeError(f"weights must be a name (str), got {type(weights).__name__}")
    if weights not in WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}; expected one of: {', '.join(WEIGHTS)}")
    return weights


def derivative_moments(activation: ActivationLike, q_star: float) -> tuple[float, float]:
    r"""The first two moments of :math:`g'(z)^2` at the fixed point, :math:`z \sim \mathcal N(0, q^*)`.

    .. math:: \mu_1 = \mathbb E\big[g'(\sqrt{q^*}\,\xi)^2\big], \qquad
              \mu_2 = \mathbb E\big[g'(\sqrt{q^*}\,\xi)^4\big]

    They are the mean and mean square of the entries of :math:`D^{(l)2}`,
    :math:`D^{(l)} = \operatorname{diag} g'(z^{(l)})`, the factor a layer's
    activation contributes to :math:`JJ^\top`; :math:`\chi_1 = \sigma_w^2 \mu_1`.

    Parameters
    ----------
    activation : str or Activation
        :math:`g`.
    q_star : float
        Variance of the pre-activations, ``> 0``.

    Returns
    -------
    tuple of float
        ``(mu1, mu2)``: ``(1, 1)`` for linear, ``(1/2, 1/2)`` for relu
        (:math:`g'^2` is 0 or 1 with probability 1/2 each), and
        :math:`1 - 2q^* + O(q^{*2})`, :math:`1 - 4q^* + O(q^{*2})` for tanh.

    Raises
    ------
    TypeError, ValueError
        If ``activation`` is not an activation or ``q_star`` is not a finite
        number ``> 0``.
    """
    act = activations.get(activation)
    q = check_positive(q_star, "q_star")
    mu1 = float(theory.gaussian_expectation(lambda z: np.square(act.dg(z)), q))
    mu2 = float(theory.gaussian_expectation(lambda z: np.square(np.square(act.dg(z))), q))
    return mu1, mu2


def critical_point(activation: ActivationLike, q_star: float) -> tuple[float, float]:
    r"""The point :math:`(\sigma_w^2, \sigma_b^2)` on the critical line whose fixed point is :math:`q^*`.

    .. math:: \sigma_w^2 = \frac{1}{\mathbb E\big[g'(\sqrt{q^*}\xi)^2\big]}, \qquad
              \sigma_b^2 = q^* - \sigma_w^2\,\mathbb E\big[g(\sqrt{q^*}\xi)^2\big]

    The first equation is :math:`\chi_1 = 1`, the second makes :math:`q^*` a
    fixed point of the length map (:func:`gradlab.theory.length_map`). Each
    :math:`q^* > 0` gives one point of the critical line, which is how
    Pennington et al. (2017) parametrise it.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        ``> 0``.

    Returns
    -------
    tuple of float
        ``(sigma_w2, sigma_b2)``: ``(1, 0)`` for linear and ``(2, 0)`` for relu
        at every :math:`q^*`; for tanh :math:`\sigma_w^2 \to 1`,
        :math:`\sigma_b^2 \to 0` as :math:`q^* \to 0`.

    Notes
    -----
    :math:`q^*` is a fixed point of the length map but need not attract: it
    does for tanh, whose map is concave, but for gelu at :math:`q^* = 1`
    (:math:`\sigma_w^2 = 2.19`) larger signals grow without bound, so
    :func:`gradlab.theory.fixed_point_q` finds no stable fixed point there. A
    network started exactly at :math:`q^*` (:func:`critical_network`) stays
    there on average, but at a repelling :math:`q^*` its finite-width
    fluctuations grow with depth.

    Raises
    ------
    ValueError
        If ``q_star`` is not ``> 0``, or if :math:`\sigma_b^2` would be
        negative: no network with that activation has that :math:`q^*` on the
        critical line (sigmoid for :math:`q^* < 4`, say, whose
        :math:`g(0) = 1/2` keeps :math:`\mathbb E[g^2]` large).
    TypeError
        If ``activation`` is not an activation or ``q_star`` not a number.
    """
    act = activations.get(activation)
    q = check_positive(q_star, "q_star")
    mu1, _ = derivative_moments(act, q)
    sw2 = 1.0 / mu1
    sb2 = q - sw2 * float(theory.gaussian_expectation(lambda z: np.square(act.g(z)), q))
    if abs(sb2) <= _SB2_ROUNDING * q:
        return sw2, 0.0
    if sb2 < 0.0:
        raise ValueError(
            f"q_star={q} is not on the critical line of {act.name!r}: it would need sigma_b2 = {sb2:.4g} < 0"
        )
    return sw2, sb2


def jacobian_variance_slope(activation: ActivationLike, q_star: float, weights: str) -> float:
    r"""Growth per layer of the variance of the squared singular values of :math:`J` at criticality.

    .. math:: \operatorname{Var}\lambda = L\Big(\frac{\mu_2}{\mu_1^2} - 1 + v_W\Big),
              \qquad v_W = \begin{cases} 1 & \text{Gaussian} \\ 0 & \text{orthogonal} \end{cases}

    For :math:`JJ^\top = \prod_l D^{(l)} W^{(l)} \cdots` with every factor
    asymptotically free, the S-transforms multiply (Pennington et al., 2017),
    so the *relative* variances :math:`\operatorname{Var}/\text{mean}^2` of the
    factors add: each :math:`\sigma_w^2 D^{(l)2}` contributes
    :math:`\mu_2/\mu_1^2 - 1` (:func:`derivative_moments`) and each
    :math:`W^{(l)\top}W^{(l)}/\sigma_w^2` contributes :math:`v_W`, the variance
    of the Marchenko–Pastur law of ratio 1 (Gaussian) or of a point mass at 1
    (orthogonal). At :math:`\chi_1 = 1` the mean of :math:`\lambda` is 1, so this
    is the variance itself. It is the limit :math:`n \to \infty` at fixed
    depth; :func:`linear_gaussian_variance` gives the finite-width value for
    Gaussian linear networks.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        The fixed point, ``> 0``.
    weights : {"gaussian", "orthogonal"}
        Square layers.

    Returns
    -------
    float
        The slope: linear 1 (Gaussian) and 0 (orthogonal); relu 2 and 1;
        tanh :math:`1 + 8q^{*2} + O(q^{*3})` and :math:`8q^{*2} + O(q^{*3})`.

    Raises
    ------
    TypeError, ValueError
        On a bad activation, ``q_star`` or ``weights``.
    """
    w = _check_weights(weights)
    mu1, mu2 = derivative_moments(activation, q_star)
    return mu2 / mu1**2 - 1.0 + (1.0 if w == "gaussian" else 0.0)


def linear_gaussian_variance(width: int, depth: int) -> Array:
    r"""Exact expected variance of the squared singular values of a product of Gaussian matrices.

    For :math:`J_l = W^{(l)} \cdots W^{(1)}` with i.i.d. :math:`\mathcal N(0, 1/n)`
    entries, :math:`n \times n`, and the moments
    :math:`m_k = \tfrac1n \operatorname{tr}\big((J_l J_l^\top)^k\big)` of one
    network's spectrum, Wick's theorem gives, given :math:`J_{l-1}`,

    .. math:: \mathbb E\, m_2^{(l)} = \big(m_1^{(l-1)}\big)^2 + \Big(1 + \frac1n\Big) m_2^{(l-1)},
              \qquad
              \mathbb E\,\big(m_1^{(l)}\big)^2 = \big(m_1^{(l-1)}\big)^2 + \frac{2}{n^2} m_2^{(l-1)},

    a linear recursion for :math:`(\mathbb E m_1^2, \mathbb E m_2)` from
    :math:`(1, 1)` at :math:`l = 0`. The returned value is the expectation of
    one network's (population) variance of :math:`\lambda`,
    :math:`\mathbb E[m_2 - m_1^2]`; it tends to :math:`l` as :math:`n \to \infty`.

    Parameters
    ----------
    width : int
        :math:`n \ge 1`.
    depth : int
        Number of layers :math:`L \ge 1`.

    Returns
    -------
    ndarray of float64, shape (depth,)
        Entry ``l - 1`` is the value at depth l. At l = 1 it is
        :math:`1 + 1/n - 2/n^2`.

    Raises
    ------
    TypeError, ValueError
        If ``width`` or ``depth`` is not a positive integer.
    """
    n = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    m1_sq, m2 = 1.0, 1.0
    out = np.empty(depth)
    for l in range(depth):
        m1_sq, m2 = m1_sq + 2.0 * m2 / n**2, m1_sq + (1.0 + 1.0 / n) * m2
        out[l] = m2 - m1_sq
    return out


def critical_network(
    activation: ActivationLike,
    q_star: float,
    *,
    width: int,
    depth: int,
    weights: str,
    rng: np.random.Generator | int,
) -> tuple[mlp.Network, Array]:
    r"""A square network at the critical point of :math:`q^*`, and one input whose pre-activations sit at :math:`q^*`.

    Every layer, the last included, applies ``activation``; weights are drawn
    by :func:`gradlab.mlp.init_network` with the scheme ``WEIGHTS[weights]``
    and gain :math:`\sigma_w`, biases :math:`\mathcal N(0, \sigma_b^2)`, with
    :math:`(\sigma_w^2, \sigma_b^2)` from :func:`critical_point`. The input
    :math:`x` is a Gaussian direction scaled to
    :math:`\tfrac1n\|x\|^2 = (q^* - \sigma_b^2)/\sigma_w^2`, so that
    :math:`q^{(1)} = \sigma_w^2 \tfrac1n\|x\|^2 + \sigma_b^2 = q^*` and the
    network starts at its fixed point.

    Parameters
    ----------
    activation : str or Activation
    q_star : float
        ``> 0``, on the activation's critical line (see :func:`critical_point`).
    width, depth : int
        :math:`n` of every layer (input included) and :math:`L`, each ``>= 1``.
    weights : {"gaussian", "orthogonal"}
    rng : numpy.random.Generator or int
        The weights are drawn first, then the input.

    Returns
    -------
    tuple
        ``(net, x)``: a :class:`~gradlab.mlp.Network` of widths
        ``(width,) * (depth + 1)`` and ``x`` of shape (width,).

    Raises
    ------
    TypeError, ValueError
        As :func:`critical_point`, plus a bad ``width``, ``depth``, ``weights``
        or ``rng``.
    """
    act = activations.get(activation)
    w = _check_weights(weights)
    n = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    gen = check_rng(rng)
    sw2, sb2 = critical_point(act, q_star)
    net = mlp.init_network(
        (n,) * (depth + 1), hidden=act, output=act, init=WEIGHTS[w], gain=math.sqrt(sw2),
        bias_std=math.sqrt(sb2), rng=gen,
    )
    x = gen.standard_normal(n)
    x *= math.sqrt((float(q_star) - sb2) / sw2 / np.mean(x * x))
    return net, x


def squared_singular_values(net: mlp.Network, x: ArrayLike, depths: Sequence[int]) -> dict[int, Array]:
    r"""Squared singular values of :math:`J_l = \partial a^{(l)}/\partial x` for each l in ``depths``, in one pass.

    .. math:: J_l = D^{(l)} W^{(l)} J_{l-1}, \qquad J_0 = I, \qquad
              D^{(l)} = \operatorname{diag}\big(g'(z^{(l)})\big)

    :math:`J_l` is the input–output Jacobian of the network made of the first
    l layers (when they all share one activation, as in
    :func:`critical_network`, that is a depth-l network of the same family),
    so one deep network gives the spectra at every smaller depth. The
    recursion is that of :func:`gradlab.theory.input_output_jacobian`.

    Parameters
    ----------
    net : gradlab.mlp.Network
    x : array_like, shape (n_0,)
        One input.
    depths : sequence of int
        Layers l with ``1 <= l <= net.L``.

    Returns
    -------
    dict[int, ndarray]
        ``{l: lam}``, ``lam`` of shape (min(n_l, n_0),) in decreasing order:
        :math:`\lambda_i = s_i(J_l)^2`. The mean of ``lam`` is
        :math:`\tfrac1{n_0}\|J_l\|_F^2` when :math:`n_l \ge n_0`. Values below
        about :math:`10^{-32}\lambda_\text{max}` are rounding, not signal.

    Raises
    ------
    TypeError
        If ``net`` is not a Network or a depth is not an integer.
    ValueError
        If ``x`` has the wrong shape or is not finite, ``depths`` is empty,
        or a depth lies outside ``1..net.L``.
    """
    xv = theory.check_one_input(net, x)
    if isinstance(depths, (str, bytes)) or not isinstance(depths, Sequence) or len(depths) == 0:
        raise ValueError(f"depths must be a non-empty sequence of layer numbers, got {depths!r}")
    wanted = {check_positive_int(d, f"depths[{i}]") for i, d in enumerate(depths)}
    if max(wanted) > net.L:
        raise ValueError(f"depths must lie in 1..net.L = 1..{net.L}, got {max(wanted)}")
    return _spectra(net, xv, wanted)


def _spectra(net: mlp.Network, x: Array, wanted: set[int]) -> dict[int, Array]:
    """The work of :func:`squared_singular_values`, on checked arguments."""
    fwd = mlp.forward(net, x[None, :])
    out: dict[int, Array] = {}
    J = np.eye(net.sizes[0], dtype=net.dtype)  # J_0 = da(0)/dx
    for l in range(1, max(wanted) + 1):
        # J_l = D(l) W(l) J_{l-1}: scaling row j by g'(z_j) is the product with the diagonal D(l)
        J = (net.W[l] @ J) * net.g(l).dg(fwd.z[l][0])[:, None]
        if l in wanted:
            out[l] = np.square(np.linalg.svd(J, compute_uv=False)).astype(np.float64)
    return {l: out[l] for l in sorted(out)}


def linear_teacher(
    n_in: int, n_out: int, n_samples: int, *, rng: np.random.Generator | int
) -> tuple[Array, Array, Array]:
    r"""A linear regression task with whitened inputs: :math:`y = M x`, :math:`\tfrac1N X^\top X = I`.

    The teacher :math:`M` (n_out × n_in) has i.i.d. :math:`\mathcal N(0, 1/n_\text{in})`
    entries. The inputs are a Gaussian sample made exactly white (Saxe et
    al., 2014, analyse this case): the rows of :math:`X` are
    :math:`\sqrt N` times the orthonormal columns of the QR factor of an
    :math:`N \times n_\text{in}` Gaussian matrix. With white inputs the mean
    squared error of a linear map :math:`W` is
    :math:`\tfrac12\|W - M\|_F^2`.

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
        If a size is not a positive integer, ``n_samples < n_in``, or ``rng``
        is bad.
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
        True if the loss exceeded :math:`10^{10}` times its initial value (or was
        not finite); training stopped there.
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

    .. math:: L = \frac{1}{2N}\sum_{i=1}^N \|W x_i - y_i\|^2 \;=\;
              \tfrac12 \operatorname{tr}\big(W \Sigma_{xx} W^\top\big) - \operatorname{tr}\big(W \Sigma_{yx}^\top\big)
              + \tfrac{1}{2N}\|Y\|_F^2,
              \qquad W = W^{(L)} \cdots W^{(1)},

    with :math:`\Sigma_{xx} = X^\top X/N` and :math:`\Sigma_{yx} = Y^\top X/N`:
    the loss of :func:`gradlab.losses.mse` on the whole set, which for a linear
    network depends on the data only through these correlations (Saxe et
    al., 2014). The gradient of layer l is

    .. math:: \frac{\partial L}{\partial W^{(l)}}
              = \big(W^{(L)} \cdots W^{(l+1)}\big)^\top \big(W \Sigma_{xx} - \Sigma_{yx}\big)
                \big(W^{(l-1)} \cdots W^{(1)}\big)^\top,

    what :func:`gradlab.mlp.backward` computes from the whole batch, at a
    cost independent of N. Every layer takes the step
    :math:`W^{(l)} \leftarrow W^{(l)} - \alpha\,\partial L/\partial W^{(l)}` at once.

    Parameters
    ----------
    net : gradlab.mlp.Network
        Linear hidden and output activations and zero biases (a deep linear
        network); it is copied, not modified.
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
        If the network is not linear or has a non-zero bias, the shapes of
        ``X`` and ``Y`` do not fit it, or a number is out of range.
    """
    if not isinstance(net, mlp.Network):
        raise TypeError(f"net must be a gradlab.mlp.Network, got {type(net).__name__}")
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
