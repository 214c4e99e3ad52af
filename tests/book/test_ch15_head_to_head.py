"""Chapter 15, "Head to head": the claims its prose makes, asserted on the values its build glued.

Nothing here re-runs the chapter's training. Every claim about a trained network is made over the
chapter's three seeds (a mean, a spread, a min or max over seeds) with a margin several times the
spread measured under the Haswell, Sandybridge and Prescott OpenBLAS kernels. The learning rates are
chosen by the chapter from one tuning run per rate; a near tie can go either way on another kernel,
so no claim depends on which of two neighbouring rates was chosen.
"""

from __future__ import annotations

import math

import pytest

PAGE = "ch15_head_to_head"
pytestmark = pytest.mark.built_book

VARIANTS = ("base", "xavier", "orth", "relu", "bn", "ln", "res", "adam", "relu_bn", "res_preln_adam",
            "relu_adam_clip", "orth_hi", "orth_hi_clip")
# every per-variant key, literally (tests/book/test_glue.py wants literal names)
ACC = ("ch15_acc_base", "ch15_acc_xavier", "ch15_acc_orth", "ch15_acc_relu", "ch15_acc_bn", "ch15_acc_ln",
       "ch15_acc_res", "ch15_acc_adam", "ch15_acc_relu_bn", "ch15_acc_res_preln_adam", "ch15_acc_relu_adam_clip",
       "ch15_acc_orth_hi", "ch15_acc_orth_hi_clip")
SD = ("ch15_sd_base", "ch15_sd_xavier", "ch15_sd_orth", "ch15_sd_relu", "ch15_sd_bn", "ch15_sd_ln",
      "ch15_sd_res", "ch15_sd_adam", "ch15_sd_relu_bn", "ch15_sd_res_preln_adam", "ch15_sd_relu_adam_clip",
      "ch15_sd_orth_hi", "ch15_sd_orth_hi_clip")
R0 = ("ch15_r0_base", "ch15_r0_xavier", "ch15_r0_orth", "ch15_r0_relu", "ch15_r0_bn", "ch15_r0_ln",
      "ch15_r0_res", "ch15_r0_adam", "ch15_r0_relu_bn", "ch15_r0_res_preln_adam", "ch15_r0_relu_adam_clip",
      "ch15_r0_orth_hi", "ch15_r0_orth_hi_clip")
R1 = ("ch15_r1_base", "ch15_r1_xavier", "ch15_r1_orth", "ch15_r1_relu", "ch15_r1_bn", "ch15_r1_ln",
      "ch15_r1_res", "ch15_r1_adam", "ch15_r1_relu_bn", "ch15_r1_res_preln_adam", "ch15_r1_relu_adam_clip",
      "ch15_r1_orth_hi", "ch15_r1_orth_hi_clip")
LR = ("ch15_lr_base", "ch15_lr_xavier", "ch15_lr_orth", "ch15_lr_relu", "ch15_lr_bn", "ch15_lr_ln",
      "ch15_lr_res", "ch15_lr_adam", "ch15_lr_relu_bn", "ch15_lr_res_preln_adam", "ch15_lr_relu_adam_clip",
      "ch15_lr_orth_hi", "ch15_lr_orth_hi_clip")
ADAM = ("ch15_lr_adam", "ch15_lr_res_preln_adam", "ch15_lr_relu_adam_clip")
GRID_SGD = (0.01, 0.03, 0.1, 0.3, 1.0)  # the grids the prose states
GRID_ADAM = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
LR_HIGH = 0.3  # the clipping test's rate, stated in the prose
DEPTH = 30
CHANCE = 0.1  # ten balanced classes
# the three groups of "What trains"
WELL = ("ch15_acc_orth", "ch15_acc_bn", "ch15_acc_ln", "ch15_acc_res", "ch15_acc_res_preln_adam",
        "ch15_acc_orth_hi_clip")
PART = ("ch15_acc_xavier", "ch15_acc_relu_bn", "ch15_acc_relu_adam_clip")
FAIL = ("ch15_acc_base", "ch15_acc_relu", "ch15_acc_adam", "ch15_acc_orth_hi")


def test_every_variant_was_measured(glue) -> None:
    assert len(ACC) == len(SD) == len(R0) == len(R1) == len(LR) == len(VARIANTS)
    for a, s, r0, r1 in zip(ACC, SD, R0, R1):
        assert 0 <= glue[a] <= 1 and glue[s] >= 0
        assert glue[r0] > 0 and glue[r1] > 0 and math.isfinite(glue[r0]) and math.isfinite(glue[r1])
    assert glue["ch15_n_fits"] == 3 * len(VARIANTS)  # three seeds per variant
    assert glue["ch15_n_diverged"] == 0  # "no fit at a chosen rate diverged"
    assert glue["ch15_wall_total"] > 0  # machine-dependent: shown, never compared
    assert set(WELL) | set(PART) | set(FAIL) == set(ACC) and len(WELL) + len(PART) + len(FAIL) == len(ACC)


def test_each_rate_comes_from_its_grid(glue) -> None:
    for key in LR[:-2]:  # the tuned variants
        assert any(math.isclose(glue[key], r) for r in (GRID_ADAM if key in ADAM else GRID_SGD)), key
    assert glue["ch15_lr_orth_hi"] == glue["ch15_lr_orth_hi_clip"] == LR_HIGH  # fixed, not tuned
    # one tuning run per rate of the grid: 8 SGD variants x 5 rates + 3 Adam variants x 5 rates
    assert glue["ch15_n_tune"] == 8 * len(GRID_SGD) + 3 * len(GRID_ADAM)
    assert 1 <= glue["ch15_n_tune_diverged"] < glue["ch15_n_tune"]  # "some tuning runs diverged"
    # the clipping test's rate is well above the orthogonal network's own: at least 3 grid steps of ~3
    assert glue["ch15_hi_over_orth"] >= 3 - 1e-9
    assert glue["ch15_hi_over_orth"] == pytest.approx(LR_HIGH / glue["ch15_lr_orth"])


def test_baseline_vanishes_as_mean_field_predicts(glue) -> None:
    # tanh near 0 is linear and chi_1 <= sigma_w^2 = 1/3, so r <= (1/3)^(29/2); the length map keeps it close
    bound = (1 / 3) ** ((DEPTH - 1) / 2)
    assert 0.5 * bound < glue["ch15_theory_base"] <= bound
    # measured (geometric mean of three seeds) within a factor 2 of the prediction; seeds spread by < 1.5x
    assert abs(math.log(glue["ch15_r0_base"] / glue["ch15_theory_base"])) < math.log(2)
    assert glue["ch15_r0_base_max"] < 1e-5
    # after six epochs at its best rate nothing has changed: it still vanishes
    assert glue["ch15_r1_base"] < 1e-5
    # Adam and clipping do not change the network, so their gradient at init is the baseline's
    assert glue["ch15_r0_adam"] == pytest.approx(glue["ch15_r0_base"], rel=1e-9)
    # "Adam has moved the same network's ratio" far from the baseline's, without making it classify
    assert glue["ch15_r1_adam"] > 1e3 * glue["ch15_r1_base"]


def test_critical_initialisations_follow_the_same_theory(glue) -> None:
    # sigma_w^2 = 1: critical for tanh without biases; the signal shrinks slowly, chi_1 < 1 on the way
    assert 0.1 < glue["ch15_theory_xavier"] < 1
    for key in ("ch15_r0_xavier", "ch15_r0_orth"):  # mean-field theory sees only the variance
        assert abs(math.log(glue[key] / glue["ch15_theory_xavier"])) < math.log(1.5)
    # ReLU + He: chi_1 = 1 exactly; a finite network of width 64 fluctuates around it
    assert 0.5 < glue["ch15_r0_relu"] < 2
    assert glue["ch15_r0_relu_adam_clip"] == pytest.approx(glue["ch15_r0_relu"], rel=1e-9)


def test_residual_keeps_and_normalisation_explodes(glue) -> None:
    # identity path: r >= ~1; without norm the branch adds at most alpha^2 = 1/L per block to the mean
    # square (chi_1 <= sigma_w^2 = 1 for tanh at variance 1/n); pre-LN measured well inside the same bound
    upper = (1 + 1 / DEPTH) ** ((DEPTH - 1) / 2)
    for key in ("ch15_r0_res", "ch15_r0_res_preln_adam"):
        assert 1 <= glue[key] <= upper
    assert 1 < glue["ch15_r1_res"] < 10  # after training: moved, neither vanished nor exploded far
    # normalised plain networks: the gradient grows towards the input at init (Yang et al. 2019 for BN)
    assert glue["ch15_r0_bn_min"] > 5
    assert glue["ch15_r0_ln_min"] > 5
    assert glue["ch15_r0_relu_bn_min"] > 50
    assert glue["ch15_r0_relu_bn"] > glue["ch15_r0_bn"]
    assert glue["ch15_r1_bn"] > 1


def test_what_trains(glue) -> None:
    base = glue["ch15_acc_base"]
    assert base < CHANCE + 0.05  # at chance
    assert glue["ch15_val_best_base"] < CHANCE + 0.1  # "at no rate of the grid"
    # three groups "with wide gaps between them"
    assert min(glue[k] for k in WELL) > 0.7
    assert max(glue[k] for k in FAIL) < 0.25
    assert min(glue[k] for k in WELL) > max(glue[k] for k in PART) + 0.05
    assert min(glue[k] for k in PART) > max(glue[k] for k in FAIL) + 0.15
    # the closest of those that train well is many standard deviations above the baseline
    assert glue["ch15_gap_min_sd"] > 5
    # Xavier: its seeds spread widely; the displayed range brackets the mean
    assert glue["ch15_acc_xavier_min"] <= glue["ch15_acc_xavier"] <= glue["ch15_acc_xavier_max"]
    # a healthy ratio is not enough: ReLU + He trains worst of the three initialisation remedies
    assert glue["ch15_acc_relu"] + 0.2 < min(glue["ch15_acc_xavier"], glue["ch15_acc_orth"])
    assert glue["ch15_val_best_relu"] < 0.5
    # batch norm, or Adam with clipping, lifts ReLU + He "well above chance, not to the first group"
    for key in ("ch15_acc_relu_bn", "ch15_acc_relu_adam_clip"):
        assert glue["ch15_acc_relu"] + 0.15 < glue[key] < min(glue[k] for k in WELL) - 0.05
    # "the tuning did not pick a large rate for batch norm"
    assert glue["ch15_lr_bn"] <= 0.03 + 1e-12
    # Adam on the baseline network: no rate of its grid makes it classify
    assert glue["ch15_val_best_adam"] < 0.4


def test_clipping(glue) -> None:
    # the baseline never triggers clipping: its run is also the "clipping alone" run
    assert glue["ch15_clipped_base"] == 0
    # at the high rate clipping rescues the orthogonal network
    gap = glue["ch15_acc_orth_hi_clip"] - glue["ch15_acc_orth_hi"]
    assert gap > 10 * max(glue["ch15_sd_orth_hi_clip"], glue["ch15_sd_orth_hi"])
    assert glue["ch15_clipped_orth_hi_clip"] > 0.5
    assert glue["ch15_loss_end_orth_hi"] > 1.5  # near ln 10 = 2.30
    assert glue["ch15_loss_end_orth_hi_clip"] < 0.6
    assert glue["ch15_peak_orth_hi"] > 3
    assert glue["ch15_clipped_relu_adam_clip"] > 0.5  # "active at most steps"


def test_exercises(glue) -> None:
    # weight gradients are about equal across layers (Glorot & Bengio)
    assert 0.5 < glue["ch15_ex_wratio_min"] <= glue["ch15_ex_wratio_max"] < 2
    # ReLU maps every image to almost the same direction; tanh (odd) does not
    assert glue["ch15_ex_cos_relu"] > 0.9
    assert abs(glue["ch15_ex_cos_orth"]) < 0.2
    # the baseline's first-layer gradient entries are below Adam's epsilon
    assert glue["ch15_ex_eps_below"] > 0.9
    # batch norm with the 4-image minibatch kept: "costs it most of its accuracy" (above chance: at most
    # half of what it gained), and not only through the running statistics
    assert glue["ch15_ex_drop_acc"] > 0.75
    assert glue["ch15_ex_keep_acc"] - CHANCE < 0.5 * (glue["ch15_ex_drop_acc"] - CHANCE)
    assert glue["ch15_ex_keep_acc"] < glue["ch15_ex_drop_acc"] - 0.3
    assert glue["ch15_ex_keep_acc_batch"] < glue["ch15_ex_drop_acc"] - 0.3
