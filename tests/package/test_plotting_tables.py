"""gradlab.plotting and gradlab.tables: the book's one figure style and its tables."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from gradlab import plotting, tables


def test_palette_is_okabe_ito() -> None:
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(plotting.PALETTE) == okabe_ito
    assert len(plotting.MARKERS) == len(plotting.PALETTE)


def test_style_does_not_leak() -> None:
    before = matplotlib.rcParams["axes.prop_cycle"]
    with plotting.style():
        assert matplotlib.rcParams["svg.hashsalt"] == "gradlab"
    assert matplotlib.rcParams["axes.prop_cycle"] == before


def test_plot_lines_labels_colours_and_white_background() -> None:
    x = np.linspace(0, 1, 5)
    fig = plotting.plot_lines(x, {"a": x, "b": x**2}, xlabel="$z$", ylabel="$g(z)$", logy=False,
                              hlines={"bound": 0.25})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$z$" and ax.get_ylabel() == "$g(z)$"
    lines = ax.get_lines()
    assert [to_hex(l.get_color()).upper() for l in lines[:2]] == list(plotting.PALETTE[:2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "bound"]
    assert to_hex(fig.get_facecolor()) == "#ffffff"


def test_plot_lines_errors() -> None:
    with pytest.raises(ValueError, match="ys must hold at least one curve"):
        plotting.plot_lines([1, 2], {}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match=r"ys\['a'\] must have the shape of x"):
        plotting.plot_lines([1, 2], {"a": [1, 2, 3]}, xlabel="x", ylabel="y")


def test_plot_heatmap_cells_colourbar_and_curves() -> None:
    x, y = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0])
    values = np.arange(6.0).reshape(2, 3)
    fig = plotting.plot_heatmap(x, y, values, xlabel=r"$\sigma_w^2$", ylabel="$L$", cbar_label="accuracy",
                                curves={"edge": ([1.0, 3.0], [10.0, 20.0])}, vmin=0.0, vmax=5.0)
    ax, cbar = fig.axes
    assert ax.get_xlabel() == r"$\sigma_w^2$" and ax.get_ylabel() == "$L$" and cbar.get_ylabel() == "accuracy"
    mesh = ax.collections[0]
    assert mesh.get_cmap().name == plotting.SEQUENTIAL_CMAP
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(2, 3), values)  # values[i, j] at (x[j], y[i])
    assert mesh.get_clim() == (0.0, 5.0)
    assert ax.get_xlim() == (0.5, 3.5) and ax.get_ylim() == (5.0, 25.0)  # half a cell beyond the end points
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["edge"]


def test_plot_heatmap_errors() -> None:
    with pytest.raises(ValueError, match=r"values must have shape \(len\(y\), len\(x\)\) = \(2, 3\)"):
        plotting.plot_heatmap([1, 2, 3], [1, 2], np.zeros((3, 2)), xlabel="x", ylabel="y", cbar_label="c")
    with pytest.raises(ValueError, match=r"curves\['c'\] must have x and y of one shape"):
        plotting.plot_heatmap([1, 2], [1, 2], np.zeros((2, 2)), xlabel="x", ylabel="y", cbar_label="c",
                              curves={"c": ([1, 2], [1])})


def test_draw_network_labels_every_symbol() -> None:
    fig = plotting.draw_network([3, 7, 2])
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for symbol in ("a^{(0)} = x", "W^{(1)}", "b^{(2)}", "g(z^{(1)})", "n_{1} = 7"):
        assert symbol in text
    labels = [t.get_text() for t in plotting.draw_network([3, 2], output="linear").axes[0].texts]
    assert "$a^{(1)} = z^{(1)}$" in labels
    labels = [t.get_text() for t in plotting.draw_network([3, 2], output="softmax").axes[0].texts]
    assert "$a^{(1)} = \\mathrm{softmax}(z^{(1)})$" in labels
    with pytest.raises(TypeError, match="output must be a non-empty activation name"):
        plotting.draw_network([3, 2], output="")
    with pytest.raises(ValueError, match="sizes must list at least two layer widths"):
        plotting.draw_network([3])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be >= 1"):
        plotting.draw_network([3, 0])


def test_figure_rejects_bad_grid() -> None:
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        plotting.figure(1, 0)


def test_markdown_table() -> None:
    assert tables.markdown_table(["max |w|"], [[1]]).splitlines()[0] == r"| max \|w\| |"
    text = tables.markdown_table(["l", "value"], [[1, 0.123456], [2, np.float64(2e-7)], ["a|b", 3]], floatfmt=".2e")
    assert text.splitlines() == [
        "| l | value |",
        "|--:|--:|",
        "| 1 | 1.23e-01 |",
        "| 2 | 2.00e-07 |",
        r"| a\|b | 3 |",
    ]


def test_markdown_table_errors() -> None:
    with pytest.raises(ValueError, match=r"rows\[0\] must have 2 entries"):
        tables.markdown_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="headers must be a non-empty sequence"):
        tables.markdown_table([], [])
    with pytest.raises(ValueError, match="floatfmt must be a format spec"):
        tables.markdown_table(["a"], [[1.0]], floatfmt="%d")
