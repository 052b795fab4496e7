"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent, text) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function html(tag, parent, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; parent.appendChild(e); return e; }
function pct(x) { return x === null || x === undefined ? "-" : (100 * x).toFixed(2) + "%"; }
function num(x, d) { return x === null || x === undefined ? "-" : Number(x).toFixed(d); }
function blues(t) { t = Math.max(0, Math.min(1, t)); const r = Math.round(247 - t * 239), g = Math.round(251 - t * 203), b = Math.round(255 - t * 148); return "rgb(" + r + "," + g + "," + b + ")"; }
function diverging(r) { if (r === null) return "#eee"; const t = Math.min(1, Math.abs(r)); return r >= 0 ? blues(t) : "rgb(" + Math.round(255 - 40 * t) + "," + Math.round(245 - 200 * t) + "," + Math.round(240 - 200 * t) + ")"; }
function table(parent, head, rows) {
  const t = html("table", parent), tr = html("tr", t);
  head.forEach(h => html("th", tr, h));
  rows.forEach(r => { const row = html("tr", t); r.forEach(c => html("td", row, c)); });
  return t;
}
function lineChart(parent, series, xs, opts) {
  const W = 1100, H = 180, L = 46, B = 22;
  const svg = el("svg", {width: W + L, height: H + B + 8, role: "img"}, parent);
  const all = series.flatMap(s => s.values).filter(v => v !== null && isFinite(v));
  const lo = opts.lo !== undefined ? opts.lo : Math.min(0, ...all), hi = Math.max(opts.hi || 0, ...all, lo + 1e-9);
  const x = i => L + (xs.length > 1 ? i * W / (xs.length - 1) : W / 2), y = v => 4 + H - (v - lo) / (hi - lo) * H;
  el("line", {x1: L, y1: y(lo), x2: L + W, y2: y(lo), stroke: "#ccd3de"}, svg);
  [lo, (lo + hi) / 2, hi].forEach(v => el("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end"}, svg, num(v, 2)));
  const step = Math.max(1, Math.ceil(xs.length / 24));
  xs.forEach((v, i) => { if (i % step === 0) el("text", {x: x(i), y: H + B, "text-anchor": "middle"}, svg, v); });
  const legend = html("div", parent); legend.className = "legend";
  series.forEach(s => {
    const pts = s.values.map((v, i) => v === null || !isFinite(v) ? null : x(i) + "," + y(v)).filter(p => p);
    el("polyline", {points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 1.6}, svg);
    s.values.forEach((v, i) => { if (v !== null && isFinite(v)) { const c = el("circle", {cx: x(i), cy: y(v), r: 2.5, fill: s.color}, svg); el("title", {}, c, s.name + " @ " + opts.xlabel + " " + xs[i] + ": " + num(v, 4)); } });
    const item = html("span", legend); const sw = html("span", item); sw.className = "sw"; sw.style.background = s.color; item.appendChild(document.createTextNode(s.name));
  });
}

const E = D.num_experts, layers = D.layers;
document.getElementById("summary").textContent = "tag '" + D.tag + "' · " + D.tokens.toLocaleString() + " routing records · " +
  layers.length + " layers · " + E + " experts" + (D.model_id ? " · " + D.model_id : "") + " · generated " + D.generated;

(function heatmap() {
  const sec = document.getElementById("heat");
  if (!layers.length) { html("p", sec, "No routing records."); return; }
  const cw = Math.max(2, Math.min(36, Math.floor(1100 / E))), ch = Math.max(6, Math.min(16, Math.floor(600 / layers.length)));
  const L = 40, T = 18;
  const svg = el("svg", {width: L + cw * E + 10, height: T + ch * layers.length + 4, id: "heatmap"}, sec);
  let max = 0;
  const shares = layers.map(l => { const s = l.hits.map(h => l.selections ? h / l.selections : 0); max = Math.max(max, ...s); return s; });
  const tick = Math.max(1, Math.ceil(E / 32));
  for (let e = 0; e < E; e += tick) el("text", {x: L + e * cw + cw / 2, y: T - 5, "text-anchor": "middle"}, svg, e);
  layers.forEach((l, r) => {
    el("text", {x: L - 6, y: T + r * ch + ch - 1, "text-anchor": "end"}, svg, l.layer);
    shares[r].forEach((s, e) => {
      const c = el("rect", {x: L + e * cw, y: T + r * ch, width: cw, height: ch, fill: blues(max ? s / max : 0), id: "h-" + l.layer + "-" + e}, svg);
      el("title", {}, c, "layer " + l.layer + ", expert " + e + ": share " + pct(s) + " (" + l.hits[e] + " hits)");
    });
  });
  html("p", sec, "Darkest cell: share " + pct(max) + ". Columns are expert ids, rows are layers.").className = "note";
})();

(function imbalance() {
  const sec = document.getElementById("imbalance");
  if (!layers.length) return;
  const xs = layers.map(l => l.layer);
  lineChart(sec, [
    {name: "Gini", values: layers.map(l => l.gini), color: "#2563eb"},
    {name: "CV", values: layers.map(l => l.cv), color: "#d97706"},
    {name: "normalised entropy", values: layers.map(l => l.entropy_norm), color: "#059669"},
  ], xs, {xlabel: "layer", lo: 0, hi: 1});
  lineChart(sec, [{name: "max/mean", values: layers.map(l => l.max_over_mean), color: "#7c3aed"}], xs, {xlabel: "layer", lo: 0});
  table(sec, ["", "gini", "cv", "entropy_norm", "max/mean", "top-10 share", "dead"],
        [["all layers", num(D.global.gini, 3), num(D.global.cv, 3), num(D.global.entropy_norm, 3), num(D.global.max_over_mean, 2), pct(D.global.top10_share), D.global.dead_experts]]);
})();

(function cooc() {
  const sec = document.getElementById("cooc");
  if (!D.cooc) { html("p", sec, "No co-occurrence counts (more than 512 experts, or not kept)."); return; }
  const C = D.cooc, h = C.hits, T = C.tokens;
  sec.querySelector("h2").textContent = "Co-occurrence, layer " + C.layer;
  html("p", sec, "Jaccard index C/(h_a + h_b - C) of expert pairs selected together in layer " + C.layer + " (darker: more often together). Hover for count, P(b|a) and lift. Other layers: moescope report --cooc-layer L.").className = "note";
  const idx = (a, b) => a * (2 * E - a - 1) / 2 + (b - a - 1);
  const cw = Math.max(2, Math.min(40, Math.floor(700 / E))), L = 30;
  const svg = el("svg", {width: L + cw * E + 10, height: L + cw * E + 4, id: "cooc-map"}, sec);
  let max = 0;
  const jac = (a, b) => { const c = C.counts[idx(a, b)]; return c ? c / (h[a] + h[b] - c) : 0; };
  const tick = Math.max(1, Math.ceil(E / 16));
  for (let e = 0; e < E; e += tick) {
    el("text", {x: L + e * cw + cw / 2, y: L - 5, "text-anchor": "middle"}, svg, e);
    el("text", {x: L - 4, y: L + e * cw + cw - 1, "text-anchor": "end"}, svg, e);
  }
  for (let a = 0; a < E; a++) for (let b = a + 1; b < E; b++) max = Math.max(max, jac(a, b));
  for (let a = 0; a < E; a++) for (let b = 0; b < E; b++) {
    if (a === b) continue;
    const lo = Math.min(a, b), hi = Math.max(a, b), c = C.counts[idx(lo, hi)];
    const rect = el("rect", {x: L + b * cw, y: L + a * cw, width: cw, height: cw, fill: blues(max ? jac(lo, hi) / max : 0)}, svg);
    el("title", {}, rect, "experts " + a + " & " + b + ": together " + c + " times, P(" + b + "|" + a + ") " + (h[a] ? num(c / h[a], 3) : "-") +
       ", Jaccard " + num(jac(lo, hi), 3) + ", lift " + (h[a] && h[b] ? num(c * T / (h[a] * h[b]), 2) : "-"));
  }
})();

(function corr() {
  const sec = document.getElementById("corr");
  if (!D.corr.length) { html("p", sec, "Not enough layers."); return; }
  const ls = [...new Set(D.corr.map(c => c[0]))], ds = [...new Set(D.corr.map(c => c[1]))];
  const cw = Math.max(8, Math.min(24, Math.floor(1000 / ds.length))), ch = Math.max(6, Math.min(14, Math.floor(500 / ls.length))), L = 40, T = 18;
  const svg = el("svg", {width: L + cw * ds.length + 10, height: T + ch * ls.length + 4, id: "corr-map"}, sec);
  ds.forEach((d, i) => { if (ds.length < 40 || i % 2 === 0) el("text", {x: L + i * cw + cw / 2, y: T - 5, "text-anchor": "middle"}, svg, d); });
  ls.forEach((l, r) => el("text", {x: L - 6, y: T + r * ch + ch - 1, "text-anchor": "end"}, svg, l));
  D.corr.forEach(([l, d, r]) => {
    const c = el("rect", {x: L + ds.indexOf(d) * cw, y: T + ls.indexOf(l) * ch, width: cw, height: ch, fill: diverging(r)}, svg);
    el("title", {}, c, "r(layer " + l + ", delta " + d + ") = " + num(r, 3));
  });
  html("p", sec, "Rows: layer l. Columns: delta. Periodic summary (mean and std of r over l):").className = "note";
  table(sec, ["delta", "mean r", "std r", "layer pairs"], D.periodic.map(p => [p.delta, num(p.mean, 3), num(p.std, 3), p.n]));
})();

(function gates() {
  const sec = document.getElementById("gates");
  if (!D.gates.length) { html("p", sec, "No gate-input vectors were logged."); return; }
  html("p", sec, "Per pair of consecutive logged layers (all tokens): mean ± std of each distance between the gate inputs of the same token.").className = "note";
  const xs = D.gates.map(g => g.from_layer + "→" + g.to_layer);
  lineChart(sec, [{name: "cosine similarity (mean)", values: D.gates.map(g => g.cosine_similarity[0]), color: "#2563eb"},
                  {name: "pearson (mean)", values: D.gates.map(g => g.pearson[0]), color: "#059669"}], xs, {xlabel: "pair"});
  lineChart(sec, [{name: "L2-normalised distance (mean)", values: D.gates.map(g => g.l2_normalized[0]), color: "#d97706"},
                  {name: "mean |u-v|", values: D.gates.map(g => g.mean_abs_diff[0]), color: "#7c3aed"}], xs, {xlabel: "pair", lo: 0});
  const m = ["cosine_similarity", "cosine_distance", "euclidean", "l2_normalized", "l1", "pearson", "max_abs_diff", "mean_abs_diff"];
  table(sec, ["pair", "pairs"].concat(m), D.gates.map(g => [g.from_layer + " → " + g.to_layer, g.count].concat(m.map(k => num(g[k][0], 4) + " ± " + num(g[k][1], 4)))));
})();

(function compare() {
  const sec = document.getElementById("compare");
  if (!D.compare.length) { html("p", sec, "Only one tag: nothing to compare (tag records with FILE=TAG, --listen ...=TAG or a tag field)."); return; }
  html("p", sec, "Jensen-Shannon divergence (bits) between each tag's expert shares and the shares of all records, per layer; 0 = same routing.").className = "note";
  const colors = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2"];
  const perLayer = D.compare.map(c => c.layers.filter(l => l.layer >= 0));
  const xs = perLayer[0].map(l => l.layer);
  lineChart(sec, D.compare.map((c, i) => ({name: c.tag_a, values: perLayer[i].map(l => l.js_divergence_bits), color: colors[i % colors.length]})), xs, {xlabel: "layer", lo: 0});
  D.compare.forEach(c => {
    const g = c.layers.find(l => l.layer < 0);
    if (!g) return;
    html("p", sec, "Tag '" + c.tag_a + "' over all layers: JS " + num(g.js_divergence_bits, 4) + " bits; experts whose share differs most:");
    table(sec, ["expert", "share in '" + c.tag_a + "'", "share in '" + c.tag_b + "'", "ratio"], g.top.map(([e, a, b]) => [e, pct(a), pct(b), b ? num(a / b, 2) : "-"]));
  });
})();

(function timeline() {
  const sec = document.getElementById("timeline");
  if (!D.timeline.length) { html("p", sec, "No timed records (the daemon times records on arrival; files need a ts field)."); return; }
  const xs = D.timeline.map(b => new Date(b[0] * 1000).toISOString().slice(11, 16));
  lineChart(sec, [{name: "tokens per bucket", values: D.timeline.map(b => b[2]), color: "#2563eb"}], xs, {xlabel: "UTC", lo: 0});
  lineChart(sec, [{name: "busiest expert's share", values: D.timeline.map(b => b[4]), color: "#d97706"},
                  {name: "Gini", values: D.timeline.map(b => b[5]), color: "#059669"}], xs, {xlabel: "UTC", lo: 0});
})();

(function inputs() {
  const sec = document.getElementById("inputs");
  table(sec, ["source", "records", "rejected", "skipped lines"], D.sources.map(s => [s.name, s.records, s.rejected, s.skipped]));
  for (const w of (D.warnings || [])) html("p", sec, "warning (" + w.code + "): " + w.message);
})();
