"""Tests for gradlab.dynamics: the orbit against a plain loop, its forward-mode derivatives against
central differences, fixed points and folds against closed forms, multipliers, and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit, logit

from gradlab import dynamics as D


def _loop(w: float, b: float, x0: float, T: int, f, h=None) -> list[float]:
    """The recurrence written out, independently of gradlab."""
    xs = [x0]
    for t in range(T):
        xs.append(w * f(xs[-1]) + b + (0.0 if h is None else h[t]))
    return xs


@pytest.mark.parametrize("act, f", [("sigmoid", expit), ("tanh", np.tanh)])
def test_iterate_matches_the_recurrence_written_out(act, f) -> None:
    h = np.linspace(-0.3, 0.4, 12)
    traj = D.iterate(2.7, -0.4, 0.3, 12, activation=act, inputs=h)
    assert traj.T == 12
    assert_allclose(traj.x, _loop(2.7, -0.4, 0.3, 12, f, h), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
@pytest.mark.parametrize("w, b, x0", [(5.0, -2.5, 0.5), (5.0, -2.61, 0.5), (2.0, 0.1, -0.2), (-3.0, 1.0, 0.7)])
def test_forward_mode_derivatives_match_central_differences(act, w, b, x0) -> None:
    T, eps = 20, 1e-6
    h = 0.1 * np.sin(np.arange(T))
    traj = D.iterate(w, b, x0, T, activation=act, inputs=h)

    def end(w_, b_, x0_):
        return D.iterate(w_, b_, x0_, T, activation=act, inputs=h).x

    fd = {
        "w": (end(w + eps, b, x0) - end(w - eps, b, x0)) / (2 * eps),
        "b": (end(w, b + eps, x0) - end(w, b - eps, x0)) / (2 * eps),
        "x0": (end(w, b, x0 + eps) - end(w, b, x0 - eps)) / (2 * eps),
    }
    for name, exact in (("w", traj.dx_dw), ("b", traj.dx_db), ("x0", traj.dx_dx0)):
        scale = max(1.0, float(np.max(np.abs(exact))))
        assert np.max(np.abs(exact - fd[name])) <= 1e-6 * scale, name


def test_step_slopes_multiply_to_the_derivative_in_x0_and_in_the_inputs() -> None:
    T, s = 8, 3
    h = np.zeros(T)
    traj = D.iterate(2.0, 0.0, 0.3, T, activation="tanh", inputs=h)
    assert_allclose(traj.dx_dx0[-1], np.prod(traj.step_slopes), rtol=1e-13)
    # dx_T/dh_s (h_s enters x_s) = product of the slopes from step s+1 to T
    eps = 1e-6
    hp, hm = h.copy(), h.copy()
    hp[s - 1] += eps
    hm[s - 1] -= eps
    fd = (D.iterate(2.0, 0.0, 0.3, T, activation="tanh", inputs=hp).x[-1]
          - D.iterate(2.0, 0.0, 0.3, T, activation="tanh", inputs=hm).x[-1]) / (2 * eps)
    assert_allclose(np.prod(traj.step_slopes[s:]), fd, rtol=1e-6)


def test_iterate_broadcasts_over_a_parameter_grid() -> None:
    ws, bs = np.array([4.0, 5.0, 6.0]), np.linspace(-3, -2, 5)
    traj = D.iterate(ws[:, None], bs[None, :], 0.5, 10)
    assert traj.x.shape == (11, 3, 5) and traj.step_slopes.shape == (10, 3, 5)
    single = D.iterate(5.0, bs[2], 0.5, 10)
    assert_allclose(traj.x[:, 1, 2], single.x, rtol=0, atol=0)
    assert_allclose(traj.dx_db[:, 1, 2], single.dx_db, rtol=0, atol=0)


def test_linear_map_has_closed_form_derivatives() -> None:
    # f = identity: x_T = w^T x0 + b (1 + w + ... + w^{T-1})
    w, b, x0, T = 0.9, 0.3, 2.0, 7
    traj = D.iterate(w, b, x0, T, activation="linear")
    geo = sum(w**k for k in range(T))
    assert traj.x[-1] == pytest.approx(w**T * x0 + b * geo, rel=1e-14)
    assert traj.dx_db[-1] == pytest.approx(geo, rel=1e-14)
    assert traj.dx_dx0[-1] == pytest.approx(w**T, rel=1e-14)
    assert traj.dx_dw[-1] == pytest.approx(T * w ** (T - 1) * x0 + b * sum(k * w ** (k - 1) for k in range(1, T)), rel=1e-13)


def test_latch_attractors_and_contraction() -> None:
    # a* = 2 tanh a*: a* = 1.915008... (and 0, which repels with multiplier 2)
    fp = D.fixed_points(2.0, 0.0, activation="tanh")
    assert fp.shape == (3,)
    assert fp[1] == 0.0
    assert_allclose(fp[2], -fp[0], rtol=1e-15)
    assert fp[2] == pytest.approx(1.9150080481545, abs=1e-12)
    assert abs(fp[2] - 2 * math.tanh(fp[2])) < 1e-14
    lam = D.multiplier(fp, 2.0, activation="tanh")
    assert_allclose(lam, [2 * (1 - math.tanh(fp[2]) ** 2), 2.0, 2 * (1 - math.tanh(fp[2]) ** 2)], rtol=1e-13)
    assert 0 < lam[0] < 1 < lam[1]


@pytest.mark.parametrize("w", [4.5, 5.0, 8.0])
def test_sigmoid_folds_match_the_closed_form(w) -> None:
    x_f, b_f = D.fold_points(w)
    s = np.array([(1 - math.sqrt(1 - 4 / w)) / 2, (1 + math.sqrt(1 - 4 / w)) / 2])
    assert_allclose(x_f, logit(s), rtol=1e-12)
    assert_allclose(b_f, logit(s) - w * s, rtol=1e-12)
    assert_allclose(D.multiplier(x_f, w), [1.0, 1.0], rtol=1e-12)


def test_tanh_folds_match_the_closed_form() -> None:
    x_f, b_f = D.fold_points(2.0, activation="tanh")
    r = math.sqrt(1 - 1 / 2)
    assert_allclose(x_f, [-math.atanh(r), math.atanh(r)], rtol=1e-12)
    assert_allclose(b_f, [-math.atanh(r) + 2 * r, math.atanh(r) - 2 * r], rtol=1e-12)


@pytest.mark.parametrize("w, act", [(4.0 - 1e-9, "sigmoid"), (3.0, "sigmoid"), (-5.0, "sigmoid"), (1.0 - 1e-9, "tanh")])
def test_no_fold_below_the_threshold(w, act) -> None:
    x_f, b_f = D.fold_points(w, activation=act)
    assert x_f.size == 0 and b_f.size == 0


def test_bistable_between_the_folds_and_monostable_outside() -> None:
    w = 5.0
    _, b_f = D.fold_points(w)
    b_lo, b_hi = np.sort(b_f)
    for b in np.linspace(b_lo + 1e-3, b_hi - 1e-3, 7):
        fp = D.fixed_points(w, b)
        assert fp.size == 3
        lam = D.multiplier(fp, w)
        assert lam[0] < 1 and lam[2] < 1 and lam[1] > 1  # two attractors around one repeller
        assert_allclose(D.bias_for_fixed_point(fp, w), b, atol=1e-13)
    for b in (b_lo - 0.05, b_hi + 0.05, 0.0, -10.0):
        assert D.fixed_points(w, b).size == 1


def test_cliff_bias_puts_the_initial_state_on_the_repeller() -> None:
    w, x0 = 5.0, 0.5
    b_c = float(D.bias_for_fixed_point(x0, w))
    assert b_c == pytest.approx(0.5 - 5 * expit(0.5), rel=1e-15)
    fp = D.fixed_points(w, b_c)
    assert fp[1] == pytest.approx(x0, abs=1e-13)
    # just above the cliff the orbit goes up, just below it goes down
    up, down = D.iterate(w, b_c + 1e-4, x0, 200).x[-1], D.iterate(w, b_c - 1e-4, x0, 200).x[-1]
    assert up == pytest.approx(D.fixed_points(w, b_c + 1e-4)[2], abs=1e-9)
    assert down == pytest.approx(D.fixed_points(w, b_c - 1e-4)[0], abs=1e-9)


def test_unbounded_activation_needs_an_interval() -> None:
    with pytest.raises(ValueError, match="interval"):
        D.fixed_points(0.5, 1.0, activation="linear")
    assert_allclose(D.fixed_points(0.5, 1.0, activation="linear", interval=(-10, 10)), [2.0], rtol=1e-14)


def test_argument_errors_name_the_argument() -> None:
    with pytest.raises(TypeError, match="T"):
        D.iterate(5, -2.5, 0.5, 2.5)
    with pytest.raises(ValueError, match="T"):
        D.iterate(5, -2.5, 0.5, 0)
    with pytest.raises(TypeError, match="T"):
        D.iterate(5, -2.5, 0.5, True)
    with pytest.raises(ValueError, match="w"):
        D.iterate(np.nan, -2.5, 0.5, 3)
    with pytest.raises(TypeError, match="b"):
        D.iterate(5, "x", 0.5, 3)
    with pytest.raises(ValueError, match="x0"):
        D.iterate(5, -2.5, [np.inf], 3)
    with pytest.raises(ValueError, match="broadcast"):
        D.iterate(np.ones(3), np.ones(4), 0.5, 3)
    with pytest.raises(ValueError, match="inputs"):
        D.iterate(5, -2.5, 0.5, 3, inputs=np.zeros(4))
    with pytest.raises(ValueError, match="activation"):
        D.iterate(5, -2.5, 0.5, 3, activation="nope")
    with pytest.raises(TypeError, match="w"):
        D.fixed_points("5", 0.0)
    with pytest.raises(ValueError, match="grid"):
        D.fixed_points(5, 0.0, grid=2)
    with pytest.raises(ValueError, match="interval"):
        D.fold_points(5, interval=(1.0, -1.0))
    with pytest.raises(ValueError, match="x"):
        D.multiplier([np.nan], 2.0)
