"""Tests for gradlab.normalization: batch norm and layer norm against central
differences, closed-form properties of their outputs and gradients, the
running-statistics update, numerics at the edges, and argument errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradlab import gradcheck
from gradlab.normalization import (
    BatchNormCache,
    LayerNormCache,
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
    update_running_stats,
)

B, N = 5, 4
TOL = 1e-7  # relative error of a correct backward pass against central differences in float64

# --------------------------------------------------------------------------- helpers


def _data(seed: int = 0, B: int = B, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A batch with nonzero means and unequal scales per feature, and random gamma, beta."""
    rng = np.random.default_rng(seed)
    x = 3.0 + rng.standard_normal((B, n)) * rng.uniform(0.5, 2.0, n)
    return x, rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n), rng.standard_normal(n)


def _running(seed: int = 1, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 3.0 + 0.3 * rng.standard_normal(n), rng.uniform(0.5, 3.0, n)


def _grad_errors(
    forward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    backward: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, seed: int = 7,
) -> dict[str, float]:
    """Relative errors of (dx, dgamma, dbeta) for the scalar loss L = sum(c * y), c random.

    dL/dx by central differences over every entry of x is the full vector-Jacobian
    product c^T dy/dx, so any coupling between examples (or features) is checked too.
    """
    c = np.random.default_rng(seed).standard_normal(x.shape)
    dx, dgamma, dbeta = backward(c)
    num = {
        "x": gradcheck.numerical_gradient(lambda t: float(np.sum(c * forward(t, gamma, beta))), x),
        "gamma": gradcheck.numerical_gradient(lambda t: float(np.sum(c * forward(x, t, beta))), gamma),
        "beta": gradcheck.numerical_gradient(lambda t: float(np.sum(c * forward(x, gamma, t))), beta),
    }
    return {
        "x": gradcheck.relative_error(dx, num["x"]),
        "gamma": gradcheck.relative_error(dgamma, num["gamma"]),
        "beta": gradcheck.relative_error(dbeta, num["beta"]),
    }


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "forward,backward",
    [(batch_norm_forward, batch_norm_backward), (layer_norm_forward, layer_norm_backward)],
    ids=["batch_norm_train", "layer_norm"],
)
def test_backward_matches_central_differences(forward: Any, backward: Any, seed: int) -> None:
    # batch norm in train mode: dx includes the coupling through the batch mean and variance
    x, gamma, beta = _data(seed)
    _, cache = forward(x, gamma, beta)
    errors = _grad_errors(lambda *a: forward(*a)[0], lambda c: backward(c, cache), x, gamma, beta, seed=seed + 10)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_norm_inference_backward_matches_central_differences(seed: int) -> None:
    x, gamma, beta = _data(seed)
    rm, rv = _running(seed)

    def fwd(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        return batch_norm_forward(x, g, b, mode="inference", running_mean=rm, running_var=rv)[0]

    _, cache = batch_norm_forward(x, gamma, beta, mode="inference", running_mean=rm, running_var=rv)
    errors = _grad_errors(fwd, lambda c: batch_norm_backward(c, cache), x, gamma, beta, seed=seed + 10)
    assert max(errors.values()) < TOL, errors


def test_gradient_check_catches_a_backward_without_the_batch_coupling() -> None:
    # The train-mode forward with the per-example (inference) backward: dx misses the terms
    # through mu_B and sigma_B^2, and the check sees it, while dgamma and dbeta stay right.
    x, gamma, beta = _data(3)
    _, cache = batch_norm_forward(x, gamma, beta)
    uncoupled = BatchNormCache(cache.x_hat, cache.inv_std, cache.gamma, "inference", cache.mean, cache.var)
    errors = _grad_errors(lambda *a: batch_norm_forward(*a)[0], lambda c: batch_norm_backward(c, uncoupled),
                          x, gamma, beta)
    assert errors["x"] > 1e-2
    assert errors["gamma"] < TOL and errors["beta"] < TOL


def test_gradient_check_on_a_constant_feature() -> None:
    x, gamma, beta = _data(4)
    x[:, 1] = 2.5  # variance 0: x_hat = 0, and the gradient is finite only because eps > 0
    _, cache = batch_norm_forward(x, gamma, beta)
    errors = _grad_errors(lambda *a: batch_norm_forward(*a)[0], lambda c: batch_norm_backward(c, cache),
                          x, gamma, beta)
    assert max(errors.values()) < TOL, errors


# --------------------------------------------------------------------------- batch norm: closed forms


def test_batch_norm_train_output_has_mean_beta_and_variance_gamma2_sigma2_over_sigma2_plus_eps() -> None:
    x, gamma, beta = _data(5, B=8)
    eps = 0.3  # large, so that the factor sigma^2/(sigma^2 + eps) is visibly below 1
    y, cache = batch_norm_forward(x, gamma, beta, eps=eps)
    sigma2 = np.var(x, axis=0)
    assert_allclose(cache.mean, np.mean(x, axis=0), rtol=1e-15)
    assert_allclose(cache.var, sigma2, rtol=1e-14)
    assert_allclose(cache.inv_std, 1 / np.sqrt(sigma2 + eps), rtol=1e-15)
    assert_allclose(y.mean(axis=0), beta, rtol=0, atol=1e-14)
    assert_allclose(y.var(axis=0), gamma**2 * sigma2 / (sigma2 + eps), rtol=1e-13)
    assert np.all(y.var(axis=0) < gamma**2)
    assert cache.mode == "train" and cache.x_hat.shape == x.shape


def test_batch_norm_is_invariant_to_per_feature_shift_and_scale_up_to_eps() -> None:
    # x_hat(a x + c) = a (x - mu) / sqrt(a^2 sigma^2 + eps) = x_hat(x) with eps / a^2
    x, gamma, beta = _data(6)
    a = np.array([0.5, 2.0, 10.0, 3.0])
    c = np.array([-4.0, 1.0, 100.0, 0.0])
    for ai, ci in zip(a, c):
        y1, _ = batch_norm_forward(ai * x + ci, gamma, beta, eps=1e-2)
        y2, _ = batch_norm_forward(x, gamma, beta, eps=1e-2 / ai**2)
        assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["train", "inference"])
def test_batch_norm_dgamma_dbeta_closed_forms(mode: str) -> None:
    x, gamma, beta = _data(7)
    rm, rv = _running()
    kw: dict[str, Any] = dict(mode=mode, running_mean=rm, running_var=rv) if mode == "inference" else {}
    _, cache = batch_norm_forward(x, gamma, beta, **kw)
    dy = np.random.default_rng(0).standard_normal(x.shape)
    _, dgamma, dbeta = batch_norm_backward(dy, cache)
    assert_array_equal(dbeta, dy.sum(axis=0))
    assert_allclose(dgamma, np.einsum("bj,bj->j", dy, cache.x_hat), rtol=1e-14)


def test_batch_norm_backward_annihilates_a_gradient_constant_across_the_batch() -> None:
    # The claim a chapter uses: whatever part of dL/dy is the same for every example of the
    # batch does not reach x in train mode (it only moves beta), because mu_B absorbs it.
    x, gamma, beta = _data(8, B=16, n=6)
    _, cache = batch_norm_forward(x, gamma, beta)
    row = np.random.default_rng(1).standard_normal(6) * 10.0
    dy = np.tile(row, (16, 1))
    dx, _, dbeta = batch_norm_backward(dy, cache)
    scale = np.max(np.abs(cache.inv_std * gamma * row))  # the size dx would have per example
    assert np.max(np.abs(dx)) < 1e-14 * scale
    assert_allclose(dbeta, 16 * row, rtol=1e-14)
    # ... so adding such a dy to any other leaves dx unchanged; in inference mode it does not
    dy2 = np.random.default_rng(2).standard_normal(x.shape)
    assert_allclose(batch_norm_backward(dy2 + dy, cache)[0], batch_norm_backward(dy2, cache)[0], rtol=0,
                    atol=1e-13 * scale)
    rm, rv = _running(n=6)
    _, inf_cache = batch_norm_forward(x, gamma, beta, mode="inference", running_mean=rm, running_var=rv)
    assert_allclose(batch_norm_backward(dy, inf_cache)[0], dy * gamma / np.sqrt(rv + 1e-5), rtol=1e-14)


def test_batch_norm_backward_along_x_hat_is_shrunk_by_eps_over_sigma2_plus_eps() -> None:
    # d x_hat = x_hat gives dx = s x_hat (1 - sum(x_hat^2)/B) = s x_hat eps / (sigma^2 + eps)
    x, _, beta = _data(9)
    gamma = np.ones(N)
    eps = 0.05
    _, cache = batch_norm_forward(x, gamma, beta, eps=eps)
    dx, _, _ = batch_norm_backward(cache.x_hat, cache)
    expected = cache.inv_std * cache.x_hat * eps / (cache.var + eps)
    assert_allclose(dx, expected, rtol=1e-10, atol=1e-15)


def test_inference_equals_train_when_the_running_stats_are_the_batch_stats() -> None:
    x, gamma, beta = _data(10)
    y_train, c_train = batch_norm_forward(x, gamma, beta)
    y_inf, c_inf = batch_norm_forward(x, gamma, beta, mode="inference",
                                      running_mean=np.mean(x, axis=0), running_var=np.var(x, axis=0))
    assert_allclose(y_inf, y_train, rtol=1e-14, atol=1e-14)
    # the backward passes differ by exactly the coupling terms
    dy = np.random.default_rng(3).standard_normal(x.shape)
    dx_t, dg_t, db_t = batch_norm_backward(dy, c_train)
    dx_i, dg_i, db_i = batch_norm_backward(dy, c_inf)
    assert_allclose(dg_i, dg_t, rtol=1e-13)
    assert_array_equal(db_i, db_t)
    dxh = dy * gamma
    coupling = c_train.inv_std / B * (dxh.sum(axis=0) + c_train.x_hat * (dxh * c_train.x_hat).sum(axis=0))
    assert_allclose(dx_i - dx_t, coupling, rtol=1e-10, atol=1e-13)


def test_batch_norm_inference_handles_a_single_example() -> None:
    x, gamma, beta = _data(11, B=1)
    rm, rv = _running()
    y, cache = batch_norm_forward(x, gamma, beta, mode="inference", running_mean=rm, running_var=rv)
    assert_allclose(y, gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-14)
    assert cache.mode == "inference"
    assert_array_equal(cache.mean, rm)


# --------------------------------------------------------------------------- running statistics


def test_update_running_stats_matches_the_formula() -> None:
    x, gamma, beta = _data(12, B=6)
    rm, rv = _running()
    m = 0.1
    mean, var = update_running_stats(rm, rv, x, momentum=m)
    assert_allclose(mean, (1 - m) * rm + m * x.mean(axis=0), rtol=1e-15)
    assert_allclose(var, (1 - m) * rv + m * x.var(axis=0, ddof=1), rtol=1e-14)  # unbiased, as PyTorch
    # the cache of the train-mode forward gives the same numbers; the inputs are untouched
    rm0, rv0 = rm.copy(), rv.copy()
    _, cache = batch_norm_forward(x, gamma, beta)
    mean_c, var_c = update_running_stats(rm, rv, cache, momentum=m)
    assert_array_equal(mean_c, mean)
    assert_allclose(var_c, var, rtol=1e-15)
    assert_array_equal(rm, rm0)
    assert_array_equal(rv, rv0)
    # default momentum is PyTorch's 0.1; momentum 1 replaces the estimates by the batch's
    assert_array_equal(update_running_stats(rm, rv, x)[0], mean)
    m1, v1 = update_running_stats(rm, rv, x, momentum=1.0)
    assert_allclose(m1, x.mean(axis=0), rtol=1e-15)
    assert_allclose(v1, x.var(axis=0, ddof=1), rtol=1e-14)


def test_running_stats_converge_geometrically_to_a_repeated_batch() -> None:
    x, _, _ = _data(13)
    rm, rv = np.zeros(N), np.ones(N)
    m, k = 0.2, 30
    for _ in range(k):
        rm, rv = update_running_stats(rm, rv, x, momentum=m)
    mu, var_u = x.mean(axis=0), x.var(axis=0, ddof=1)
    assert_allclose(rm - mu, (1 - m) ** k * (0.0 - mu), rtol=1e-9, atol=1e-15)
    assert_allclose(rv - var_u, (1 - m) ** k * (1.0 - var_u), rtol=1e-9, atol=1e-15)


# --------------------------------------------------------------------------- layer norm: closed forms


def test_layer_norm_matches_its_definition_and_is_per_example() -> None:
    x, gamma, beta = _data(14)
    eps = 0.1
    y, cache = layer_norm_forward(x, gamma, beta, eps=eps)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    assert_allclose(y, gamma * (x - mu) / np.sqrt(var + eps) + beta, rtol=1e-13)
    assert_allclose(cache.inv_std, 1 / np.sqrt(var[:, 0] + eps), rtol=1e-15)
    assert_allclose(cache.x_hat.mean(axis=1), 0.0, atol=1e-15)
    assert_allclose(cache.x_hat.var(axis=1), var[:, 0] / (var[:, 0] + eps), rtol=1e-13)
    # each row alone gives the same result: no coupling between examples
    for b in range(B):
        assert_allclose(layer_norm_forward(x[b:b + 1], gamma, beta, eps=eps)[0], y[b:b + 1], rtol=1e-15)


def test_layer_norm_is_invariant_to_per_example_shift_and_scale() -> None:
    x, gamma, beta = _data(15)
    rng = np.random.default_rng(4)
    a = rng.uniform(0.1, 100.0, (B, 1))
    c = 50.0 * rng.standard_normal((B, 1))
    y, _ = layer_norm_forward(x, gamma, beta)
    y_shift, _ = layer_norm_forward(x + c, gamma, beta)
    assert_allclose(y_shift, y, rtol=1e-12, atol=1e-12)
    # exactly: scaling example b by a_b is eps -> eps / a_b^2
    for b in range(B):
        ys, _ = layer_norm_forward(a[b] * x[b:b + 1] + c[b], gamma, beta, eps=1e-2)
        yr, _ = layer_norm_forward(x[b:b + 1], gamma, beta, eps=1e-2 / a[b, 0] ** 2)
        assert_allclose(ys, yr, rtol=1e-12, atol=1e-12)
    # and up to O(eps / sigma^2) with the same eps: the per-example variances here are >~ 0.1
    y_scaled, _ = layer_norm_forward(a * x + c, gamma, beta)
    assert np.max(np.abs(y_scaled - y)) < 1e-3


def test_layer_norm_backward_annihilates_a_gradient_constant_across_features() -> None:
    x, gamma, beta = _data(16)
    _, cache = layer_norm_forward(x, gamma, beta)
    per_example = np.random.default_rng(5).standard_normal((B, 1))
    dy = per_example / gamma  # d x_hat = gamma dy is constant along each row
    dx, _, _ = layer_norm_backward(dy, cache)
    assert np.max(np.abs(dx)) < 1e-14 * np.max(np.abs(cache.inv_std[:, None] * per_example))


# --------------------------------------------------------------------------- numerics at the edges


@pytest.mark.parametrize("which", ["batch_train", "batch_inference", "layer"])
def test_constant_and_large_inputs_give_no_warnings(which: str) -> None:
    rng = np.random.default_rng(6)
    x = 1e4 * rng.choice([-1.0, 1.0], (B, N))
    x[:, 2] = 1e4  # constant feature (and, for layer norm, a constant example below)
    x[0, :] = -7.3
    gamma, beta = np.ones(N), np.arange(N, dtype=float)
    with np.errstate(all="raise"):
        if which == "layer":
            y, cache = layer_norm_forward(x, gamma, beta)
            dx, dg, db = layer_norm_backward(np.ones_like(x), cache)
            assert_array_equal(cache.x_hat[0], 0.0)  # the constant example
            assert_array_equal(y[0], beta)
            # 7 copies of 0.7 have a rounded mean one ulp off 0.7: x_hat must still be 0 exactly
            _, c7 = layer_norm_forward(np.full((2, 7), 0.7), np.ones(7), np.zeros(7))
            assert_array_equal(c7.x_hat, 0.0)
        else:
            kw: dict[str, Any] = {}
            if which == "batch_inference":
                kw = dict(mode="inference", running_mean=np.zeros(N), running_var=np.full(N, 1e8))
            y, cache = batch_norm_forward(x, gamma, beta, **kw)
            dx, dg, db = batch_norm_backward(rng.standard_normal(x.shape), cache)
            if which == "batch_train":
                # the rounded mean of 7 copies of 7.3 (or 0.1) is one ulp off: x_hat must still be 0 exactly
                x_c = np.column_stack([rng.standard_normal(7), np.full(7, 7.3), np.full(7, 0.1)])
                y_c, c_c = batch_norm_forward(x_c, np.ones(3), np.array([0.0, 5.0, -1.0]))
                assert_array_equal(c_c.x_hat[:, 1:], 0.0)  # not an ulp times 1/sqrt(eps)
                assert_array_equal(y_c[:, 1], 5.0)
        for arr in (y, dx, dg, db):
            assert np.all(np.isfinite(arr))
        assert np.max(np.abs(cache.x_hat)) < 2.0


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("fn", ["batch", "layer"])
def test_nonfinite_x_raises_instead_of_returning_nan(bad: float, fn: str) -> None:
    x, gamma, beta = _data(17)
    x[2, 1] = bad
    forward = batch_norm_forward if fn == "batch" else layer_norm_forward
    with pytest.raises(ValueError, match=r"x must be finite, but 1 entry is NaN or inf"):
        forward(x, gamma, beta)


def test_overflowing_variance_raises() -> None:
    x = np.array([[1e200, 0.0], [-1e200, 1.0]])
    with pytest.raises(ValueError, match=r"x is too large: its mean or variance overflows float64"):
        batch_norm_forward(x, np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"x is too large"):
        layer_norm_forward(x, np.ones(2), np.zeros(2))


def test_integer_and_float32_input_computes_in_float64() -> None:
    x = np.arange(12, dtype=np.int64).reshape(4, 3) ** 2
    y, cache = batch_norm_forward(x, np.ones(3), np.zeros(3))
    assert y.dtype == np.float64 and cache.x_hat.dtype == np.float64
    y32, _ = layer_norm_forward(x.astype(np.float32), [1, 1, 1], [0, 0, 0])
    assert y32.dtype == np.float64
    dx, dg, db = batch_norm_backward(np.ones((4, 3), dtype=np.float32), cache)
    assert dx.dtype == dg.dtype == db.dtype == np.float64


# --------------------------------------------------------------------------- argument errors

X, G, BETA = _data(18)
RM, RV = _running()


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: batch_norm_forward(X[0], G, BETA), ValueError, r"x must be 2-dimensional, got shape \(4,\)"),
        (lambda: batch_norm_forward(X[None], G, BETA), ValueError, r"x must be 2-dimensional, got shape \(1, 5, 4\)"),
        (lambda: batch_norm_forward("x", G, BETA), TypeError, r"x must be a number or an array of numbers, got str"),
        (lambda: batch_norm_forward(np.zeros((0, 4)), G, BETA), ValueError, r"x must hold at least one example"),
        (lambda: batch_norm_forward(X, G[:3], BETA), ValueError, r"gamma must have shape \(n,\) = \(4,\).*got \(3,\)"),
        (lambda: batch_norm_forward(X, G, np.zeros((4, 1))), ValueError, r"beta must be 1-dimensional, got shape \(4, 1\)"),
        (lambda: batch_norm_forward(X, G, BETA[:2]), ValueError, r"beta must have shape \(n,\) = \(4,\)"),
        (lambda: batch_norm_forward(X, [1, np.nan, 1, 1], BETA), ValueError, r"gamma must be finite"),
        (lambda: batch_norm_forward(X, G, BETA, mode="eval"), ValueError,
         r"unknown mode 'eval'; expected one of: train, inference"),
        (lambda: batch_norm_forward(X, G, BETA, mode=True), TypeError, r"mode must be a name \(str\), got bool"),
        (lambda: batch_norm_forward(X, G, BETA, mode="inference"), ValueError,
         r"mode='inference' needs running_mean and running_var, got running_mean=None"),
        (lambda: batch_norm_forward(X, G, BETA, mode="inference", running_mean=RM), ValueError,
         r"got running_var=None"),
        (lambda: batch_norm_forward(X, G, BETA, mode="inference", running_mean=RM[:3], running_var=RV), ValueError,
         r"running_mean must have shape \(n,\) = \(4,\)"),
        (lambda: batch_norm_forward(X, G, BETA, mode="inference", running_mean=RM, running_var=-RV), ValueError,
         r"running_var must be >= 0 \(it is a variance\)"),
        (lambda: batch_norm_forward(X, G, BETA, running_mean=RM, running_var=RV), ValueError,
         r"running_mean and running_var are used only in mode='inference'"),
        (lambda: batch_norm_forward(X, G, BETA, eps=0.0), ValueError, r"eps must be > 0, got 0\.0"),
        (lambda: batch_norm_forward(X, G, BETA, eps=-1e-5), ValueError, r"eps must be > 0, got -1e-05"),
        (lambda: batch_norm_forward(X, G, BETA, eps=float("nan")), ValueError, r"eps must be finite, got nan"),
        (lambda: batch_norm_forward(X, G, BETA, eps="small"), TypeError, r"eps must be a real number, got str"),
        (lambda: batch_norm_forward(X[:1], G, BETA), ValueError,
         r"x must hold at least 2 examples in train mode: the variance of a batch of one example is undefined"),
        (lambda: batch_norm_backward(np.ones((5, 3)), batch_norm_forward(X, G, BETA)[1]), ValueError,
         r"dy must have the shape of the forward output, \(5, 4\), got \(5, 3\)"),
        (lambda: batch_norm_backward(np.full((5, 4), np.inf), batch_norm_forward(X, G, BETA)[1]), ValueError,
         r"dy must be finite, but 20 entries are NaN or inf"),
        (lambda: batch_norm_backward(np.ones((5, 4)), None), TypeError,
         r"cache must be the BatchNormCache returned by batch_norm_forward, got NoneType"),
        (lambda: batch_norm_backward(np.ones((5, 4)), layer_norm_forward(X, G, BETA)[1]), TypeError,
         r"cache must be the BatchNormCache.*got LayerNormCache"),
        (lambda: update_running_stats(RM, RV, X, momentum=0.0), ValueError, r"momentum must be > 0, got 0\.0"),
        (lambda: update_running_stats(RM, RV, X, momentum=1.5), ValueError, r"momentum must be in \(0, 1\], got 1\.5"),
        (lambda: update_running_stats(RM, RV, X, momentum=None), TypeError, r"momentum must be a real number"),
        (lambda: update_running_stats(RM, RV, X[:1]), ValueError, r"cache_or_x must hold at least 2 examples"),
        (lambda: update_running_stats(RM[:2], RV, X), ValueError, r"running_mean must have shape \(n,\) = \(4,\)"),
        (lambda: update_running_stats(RM, [1, 1, -1, 1], X), ValueError, r"running_var must be >= 0"),
        (lambda: update_running_stats(RM, RV, np.where(X > 3, np.nan, X)), ValueError, r"cache_or_x must be finite"),
        (lambda: update_running_stats(RM, RV, "batch"), TypeError, r"cache_or_x must be a number or an array"),
        (lambda: update_running_stats(
            RM, RV, batch_norm_forward(X, G, BETA, mode="inference", running_mean=RM, running_var=RV)[1]),
         ValueError, r"cache_or_x must come from batch_norm_forward in mode='train'"),
        (lambda: layer_norm_forward(X, G, BETA, eps=0), ValueError, r"eps must be > 0, got 0\.0"),
        (lambda: layer_norm_forward(X[:, :1], G[:1], BETA[:1]), ValueError,
         r"x must have at least 2 features for layer norm"),
        (lambda: layer_norm_forward(X, G[:3], BETA), ValueError, r"gamma must have shape \(n,\) = \(4,\)"),
        (lambda: layer_norm_forward(X.ravel(), G, BETA), ValueError, r"x must be 2-dimensional"),
        (lambda: layer_norm_backward(np.ones((5, 4)), batch_norm_forward(X, G, BETA)[1]), TypeError,
         r"cache must be the LayerNormCache returned by layer_norm_forward, got BatchNormCache"),
        (lambda: layer_norm_backward(np.ones((4, 5)), layer_norm_forward(X, G, BETA)[1]), ValueError,
         r"dy must have the shape of the forward output, \(5, 4\), got \(4, 5\)"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(
    call: Callable[[], Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_caches_are_frozen() -> None:
    _, bn = batch_norm_forward(X, G, BETA)
    _, ln = layer_norm_forward(X, G, BETA)
    with pytest.raises(AttributeError):
        bn.mode = "inference"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ln.gamma = G  # type: ignore[misc]
    assert isinstance(ln, LayerNormCache) and ln.inv_std.shape == (B,)
    assert bn.inv_std.shape == (N,) and bn.mean.shape == (N,) and bn.var.shape == (N,)
