"""gradlab: the tested code behind the book *Vanishing and Exploding Gradients*.

One idea per module, named after the maths:

========================  ==========================================================
``gradlab.activations``   g and g′ for sigmoid, tanh, ReLU, … (chapter 4)
``gradlab.init``          weight initialisation schemes (chapters 1, 5)
``gradlab.mlp``           forward and backward pass of a deep MLP (chapters 2, 3)
``gradlab.losses``        mean squared error, softmax cross-entropy (chapter 3)
``gradlab.gradcheck``     central-difference gradient checks (chapter 3)
``gradlab.chain``         the one-unit-per-layer chain of the seed note (chapter 3)
``gradlab.train``         minibatch SGD recording per-layer gradient norms (chapter 1)
``gradlab.data``          scikit-learn digits and synthetic data (chapter 1)
``gradlab.saturation``    when can a sigmoid factor exceed one? (chapter 4)
``gradlab.products``      products of random matrices, Lyapunov exponents (chapter 5)
``gradlab.experiments``   the book's experiments, one function each (chapters 1, 5)
``gradlab.plotting``      the book's figure style and helpers
``gradlab.tables``        Markdown tables of computed values
========================  ==========================================================
"""

from . import activations, chain, data, experiments, gradcheck, init, losses, mlp, products, saturation, tables, train

__version__ = "0.1.0"

__all__ = [
    "activations", "chain", "data", "experiments", "gradcheck", "init", "losses", "mlp",
    "products", "saturation", "tables", "train", "__version__",
]
