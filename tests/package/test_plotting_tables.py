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


# ----------------------------------------------------------------------------------------------
# plot_gradient_flow and plot_layer_histograms
# ----------------------------------------------------------------------------------------------


def _draw_without_warnings(fig: Figure) -> None:
    import io
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=40)  # drawing is what can warn; pixels are not needed


def _luminance(colour: object) -> float:
    from matplotlib.colors import to_rgb
    r, g, b = to_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_plot_gradient_flow_lines_colours_log_scale_and_legend() -> None:
    S, L = 40, 10
    steps = 5 * np.arange(S)
    norms = np.exp(-np.arange(L))[None, :] * np.linspace(1, 2, S)[:, None]
    fig = plotting.plot_gradient_flow(steps, norms)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == L  # no non-finite value: no marker line
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "gradient norm ‖∂L/∂W⁽ˡ⁾‖"
    assert np.array_equal(lines[3].get_xdata(), steps) and np.allclose(lines[3].get_ydata(), norms[:, 3])
    # depth reads as lightness: layer 1 darkest, on the sequential map
    lum = [_luminance(line.get_color()) for line in lines]
    assert all(a < b for a, b in zip(lum, lum[1:]))
    cmap = matplotlib.colormaps[plotting.SEQUENTIAL_CMAP]
    assert to_hex(lines[0].get_color()) == to_hex(cmap(0.0))
    assert lines[0].get_markevery() == S // 8 and lines[0].get_marker() != lines[1].get_marker()
    # at most 8 legend entries, evenly spaced, first and last kept
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["layer 1", "layer 2", "layer 4", "layer 5", "layer 6", "layer 7", "layer 9", "layer 10"]
    few = plotting.plot_gradient_flow(steps, norms[:, :3], names=["fc1", "fc2", "out"], xlabel="lag T - t")
    assert [t.get_text() for t in few.axes[0].get_legend().get_texts()] == ["fc1", "fc2", "out"]
    assert few.axes[0].get_xlabel() == "lag T - t"
    _draw_without_warnings(fig)


def test_plot_gradient_flow_marks_the_first_non_finite_step_and_stops_the_line() -> None:
    S, L = 20, 3
    steps = 10 + 2 * np.arange(S)  # steps 10, 12, ..., 48
    norms = np.ones((S, L))
    norms[7:, 1] = np.nan  # step 24
    norms[9:, 0] = np.inf
    norms[3, 2] = 0.0  # a log axis cannot show 0: a gap, not a marker
    fig = plotting.plot_gradient_flow(steps, norms)
    ax = fig.axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and len(ax.get_lines()) == L + 1
    assert list(dashed[0].get_xdata()) == [24.0, 24.0]
    assert [t.get_text() for t in ax.texts] == ["first non-finite"]
    assert ax.texts[0].get_position()[0] == 24.0
    y = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()[:L]]
    assert np.isnan(y[1][7:]).all() and np.isfinite(y[1][:7]).all()
    assert np.isnan(y[0][9:]).all() and np.isnan(y[2][3]) and np.isfinite(np.delete(y[2], 3)).all()
    assert len(ax.get_legend().get_texts()) == L  # the marker is labelled on the plot, not in the legend
    _draw_without_warnings(fig)
    # all NaN from the start: the marker at the first step, still no warning
    _draw_without_warnings(plotting.plot_gradient_flow([0, 1], np.full((2, 2), np.nan)))


def test_plot_gradient_flow_draws_into_given_axes() -> None:
    fig, axes = plotting.figure(1, 2)
    out = plotting.plot_gradient_flow([0, 1, 2], np.ones((3, 2)), ax=axes[0, 1], ylabel="‖δ‖")
    assert out is fig and axes[0, 1].get_ylabel() == "‖δ‖" and not axes[0, 0].get_lines()


def test_plot_gradient_flow_errors() -> None:
    with pytest.raises(ValueError, match=r"grad_norms must have shape \(len\(steps\), L\) = \(3, L\)"):
        plotting.plot_gradient_flow([0, 1, 2], np.ones((2, 4)))
    with pytest.raises(ValueError, match="grad_norms must be 2-dimensional"):
        plotting.plot_gradient_flow([0, 1, 2], np.ones(3))
    with pytest.raises(ValueError, match="steps must be 1-dimensional"):
        plotting.plot_gradient_flow(np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="steps must hold at least one step"):
        plotting.plot_gradient_flow([], np.ones((0, 1)))
    with pytest.raises(ValueError, match="steps must be finite"):
        plotting.plot_gradient_flow([0, np.nan], np.ones((2, 1)))
    with pytest.raises(ValueError, match="names has 1 entries but there are 2 layers"):
        plotting.plot_gradient_flow([0, 1], np.ones((2, 2)), names=["a"])


def test_plot_layer_histograms_panels_bins_shared_range_and_labels() -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((50, 8)) * s for s in (1.0, 0.5, 2.0, 0.1, 3.0)]
    fig = plotting.plot_layer_histograms(arrays, bins=25, xlabel="$a^{(l)}$")
    axes = fig.axes
    shown = [ax for ax in axes if ax.axison]
    assert len(axes) == 6 and len(shown) == 5  # 2 rows of 3, the last panel hidden
    edges = np.linspace(min(a.min() for a in arrays), max(a.max() for a in arrays), 26)
    for ax, a in zip(shown, arrays):
        assert len(ax.patches) == 25
        assert np.allclose([p.get_height() for p in ax.patches], np.histogram(a, bins=edges)[0])
        assert ax.get_xlim() == pytest.approx((edges[0], edges[-1]))
    assert [ax.get_title() for ax in shown] == ["layer 1", "layer 2", "layer 3", "layer 4", "layer 5"]
    # x labels on the bottom edge (panels 4, 5, and 3, which has nothing below it), y labels on the left
    assert [bool(ax.get_xlabel()) for ax in shown] == [False, False, True, True, True]
    assert shown[3].get_xlabel() == "$a^{(l)}$"
    assert [ax.get_ylabel() for ax in shown] == ["count", "", "", "count", ""]
    _draw_without_warnings(fig)


def test_plot_layer_histograms_log_counts_zeros_and_skips_non_finite() -> None:
    g1 = np.array([1e-3, -1e-2, 0.0, 0.0, 1e-4, np.nan])
    g2 = {2: np.array([[10.0, -1.0], [0.0, np.inf]]), 1: g1}  # a dict, read in key order
    fig = plotting.plot_layer_histograms(g2, log=True, bins=5, names=["fc1", "fc2"], ncols=1)
    a1, a2 = fig.axes
    assert a1.get_title() == "fc1\n2 zeros, 1 non-finite" and a2.get_title() == "fc2\n1 zero, 1 non-finite"
    assert sum(p.get_height() for p in a1.patches) == 3 and sum(p.get_height() for p in a2.patches) == 2
    assert a1.get_xlim() == pytest.approx((-4.0, 1.0))  # log10 of 1e-4 .. 10, shared
    assert a2.get_xlabel() == "log₁₀|value|" and a1.get_xlabel() == ""
    _draw_without_warnings(fig)
    # nothing to show in a panel (all zero) and one constant value: no error, no warning
    fig = plotting.plot_layer_histograms([np.zeros(4), np.full(3, 2.0)], log=True)
    assert fig.axes[0].get_title() == "layer 1\n4 zeros"
    _draw_without_warnings(fig)


def test_plot_layer_histograms_errors() -> None:
    with pytest.raises(ValueError, match="arrays must hold at least one layer"):
        plotting.plot_layer_histograms([])
    with pytest.raises(TypeError, match="arrays must be a list, tuple or dict of arrays, one per layer, got ndarray"):
        plotting.plot_layer_histograms(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"arrays\[1\] must not be empty"):
        plotting.plot_layer_histograms([np.ones(3), np.ones(0)])
    with pytest.raises(ValueError, match="bins must be >= 1, got 0"):
        plotting.plot_layer_histograms([np.ones(3)], bins=0)
    with pytest.raises(ValueError, match="ncols must be >= 1, got 0"):
        plotting.plot_layer_histograms([np.ones(3)], ncols=0)
    with pytest.raises(ValueError, match="names has 2 entries but there are 1 layers"):
        plotting.plot_layer_histograms([np.ones(3)], names=["a", "b"])
    with pytest.raises(TypeError, match="log must be a bool, got int"):
        plotting.plot_layer_histograms([np.ones(3)], log=1)
    with pytest.raises(TypeError, match=r"arrays\[0\] must hold real numbers"):
        plotting.plot_layer_histograms([["a", "b"]])
