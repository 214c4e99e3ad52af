"""gradlab: the tested code behind the book *Vanishing and Exploding Gradients*.

One idea per module, named after the maths; the last column lists the chapters whose code uses
it (each module's page in the API reference links them):

===========================  ================================================  ==========
module                       what                                              chapters
===========================  ================================================  ==========
:mod:`gradlab.activations`   g and g′ for sigmoid, tanh, ReLU, …               1–5
:mod:`gradlab.init`          weight initialisation schemes                     1–5
:mod:`gradlab.mlp`           forward and backward pass of a deep MLP           1, 2, 3, 5
:mod:`gradlab.losses`        mean squared error, softmax cross-entropy         1, 2, 3, 5
:mod:`gradlab.gradcheck`     central-difference gradient checks                3
:mod:`gradlab.chain`         the one-unit-per-layer chain of the seed note     3, 5
:mod:`gradlab.train`         minibatch SGD recording per-layer gradient norms  1, 2, 5
:mod:`gradlab.data`          scikit-learn digits and synthetic data            1, 5
:mod:`gradlab.saturation`    when can a sigmoid factor exceed one?             4, 5
:mod:`gradlab.products`      products of random matrices, Lyapunov exponents   5
:mod:`gradlab.theory`        mean-field maps, χ₁, depth scales, Jacobians      7, 8
:mod:`gradlab.isometry`      Jacobian spectra, deep linear networks            8
:mod:`gradlab.experiments`   the book's experiments, one function each         1, 5
:mod:`gradlab.plotting`      the book's figure style and helpers               1–5
:mod:`gradlab.tables`        Markdown tables of computed values                1, 3, 4, 5
===========================  ================================================  ==========
"""

from . import (
    activations, chain, data, experiments, gradcheck, init, isometry, losses, mlp, products, saturation, tables, theory,
    train, wide,
)

__version__ = "0.1.0"

__all__ = [
    "activations", "chain", "data", "experiments", "gradcheck", "init", "losses", "mlp",
    "products", "saturation", "tables", "theory", "isometry", "train", "wide", "__version__",
]
