// gradlab explorables: redraw a precomputed grid when a control moves (see gradlab/explorable.py).
// No library, no request: every value is in the page's <script type="application/json">.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 380, H = 270, M = {left: 66, right: 12, top: 12, bottom: 50};

  function el(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function scale(lim, log, a, b) {  // data -> pixels, on [a, b]
    var f = log ? Math.log10 : function (v) { return v; };
    var lo = f(lim[0]), hi = f(lim[1]);
    return function (v) { return a + (f(v) - lo) / (hi - lo) * (b - a); };
  }

  function ticks(lim, log) {
    var out = [], k;
    if (log) {
      var lo = Math.ceil(Math.log10(lim[0]) - 1e-9), hi = Math.floor(Math.log10(lim[1]) + 1e-9);
      var every = Math.max(1, Math.ceil((hi - lo) / 6));
      for (k = lo; k <= hi; k += every) out.push([Math.pow(10, k), k]);
      return out;
    }
    var raw = (lim[1] - lim[0]) / 5, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).filter(function (s) { return s >= raw; })[0];
    for (k = Math.ceil(lim[0] / step); k * step <= lim[1] + 1e-9 * step; k++) out.push([k * step, null]);
    return out;
  }

  function label(v) { return String(Number(v.toPrecision(6))).replace("-", "\u2212"); }

  function tickText(parent, attrs, t) {
    var text = el("text", attrs, parent, t[1] === null ? label(t[0]) : "10");
    if (t[1] !== null) el("tspan", {dy: "-7", "font-size": "11"}, text, String(t[1]).replace("-", "\u2212"));
  }

  function draw(svg, panel, curves, xs, caption) {
    while (svg.lastChild) svg.removeChild(svg.lastChild);
    el("title", {id: svg.id + "-desc"}, svg, caption);
    var X = scale(panel.xlim, panel.xscale === "log", M.left, W - M.right);
    var Y = scale(panel.ylim, panel.yscale === "log", H - M.bottom, M.top);
    var g = el("g", {"font-size": "14", fill: "currentColor"}, svg);
    ticks(panel.xlim, panel.xscale === "log").forEach(function (t) {
      var x = X(t[0]);
      el("line", {x1: x, x2: x, y1: M.top, y2: H - M.bottom, stroke: "currentColor", "stroke-opacity": "0.15"}, g);
      tickText(g, {x: x, y: H - M.bottom + 18, "text-anchor": "middle"}, t);
    });
    ticks(panel.ylim, panel.yscale === "log").forEach(function (t) {
      var y = Y(t[0]);
      el("line", {x1: M.left, x2: W - M.right, y1: y, y2: y, stroke: "currentColor", "stroke-opacity": "0.15"}, g);
      tickText(g, {x: M.left - 5, y: y + 4, "text-anchor": "end"}, t);
    });
    el("rect", {x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom,
                fill: "none", stroke: "currentColor", "stroke-opacity": "0.6"}, g);
    el("text", {x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle", "font-size": "15"}, g, panel.xlabel);
    el("text", {x: 0, y: 0, "text-anchor": "middle", "font-size": "15",
                transform: "translate(16," + (M.top + H - M.bottom) / 2 + ") rotate(-90)"}, g, panel.ylabel);
    var clip = svg.id + "-clip";
    el("rect", {x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom},
       el("clipPath", {id: clip}, el("defs", {}, svg)));
    var plot = el("g", {"clip-path": "url(#" + clip + ")"}, svg);
    var items = panel.static.map(function (s) { return [s, s.xy]; });
    panel.series.forEach(function (s, k) { items.push([s, [xs[curves[k][0]], curves[k][1]]]); });
    items.forEach(function (item) {
      var s = item[0], u = item[1][0], v = item[1][1], d = "", pen = false;
      for (var i = 0; i < u.length; i++) {
        var ok = u[i] !== null && v[i] !== null && (panel.xscale !== "log" || u[i] > 0) && (panel.yscale !== "log" || v[i] > 0);
        if (!ok) { pen = false; continue; }
        var px = X(u[i]).toFixed(1), py = Y(v[i]).toFixed(1);
        if (s.style === "points" || s.style === "marker") {
          el("circle", {cx: px, cy: py, r: s.style === "marker" ? 6 : 3, fill: s.colour,
                        stroke: s.style === "marker" ? "currentColor" : "none", "stroke-width": 1.5}, plot);
        } else { d += (pen ? "L" : "M") + px + " " + py; pen = true; }
      }
      if (d) el("path", {d: d, fill: "none", stroke: s.colour, "stroke-width": 2.2,
                         "stroke-dasharray": s.style === "dashed" ? "6 4" : "none"}, plot);
    });
  }

  function init(root) {
    var spec = JSON.parse(root.querySelector("script.gl-x-data").textContent);
    var inputs = spec.controls.map(function (c, i) { return document.getElementById(root.id + "-c" + i); });
    var svgs = spec.panels.map(function (p, j) { return document.getElementById(root.id + "-p" + j); });
    var readout = document.getElementById(root.id + "-readout");
    function update() {
      var flat = 0, setting = [];
      spec.controls.forEach(function (c, i) {
        var k = Number(inputs[i].value);
        flat = flat * c.labels.length + k;
        setting.push(c.label + " = " + c.labels[k]);
        if (c.kind === "range") {
          inputs[i].setAttribute("aria-valuetext", c.labels[k]);
          document.getElementById(inputs[i].id + "-value").textContent = c.labels[k];
        }
      });
      var cell = spec.cells[flat];
      spec.panels.forEach(function (p, j) { draw(svgs[j], p, cell.curves[j], spec.xs, p.title + ", at " + setting.join(", ")); });
      readout.textContent = cell.text;
      root.setAttribute("data-setting", String(flat));
      if (!root.hasAttribute("data-ready-ms")) root.setAttribute("data-ready-ms", performance.now().toFixed(0));
    }
    inputs.forEach(function (inp) { inp.addEventListener("input", update); inp.addEventListener("change", update); });
    update();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".gl-explorable:not([data-setting])"), init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
