"""How much does gradlab add on top of the matrix products it cannot avoid?

Times one forward + backward pass of a deep MLP (default: 50 layers of width 256,
batch 128) through ``gradlab.mlp`` and, in the same run, a baseline doing exactly
gradlab's products and nothing else: forward ``z = a @ W.T; z += b`` per layer,
backward ``delta @ W`` (for every layer, the last one giving dL/da0) and
``delta.T @ a`` for dW. The ratio is gradlab's overhead beyond BLAS (activations,
their slopes, bias sums, bookkeeping). Goal: <= 1.3.

A fifth variant, ``sigmoid-tuned``, is the sigmoid network with the slope computed
by the former in-place helper (``e/(1+e)^2``, ``e = exp(-|z|)``) instead of the
readable ``s(1-s)``, ``s = sigmoid(-|z|)``: it shows whether the tuning matters.

    .venv/bin/python benchmarks/bench_mlp.py [--depth 50 --width 256 --batch 128 --rounds 21]

BLAS runs on one thread (set before numpy is imported), so the ratios do not
depend on how busy the other cores are. Every variant is timed once per round, in
an order rotated from round to round, so a slow spell of the machine hits all of
them alike; the ratio reported is the median over rounds of each round's own
ratio, with its interquartile range.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

from gradlab import activations, losses, mlp  # noqa: E402


def tuned_sigmoid_slope(z: np.ndarray) -> np.ndarray:
    """The former in-place sigma'(z) = e/(1+e)^2, e = exp(-|z|): one exp, few temporaries."""
    e = np.empty_like(z)
    np.abs(z, out=e)
    np.negative(e, out=e)
    with np.errstate(under="ignore"):
        np.exp(e, out=e)
    d = 1.0 + e
    d *= d
    np.divide(e, d, out=e)
    return np.minimum(e, 0.25, out=e)


def seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return "unknown"
    return ", ".join(f"{i['internal_api']}: {i['num_threads']}" for i in threadpool_info()) or "none found"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=21)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    sizes = [args.width] * (args.depth + 1)
    x = rng.standard_normal((args.batch, args.width))
    y = rng.standard_normal((args.batch, args.width))
    nets = {
        name: mlp.init_network(sizes, hidden=act, output="linear", init="xavier_normal", bias_std=0.1, rng=1)
        for name, act in (("relu", "relu"), ("tanh", "tanh"), ("sigmoid", "sigmoid"))
    }
    tuned = activations.Activation("sigmoid", activations.sigmoid, tuned_sigmoid_slope)
    s = nets["sigmoid"]
    nets["sigmoid-tuned"] = mlp.Network(s.W, s.b, tuned, s.output)
    W, b = nets["relu"].W, nets["relu"].b
    L = args.depth
    d = rng.standard_normal((args.batch, args.width))

    def products_only() -> None:
        # gradlab's products, same data flow: every a and delta kept for the next step.
        a = {0: x}
        for l in range(1, L + 1):
            z = a[l - 1] @ W[l].T
            z += b[l]
            a[l] = z
        delta, dW = {L: d}, {}
        for l in range(L, 0, -1):
            dW[l] = delta[l].T @ a[l - 1]
            delta[l - 1] = delta[l] @ W[l]  # delta[0] plays dL/da0

    def gradlab_pass(net: mlp.Network) -> Callable[[], None]:
        def run() -> None:
            fwd = mlp.forward(net, x)
            mlp.backward(net, fwd, losses.dmse(fwd.a[net.L], y))

        return run

    runs = {"products": products_only, **{name: gradlab_pass(net) for name, net in nets.items()}}
    names = list(runs)
    for fn in runs.values():
        fn()  # warm-up: first-touch allocations

    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:  # a different variant goes first every round
            times[name].append(seconds(runs[name]))

    print(f"depth {args.depth}, width {args.width}, batch {args.batch}, float64; {args.rounds} rounds, "
          f"order rotated; BLAS threads: {blas_threads()}")
    print(f"  products alone (baseline)        : {statistics.median(times['products']) * 1e3:8.2f} ms  (median)")
    for name in names[1:]:
        ratios = [t / base for t, base in zip(times[name], times["products"])]
        q1, med, q3 = statistics.quantiles(ratios, n=4)
        print(f"  gradlab forward+backward, {name:13s}: {statistics.median(times[name]) * 1e3:8.2f} ms  "
              f"ratio {med:5.2f}  (IQR {q1:.2f}-{q3:.2f})")
    ratios = [t / u for t, u in zip(times["sigmoid"], times["sigmoid-tuned"])]
    q1, med, q3 = statistics.quantiles(ratios, n=4)
    print(f"  readable / tuned sigmoid slope, whole pass: {med:.3f}  (IQR {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main()
