"""Chapter 3, "The chain rule through depth": the claims its prose makes, asserted on the values its build glued.

Nothing here recomputes the chapter. Generic behaviour of ``gradlab.chain``, ``mlp.backward``,
``losses`` and ``gradcheck`` is unit-tested in tests/package.
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import pytest

from gradlab import activations, losses, mlp

PAGE = "ch3_chain_rule"
pytestmark = pytest.mark.built_book

SOURCE = Path(__file__).resolve().parents[2] / "book" / f"{PAGE}.md"

#: The threshold the page states for the whole-network gradient check.
GRADCHECK_TOL = 1e-6
EPS = 2.0**-52


# --- three layers, one unit each ---------------------------------------------


def test_the_table_multiplies_out_to_dL_dw1(glue) -> None:
    # the last "product so far" of the seven-factor table is ChainFactors.dL_dw1
    assert math.isclose(glue["ch3_table_product"], glue["ch3_dLdw1"], rel_tol=1e-14)


def test_slopes_shrink_and_the_two_inner_weights_exceed_one(glue) -> None:
    # "The slopes of the sigmoid are the factors that shrink it; the two weights inside the
    # product are larger than one in size"
    assert 0 < glue["ch3_g1"] <= glue["ch3_max_slope"] < 0.25
    assert glue["ch3_min_inner_weight"] > 1


def test_three_layer_product_matches_finite_differences(glue) -> None:
    # "the size of rounding in a central difference with h = 1e-6, not a disagreement"
    assert glue["ch3_dLdw1_relerr"] < 1e-8
    assert glue["ch3_chain_relerr_all"] < 1e-8
    assert math.isclose(glue["ch3_dLdw1_fd"], glue["ch3_dLdw1"], rel_tol=1e-7)


def test_dropping_g_prime_of_z1_is_caught(glue) -> None:
    # "too large by the factor 1/g'(z1)", and the gradient check says so at once
    assert math.isclose(glue["ch3_without_g1"], glue["ch3_dLdw1"] / glue["ch3_g1"], rel_tol=1e-12)
    assert abs(glue["ch3_without_g1"]) > 4 * abs(glue["ch3_dLdw1"])  # sigmoid: g' <= 1/4
    assert glue["ch3_without_g1_relerr"] > 1e-2 > GRADCHECK_TOL
    assert glue["ch3_without_g1_relerr"] > 1e6 * glue["ch3_dLdw1_relerr"]


# --- any depth ---------------------------------------------------------------


def test_deep_chain_shrinks_by_at_most_a_quarter_per_layer(glue) -> None:
    assert glue["ch3_deep_L"] == 10
    # unit weights: every factor is a sigmoid slope, in (0, 1/4]
    assert 0 < glue["ch3_deep_min_factor"] <= glue["ch3_deep_max_factor"] <= 0.25
    # the alt text: a roughly constant factor per layer (between 4 and 5.5 times)
    assert 1 / glue["ch3_deep_max_factor"] > 4 and 1 / glue["ch3_deep_min_factor"] < 5.5
    # the product of the factors is delta^(1)/delta^(10), below (1/4)^9
    assert math.isclose(glue["ch3_deep_prod"], glue["ch3_deep_delta_ratio"], rel_tol=1e-12)
    assert glue["ch3_deep_bound"] == 0.25**9
    assert glue["ch3_deep_prod"] < glue["ch3_deep_bound"]
    # dL/dw^(l) = delta^(l) a^(l-1): the recursion reproduces ChainFactors.dL_dw to rounding
    assert glue["ch3_deep_recursion_err"] < 1e-12
    # the first weight's gradient is tiny next to the last one's
    assert 0 < glue["ch3_deep_ratio"] < 1e-5
    # the figure: both gradients grow at every step from layer 1 to layer 10
    assert glue["ch3_deep_n_not_rising"] == 0


# --- full layers -------------------------------------------------------------


def test_page_quotes_backward_lines_that_exist() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = lines.index("| Equation | Line in `backward` |")
    quoted = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        quoted += re.findall(r"`([^`]+)`", line.split(" | ")[-1])
    assert len(quoted) == 4
    source = inspect.getsource(mlp.backward)
    for q in quoted:
        assert q in source, q
    # the listing is a literalinclude of the real function, and the file is where the page says
    # (only option lines between the fence and :pyobject:, so another literalinclude never matches)
    m = re.search(r"```\{literalinclude\} (\S+)\n(?::.*\n)*?:pyobject: backward\n", text)
    assert m is not None
    assert (SOURCE.parent / m.group(1)).resolve() == Path(inspect.getsourcefile(mlp)).resolve()


# --- Jacobians ---------------------------------------------------------------


def test_jacobian_product_reproduces_backward_delta(glue) -> None:
    # "agree to ... in every layer, which is rounding"; central differences with step 1e-5
    assert glue["ch3_jac_maxdiff"] < 1e-12
    assert glue["ch3_jac_fd_relerr"] < 1e-6


def test_norm_bound_on_the_page_network(glue) -> None:
    # "The bound holds in every layer"
    assert glue["ch3_bound_max_ratio"] <= 1 + 1e-12
    # "every layer factor is below one", so the bound and the actual ratio are below one
    assert glue["ch3_max_layer_factor"] < 1
    assert glue["ch3_norm_ratio"] <= glue["ch3_bound_ratio"] * (1 + 1e-12)
    assert glue["ch3_bound_ratio"] < 1
    # sigmoid hidden units: max|g'| <= 1/4, so each factor is at most ||W||_2 / 4
    assert 0 < glue["ch3_bound_max_slope"] <= 0.25


def test_looseness_of_the_bound_grows_with_depth_not_width(glue) -> None:
    # the lemma holds for every seed and width: the bound over the actual ratio is at least 1
    assert glue["ch3_loose_min_all"] >= 1 - 1e-12
    # "splits exactly into" a norm part and a slope part per layer (product over layers = looseness)
    assert glue["ch3_loose_split_gap"] < 1e-12
    # "about ten times the actual ratio" at every width: the medians over ten seeds stay within
    # a factor 1.5 of each other (measured 8.8 to 11.0) while sqrt(n) grows 8-fold
    assert glue["ch3_loose_sqrt_growth"] == math.sqrt(384 / 6) == 8
    assert 6 < glue["ch3_loose_med_min"] <= glue["ch3_loose_med_max"] < 14
    assert glue["ch3_loose_med_max"] / glue["ch3_loose_med_min"] < 1.5 < glue["ch3_loose_sqrt_growth"]
    # the width narrows the spread between seeds (n = 6: 2.7 to 18.6; n = 384: 8.7 to 11.1)
    spread_small = glue["ch3_loose_max_small"] / glue["ch3_loose_min_small"]
    spread_large = glue["ch3_loose_max_large"] / glue["ch3_loose_min_large"]
    assert spread_small > 3 and spread_large < 1.5
    assert glue["ch3_loose_min_large"] <= glue["ch3_loose_med_large"] <= glue["ch3_loose_max_large"]
    # norm part -> 1 + sqrt(m/n): 2 for the n x n layers (median 1.98 at n = 384, within 5 %),
    # near 1 for the 3 x 384 output layer (at least 1, since ||W^T v|| <= ||W||_2 ||v||)
    assert glue["ch3_loose_norm_sq_large"] == pytest.approx(1 + math.sqrt(1), rel=0.05)
    assert 1 <= glue["ch3_loose_norm_out_large"] < 1 + math.sqrt(3 / 384) + 0.05
    # "the slopes cost little": slope parts are >= 1 by definition, medians a few per cent above
    assert 1 <= glue["ch3_loose_slope_max"] < 1.1
    # "mostly 2^3, a factor 2 from each square layer"
    assert 2**3 <= glue["ch3_loose_med_large"] < 1.5 * 2**3


def test_weight_gradient_is_delta_times_the_input(glue) -> None:
    # ||delta a^T||_F = ||delta|| ||a||, to rounding, in every layer
    assert glue["ch3_dW_gap"] < 1e-14
    # sigmoid outputs lie in (0, 1), so ||a^(l)|| < sqrt(n) = sqrt(6); they "stay put"
    assert glue["ch3_n_hidden"] == 6
    assert 0 < glue["ch3_dW_hidden_a_min"] <= glue["ch3_dW_aLm1_norm"] <= glue["ch3_dW_hidden_a_max"]
    assert glue["ch3_dW_hidden_a_max"] < math.sqrt(glue["ch3_n_hidden"])
    assert glue["ch3_dW_hidden_a_max"] / glue["ch3_dW_hidden_a_min"] < 1.5
    # the raw input is larger, and lifts the first layer's weight gradient by ||a^(0)||/||a^(L-1)||
    assert glue["ch3_dW_a0_norm"] > glue["ch3_dW_hidden_a_max"]
    assert glue["ch3_dW_ratio"] == pytest.approx(
        glue["ch3_norm_ratio"] * glue["ch3_dW_a0_norm"] / glue["ch3_dW_aLm1_norm"], rel=1e-12
    )
    assert glue["ch3_dW_ratio"] > glue["ch3_norm_ratio"]


def test_batch_weight_gradient_is_at_most_the_sum_of_outer_products(glue) -> None:
    assert glue["ch3_dW_B"] == 8
    # triangle inequality: at most 1; hidden layers (positive inputs) 0.89 to 0.97, layer 1 0.52
    assert 0.8 < glue["ch3_dW_batch_hidden_min"] <= glue["ch3_dW_batch_hidden_max"] <= 1 + 1e-12
    assert 0 < glue["ch3_dW_batch_first"] < 0.7 < glue["ch3_dW_batch_hidden_min"]


# --- whole-network gradient check ---------------------------------------------


def test_gradient_check_table(glue) -> None:
    assert glue["ch3_gc_n_checks"] == len(activations.NAMES) * len(losses.NAMES) == 20
    assert glue["ch3_gc_n_params"] == (5 * 4 + 4) + (4 * 4 + 4) + (4 * 3 + 3) == 59
    # "The test suite asserts that it stays below 1e-6"
    assert glue["ch3_gc_max_relerr"] < GRADCHECK_TOL
    # every check is a real one: no network whose gradients are all zero
    assert glue["ch3_gc_min_relerr"] > 0
    # far from the threshold that the dropped g'(z1) crosses
    assert glue["ch3_without_g1_relerr"] > 1e3 * GRADCHECK_TOL > 1e3 * glue["ch3_gc_max_relerr"]


def test_no_preactivation_near_a_kink(glue) -> None:
    # "none of the pre-activations here comes within a step h of 0": a step h = 1e-6 in one
    # parameter moves z by at most h * max(|a|, 1) downstream of it, so 1e-4 is a wide margin
    assert glue["ch3_gc_closest_z"] > 1e-4


# --- exercises ------------------------------------------------------------------


def test_ex_bce_output_error_is_a_minus_y_over_B(glue) -> None:
    # sigma'(z^(L)) cancels: backward's product equals (a - y)/B to rounding (entries ~0.1)
    assert glue["ch3_ex_bce_delta_err"] < 1e-15
    # "below the chapter's threshold of 1e-6" (it also checks the exercise's dL/da formula)
    assert glue["ch3_ex_bce_gc"] < GRADCHECK_TOL


def test_ex_bce_keeps_the_gradient_of_a_saturated_wrong_output() -> None:
    # Under MSE a sigmoid output at z = 8 with target 0 passes back (a - y) sigma'(8); under
    # cross-entropy the full (a - y). Their ratio sigma'(8) = e^-8/(1 + e^-8)^2 is "almost nothing".
    s = 1 / (1 + math.exp(-8.0))
    assert s * (1 - s) < 1e-3
    assert s > 0.999  # the unit is saturated at the wrong answer


def test_ex_softmax_output_error_and_its_zero_sum(glue) -> None:
    assert glue["ch3_ex_sm_formula_err"] < 1e-15  # equal to rounding
    assert glue["ch3_ex_sm_rowsum"] < 1e-15  # rows of (p - y)/B sum to (1 - 1)/B = 0
    # a zero sum, although the entries are not small
    assert glue["ch3_ex_sm_db_sum"] < 1e-15 < 0.1 < glue["ch3_ex_sm_db_max"]
    assert glue["ch3_ex_sm_shift"] < 1e-14  # the loss ignores a common shift of the output biases


def test_ex_step_error_follows_h_squared_then_rounding(glue) -> None:
    # truncation h^2 f'''/6: a hundredfold per decade while it dominates (within 5 %)
    assert glue["ch3_ex_h_drop"] == pytest.approx(100, rel=0.05)
    assert glue["ch3_ex_h_drop_next"] == pytest.approx(100, rel=0.05)
    # the optimum on the grid is h = 1e-5, within a factor 10 of eps^(1/3) ~ 6e-6
    assert glue["ch3_ex_eps_cbrt"] == pytest.approx(EPS ** (1 / 3), rel=1e-14)
    assert glue["ch3_ex_h_best"] == pytest.approx(1e-5, rel=1e-12)
    assert glue["ch3_ex_eps_cbrt"] / 10 < glue["ch3_ex_h_best"] < 10 * glue["ch3_ex_eps_cbrt"]
    # below it rounding (eps/h) takes over: the error rises at every smaller step
    assert glue["ch3_ex_h_n_not_rising"] == 0
    assert glue["ch3_ex_h_err_smallest"] > 1e3 * glue["ch3_ex_h_err_best"]
    # "the book's h = 1e-6 sits just on the rounding side ..., far below the threshold of 1e-6"
    assert glue["ch3_ex_h_err_best"] < glue["ch3_ex_h_err_1e6"] < 1e-3 * GRADCHECK_TOL
