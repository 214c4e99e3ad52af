"""gradlab.wide: the simulated wide networks start where mean-field theory starts, and are seeded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradlab import theory, wide


def test_wide_network_signals_first_layer_is_exact() -> None:
    # Layer 1 is linear in x: mean over units of z^2 has expectation q_in for the probe and q* for the
    # other rows, and the correlation of rows 1, 2 has expectation c_in. One network of width 4000:
    # relative sd of a mean of n chi-square(1) terms is sqrt(2/n) = 2.2 %, so 10 % is > 4 sd.
    sw2, sb2 = 1.5, 0.1
    res = wide.wide_network_signals("tanh", sw2, sb2, q_in=2.0, c_in=0.3, width=4000, depth=2,
                                           n_inputs=4, n_networks=1, rng=0)
    assert res.q.shape == res.m.shape == res.c.shape == res.delta2.shape == (1, 2)
    assert res.ratio.shape == (1, 1)
    assert res.q[0, 0] == pytest.approx(2.0, rel=0.1)
    assert res.c[0, 0] == pytest.approx(0.3, abs=0.1)
    # m is the mean of tanh(z)^2 for the same input: below q, and what the length map says for it
    assert res.m[0, 0] < res.q[0, 0]
    expected_m = (theory.length_map(res.q[0, 0], "tanh", sw2, sb2) - sb2) / sw2
    assert res.m[0, 0] == pytest.approx(expected_m, rel=0.1)


def test_wide_network_signals_is_seeded_and_matches_chi1() -> None:
    a = wide.wide_network_signals("tanh", 2.5, 0.05, q_in=1.0, c_in=0.5, width=500, depth=6, rng=3)
    b = wide.wide_network_signals("tanh", 2.5, 0.05, q_in=1.0, c_in=0.5, width=500, depth=6, rng=3)
    assert np.array_equal(a.delta2, b.delta2) and np.array_equal(a.c, b.c)
    # 3 networks x 5 ratios x 16 inputs at width 500: the per-ratio sd is about 9 %, the mean's about 1.5 %
    # (networks share nothing), so 5 % is over three standard errors.
    assert a.ratio.mean() == pytest.approx(theory.chi1("tanh", 2.5, 0.05), rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(q_in=0.01), ValueError, "q_in must exceed sigma_b2"),
        (dict(c_in=1.5), ValueError, r"c_in must be a correlation in \[-1, 1\]"),
        (dict(c_in="x"), TypeError, "c_in must be a number"),
        (dict(c_in=[0.1, 0.2]), ValueError, "c_in must be 0-dimensional"),
        (dict(c_in=float("nan")), ValueError, "c_in"),
        (dict(c_in=-1.0), ValueError, "c_in = -1.0 cannot be reached"),
        (dict(n_inputs=1), ValueError, "n_inputs must be"),
        (dict(width=10, n_inputs=16), ValueError, "width must be at least n_inputs"),
        (dict(depth=1), ValueError, "depth must be"),
        (dict(sigma_w2=-1.0), ValueError, "sigma_w2"),
        (dict(activation="nope"), ValueError, "nope"),
        (dict(rng="x"), TypeError, "rng"),
    ],
)
def test_wide_network_signals_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = dict(activation="tanh", sigma_w2=1.5, sigma_b2=0.05, q_in=1.0, c_in=0.5, width=50,
                                depth=3, n_inputs=4, n_networks=1, rng=0)
    args.update(kwargs)
    act, sw2, sb2 = args.pop("activation"), args.pop("sigma_w2"), args.pop("sigma_b2")
    with pytest.raises(error, match=match):
        wide.wide_network_signals(act, sw2, sb2, **args)


def test_wide_network_signals_needs_a_nonzero_fixed_point() -> None:
    # tanh without bias below criticality: q* = 0, no input can start there
    with pytest.raises(ValueError, match="is not above sigma_b2"):
        wide.wide_network_signals("tanh", 0.5, 0.0, q_in=1.0, c_in=0.5, width=50, rng=0)


# --------------------------------------------------------------------------- trainability
