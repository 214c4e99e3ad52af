"""Chapter 9, "Activation functions as remedies": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's simulations or training. The only gradlab calls are cheap,
analytic checks of a glued value (e.g. that chi1 at a glued critical point is 1).
"""

from __future__ import annotations

import math

import pytest

from gradlab import activations, theory

PAGE = "ch9_activations"
pytestmark = pytest.mark.built_book

LEAKY = 0.01  # gradlab's (and PyTorch's) default negative slope


def test_variance_preserving_gains(glue) -> None:
    # sigma_w^2 = 1 / E[g(xi)^2]: He's 2 for ReLU, 1 for linear and (by design) for SELU,
    # 2/(1 + alpha^2) for leaky ReLU.
    assert glue["ch9_vp_sw2_linear"] == pytest.approx(1.0, rel=1e-12)
    assert glue["ch9_vp_sw2_relu"] == pytest.approx(2.0, rel=1e-12)
    assert glue["ch9_vp_sw2_leaky_relu"] == pytest.approx(2 / (1 + LEAKY**2), rel=1e-12)
    assert glue["ch9_vp_sw2_selu"] == pytest.approx(1.0, rel=1e-9)
    # the others need more than 1: tanh and GELU/SiLU shrink a unit-variance signal
    for key in ("ch9_vp_sw2_tanh", "ch9_vp_sw2_elu", "ch9_vp_sw2_gelu", "ch9_vp_sw2_silu"):
        assert glue[key] > 1
    # that q = 1 really is a fixed point at the glued gains (a cheap quadrature)
    for key, act in (("ch9_vp_sw2_tanh", "tanh"), ("ch9_vp_sw2_gelu", "gelu"), ("ch9_vp_sw2_elu", "elu")):
        assert float(theory.length_map(1.0, act, glue[key], 0.0)) == pytest.approx(1.0, rel=1e-12)


def test_homogeneous_activations_are_critical_at_every_q(glue) -> None:
    for chi, slope, crit, sw2 in (
        ("ch9_vp_chi1_linear", "ch9_vp_slope_linear", "ch9_crit_linear", "ch9_vp_sw2_linear"),
        ("ch9_vp_chi1_relu", "ch9_vp_slope_relu", "ch9_crit_relu", "ch9_vp_sw2_relu"),
        ("ch9_vp_chi1_leaky_relu", "ch9_vp_slope_leaky_relu", "ch9_crit_leaky_relu", "ch9_vp_sw2_leaky_relu"),
    ):
        assert glue[chi] == pytest.approx(1.0, abs=1e-12)
        assert glue[slope] == pytest.approx(1.0, abs=1e-12)  # the length map is the identity
        assert glue[crit] == pytest.approx(glue[sw2], rel=1e-9)
    assert glue["ch9_crit_linear"] == pytest.approx(1.0, abs=1e-9)
    assert glue["ch9_crit_relu"] == pytest.approx(2.0, abs=1e-9)
    assert glue["ch9_crit_leaky_relu"] == pytest.approx(2 / (1 + LEAKY**2), rel=1e-9)


def test_smooth_activations_are_critical_only_as_q_goes_to_zero(glue) -> None:
    assert glue["ch9_crit_q_max"] < 1e-6  # the stable q* at their critical points is 0
    # chi1 -> sigma_w^2 g'(0)^2: tanh'(0) = elu'(0) = 1, gelu'(0) = silu'(0) = 1/2
    assert glue["ch9_crit_tanh"] == pytest.approx(1.0, abs=1e-6)
    assert glue["ch9_crit_elu"] == pytest.approx(1.0, abs=1e-6)
    assert glue["ch9_crit_gelu"] == pytest.approx(4.0, abs=1e-6)
    assert glue["ch9_crit_silu"] == pytest.approx(4.0, abs=1e-6)
    # SELU: sigma_w^2 lambda^2 (1 + alpha^2)/2 = 1
    lam, alpha = activations.SELU_SCALE, activations.SELU_ALPHA
    assert glue["ch9_crit_selu"] == pytest.approx(2 / (lam**2 * (1 + alpha**2)), rel=1e-6)


def test_at_their_variance_preserving_gain_the_others_are_slightly_chaotic(glue) -> None:
    for key in ("ch9_vp_chi1_tanh", "ch9_vp_chi1_elu", "ch9_vp_chi1_selu", "ch9_vp_chi1_gelu", "ch9_vp_chi1_silu"):
        assert 1.0 < glue[key] < 1.2
    assert glue["ch9_chi1_smooth_min"] == pytest.approx(glue["ch9_vp_chi1_elu"], rel=1e-12)
    assert glue["ch9_chi1_smooth_max"] == pytest.approx(glue["ch9_vp_chi1_tanh"], rel=1e-12)
    assert glue["ch9_growth_50"] == pytest.approx(glue["ch9_chi1_smooth_max"] ** 50, rel=1e-12)
    # SELU's chi1 at q* = 1 has the closed form of ch7: lambda^2 (1/2 + alpha^2 e^2 Phi(-2))
    lam, alpha = activations.SELU_SCALE, activations.SELU_ALPHA
    closed = lam**2 * (0.5 + alpha**2 * math.exp(2) * 0.5 * math.erfc(2 / math.sqrt(2)))
    assert glue["ch9_vp_chi1_selu"] == pytest.approx(closed, rel=1e-10)
    # q = 1 attracts for tanh, ELU, SELU and repels for GELU and SiLU
    for key in ("ch9_vp_slope_tanh", "ch9_vp_slope_elu", "ch9_vp_slope_selu"):
        assert 0 < glue[key] < 1
    for key in ("ch9_vp_slope_gelu", "ch9_vp_slope_silu"):
        assert glue[key] > 1.05


def test_chi1_agrees_with_wide_networks(glue) -> None:
    # t(5) quantile at 1 - 0.05/16, about 4.5
    assert 4.3 < glue["ch9_sim_t_tol"] < 4.8
    # measured 3.27 (tanh); every kernel must stay below the threshold
    assert glue["ch9_sim_max_t"] < glue["ch9_sim_t_tol"]
    # "within 2 %" in plain units (measured 0.5 %); a single network scatters by a few per cent
    assert glue["ch9_sim_max_rel_err"] < 0.02
    assert 0 < glue["ch9_sim_max_spread"] < 0.1
    assert glue["ch9_sim_worst"] in ("linear", "relu", "leaky_relu", "tanh", "elu", "selu", "gelu", "silu")
    # "no systematic finite-width correction shows": deviations of both signs (3 of 8 above)
    assert 1 <= glue["ch9_sim_n_above"] <= 7
    # the chaotic ones measured above 1 in every network (smallest 1.028)
    assert glue["ch9_sim_chaotic_min"] > 1.0


def test_pytorch_gains_on_the_chi1_curves(glue) -> None:
    for key in ("ch9_gain_chi1_linear", "ch9_gain_chi1_relu", "ch9_gain_chi1_leaky_relu"):
        assert glue[key] == pytest.approx(1.0, abs=1e-12)
    assert glue["ch9_gain_chi1_tanh"] > 1.2  # chaotic, as ch7 found (1.2098)
    assert glue["ch9_gain_chi1_tanh"] == pytest.approx(theory.chi1("tanh", 25 / 9, 0.0), rel=1e-12)
    assert 1 < glue["ch9_gain_chi1_selu"] < 1.01  # "just above the edge"
    # ELU's curve ends just below sigma_w^2 = 2; GELU's runs to the end of the grid (4)
    assert 1.8 < glue["ch9_curve_end_elu"] < 2.0
    assert glue["ch9_curve_end_gelu"] == pytest.approx(4.0)


# Dead units: five seeds; the margins come from the spread between seeds (values measured on the
# first build in comments).
def test_dead_relus_at_initialisation_grow_with_depth(glue) -> None:
    assert glue["ch9_dead_n_seeds"] == 5
    assert glue["ch9_dead_n_test"] == 449  # the digits' test quarter
    assert glue["ch9_dead_relu_init_l1_max"] == 0.0  # no dead unit in layer 1
    # last hidden layer: mean 0.21, min 0.094 over seeds
    assert glue["ch9_dead_relu_init_last_min"] > 0.03
    assert glue["ch9_dead_relu_init_last_mean"] > glue["ch9_dead_relu_init_mean"]  # deepest layer above the average
    # the deeper half has more dead units in (almost) every seed: 5 of 5 measured
    assert glue["ch9_dead_relu_deeper_seeds"] >= 4


def test_a_large_step_kills_relus_and_a_small_one_does_not(glue) -> None:
    init_mean = glue["ch9_dead_relu_init_mean"]  # 0.104
    # lr 0.02: "almost unchanged", 0.084
    assert glue["ch9_dead_relu_small_mean"] == pytest.approx(init_mean, abs=0.05)
    assert glue["ch9_dead_relu_small_mean"] <= init_mean  # "slightly fewer": 0.084 against 0.104
    # lr 1: 0.30 on average, three times the count at initialisation
    assert glue["ch9_dead_relu_large_mean"] > 2 * init_mean
    assert glue["ch9_dead_relu_large_max"] > glue["ch9_dead_relu_init_seed_max"]
    assert glue["ch9_dead_relu_large_min"] <= glue["ch9_dead_relu_large_mean"] <= glue["ch9_dead_relu_large_max"]
    assert glue["ch9_dead_relu_small_min"] <= glue["ch9_dead_relu_small_mean"] <= glue["ch9_dead_relu_small_max"]
    # the step increased the count in most seeds (measured 4 of 5)
    assert glue["ch9_dead_relu_large_up_seeds"] >= 3


def test_leaky_relu_and_elu_have_no_dead_units(glue) -> None:
    assert glue["ch9_dead_leaky_elu_eff_max"] == 0.0
    assert glue["ch9_dead_smooth_ok_max"] == 0.0  # GELU, SiLU at init and after the small step


def test_gelu_and_silu_lose_units_to_a_large_step(glue) -> None:
    # measured 0.19 and 0.43 effectively dead (0.12 and 0.36 exactly zero); seeds differ widely
    for exact, eff in (("ch9_dead_gelu_large_exact", "ch9_dead_gelu_large_eff"),
                       ("ch9_dead_silu_large_exact", "ch9_dead_silu_large_eff")):
        assert glue[eff] > 0.05
        assert 0 < glue[exact] <= glue[eff]
    assert glue["ch9_dead_n_seeds_smooth"] == 10
    # "in some of the networks none": 1 <= count < all
    assert 1 <= glue["ch9_dead_smooth_large_seeds_none"] < glue["ch9_dead_n_seeds_smooth"]


def test_selu_constants_from_the_fixed_point(glue) -> None:
    assert glue["ch9_selu_alpha"] == pytest.approx(activations.SELU_ALPHA, abs=1e-10)
    assert glue["ch9_selu_lambda"] == pytest.approx(activations.SELU_SCALE, abs=1e-10)
    assert glue["ch9_selu_alpha_err"] < 1e-10
    assert glue["ch9_selu_lambda_err"] < 1e-10
    # contraction: slope of the variance map at the fixed point below 1, equal to the length map's
    assert 0 < glue["ch9_selu_slope"] < 1
    assert glue["ch9_selu_slope"] == pytest.approx(glue["ch9_vp_slope_selu"], rel=1e-12)
    assert glue["ch9_selu_dmu_dnu"] > 0
    assert glue["ch9_selu_jac_norm"] == pytest.approx(math.hypot(glue["ch9_selu_slope"], glue["ch9_selu_dmu_dnu"]),
                                                      rel=1e-12)
    assert glue["ch9_selu_jac_norm"] < 1
    n = glue["ch9_selu_layers_to_1pc"]
    assert glue["ch9_selu_slope"] ** n <= 0.01 < glue["ch9_selu_slope"] ** (n - 1)


def test_tanh_saturation_follows_mean_field(glue) -> None:
    assert glue["ch9_sat_gain1"] < 1e-3  # q* = 0: nothing saturates
    assert glue["ch9_sat_increasing"] == 1
    # every seed within 0.005 of 2 Phi(-artanh(0.99)/sqrt(q*)) (measured 0.0013)
    assert glue["ch9_sat_max_abs_err"] < 0.005
    assert glue["ch9_sat_gain4"] == pytest.approx(glue["ch9_sat_gain4_theory"], abs=0.005)
    assert 0.005 < glue["ch9_sat_gain53"] < 0.03
    assert glue["ch9_sat_gain4"] > 0.4  # "half its units" at gain 4 (theory 0.454)


def test_exercises(glue) -> None:
    assert glue["ch9_ex_leaky_crit"] == pytest.approx(2 / 1.04, rel=1e-9)
    assert glue["ch9_ex_leaky_closed"] == pytest.approx(2 / 1.04, rel=1e-15)
    assert glue["ch9_ex_leaky_chi1_spread"] < 1e-12
    # GELU's q = 1 repels: below it the signal decays towards 0, above it grows without a stop
    assert glue["ch9_ex_gelu_below"] < 0.01
    assert glue["ch9_ex_gelu_above"] > 5
    assert glue["ch9_ex_gelu_large_slope"] == pytest.approx(glue["ch9_vp_sw2_gelu"] / 2, rel=1e-12)
    assert glue["ch9_ex_gelu_large_slope"] > 1
    # SELU near q = 0
    assert glue["ch9_ex_selu_q0_crit"] == pytest.approx(glue["ch9_crit_selu"], rel=1e-6)
    assert glue["ch9_ex_selu_q0_factor"] == pytest.approx(1 / glue["ch9_ex_selu_q0_crit"], rel=1e-12)
    assert glue["ch9_ex_selu_neg_slope"] == pytest.approx(activations.SELU_SCALE * activations.SELU_ALPHA, rel=1e-10)
