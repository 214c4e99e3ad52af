"""The "Used in" lists of the API reference (``_ext/used_in.py``): what the scanner finds.

Static checks on small MyST snippets and on the real chapters, so they run with the unit tests
in about a second. That the built API pages show the lists is checked by test_api_reference.py.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

import gradlab

ROOT = Path(__file__).resolve().parents[2]


def load_extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("used_in", ROOT / "_ext" / "used_in.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ext = load_extension()


def cells(*codes: str, prose: str = "") -> str:
    """A MyST notebook with one code cell per argument."""
    return prose + "\n" + "".join(f"```{{code-cell}} ipython3\n{code.strip()}\n```\n\nText.\n\n" for code in codes)


def uses(*codes: str, prose: str = "") -> set[str]:
    return ext.page_uses(cells(*codes, prose=prose))


def test_from_gradlab_import_module() -> None:
    found = uses("from gradlab import mlp, losses", "fwd = mlp.forward(net, X)")
    assert {"gradlab.mlp", "gradlab.mlp.forward", "gradlab.losses"} <= found
    assert "gradlab.mlp.backward" not in found


def test_from_module_import_function_with_alias() -> None:
    found = uses("from gradlab.mlp import backward as bw\ngrads = bw(net, fwd, dA)")
    assert {"gradlab.mlp", "gradlab.mlp.backward"} <= found


def test_import_gradlab_and_dotted_path() -> None:
    assert "gradlab.mlp.loss_and_gradients" in uses("import gradlab", "gradlab.mlp.loss_and_gradients(net, X, Y)")
    assert "gradlab.chain.scalar_chain" in uses("import gradlab.chain as ch\nch.scalar_chain([1.0])")


def test_a_submodule_the_package_does_not_import() -> None:
    assert "gradlab.plotting.figure" in uses("from gradlab import plotting\nfig, ax = plotting.figure()")


def test_returned_class_counts_through_the_annotation() -> None:
    found = uses("from gradlab import chain\nc = chain.scalar_chain([1.0, 2.0], activation='sigmoid')")
    assert "gradlab.chain.ChainFactors" in found


def test_registry_names_as_strings() -> None:
    found = uses(
        "from gradlab import activations, mlp",
        'net = mlp.init_network([2, 3, 1], hidden="relu", init="he_normal", rng=0)',
        'g = activations.get("tanh")',
        'loss = mlp.loss_and_gradients(net, X, Y, "mse")',
    )
    assert {"gradlab.activations.relu", "gradlab.activations.drelu", "gradlab.init.he_normal"} <= found
    assert {"gradlab.activations.tanh", "gradlab.activations.dtanh", "gradlab.losses.mse", "gradlab.losses.dmse"} <= found
    # the defaults of init_network that the call leaves in place: a linear output layer
    assert "gradlab.activations.linear" in found and "gradlab.init.standard" not in found
    # a string that is no registry name, and a registry name passed to a method of something else
    assert "gradlab.activations.sigmoid" not in uses('from gradlab import mlp\nax.set_yscale("sigmoid")\nx = "tanhh"')


def test_optimiser_names_count_as_their_class() -> None:
    found = uses("from gradlab import train", 'h = train.train_sgd(net, X, y, lr=0.1, rng=0, optimiser="adam")')
    assert {"gradlab.optim.Adam", "gradlab.train.train_sgd"} <= found
    # the default rule a call leaves in place is plain SGD; "nesterov" is a Momentum
    assert "gradlab.optim.SGD" in uses("from gradlab import train", "h = train.train_sgd(net, X, y, lr=0.1, rng=0)")
    assert "gradlab.optim.Momentum" in uses("from gradlab import optim", 'opt = optim.get("nesterov")')
    assert "gradlab.optim.Adam" not in uses("from gradlab import train", "h = train.train_sgd(net, X, y, lr=0.1, rng=0)")


def test_defaults_left_in_place_count() -> None:
    found = uses("from gradlab import mlp\nnet = mlp.init_network([2, 3, 1], rng=0)")
    assert {"gradlab.init.standard", "gradlab.activations.sigmoid", "gradlab.activations.linear"} <= found


def test_prose_roles_count_and_plain_code_does_not() -> None:
    prose = (
        "See {py:func}`gradlab.train.sgd_step(net, grads, lr) <gradlab.train.sgd_step>` and\n"
        "{py:attr}`ChainFactors.dL_dw1 <gradlab.chain.ChainFactors.dL_dw1>` and {py:mod}`gradlab.products`.\n"
        "Plain code `gradlab.mlp.backward` is not a reference.\n"
    )
    found = uses("x = 1", prose=prose)
    assert {"gradlab.train.sgd_step", "gradlab.chain.ChainFactors.dL_dw1", "gradlab.products"} <= found
    assert "gradlab.mlp.backward" not in found


def test_names_that_are_not_gradlab_s() -> None:
    found = uses(
        "import numpy as np\nfrom numpy import linalg\nfrom gradlab import mlp",
        "def forward(x):\n    return x\n\nforward(np.ones(3)); linalg.norm(np.ones(3)); mlp.np.ones(2); mlp.no_such_name",
    )
    assert found == {"gradlab.mlp"}


def test_cell_options_magics_and_broken_cells() -> None:
    text = (
        "```{code-cell} ipython3\n---\ntags: [remove-cell]\n---\nfrom gradlab import mlp\n```\n"
        "```{code-cell} ipython3\n:tags: [hide-input]\n%matplotlib inline\nmlp.forward(net, X)\n```\n"
        "```{code-cell} ipython3\nthis is not python(\n```\n"
    )
    assert "gradlab.mlp.forward" in ext.page_uses(text)


def test_pages_keep_the_order_given() -> None:
    found = ext.used_in({"book/b": cells("from gradlab import mlp"), "book/a": cells("from gradlab import mlp")})
    assert found["gradlab.mlp"] == ["book/b", "book/a"]


def test_docstring_hook_appends_a_rubric_and_the_module_table() -> None:
    noted: list[str] = []
    app = SimpleNamespace(
        used_in={"gradlab.mlp.forward": ["book/ch2_notation"], "gradlab.mlp": ["book/ch2_notation", "book/ch3_chain_rule"]},
        used_in_pages={"book/ch2_notation": ""}, env=SimpleNamespace(note_dependency=noted.append),
    )
    lines = ["Forward pass."]
    ext.add_used_in(app, "function", "gradlab.mlp.forward", None, None, lines)
    assert lines[1:] == ["", ".. rubric:: Used in", "", ":doc:`/book/ch2_notation`", ""]
    assert noted == ["book/ch2_notation.md"]
    unused = ["Backward pass."]
    ext.add_used_in(app, "function", "gradlab.mlp.backward", None, None, unused)
    assert unused == ["Backward pass."]
    table: list[str] = []
    ext.add_used_in(app, "module", "gradlab", gradlab, None, table)
    row = table.index("   * - :mod:`gradlab.mlp`")
    assert table[row + 2] == "     - :doc:`2 </book/ch2_notation>`, :doc:`3 </book/ch3_chain_rule>`"


# The real chapters.
BOOK = {f"book/{p.stem}": p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").glob("ch*.md"))}
FOUND = ext.used_in(BOOK)


@pytest.mark.parametrize(("name", "page"), [
    ("gradlab.mlp.backward", "book/ch3_chain_rule"),
    ("gradlab.mlp.forward", "book/ch2_notation"),
    ("gradlab.chain.ChainFactors", "book/ch3_chain_rule"),
    ("gradlab.gradcheck.check_network", "book/ch3_chain_rule"),
    ("gradlab.activations.dsigmoid", "book/ch4_sigmoid_derivative"),
    ("gradlab.init.he_normal", "book/ch6_variance"),
    ("gradlab.mlp", "book/ch2_notation"),
])
def test_real_chapters_use(name: str, page: str) -> None:
    assert page in FOUND.get(name, [])


def test_every_reported_name_exists_in_gradlab() -> None:
    assert len(FOUND) > 50
    for name in FOUND:
        obj: object = gradlab
        for part in name.split(".")[1:]:
            if inspect.ismodule(obj) and not hasattr(obj, part):
                importlib.import_module(f"{obj.__name__}.{part}")
            assert hasattr(obj, part), name
            obj = getattr(obj, part)
