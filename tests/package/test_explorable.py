"""Tests for gradlab.explorable: the grid, what the page embeds, the static figure, and bad input.

The widget's behaviour in a browser (keyboard, redraw, accessibility) is tested on the built book by
tests/book/test_browser.py.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from gradlab import explorable as ex

ROOT = Path(__file__).resolve().parents[2]


def line_compute(w: float, act: str) -> dict:
    a = np.linspace(-2.0, 2.0, 9)
    y = np.tanh(w * a) if act == "tanh" else w * a
    return {"curves": [[(a, y), ([0.0], [w])], [(np.arange(1, 4), w ** np.arange(1, 4))]],
            "values": {"w": w, "half": w / 2, "nan": float("nan")}}


def make(**kw) -> ex.Explorable:
    args = dict(
        name="test-line", title="A <test> line",
        controls=[ex.Control("w", "slope w", (0.5, 1.0, 2.0), default=1.0),
                  ex.Control("act", "activation", ("linear", "tanh"))],
        panels=[ex.Panel("line", "a", "y", (ex.Series("y"), ex.Series("w", style="marker", colour=1)),
                         static=((ex.Series("zero", style="dashed", colour=6), [-2, 2], [0, 0]),)),
                ex.Panel("powers", "k", "w^k", (ex.Series("w^k", style="points"),), yscale="log")],
        compute=line_compute,
        readout=[("w", "slope", ".2f"), ("half", "half slope", ".3f")],
    )
    args.update(kw)
    return ex.build(args.pop("name"), args.pop("title"), args.pop("controls"), args.pop("panels"),
                    args.pop("compute"), readout=args.pop("readout"))


def test_every_combination_is_computed_in_row_major_order() -> None:
    x = make()
    assert x.n_settings == 6
    assert [x.index(w=w, act=a) for w in (0.5, 1.0, 2.0) for a in ("linear", "tanh")] == list(range(6))
    assert x.index() == x.index(w=1.0, act="linear") == 2   # defaults: given, or the first value
    cell = x.cell(w=2.0, act="tanh")
    a, y = cell["curves"][0][0]
    np.testing.assert_allclose(y, np.tanh(2.0 * np.asarray(a)), rtol=5e-3)   # three significant digits
    assert cell["curves"][1][0][1] == [2.0, 4.0, 8.0]
    assert cell["text"] == "slope = 2.00; half slope = 1.000"
    assert cell["values"] == {"w": 2.0, "half": 1.0, "nan": None}   # extra values kept, NaN as null


def test_shared_x_is_stored_once_and_numbers_are_rounded() -> None:
    x = make()
    # three distinct x arrays in the whole grid: the a axis, [0], and 1..3
    assert len(x.xs) == 3
    x2 = ex.build("r", "rounding", [ex.Control("k", "k", (1,))],
                  [ex.Panel("p", "x", "y", (ex.Series("s"),))],
                  lambda k: {"curves": [[([0.0, 1.0], [1 / 3, 123456.789])]]})
    assert x2.cells[0]["curves"][0][0][1] == [0.333, 123000.0]


def test_axes_are_the_same_for_every_setting() -> None:
    x = make()
    lin, log = x.limits
    # linear: the range of every curve over the grid, padded by 5 %; log: whole decades
    assert lin["y"][0] < -2.0 * 1.0 and lin["y"][1] > 4.0    # -2 (w a at w=1... w=2: -4) to 4
    assert lin["y"] == pytest.approx([-4.0 - 0.4, 4.0 + 0.4])
    assert log["y"] == [0.1, 10.0]
    fixed = make(panels=[ex.Panel("line", "a", "y", (ex.Series("y"), ex.Series("w")), ylim=(-1.0, 1.0)),
                         ex.Panel("powers", "k", "w^k", (ex.Series("w^k"),), yscale="log")])
    assert fixed.limits[0]["y"] == [-1.0, 1.0]


def test_html_has_labelled_controls_a_live_readout_and_the_grid() -> None:
    x = make()
    page = x.html()
    for i in range(2):
        assert f'<label for="gl-x-test-line-c{i}">' in page and f'id="gl-x-test-line-c{i}"' in page
    assert re.search(r'<input type="range" id="gl-x-test-line-c0" min="0" max="2" step="1" value="1" '
                     r'aria-valuetext="1">', page)
    assert '<option value="0" selected>linear</option><option value="1">tanh</option>' in page
    assert 'aria-live="polite">slope = 1.00; half slope = 0.500</p>' in page
    assert page.count('role="img"') == 2
    assert "A &lt;test&gt; line" in page and "<test>" not in page.split("<script")[0]
    data = re.search(r'<script type="application/json" class="gl-x-data">(.*?)</script>', page).group(1)
    spec = json.loads(data)
    assert spec == json.loads(x.json()) and len(spec["cells"]) == 6
    assert [c["kind"] for c in spec["controls"]] == ["range", "select"]
    assert spec["panels"][0]["static"][0]["xy"] == [[-2.0, 2.0], [0.0, 0.0]]
    assert spec["panels"][1]["series"][0] == {"label": "w^k", "style": "points", "colour": "#0072B2"}


def test_a_script_end_tag_in_the_data_cannot_close_the_script() -> None:
    x = make(title="ends </script> here", readout=[("w", "</script>", ".1f")])
    page = x.html()
    assert page.count("</script>") == 1 and page.endswith("</script></div>")
    assert json.loads(re.search(r'class="gl-x-data">(.*?)</script>', page).group(1))["readout"][0]["label"] == "</script>"


def test_png_is_the_default_setting_and_is_reproducible() -> None:
    x = make()
    first, second = x.png(), x.png()
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and first == second
    bundle = x._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert "6 settings" in bundle["text/plain"]
    fig = x.figure()
    axes = fig.axes
    assert len(axes) == 2 and axes[1].get_yscale() == "log"
    drawn = [ln for ln in axes[0].get_lines() if ln.get_label() == "y"][0]
    np.testing.assert_allclose(drawn.get_ydata(), x.cell()["curves"][0][0][1])
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_script_ships_with_the_package() -> None:
    assert ex.SCRIPT.is_file() and "gl-x-data" in ex.SCRIPT.read_text(encoding="utf-8")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert ex.SCRIPT.name in config["tool"]["setuptools"]["package-data"]["gradlab"]


@pytest.mark.parametrize("change, error, match", [
    (dict(name="Bad Name"), ValueError, "name must be lower-case"),
    (dict(title=""), ValueError, "title"),
    (dict(controls=[]), ValueError, "at least one Control"),
    (dict(controls=["w"]), TypeError, "Control objects"),
    (dict(controls=[ex.Control("w", "w", ())]), ValueError, "has no values"),
    (dict(controls=[ex.Control("w", "w", (1.0, "a"))]), ValueError, "all strings or all finite numbers"),
    (dict(controls=[ex.Control("w", "w", (1.0, float("nan")))]), ValueError, "all strings or all finite numbers"),
    (dict(controls=[ex.Control("w", "w", (1.0, 1.0))]), ValueError, "distinct"),
    (dict(controls=[ex.Control("w", "w", (1.0, 2.0), default=3.0)]), ValueError, "default must be one of"),
    (dict(controls=[ex.Control("w", "w", (1.0,)), ex.Control("w", "w", ("linear",))]), ValueError, "distinct Python identifiers"),
    (dict(panels=[]), ValueError, "at least one Panel"),
    (dict(panels=[ex.Panel("p", "x", "y", (ex.Series("s"),), yscale="symlog")]), ValueError, "xscale and yscale"),
    (dict(panels=[ex.Panel("p", "x", "y", (ex.Series("s", style="bars"),))]), ValueError, "series style"),
    (dict(readout=[("w", "w")]), TypeError, "readout entries"),
    (dict(panels=[ex.Panel("p", "x", "y", (ex.Series("s"),), xlim=(1.0, 1.0))]), ValueError, r"xlim must be \(low, high\)"),
    (dict(panels=[ex.Panel("p", "x", "y", (ex.Series("s"),), ylim=(0.0, 1.0), yscale="log")]), ValueError, r"low > 0 \(log scale\)"),
])
def test_bad_specifications_are_refused(change: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make(**change)


@pytest.mark.parametrize("result, error, match", [
    ([1, 2], TypeError, "must return a mapping with 'curves'"),
    ({"curves": [[]]}, ValueError, "returned curves for 1 panels, expected 2"),
    ({"curves": [[([0, 1], [0, 1])], [([1], [1])]]}, ValueError, "panel 0 has 2 series, got 1 curves"),
    ({"curves": [[([0, 1], [0]), ([0], [0])], [([1], [1])]]}, ValueError, "1-D arrays of one non-zero length"),
    ({"curves": [[(1, 2, 3), ([0], [0])], [([1], [1])]]}, TypeError, r"must be a pair \(x, y\)"),
    ({"curves": [[([0], [0]), ([0], [0])], [([1], [1])]], "values": {"w": 1.0}}, ValueError, "no value for the readout key 'half'"),
    ({"curves": [[([0], [0]), ([0], [0])], [([1], [1])]], "values": {"w": np.nan, "half": 1}}, ValueError, "'w' is NaN"),
    ({"curves": [[([0], [0]), ([0], [0])], [([1], [1])]], "values": {"w": 1, "half": 1, "x": "a"}}, TypeError, "must be a real number"),
])
def test_bad_results_of_compute_are_refused_naming_the_setting(result: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match) as info:
        make(compute=lambda w, act: result)
    if "readout" not in match and "real number" not in match and "NaN" not in match:
        return
    assert "compute(w=0.5, act='linear')" in str(info.value)


def test_a_log_panel_with_nothing_above_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="no finite value to draw above 0"):
        ex.build("z", "zeros", [ex.Control("k", "k", (1,))], [ex.Panel("p", "x", "y", (ex.Series("s"),), yscale="log")],
                 lambda k: {"curves": [[([0.0, 1.0], [0.0, -1.0])]]})


def test_unknown_setting_names_and_values_are_refused() -> None:
    x = make()
    with pytest.raises(ValueError, match="names no control"):
        x.cell(v=1.0)
    with pytest.raises(ValueError, match=r"w must be one of \[0.5, 1.0, 2.0\], got 3.0"):
        x.cell(w=3.0)


def test_infinite_and_word_readouts_are_printed_as_such() -> None:
    x = ex.build("w", "words", [ex.Control("k", "k", (1, 2))], [ex.Panel("p", "x", "y", (ex.Series("s"),))],
                 lambda k: {"curves": [[([0.0], [k])]], "values": {"xi": np.inf if k == 1 else 3.0,
                                                                    "phase": "ordered" if k == 1 else "chaotic"}},
                 readout=[("xi", "ξ", ".1f"), ("phase", "phase", "")])
    assert x.cell(k=1)["text"] == "ξ = ∞; phase: ordered" and x.cell(k=1)["values"] == {"xi": None, "phase": "ordered"}
    assert x.cell(k=2)["text"] == "ξ = 3.0; phase: chaotic"
