"""How much does gradlab add on top of the matrix multiplications it cannot avoid?

Times one forward + backward pass of a deep MLP (default: 50 layers of width 256,
batch 128) through ``gradlab.mlp``, and, in the same run, the same matrix
multiplications alone (forward ``a @ W.T``, backward ``delta @ W`` and
``delta.T @ a``) on preallocated arrays. Prints the ratio: gradlab's overhead
beyond BLAS (activations, bias, bookkeeping). Goal: <= 1.3.

    .venv/bin/python benchmarks/bench_mlp.py [--depth 50 --width 256 --batch 128 --repeat 15]

Each figure is the median of ``--repeat`` timings of one pass, after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from gradlab import losses, mlp


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first-touch allocations, BLAS thread start
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    sizes = [args.width] * (args.depth + 1)
    x = rng.standard_normal((args.batch, args.width))
    y = rng.standard_normal((args.batch, args.width))
    W = [rng.standard_normal((args.width, args.width)) / np.sqrt(args.width) for _ in range(args.depth)]
    d = rng.standard_normal((args.batch, args.width))

    def matmuls_only() -> None:
        a = x
        for Wl in W:
            a = a @ Wl.T
        delta = d
        for Wl in reversed(W):
            _ = delta.T @ a  # the shape of dW
            delta = delta @ Wl

    print(f"depth {args.depth}, width {args.width}, batch {args.batch}, float64; median of {args.repeat}")
    base = median_seconds(matmuls_only, args.repeat)
    print(f"  matrix multiplications alone : {base * 1e3:8.2f} ms  (baseline)")
    for act in ("relu", "tanh", "sigmoid"):
        net = mlp.init_network(sizes, hidden=act, output="linear", init="xavier_normal", rng=1)

        def gradlab_pass(net: mlp.Network = net) -> None:
            fwd = mlp.forward(net, x)
            mlp.backward(net, fwd, losses.dmse(fwd.a[net.L], y))

        t = median_seconds(gradlab_pass, args.repeat)
        print(f"  gradlab forward+backward, {act:7s}: {t * 1e3:8.2f} ms  ratio {t / base:5.2f}")


if __name__ == "__main__":
    main()
