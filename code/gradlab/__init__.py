"""gradlab: the tested code behind the book *Vanishing and Exploding Gradients*.

One idea per module, named after the maths. The API reference lists every module with the
chapters whose code uses it; that list is generated from the chapters at each build.
"""

from . import (
    activations, bptt, chain, data, deeplinear, diagnose, dynamics, explorable, gradcheck, gru, init, isometry, losses, lstm, mlp,
    normalization, normnet, optim, precision, products, quadrature, residual, rnn, saturation, seqtasks, shattered, tables,
    theory, train, wide,
)

__version__ = "0.1.0"

__all__ = [
    "activations", "chain", "data", "gradcheck", "init", "losses", "mlp",
    "products", "saturation", "tables", "quadrature", "theory", "isometry", "deeplinear", "train", "wide",
    "normalization", "normnet", "residual", "optim", "shattered", "bptt", "rnn", "lstm", "gru", "seqtasks", "dynamics",
    "diagnose", "precision", "explorable",
    "__version__",
]
