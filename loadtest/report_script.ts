/**
 * The script a report page runs in the browser: it reads the charts from the
 * page's embedded JSON and draws each as an SVG with axes, grid, legend and
 * one `<path data-series="NAME" data-points="N">` per series. It is plain
 * JavaScript kept in a string because it runs in the page, not in Deno.
 *
 * @module
 */

/** Source of the page script; it expects `#report-data` and one `#chart-<id>` per chart. */
export const REPORT_SCRIPT = String.raw`
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  var W = 1000, H = 230, LEFT = 64, RIGHT = 16, TOP = 12, BOTTOM = 40;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) node.setAttribute(key, String(attrs[key]));
    if (parent) parent.appendChild(node);
    return node;
  }

  // Round steps (1, 2 or 5 times a power of ten) so tick labels read easily.
  function niceStep(span, ticks) {
    var raw = span / ticks;
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var scaled = raw / power;
    var step = scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10;
    return step * power;
  }

  // Up to three decimals, trailing zeros dropped: 0.5, 2, 0.125.
  function label(value) {
    return String(Math.round(value * 1000) / 1000);
  }

  function largest(values) {
    return values.reduce(function (a, b) { return Math.max(a, b); }, 0);
  }

  function draw(chart, box, xMax) {
    var ys = [0];
    chart.series.forEach(function (s) {
      s.points.forEach(function (p) { ys.push(p[1]); });
    });
    var yStep = niceStep(largest(ys) || 1, 5);
    var yMax = Math.ceil((largest(ys) || 1) / yStep) * yStep;
    var xStep = niceStep(xMax, 10);
    var x = function (v) { return LEFT + (v / xMax) * (W - LEFT - RIGHT); };
    var y = function (v) { return TOP + (1 - v / yMax) * (H - TOP - BOTTOM); };

    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: "100%",
      role: "img", "data-chart": chart.id });
    el("title", {}, svg).textContent = chart.title;
    var grid = el("g", { "class": "grid" }, svg);
    for (var v = 0; v <= yMax + yStep / 2; v += yStep) {
      el("line", { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v) }, grid);
      el("text", { x: LEFT - 6, y: y(v) + 4, "text-anchor": "end" }, grid).textContent = label(v);
    }
    for (var t = 0; t <= xMax + xStep / 2; t += xStep) {
      el("line", { x1: x(t), x2: x(t), y1: TOP, y2: H - BOTTOM }, grid);
      el("text", { x: x(t), y: H - BOTTOM + 16, "text-anchor": "middle" }, grid)
        .textContent = label(t);
    }
    el("text", { x: (LEFT + W - RIGHT) / 2, y: H - 6, "text-anchor": "middle" }, grid)
      .textContent = "seconds since start";
    el("text", { x: 14, y: TOP + (H - TOP - BOTTOM) / 2, "text-anchor": "middle",
      transform: "rotate(-90 14 " + (TOP + (H - TOP - BOTTOM) / 2) + ")" }, grid)
      .textContent = chart.unit;

    var legend = document.createElement("ul");
    legend.className = "legend";
    chart.series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length];
      // A run without data for a series (no Prometheus, no failures) still gets
      // its element, with 0 points, so a reader can tell "none" from "missing".
      var d = s.points.map(function (p, k) {
        return (k === 0 ? "M" : "L") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1);
      }).join(" ");
      var path = el("path", { d: d || "M0 0", fill: "none", stroke: color, "stroke-width": 2,
        "data-series": s.name, "data-points": s.points.length }, svg);
      if (!d) path.setAttribute("visibility", "hidden");
      if (s.points.length === 1) {
        el("circle", { cx: x(s.points[0][0]), cy: y(s.points[0][1]), r: 3, fill: color }, svg);
      }
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name + " (" + s.points.length + ")"));
      legend.appendChild(item);
    });
    box.appendChild(svg);
    box.appendChild(legend);
  }

  var data = JSON.parse(document.getElementById("report-data").textContent);
  // One time axis for every chart, so a moment lines up from chart to chart.
  var xMax = largest(data.charts.map(function (chart) {
    return largest(chart.series.map(function (s) {
      return largest(s.points.map(function (p) { return p[0]; }));
    }));
  })) || 1;
  data.charts.forEach(function (chart) {
    var box = document.getElementById("chart-" + chart.id);
    if (box) draw(chart, box, xMax);
  });
  document.body.setAttribute("data-drawn", String(data.charts.length));
})();
`;
