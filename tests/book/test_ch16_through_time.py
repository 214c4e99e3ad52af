"""Chapter 16, "Through time": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's simulations. The closed forms (the latch's attractor and
folds, Doya's folds and cliff) are written out; the only gradlab calls are analytic ones (the
mean-field chi, the fixed points of a scalar map) that check properties of glued values, and
four evaluations of Doya's loss (`dynamics.iterate`, 50 scalar steps each) that check the
explorable's stored loss curve.
"""

from __future__ import annotations

import math

import pytest

from gradlab import dynamics, theory

PAGE = "ch16_through_time"
pytestmark = pytest.mark.built_book


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(s: float) -> float:
    return math.log(s / (1.0 - s))


def test_bptt_matches_central_differences_and_the_jacobian_product(glue) -> None:
    assert glue["ch16_gradcheck_max"] < 1e-7
    assert glue["ch16_product_dev"] < 1e-12  # dL/dh(s) = (dh(T)/dh(s))^T dL/dh(T)
    assert glue["ch16_power_dev"] < 1e-12  # linear g: the product is W_hh^8


def test_pascanu_bound_holds_and_forces_vanishing(glue) -> None:
    # ln||dh(T)/dh(T-k)|| - k ln(gamma ||W_hh||) <= 0 for every network, lag and sequence
    assert glue["ch16_bound_max_excess"] <= 1e-10
    assert glue["ch16_rate_max_sufficient"] < 0.9  # gamma ||W_hh|| = 0.9 in both settings


def test_the_necessary_condition_is_not_sufficient(glue) -> None:
    # three settings with gamma ||W_hh||_2 > 1: two vanish, one explodes (three networks each)
    assert glue["ch16_gw_tanh12_min"] > 1.5
    assert glue["ch16_rate_tanh12_max"] < 0.97
    assert glue["ch16_gw_sig8"] == pytest.approx(8 * 0.25, rel=1e-12)  # orthogonal: every singular value 8
    assert glue["ch16_rate_sig8_max"] < 0.98
    assert glue["ch16_sig8_mean_slope"] < 0.5  # the slopes sit far below gamma
    assert glue["ch16_gw_tanh2_min"] > 1.5
    assert glue["ch16_rate_tanh2_min"] > 1.05


def test_mean_field_rate_per_step(glue) -> None:
    assert glue["ch16_sigma_x"] == 0.5
    assert glue["ch16_mf_chi_06"] == pytest.approx(theory.chi1("tanh", 0.36, 0.25), rel=1e-12)
    assert glue["ch16_mf_chi_20"] == pytest.approx(theory.chi1("tanh", 4.0, 0.25), rel=1e-12)
    # measured slope of ln||dL/dh||^2 over lags 1..50 against chi, at every sigma_w (finite n = 200)
    assert glue["ch16_mf_max_rel_dev"] < 0.06
    assert glue["ch16_mf_meas_06"] < 0.3
    assert glue["ch16_mf_decay50_06"] == pytest.approx(glue["ch16_mf_chi_06"] ** 50, rel=1e-9)
    assert glue["ch16_mf_decay50_06"] < 1e-25  # "does not propagate a gradient across more than a few steps"
    assert glue["ch16_mf_meas_20"] > 1.2


def test_latch_attractors_contraction_and_fold(glue) -> None:
    a = glue["ch16_latch_astar"]
    assert a == pytest.approx(2 * math.tanh(a), abs=1e-13)  # a* = 2 tanh a*
    assert a == pytest.approx(1.9150080481545, abs=1e-11)
    assert glue["ch16_latch_astar_neg"] == -a
    assert glue["ch16_latch_n_fixed"] == 3
    assert glue["ch16_latch_lambda"] == pytest.approx(2 * (1 - math.tanh(a) ** 2), rel=1e-12)
    assert glue["ch16_latch_lambda"] < 1 < glue["ch16_latch_lambda_zero"] == 2.0
    r = math.sqrt(0.5)  # fold of a -> 2 tanh a + h: 2(1 - tanh^2 a) = 1
    assert glue["ch16_latch_edge"] == pytest.approx(math.atanh(r), rel=1e-12)
    assert glue["ch16_latch_hc"] == pytest.approx(2 * r - math.atanh(r), rel=1e-12)
    assert glue["ch16_latch_lambda_pow"] == pytest.approx(glue["ch16_latch_lambda"] ** 29, rel=1e-12)


def test_robust_latching_forces_the_gradient_to_vanish(glue) -> None:
    assert glue["ch16_latch_kept_min_robust"] == 1.0  # noise below h_c never erased a bit
    assert glue["ch16_latch_min_state_robust"] > glue["ch16_latch_edge"]  # every factor < 1
    assert glue["ch16_latch_log10grad_max_robust"] < -15
    assert glue["ch16_latch_factor_r0"] == pytest.approx(glue["ch16_latch_lambda"], rel=1e-3)
    assert glue["ch16_latch_factor_max_robust"] == pytest.approx(glue["ch16_latch_lambda"], rel=0.1)
    assert glue["ch16_latch_kept_r125"] < 0.95  # noise beyond h_c erases bits


def test_doya_folds_match_the_closed_form(glue) -> None:
    assert glue["ch16_fold_n"] == 2
    s_lo, s_hi = (1 - 1 / math.sqrt(5)) / 2, (1 + 1 / math.sqrt(5)) / 2
    assert glue["ch16_fold_x_lo"] == pytest.approx(_logit(s_lo), rel=1e-12)
    assert glue["ch16_fold_x_hi"] == pytest.approx(_logit(s_hi), rel=1e-12)
    # the fold at sigma = (1 + 1/sqrt5)/2 has the lower bias
    assert glue["ch16_fold_b_lo"] == pytest.approx(_logit(s_hi) - 5 * s_hi, rel=1e-12)
    assert glue["ch16_fold_b_hi"] == pytest.approx(_logit(s_lo) - 5 * s_lo, rel=1e-12)
    assert glue["ch16_n_fixed_inside"] == 3


def test_cliff_where_x0_is_the_repeller(glue) -> None:
    b_c = glue["ch16_cliff_b"]
    assert b_c == pytest.approx(0.5 - 5 * _sigmoid(0.5), rel=1e-14)
    assert glue["ch16_fold_b_lo"] < b_c < glue["ch16_fold_b_hi"]
    lam = 5 * _sigmoid(0.5) * (1 - _sigmoid(0.5))
    assert glue["ch16_cliff_lambda"] == pytest.approx(lam, rel=1e-12)
    assert glue["ch16_cliff_lambda_pow"] == pytest.approx(lam**50, rel=1e-10)
    # on the repeller x_t = 0.5 for all t, so dx_50/db = sum_{k<50} lam^k
    assert glue["ch16_cliff_dxdb_at_bc"] == pytest.approx((lam**50 - 1) / (lam - 1), rel=1e-6)
    # a thousandth either side, x_50 sits on the lower / upper attractor
    lower, _, upper = dynamics.fixed_points(5.0, b_c)
    assert glue["ch16_cliff_xT_below"] == pytest.approx(lower, abs=0.05)
    assert glue["ch16_cliff_xT_above"] == pytest.approx(upper, abs=0.05)
    assert glue["ch16_cliff_max_grad"] > 1000 * glue["ch16_cliff_grad_far"]
    assert glue["ch16_cliff_argmax_dev"] < 1e-3
    assert glue["ch16_cliff_width"] < 1e-2
    assert glue["ch16_cliff_loss_min_dev"] < 1e-3


def test_clipping_stops_the_throw_and_nothing_more(glue) -> None:
    assert glue["ch16_clip_lr_theta"] == pytest.approx(0.05, rel=1e-15)
    assert glue["ch16_clip_thrown_plain"] >= 0.5
    assert glue["ch16_clip_longest_plain"] > 100
    assert glue["ch16_clip_far_plain"] > 10
    assert glue["ch16_clip_maxloss_plain"] > 1e3
    assert glue["ch16_clip_thrown_clipped"] == 0.0
    assert glue["ch16_clip_longest_clipped"] <= glue["ch16_clip_lr_theta"] * (1 + 1e-12)
    b_c = glue["ch16_cliff_b"]
    assert glue["ch16_clip_far_clipped"] <= max(abs(-3.2 - b_c), abs(-2.0 - b_c)) + 1e-9  # never leaves [-3.2, -2]
    assert glue["ch16_clip_maxloss_clipped"] < 10
    # neither converges: the valley is narrower than a step
    assert glue["ch16_clip_late_clipped"] > 0.5
    assert glue["ch16_clip_late_plain"] > 0.5


def test_exercise_latch_tradeoff(glue) -> None:
    assert glue["ch16_ex_latch_monotone"] == 1
    for w, hc, lam in ((1.5, "ch16_ex_latch_hc_w15", "ch16_ex_latch_lam_w15"), (5.0, "ch16_ex_latch_hc_w5", "ch16_ex_latch_lam_w5")):
        r = math.sqrt(1 - 1 / w)
        assert glue[hc] == pytest.approx(w * r - math.atanh(r), rel=1e-10)
        a = glue[lam]
        assert 0 < a < 1
    assert glue["ch16_ex_latch_hc_w15"] < glue["ch16_latch_hc"] < glue["ch16_ex_latch_hc_w5"]


def test_exercise_critical_rate(glue) -> None:
    sw = glue["ch16_ex_sw_crit"]
    assert theory.chi1("tanh", sw**2, 0.25) == pytest.approx(1.0, abs=1e-8)
    assert glue["ch16_ex_rate_crit"] == pytest.approx(1.0, abs=0.05)
    assert glue["ch16_ex_decay_50"] == pytest.approx(glue["ch16_ex_rate_crit"] ** 50, rel=1e-9)


def test_exercise_decaying_step_settles_at_the_wall(glue) -> None:
    assert glue["ch16_ex_decay_final_lr"] == pytest.approx(0.05 / 2**14, rel=1e-15)
    assert glue["ch16_ex_decay_median_loss"] < 0.01
    assert glue["ch16_ex_decay_median_loss"] < glue["ch16_clip_late_clipped"] / 10
    assert glue["ch16_ex_decay_median_dist"] < 1e-3


# --- the explorable "ch16-cliff": descent on b from one start, clipping on or off -------------------

CLIPPED = "norm clipped at θ = 1"


def _cliff_explorable():
    from bookglue import explorables

    return explorables(PAGE)["ch16-cliff"]


def _half_unit(v: float) -> float:
    """Largest error of rounding v to the bundle's 3 significant digits."""
    return 0.0 if v == 0 else 0.5 * 10 ** (math.floor(math.log10(abs(v))) - 2)


def _control(spec, name):
    return next(c for c in spec["controls"] if c["name"] == name)


def _cliff_cells(spec):
    from bookglue import explorable_cell

    for b0 in _control(spec, "b0")["values"]:
        for clip in _control(spec, "clip")["values"]:
            for lr in _control(spec, "lr")["values"]:
                yield b0, clip, lr, explorable_cell(spec, b0=b0, clip=clip, lr=lr)


def test_cliff_explorable_grid_and_size(glue) -> None:
    spec = _cliff_explorable()
    assert spec["bytes"] <= 150_000
    b0s = _control(spec, "b0")["values"]
    b_c = glue["ch16_cliff_b"]
    # the prose: ten starts over [-3.2, -2.0], five on each side of b_c; clipping off or at theta = 1
    assert len(b0s) == 10 and min(b0s) == -3.2 and max(b0s) == -2.0
    assert sum(b < b_c for b in b0s) == 5 == sum(b > b_c for b in b0s)
    assert _control(spec, "clip")["values"] == ["off", CLIPPED]
    assert len(spec["cells"]) == 10 * 2 * len(_control(spec, "lr")["values"])
    for _, _, _, cell in _cliff_cells(spec):
        assert len(cell["curves"][1][0][0]) == 101  # 100 steps, and the start


def test_cliff_explorable_loss_curve_is_the_chapter_loss(glue) -> None:
    spec = _cliff_explorable()
    b_c = glue["ch16_cliff_b"]
    d, L = spec["panels"][0]["static"][0]["xy"]
    for dev in (-0.5, -1e-3, 1e-3, 0.3):  # x is stored exactly at these points
        b = b_c + dev
        x_T = float(dynamics.iterate(5.0, b, 0.5, 50).x[-1])
        want = 0.5 * (x_T - 0.7) ** 2
        assert L[d.index(dev)] == pytest.approx(want, abs=_half_unit(want) * (1 + 1e-9))
    # the wall is drawn: within 1e-4 of b_c the curve falls from above 3 (left) to below 0.01 (right)
    left = [y for x, y in zip(d, L) if -1e-4 <= x < 0]
    right = [y for x, y in zip(d, L) if 0 < x <= 1e-4]
    assert left and right and max(left) > 3 and min(right) < 0.01


def test_cliff_explorable_clipping_bounds_every_step(glue) -> None:
    spec = _cliff_explorable()
    b_c, theta = glue["ch16_cliff_b"], 1.0
    for b0, clip, lr, cell in _cliff_cells(spec):
        if clip != CLIPPED:
            continue
        dist = cell["curves"][0][0][0]  # b_t - b_c at every step, to 3 significant digits
        for a, b in zip(dist, dist[1:]):
            assert abs(b - a) <= lr * theta + _half_unit(a) + _half_unit(b) + 1e-12, (b0, lr)
        v = cell["values"]  # 6 significant digits
        assert v["longest"] <= lr * theta * (1 + 1e-5)
        assert v["n_long"] == 0
        # each side of the valley the loss is monotone, so a run never gets farther from b_c than its
        # start or one clipped step past the valley floor (which lies within 1e-4 of b_c)
        assert v["farthest"] <= max(abs(b0 - b_c), lr * theta) * (1 + 1e-5) + 1e-4, (b0, lr)


def test_cliff_explorable_plain_descent_is_thrown(glue) -> None:
    spec = _cliff_explorable()
    b_c = glue["ch16_cliff_b"]
    thrown = [(b0, lr) for b0, clip, lr, cell in _cliff_cells(spec) if clip == "off" and cell["values"]["n_long"] >= 1]
    for lr in _control(spec, "lr")["values"]:  # at every step size some start is thrown
        assert any(r == lr for _, r in thrown), lr
    assert any(b0 < b_c for b0, _ in thrown) and any(b0 > b_c for b0, _ in thrown)  # from both sides
    for b0, lr in thrown:
        cell = next(c for b, k, r, c in _cliff_cells(spec) if (b, k, r) == (b0, "off", lr))
        assert cell["values"]["longest"] > 1
