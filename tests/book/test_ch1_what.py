"""Chapter ch1_what: every glued number, recomputed, and the claims the prose makes about them.

The computations repeat the chapter's gradlab calls with the same seeds, so
``expected_glue()`` must agree with the built page to rounding
(``tests/test_built_book.py`` checks that). The test functions below assert what
the prose says about the numbers; each states the threshold it uses.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pytest

from gradlab import data, experiments, losses, mlp, train

LOSS = "softmax_cross_entropy"
NET = dict(hidden="sigmoid", init="lecun_normal", bias_std=1.0)
SIGN_N, SIGN_LR = 100, 0.1
N_IMAGES, SEEDS = 1000, range(10)
DEPTHS = (1, 2, 3, 4)
ARCH = {k: [64] + [30] * k + [10] for k in DEPTHS}
LR, BATCH, EPOCHS, WINDOW = 0.5, 10, 5, 50


@lru_cache(maxsize=None)
def digits() -> data.Dataset:
    return data.digits(rng=0)


@lru_cache(maxsize=None)
def sign_demo() -> dict[str, float]:
    ds = digits()
    Xs, ys = ds.X_train[:SIGN_N], ds.y_train[:SIGN_N]

    def loss_on_sample(net: mlp.Network) -> float:
        return losses.softmax_cross_entropy(mlp.forward(net, Xs).a[net.L], ys)

    start = mlp.init_network([64, 30, 10], rng=0, **NET)
    loss_before, _, grads = mlp.loss_and_gradients(start, Xs, ys, LOSS)
    downhill = start.copy()
    train.sgd_step(downhill, grads, SIGN_LR)
    uphill = start.copy()
    for l in range(1, uphill.L + 1):
        uphill.W[l] += SIGN_LR * grads.dW[l]
        uphill.b[l] += SIGN_LR * grads.db[l]
    first_order = SIGN_LR * sum(np.sum(grads.dW[l] ** 2) + np.sum(grads.db[l] ** 2) for l in grads.dW)
    return {
        "before": float(loss_before),
        "minus": float(loss_on_sample(downhill)),
        "plus": float(loss_on_sample(uphill)),
        "first_order": float(first_order),
    }


@lru_cache(maxsize=None)
def sample() -> tuple[np.ndarray, np.ndarray]:
    ds = digits()
    return ds.X_train[:N_IMAGES], ds.y_train[:N_IMAGES]


@lru_cache(maxsize=None)
def speeds(k: int) -> experiments.LayerSpeeds:
    X, y = sample()
    return experiments.layer_speeds(ARCH[k], X, y, seeds=SEEDS, **NET)


def grad_W(k: int) -> np.ndarray:
    return speeds(k).speed_W


def rho(k: int) -> float:
    return speeds(k).mean[0] / speeds(k).mean[k - 1]


def per_example_ratios(net: mlp.Network) -> np.ndarray:
    X, y = sample()
    _, _, g = mlp.loss_and_gradients(net, X, y, LOSS)
    norm = {l: np.linalg.norm(g.delta[l], axis=1) for l in g.delta}
    return np.array([norm[l] / norm[l + 1] for l in range(1, net.L)])


@lru_cache(maxsize=None)
def k4_details() -> tuple[np.ndarray, np.ndarray]:
    """(share of per-example ratios above 1/4, RMS of sigma'(z)) per layer of the k = 4 network."""
    X, _ = sample()
    nets4 = [mlp.init_network(ARCH[4], rng=s, **NET) for s in SEEDS]
    above_quarter = np.mean([per_example_ratios(net) > 0.25 for net in nets4], axis=(0, 2))
    rms_slope = np.mean([[np.sqrt(np.mean(net.hidden.dg(mlp.forward(net, X).z[l]) ** 2)) for l in range(1, 5)]
                         for net in nets4], axis=0)
    return above_quarter, rms_slope


def all_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.concatenate([getattr(speeds(k), f).ravel() for k in DEPTHS])  # type: ignore[return-value]
                 for f in ("ratio", "ratio_max", "bound"))


@lru_cache(maxsize=None)
def trained(k: int) -> tuple[mlp.Network, train.History]:
    ds = digits()
    net = mlp.init_network(ARCH[k], rng=0, **NET)
    return net, train.train_sgd(net, ds.X_train, ds.y_train, lr=LR, epochs=EPOCHS, batch_size=BATCH, rng=1)


def moving_average(v: np.ndarray) -> np.ndarray:
    return np.convolve(v, np.ones(WINDOW) / WINDOW, mode="valid")


def n_predicted_classes(net: mlp.Network) -> int:
    return len(np.unique(np.argmax(mlp.forward(net, digits().X_test).a[net.L], axis=1)))


@lru_cache(maxsize=None)
def training() -> dict[str, Any]:
    ds = digits()
    net3, hist3 = trained(3)
    speed_start = hist3.grad_delta[:WINDOW].mean(axis=0)
    speed_end = hist3.grad_delta[-WINDOW:].mean(axis=0)
    return {
        "acc_before": train.accuracy(net3, ds.X_test, ds.y_test),
        "acc_after": train.accuracy(hist3.network, ds.X_test, ds.y_test),
        "classes_before": n_predicted_classes(net3),
        "speed_start": speed_start,
        "speed_end": speed_end,
        "plateau": int(np.argmax(moving_average(hist3.loss) < 2.0)) + WINDOW,
        "smoothed_loss": moving_average(hist3.loss),
        "steps": len(hist3.loss),
    }


def accuracy_after(k: int) -> float:
    ds = digits()
    return train.accuracy(trained(k)[1].network, ds.X_test, ds.y_test)


@lru_cache(maxsize=None)
def expected_glue() -> dict[str, Any]:
    ds = digits()
    sign = sign_demo()
    s4 = speeds(4)
    gW4 = grad_W(4).mean(axis=0)
    depth_factor = (rho(4) / rho(2)) ** 0.5
    above_quarter, rms_slope = k4_details()
    all_ratio, all_max, _ = all_pairs()
    tr = training()
    glued: dict[str, Any] = {
        "ch1_sign_n": SIGN_N,
        "ch1_sign_lr": SIGN_LR,
        "ch1_loss_before": sign["before"],
        "ch1_loss_minus": sign["minus"],
        "ch1_loss_plus": sign["plus"],
        "ch1_first_order": sign["first_order"],
        "ch1_n_train": int(ds.X_train.shape[0]),
        "ch1_n_test": int(ds.X_test.shape[0]),
        "ch1_n_images": N_IMAGES,
        "ch1_n_seeds": len(SEEDS),
        "ch1_k4_speed_first": float(s4.mean[0]),
        "ch1_k4_speed_last": float(s4.mean[3]),
        "ch1_k4_ratio": float(rho(4)),
        "ch1_k4_slower": float(1 / rho(4)),
        "ch1_k4_ratio_W": float(gW4[0] / gW4[3]),
        "ch1_ratio_k2": float(rho(2)),
        "ch1_ratio_k3": float(rho(3)),
        "ch1_depth_factor": float(depth_factor),
        "ch1_slower_k10_millions": float(1 / (rho(4) * depth_factor**6) / 1e6),
        "ch1_nbr_ratio_mean": float(s4.ratio.mean()),
        "ch1_nbr_ratio_max": float(s4.ratio_max.max()),
        "ch1_frac_above_quarter": float(above_quarter.mean()),
        "ch1_rms_slope": float(rms_slope.mean()),
        "ch1_bound_min": float(s4.bound.min()),
        "ch1_W_spec_mean": float(4 * s4.bound[:, :3].mean()),
        "ch1_n_pairs": int(all_ratio.size),
        "ch1_n_pairs_max_above_quarter": int(np.sum(all_max > 0.25)),
        "ch1_all_ratio_largest": float(all_ratio.max()),
        "ch1_train_lr": LR,
        "ch1_train_batch": BATCH,
        "ch1_train_epochs": EPOCHS,
        "ch1_train_steps": int(tr["steps"]),
        "ch1_window": WINDOW,
        "ch1_acc_before": float(tr["acc_before"]),
        "ch1_classes_before": int(tr["classes_before"]),
        "ch1_acc_after": float(tr["acc_after"]),
        "ch1_ln10": float(np.log(10)),
        "ch1_plateau": tr["plateau"],
        "ch1_train_ratio_start": float(tr["speed_start"][0] / tr["speed_start"][2]),
        "ch1_train_ratio_end": float(tr["speed_end"][0] / tr["speed_end"][2]),
        "ch1_speed1_growth": float(tr["speed_end"][0] / tr["speed_start"][0]),
        "ch1_classes_k4": n_predicted_classes(trained(4)[1].network),
    }
    for k in DEPTHS:
        glued[f"ch1_acc_k{k}"] = float(accuracy_after(k))
    # the exercises at the end of the chapter
    th, sg = ex_thousand(), ex_sign()
    glued.update({
        "ch1_ex_k_real": th["k_real"],
        "ch1_ex_k_pred": th["k_pred"],
        "ch1_ex_k_below": th["k_pred"] - 1,
        "ch1_ex_slower_below": th["slower"][th["k_pred"] - 1],
        "ch1_ex_slower_pred": th["slower"][th["k_pred"]],
        "ch1_ex_down_off": sg["down_off"],
        "ch1_ex_up_off": sg["up_off"],
        "ch1_ex_half_off": sg["half_off"],
        "ch1_ex_curvature": sg["curvature"],
        "ch1_ex_curv_share": sg["curv_share"],
    })
    return glued


# --- the glue itself ---------------------------------------------------------------------------


def test_glued_values_are_plain_python() -> None:
    for key, value in expected_glue().items():
        assert key.startswith("ch1_")
        assert type(value) in (int, float, str), (key, type(value))
        if isinstance(value, float):
            assert math.isfinite(value), key


# --- the update rule and the seed note's sign --------------------------------------------------


def test_minus_step_lowers_the_loss_and_plus_step_raises_it() -> None:
    s = sign_demo()
    assert s["minus"] < s["before"] < s["plus"]


def test_both_steps_match_the_first_order_prediction() -> None:
    # "Both changes are close to the first-order prediction": within 10 % each.
    s = sign_demo()
    assert s["before"] - s["minus"] == pytest.approx(s["first_order"], rel=0.1)
    assert s["plus"] - s["before"] == pytest.approx(s["first_order"], rel=0.1)


# --- Nielsen's experiment: speeds at initialisation --------------------------------------------


@pytest.mark.parametrize("k", DEPTHS)
def test_mean_speed_increases_from_each_layer_to_the_next(k: int) -> None:
    # "in every network the mean speed grows from each layer to the next, all the way to the output layer"
    assert np.all(np.diff(speeds(k).mean) > 0), speeds(k).mean


@pytest.mark.parametrize("k", DEPTHS)
def test_weight_gradients_tell_the_same_story(k: int) -> None:
    assert np.all(np.diff(grad_W(k).mean(axis=0)) > 0)


def test_first_hidden_layer_of_k4_is_over_a_hundred_times_slower() -> None:
    # rho(4) below 1/100 and above 1/1000: "about 131 times more slowly", two orders of magnitude.
    assert 1e-3 < rho(4) < 1e-2
    g = expected_glue()
    assert g["ch1_k4_ratio_W"] < 0.05  # the weight gradients show the same vanishing


def test_rho_shrinks_geometrically_with_depth() -> None:
    # Each extra hidden layer multiplies rho by a roughly constant factor: both steps within
    # 25 % of their geometric mean, which is about one fifth (between 0.15 and 0.25).
    f = expected_glue()["ch1_depth_factor"]
    assert 0.15 < f < 0.25
    assert rho(2) > rho(3) > rho(4)
    for step in (rho(3) / rho(2), rho(4) / rho(3)):
        assert step == pytest.approx(f, rel=0.25)
    assert expected_glue()["ch1_slower_k10_millions"] > 1  # "millions of times"


# --- the ratio of neighbouring layers against 1/4 ----------------------------------------------


def test_no_per_example_ratio_exceeds_the_bound() -> None:
    # The theorem ||delta^(l)_i|| <= max(g') ||W^(l+1)||_2 ||delta^(l+1)_i||, for every depth, seed, layer.
    _, all_max, all_bound = all_pairs()
    assert np.all(all_max <= all_bound * (1 + 1e-12))
    assert np.all(np.isfinite(all_bound)) and np.all(all_bound > 0)


def test_the_bound_is_close_to_one_half_for_square_layers() -> None:
    # ||W||_2 of a 30 x 30 matrix with entry variance 1/30 is close to 2 (within 10 %).
    g = expected_glue()
    assert g["ch1_W_spec_mean"] == pytest.approx(2.0, rel=0.1)
    assert g["ch1_bound_min"] > 0.25


def test_one_quarter_is_not_a_bound_but_only_a_few_examples_exceed_it() -> None:
    g = expected_glue()
    assert g["ch1_nbr_ratio_max"] > 0.25
    assert g["ch1_n_pairs_max_above_quarter"] > 0
    assert 0 < g["ch1_frac_above_quarter"] < 0.1  # "a small share of examples"


def test_every_mean_ratio_is_below_one_quarter_and_about_one_fifth() -> None:
    all_ratio, _, _ = all_pairs()
    assert np.all(all_ratio < 0.25)
    assert expected_glue()["ch1_nbr_ratio_mean"] == pytest.approx(0.2, abs=0.02)


def test_mean_ratio_matches_rms_of_the_slope() -> None:
    # "The two columns agree to within a few per cent in every layer": within 5 %.
    _, rms_slope = k4_details()
    assert np.allclose(speeds(4).ratio.mean(axis=0), rms_slope, rtol=0.05)
    assert np.all(rms_slope < 0.25)


# --- training -----------------------------------------------------------------------------------


def test_untrained_network_predicts_one_digit() -> None:
    tr = training()
    assert tr["classes_before"] == 1
    assert tr["acc_before"] < 0.15


def test_vanishing_pattern_at_the_start_of_training() -> None:
    tr = training()
    s = tr["speed_start"]
    assert s[0] < s[1] < s[2]
    assert s[0] / s[2] < 0.1


def test_loss_plateau_near_ln10_before_it_falls() -> None:
    tr = training()
    before = tr["smoothed_loss"][: tr["plateau"] - WINDOW]
    assert tr["plateau"] > 2 * WINDOW  # the plateau is long, not a single window
    assert np.all(before >= 2.0)
    assert np.max(np.abs(before - np.log(10))) < 0.3  # "close to ln 10"
    assert tr["smoothed_loss"][-1] < 1.0


def test_first_layer_speeds_up_and_catches_up() -> None:
    tr = training()
    start, end = tr["speed_start"], tr["speed_end"]
    assert end[0] / start[0] > 10  # "more than a factor of ten" (figure alt text)
    assert 2 / 3 < end[2] / start[2] < 3 / 2  # layer 3 "stays nearly level"
    assert end[0] / end[2] > 10 * (start[0] / start[2])
    assert tr["acc_after"] > tr["acc_before"] + 0.5


def test_accuracy_falls_with_depth_and_k4_stays_on_its_plateau() -> None:
    acc = [accuracy_after(k) for k in DEPTHS]
    assert all(a > b for a, b in zip(acc, acc[1:])), acc
    net4, hist4 = trained(4)
    assert n_predicted_classes(hist4.network) == 1
    ds = digits()
    assert acc[-1] <= train.accuracy(net4, ds.X_test, ds.y_test)  # "no better than before training"


# --- exercises ------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def ex_thousand() -> dict[str, Any]:
    """Exercise ex-ch1-thousand: extrapolate rho geometrically from k = 4, then measure."""
    f = (rho(4) / rho(2)) ** 0.5
    k_real = 4 + math.log(1000 * rho(4)) / math.log(1 / f)
    k_pred = int(math.ceil(k_real))
    X, y = sample()
    slower = {}
    for k in (k_pred - 1, k_pred):
        s = experiments.layer_speeds([64] + [30] * k + [10], X, y, seeds=SEEDS, **NET)
        slower[k] = float(s.mean[k - 1] / s.mean[0])
    return {"f": f, "k_real": float(k_real), "k_pred": k_pred, "slower": slower}


@lru_cache(maxsize=None)
def ex_sign() -> dict[str, float]:
    """Exercise ex-ch1-sign: one-sided changes against half their difference."""
    s = sign_demo()
    fo = s["first_order"]
    curvature = s["plus"] + s["minus"] - 2 * s["before"]
    return {
        "down_off": float(-((s["before"] - s["minus"]) / fo - 1)),
        "up_off": float((s["plus"] - s["before"]) / fo - 1),
        "half_off": float(abs((s["plus"] - s["minus"]) / 2 / fo - 1)),
        "curvature": float(curvature),
        "curv_share": float(curvature / (2 * fo)),
    }


def test_ex_thousand_prediction_is_six_hidden_layers() -> None:
    th = ex_thousand()
    # rho(k) = rho(4) f^(k-4) <= 1/1000  <=>  k >= 4 + ln(1000 rho(4)) / ln(1/f); solve it another way:
    k_grid = np.arange(4.0, 10.0, 1e-4)
    first = k_grid[np.argmax(rho(4) * th["f"] ** (k_grid - 4) <= 1e-3)]
    assert th["k_real"] == pytest.approx(first, abs=2e-4)
    assert 5 < th["k_real"] < 6 and th["k_pred"] == 6
    # the same answer from rho(1) = 1 (first hidden layer = last hidden layer): 1 + ln 1000 / ln(1/f)
    assert math.ceil(1 + math.log(1000) / math.log(1 / th["f"])) == th["k_pred"]


def test_ex_thousand_measurement_brackets_one_thousand() -> None:
    # "with k_pred - 1 hidden layers ... below 1000, with k_pred ... above": the prediction holds.
    th = ex_thousand()
    below, at = th["slower"][th["k_pred"] - 1], th["slower"][th["k_pred"]]
    assert below < 1000 <= at
    assert below > 1 / rho(4)  # and both are slower than the four-layer network


def test_ex_sign_curvature_explains_the_one_sided_misses() -> None:
    sg = ex_sign()
    # "the downhill change falls short ... the uphill change exceeds": both misses positive
    assert sg["down_off"] > 0 and sg["up_off"] > 0
    # the sum is alpha^2 g^T H g > 0, and half of it (relative to the prediction) is the size of
    # each one-sided miss: within 10 % (the rest is the alpha^3 term)
    assert sg["curvature"] > 0
    for miss in (sg["down_off"], sg["up_off"]):
        assert miss == pytest.approx(sg["curv_share"], rel=0.1)
    # half the difference is at least ten times closer than either one-sided change
    assert sg["half_off"] < min(sg["down_off"], sg["up_off"]) / 10
