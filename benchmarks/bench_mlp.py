"""How much does gradlab add on top of the matrix multiplications it cannot avoid?

Times one forward + backward pass of a deep MLP (default: 50 layers of width 256,
batch 128) through ``gradlab.mlp``, and, in the same run, the same matrix
multiplications alone (forward ``a @ W.T``, backward ``delta @ W`` and
``delta.T @ a``), keeping every product as back-propagation must. The ratio is
gradlab's overhead beyond BLAS (activations, bias, bookkeeping). Goal: <= 1.3.

    .venv/bin/python benchmarks/bench_mlp.py [--depth 50 --width 256 --batch 128 --rounds 21]

The baseline and the three networks are timed in turn within each round, so a
slow spell of the machine hits all of them; the ratio reported is the median
over rounds of each round's own ratio, with its interquartile range.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from gradlab import losses, mlp

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


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
    W = [rng.standard_normal((args.width, args.width)) / np.sqrt(args.width) for _ in range(args.depth)]
    d = rng.standard_normal((args.batch, args.width))

    def matmuls_only() -> None:
        # Same products, same data flow: forward outputs kept for the backward
        # pass, dW from each layer's own input, every delta and dW kept.
        a = [x]
        for Wl in W:
            a.append(a[-1] @ Wl.T)
        deltas, dWs = [d], []
        for l in reversed(range(len(W))):
            dWs.append(deltas[-1].T @ a[l])
            deltas.append(deltas[-1] @ W[l])

    def gradlab_pass(net: mlp.Network) -> Callable[[], None]:
        def run() -> None:
            fwd = mlp.forward(net, x)
            mlp.backward(net, fwd, losses.dmse(fwd.a[net.L], y))

        return run

    runs = {"matmuls": matmuls_only}
    for act in ACTIVATIONS:
        runs[act] = gradlab_pass(mlp.init_network(sizes, hidden=act, output="linear", init="xavier_normal", rng=1))
    for fn in runs.values():
        fn()  # warm-up: first-touch allocations, BLAS thread start

    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            times[name].append(seconds(fn))

    print(f"depth {args.depth}, width {args.width}, batch {args.batch}, float64; {args.rounds} interleaved rounds")
    base = statistics.median(times["matmuls"])
    print(f"  matrix multiplications alone     : {base * 1e3:8.2f} ms  (baseline, median)")
    for act in ACTIVATIONS:
        ratios = sorted(t / b for t, b in zip(times[act], times["matmuls"]))
        q1, med, q3 = statistics.quantiles(ratios, n=4)
        print(f"  gradlab forward+backward, {act:7s}: {statistics.median(times[act]) * 1e3:8.2f} ms  "
              f"ratio {med:5.2f}  (IQR {q1:.2f}-{q3:.2f})")


if __name__ == "__main__":
    main()
