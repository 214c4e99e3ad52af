r"""One-unit recurrent maps as dynamical systems: iterates, their derivatives, fixed points and folds.

The smallest recurrent network has one unit that feeds back into itself,

.. math:: x_t = w\, f(x_{t-1}) + b + h_t, \qquad t = 1, \dots, T,

with a recurrent weight :math:`w`, a bias :math:`b`, an optional input sequence :math:`h_t`
(zero unless given) and a bounded activation :math:`f`, the sigmoid :math:`\sigma` or tanh. Two
classic examples are this map:

* **Doya's unit** (Doya, 1993; the one-unit model of Pascanu, Mikolov & Bengio, 2013):
  :math:`f = \sigma`, :math:`w = 5`, and the bias :math:`b` is the parameter that is learned;
* **Bengio, Simard & Frasconi's latch** (1994): :math:`f = \tanh`, :math:`w = 2`, :math:`b = 0`,
  :math:`a_t = 2\tanh(a_{t-1}) + h_t`, where the input :math:`h_t` tries to write a bit into the state.

.. rubric:: The ideas computed here

* :func:`iterate`: the orbit :math:`x_0, \dots, x_T` and, by forward-mode differentiation, its
  derivatives with respect to :math:`w`, :math:`b` and :math:`x_0`:

  .. math:: \frac{\partial x_t}{\partial w} = f(x_{t-1}) + w f'(x_{t-1}) \frac{\partial x_{t-1}}{\partial w},\quad
            \frac{\partial x_t}{\partial b} = 1 + w f'(x_{t-1}) \frac{\partial x_{t-1}}{\partial b},\quad
            \frac{\partial x_t}{\partial x_0} = \prod_{s=1}^{t} w f'(x_{s-1}).

  The factor :math:`w f'(x_{t-1}) = \partial x_t/\partial x_{t-1}` is back-propagation through
  time in one dimension: the gradient through :math:`T` steps is the product of :math:`T` of them.
* :func:`fixed_points`: the solutions of :math:`x^* = w f(x^*) + b` (constant input), found by
  bracketing sign changes of :math:`w f(x) + b - x` on a grid and refining each with Brent's method.
* :func:`multiplier`: the stability multiplier :math:`\lambda = w f'(x^*)` of a fixed point. It
  attracts when :math:`|\lambda| < 1` and repels when :math:`|\lambda| > 1`; near an attractor
  :math:`|\partial x_T / \partial x_0| \approx |\lambda|^T`.
* :func:`bias_for_fixed_point`: the bias :math:`b = x - w f(x)` that makes :math:`x` a fixed point:
  the curve of fixed points in the :math:`(b, x)` plane, that is the bifurcation diagram.
* :func:`fold_points`: the saddle-node (fold) bifurcations, where a stable and an unstable fixed
  point meet and vanish: :math:`w f'(x) = 1` and :math:`b = x - w f(x)`. For the sigmoid they
  exist when :math:`w > 4`, at :math:`\sigma(x) = \tfrac12\big(1 \pm \sqrt{1 - 4/w}\big)`; for tanh
  when :math:`w > 1`, at :math:`\tanh(x) = \pm\sqrt{1 - 1/w}`. Between the two fold biases the
  map has two attractors and one repeller (bistability).

Everything is float64 and vectorised over :math:`w`, :math:`b` and :math:`x_0` (NumPy broadcasting),
so a whole loss surface over a grid of :math:`(w, b)` is one call to :func:`iterate`.

References
----------
K. Doya (1993), "Bifurcations of recurrent neural networks in gradient descent learning".
Y. Bengio, P. Simard, P. Frasconi (1994), "Learning long-term dependencies with gradient descent is difficult".
R. Pascanu, T. Mikolov, Y. Bengio (2013), "On the difficulty of training recurrent neural networks".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from . import activations
from ._validate import as_array, check_finite, check_positive_int, check_real

__all__ = [
    "BOUNDED",
    "Trajectory",
    "iterate",
    "multiplier",
    "bias_for_fixed_point",
    "fixed_points",
    "fold_points",
]

Array = NDArray[np.float64]

#: The bounded activations whose fixed points and folds can be searched without an interval:
#: name -> (inf f, sup f). Every fixed point of :math:`x = w f(x) + b` lies between
#: :math:`b + w \inf f` and :math:`b + w \sup f`.
BOUNDED: dict[str, tuple[float, float]] = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}

# Default number of grid points for the bracketing searches.
_GRID: int = 4001


@dataclass
class Trajectory:
    r"""An orbit of :math:`x_t = w f(x_{t-1}) + b + h_t` with its forward-mode derivatives.

    Every array has shape ``(T + 1, *S)``, where ``S`` is the broadcast shape of ``w``, ``b`` and
    ``x0``; index ``t`` is step :math:`t` and index 0 the initial state.

    Attributes
    ----------
    x : numpy.ndarray
        :math:`x_0, \dots, x_T`.
    dx_dw, dx_db, dx_dx0 : numpy.ndarray
        :math:`\partial x_t/\partial w`, :math:`\partial x_t/\partial b` and :math:`\partial x_t/\partial x_0`
        (0, 0 and 1 at :math:`t = 0`).
    step_slopes : numpy.ndarray, shape ``(T, *S)``
        :math:`\partial x_t/\partial x_{t-1} = w f'(x_{t-1})` for t = 1..T (row ``t - 1``):
        :math:`\partial x_T/\partial x_s` is the product of rows ``s .. T-1``, and
        :math:`\partial x_T / \partial h_s = \partial x_T/\partial x_s`.
    """

    x: Array
    dx_dw: Array
    dx_db: Array
    dx_dx0: Array
    step_slopes: Array

    @property
    def T(self) -> int:
        """The number of steps :math:`T`."""
        return self.x.shape[0] - 1


def _activation(activation: Any) -> activations.Activation:
    return activations.get(activation)


def _finite(x: Any, name: str) -> Array:
    return check_finite(as_array(x, name, dtype=np.float64), name)


def _check_w(w: Any) -> float:
    return check_real(w, "w")


def iterate(
    w: ArrayLike,
    b: ArrayLike,
    x0: ArrayLike,
    T: int,
    *,
    activation: str | activations.Activation = "sigmoid",
    inputs: ArrayLike | None = None,
) -> Trajectory:
    r"""Run :math:`x_t = w f(x_{t-1}) + b + h_t` for :math:`T` steps, with the derivatives of every :math:`x_t`.

    The derivatives are propagated forward alongside the state (forward-mode differentiation):

    .. math:: \dot x_t = \frac{\partial}{\partial \theta}\big(w f(x_{t-1}) + b\big)
              + w f'(x_{t-1})\, \dot x_{t-1}, \qquad \theta \in \{w, b, x_0\},

    so one call gives :math:`\partial x_T/\partial(w, b, x_0)` for every point of a broadcast
    grid of parameters, at the cost of three more multiply-adds per step.

    Parameters
    ----------
    w, b, x0 : array_like
        Recurrent weight, bias and initial state; finite, broadcastable against each other
        (e.g. ``w[:, None]`` and ``b[None, :]`` for a surface over :math:`(w, b)`).
    T : int
        Number of steps, ``>= 1``.
    activation : str or Activation, default ``"sigmoid"``
        :math:`f`, looked up in :mod:`gradlab.activations`.
    inputs : array_like, optional
        :math:`h_1, \dots, h_T`, shape ``(T,)`` (the same sequence everywhere) or ``(T, *S)``;
        zero if omitted.

    Returns
    -------
    Trajectory

    Examples
    --------
    >>> traj = iterate(5.0, -2.5, 0.5, 50)
    >>> traj.x.shape, traj.dx_db.shape
    ((51,), (51,))
    """
    f = _activation(activation)
    T = check_positive_int(T, "T")
    w_, b_, x0_ = _finite(w, "w"), _finite(b, "b"), _finite(x0, "x0")
    try:
        shape = np.broadcast_shapes(w_.shape, b_.shape, x0_.shape)
    except ValueError:
        raise ValueError(
            f"w, b and x0 must broadcast against each other, got shapes {w_.shape}, {b_.shape}, {x0_.shape}"
        ) from None
    if inputs is None:
        h = np.zeros((T,) + (1,) * len(shape))
    else:
        h = _finite(inputs, "inputs")
        if h.ndim == 0 or h.shape[0] != T:
            raise ValueError(f"inputs must have shape (T,) or (T, ...) with T = {T}, got shape {h.shape}")
        if h.ndim == 1:
            h = h.reshape((T,) + (1,) * len(shape))
        try:
            shape = np.broadcast_shapes(shape, h.shape[1:])
        except ValueError:
            raise ValueError(f"inputs of shape {h.shape} do not broadcast against the parameters' shape {shape}") from None
    x = np.empty((T + 1,) + shape)
    dw, db, dx0, slopes = np.empty_like(x), np.empty_like(x), np.empty_like(x), np.empty((T,) + shape)
    x[0], dw[0], db[0], dx0[0] = x0_, 0.0, 0.0, 1.0
    for t in range(1, T + 1):
        fx = f.g(x[t - 1])
        s = w_ * f.dg(x[t - 1])  # dx_t / dx_{t-1}
        slopes[t - 1] = s
        x[t] = w_ * fx + b_ + h[t - 1]
        dw[t] = fx + s * dw[t - 1]
        db[t] = 1.0 + s * db[t - 1]
        dx0[t] = s * dx0[t - 1]
    return Trajectory(x=x, dx_dw=dw, dx_db=db, dx_dx0=dx0, step_slopes=slopes)


def multiplier(x: ArrayLike, w: float, *, activation: str | activations.Activation = "sigmoid") -> Array:
    r"""The stability multiplier :math:`\lambda = w f'(x)` of the map at :math:`x`.

    At a fixed point :math:`x^*`, a small perturbation is multiplied by :math:`\lambda` per step:
    :math:`|\lambda| < 1` attracts, :math:`|\lambda| > 1` repels, :math:`\lambda = 1` is a fold
    (:func:`fold_points`). Along an orbit it is the one-step Jacobian :math:`\partial x_t/\partial x_{t-1}`.

    Parameters
    ----------
    x : array_like
        Points (finite).
    w : float
        Recurrent weight.
    activation : str or Activation, default ``"sigmoid"``

    Returns
    -------
    ndarray of float64, the shape of ``x``
        For the latch's attractor :math:`a^* = 2\tanh a^*`: :math:`2(1 - \tanh^2 a^*)`.
    """
    f = _activation(activation)
    return _check_w(w) * f.dg(_finite(x, "x"))


def bias_for_fixed_point(x: ArrayLike, w: float, *, activation: str | activations.Activation = "sigmoid") -> Array:
    r"""The bias that makes :math:`x` a fixed point: :math:`b = x - w f(x)`.

    Read the other way round, :math:`x \mapsto (b(x), x)` traces every fixed point of the family,
    stable or not: the bifurcation diagram. Its turning points, :math:`db/dx = 1 - w f'(x) = 0`,
    are the folds. Pascanu et al.'s cliff sits at ``bias_for_fixed_point(x0, w)``: the bias at
    which the initial state :math:`x_0` is itself the (unstable) fixed point.

    Parameters
    ----------
    x : array_like
        Fixed-point locations (finite).
    w : float
        Recurrent weight.
    activation : str or Activation, default ``"sigmoid"``

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    f = _activation(activation)
    xx = _finite(x, "x")
    return xx - _check_w(w) * f.g(xx)


def _search_interval(f: activations.Activation, interval: Any, lo: float, hi: float) -> tuple[float, float]:
    """The interval to search: the given one, or ``(lo, hi)`` for a bounded activation."""
    if interval is None:
        if f.name not in BOUNDED:
            raise ValueError(
                f"activation {f.name!r} is not bounded; pass interval=(lo, hi) to search for fixed points "
                f"(the bounded activations are {', '.join(BOUNDED)})"
            )
        return lo, hi
    arr = _finite(interval, "interval")
    if arr.shape != (2,) or not arr[0] < arr[1]:
        raise ValueError(f"interval must be (lo, hi) with lo < hi, got {arr.tolist()}")
    return float(arr[0]), float(arr[1])


def _roots(F: Any, lo: float, hi: float, n: int) -> Array:
    """Every sign change of F on an n-point grid over [lo, hi], refined by Brent's method (exact zeros kept)."""
    grid = np.linspace(lo, hi, n)
    vals = np.asarray(F(grid), dtype=np.float64)
    roots = list(grid[vals == 0.0])
    for i in np.flatnonzero(vals[:-1] * vals[1:] < 0):
        roots.append(brentq(lambda u: float(F(np.float64(u))), grid[i], grid[i + 1], xtol=1e-15, maxiter=200))
    return np.sort(np.array(roots, dtype=np.float64))


def fixed_points(
    w: float,
    b: float,
    *,
    activation: str | activations.Activation = "sigmoid",
    interval: tuple[float, float] | None = None,
    grid: int = _GRID,
) -> Array:
    r"""Every fixed point :math:`x^* = w f(x^*) + b` of the map with constant input, in increasing order.

    The function :math:`F(x) = w f(x) + b - x` is evaluated on ``grid`` equally spaced points;
    each sign change between neighbours is refined by :func:`scipy.optimize.brentq` to about
    1e-15. For the bounded activations (:data:`BOUNDED`) the search interval is
    :math:`b + w[\inf f, \sup f]` (widened by 1), which contains every fixed point.

    A root where :math:`F` touches zero without changing sign (exactly at a fold) is found only if
    it falls on a grid point, and two roots closer than the grid spacing are missed; away from
    the folds the grid is far finer than the distance between fixed points.

    Parameters
    ----------
    w, b : float
        Recurrent weight and bias.
    activation : str or Activation, default ``"sigmoid"``
    interval : (float, float), optional
        Where to search; required for unbounded activations.
    grid : int, default 4001
        Number of grid points, ``>= 3``.

    Returns
    -------
    ndarray of float64, shape (k,)
        ``[-1.9150, 0, 1.9150]`` for the latch (``w=2, b=0, activation="tanh"``); one point for
        Doya's unit outside the bistable range of ``b``, three inside it.
    """
    f = _activation(activation)
    w_, b_ = _check_w(w), check_real(b, "b")
    n = check_positive_int(grid, "grid", minimum=3)
    if f.name in BOUNDED:
        lo, hi = BOUNDED[f.name]
        ends = (b_ + w_ * lo, b_ + w_ * hi)
        lo, hi = min(ends) - 1.0, max(ends) + 1.0
    else:
        lo, hi = 0.0, 0.0
    lo, hi = _search_interval(f, interval, lo, hi)
    return _roots(lambda x: w_ * f.g(x) + b_ - x, lo, hi, n)


def fold_points(
    w: float,
    *,
    activation: str | activations.Activation = "sigmoid",
    interval: tuple[float, float] | None = None,
    grid: int = _GRID,
) -> tuple[Array, Array]:
    r"""The fold (saddle-node) bifurcations of the family :math:`x \mapsto w f(x) + b`, over :math:`b`.

    A fold is a fixed point with multiplier 1: :math:`w f'(x_f) = 1`, at the bias
    :math:`b_f = x_f - w f(x_f)` (:func:`bias_for_fixed_point`). As :math:`b` crosses :math:`b_f`
    a stable and an unstable fixed point collide and disappear, so the state an orbit settles to
    jumps. The roots of :math:`w f'(x) - 1` are bracketed on a grid and refined by Brent's method
    (as in :func:`fixed_points`).

    Closed forms, which the tests check: for the sigmoid and :math:`w > 4`,
    :math:`\sigma(x_f) = \tfrac12\big(1 \pm \sqrt{1 - 4/w}\big)`, :math:`x_f = \operatorname{logit}\sigma(x_f)`;
    for tanh and :math:`w > 1`, :math:`\tanh(x_f) = \pm\sqrt{1 - 1/w}`. For smaller :math:`w`
    (and every :math:`w \le 0`, where the multiplier is never +1) there is none.

    Parameters
    ----------
    w : float
        Recurrent weight.
    activation : str or Activation, default ``"sigmoid"``
    interval : (float, float), optional
        Where to search for :math:`x_f`; default :math:`|x| \le \ln(4|w|) + 1`, which contains
        every root for the sigmoid and tanh (:math:`f' \le 4 e^{-2|x|}` and :math:`\le e^{-|x|}`).
    grid : int, default 4001
        Number of grid points, ``>= 3``.

    Returns
    -------
    (x_fold, b_fold) : tuple of ndarray, shape (k,)
        The states and biases of the folds, in increasing order of ``x_fold``; empty when there is none.
    """
    f = _activation(activation)
    w_ = _check_w(w)
    n = check_positive_int(grid, "grid", minimum=3)
    r = math.log(4.0 * max(abs(w_), 1.0)) + 1.0
    lo, hi = _search_interval(f, interval, -r, r)
    x_f = _roots(lambda x: w_ * f.dg(x) - 1.0, lo, hi, n)
    return x_f, x_f - w_ * f.g(x_f)
