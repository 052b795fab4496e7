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
// An axis label with the digits that tell ticks `step` apart (the JS-divergence axis read
// "0.00 / 0.00 / 0.00" for values up to 0.0011); below 1e-4 in scientific notation.
function tickLabel(v, step) {
  if (v === 0) return "0";
  const d = Math.max(0, 1 - Math.floor(Math.log10(Math.abs(step) || 1)));
  return d <= 5 ? Number(v).toFixed(d) : Number(v).toExponential(1);
}
function blues(t) { t = Math.max(0, Math.min(1, t)); const r = Math.round(247 - t * 239), g = Math.round(251 - t * 203), b = Math.round(255 - t * 148); return "rgb(" + r + "," + g + "," + b + ")"; }
function diverging(r) { if (r === null) return "#eee"; const t = Math.min(1, Math.abs(r)); return r >= 0 ? blues(t) : "rgb(" + Math.round(255 - 40 * t) + "," + Math.round(245 - 200 * t) + "," + Math.round(240 - 200 * t) + ")"; }
// Tables sit in a wrapper that scrolls sideways: a wide one (the gate distances' eight
// metrics) stays within the content column instead of running past it.
function table(parent, head, rows) {
  const wrap = html("div", parent); wrap.className = "scroll";
  const t = html("table", wrap), tr = html("tr", t);
  head.forEach(h => html("th", tr, h));
  rows.forEach(r => { const row = html("tr", t); r.forEach(c => html("td", row, c)); });
  return t;
}
// A colour bar under a heatmap: what the lightest and darkest cells mean.
function colorLegend(parent, lo, hi, color, label) {
  const W = 240, svg = el("svg", {width: W + 120, height: 30, class: "colorbar"}, parent);
  const n = 24;
  for (let i = 0; i < n; i++) el("rect", {x: i * W / n, y: 2, width: W / n + 0.5, height: 10, fill: color(lo + (hi - lo) * i / (n - 1))}, svg);
  el("text", {x: 0, y: 26}, svg, label(lo));
  el("text", {x: W, y: 26, "text-anchor": "end"}, svg, label(hi));
  return svg;
}
function lineChart(parent, series, xs, opts) {
  const W = 1100, H = 180, L = 46, B = 22;
  const svg = el("svg", {width: W + L, height: H + B + 8, role: "img"}, parent);
  const all = series.flatMap(s => s.values).filter(v => v !== null && isFinite(v));
  const lo = opts.lo !== undefined ? opts.lo : Math.min(0, ...all), hi = Math.max(opts.hi || 0, ...all, lo + 1e-9);
  const x = i => L + (xs.length > 1 ? i * W / (xs.length - 1) : W / 2), y = v => 4 + H - (v - lo) / (hi - lo) * H;
  el("line", {x1: L, y1: y(lo), x2: L + W, y2: y(lo), stroke: "#ccd3de"}, svg);
  [lo, (lo + hi) / 2, hi].forEach(v => el("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "ytick"}, svg, tickLabel(v, (hi - lo) / 2)));
  const step = Math.max(1, Math.ceil(xs.length / 24));
  xs.forEach((v, i) => { if (i % step === 0) el("text", {x: x(i), y: H + B, "text-anchor": "middle"}, svg, v); });
  const legend = html("div", parent); legend.className = "legend";
  series.forEach(s => {
    const pts = s.values.map((v, i) => v === null || !isFinite(v) ? null : x(i) + "," + y(v)).filter(p => p);
    el("polyline", {points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": s.width || 1.6, "stroke-dasharray": s.dash || "none"}, svg);
    s.values.forEach((v, i) => { if (v !== null && isFinite(v)) { const c = s.square ? el("rect", {x: x(i) - 3, y: y(v) - 3, width: 6, height: 6, fill: "none", stroke: s.color}, svg) : el("circle", {cx: x(i), cy: y(v), r: 2.5, fill: s.color}, svg); el("title", {}, c, s.name + " @ " + opts.xlabel + " " + xs[i] + ": " + num(v, 4)); } });
    const item = html("span", legend); const sw = html("span", item); sw.className = "sw"; sw.style.background = s.dash ? "repeating-linear-gradient(90deg," + s.color + " 0 4px,transparent 4px 7px)" : s.color; item.appendChild(document.createTextNode(s.name));
  });
}

const E = D.num_experts, layers = D.layers;
// Engine totals count selections, not records (docs/FIGURES.md "Count-only data").
document.getElementById("summary").textContent = "tag '" + D.tag + "' · " + (D.count_only ? D.selections.toLocaleString() + " selections (engine totals)" : D.tokens.toLocaleString() + " routing records") + " · " +
  layers.length + " layers · " + E + " experts" + (D.model_id ? " · " + D.model_id : "") + " · generated " + D.generated;

// What the data-quality checks left out (docs/FIGURES.md "Data quality"): the records every
// figure of this report rests on.
function qualityText(Q) {
  if (!Q) return "-";
  const out = Q.checks.filter(c => c.found && c.left_out !== null).map(c =>
    c.remains ? c.code.replace(/_/g, " ") + ": still counted (--keep-suspect)"
              : c.left_out.toLocaleString() + " records (" + c.code.replace(/_/g, " ") + ")");
  return out.length ? out.join("; ") : "nothing: no warm-up runs, no strided-view defect";
}

(function verdict() {
  const sec = document.getElementById("verdict"), S = D.summary;
  if (!S || !S.layers) { html("p", sec, "No routing records."); return; }
  const layerList = v => v.map(l => l.layer + " (Gini " + num(l.gini, 3) + ")").join(", ") || "-";
  const expertList = (v, load) => v.length ? v.length + ": " + v.slice(0, 12).map(e => "L" + e.layer + "/E" + e.expert + (load ? " (" + num(e.load, 2) + "x)" : "")).join(", ") + (v.length > 12 ? ", ..." : "") : "none";
  table(sec, ["", ""], [
    ["most balanced layers", layerList(S.most_balanced)],
    ["least balanced layers", layerList(S.least_balanced)],
    ["dead experts (never selected)", expertList(S.dead, false)],
    ["cold experts (< " + S.cold_factor + "x mean)", expertList(S.cold, true)],
    ["hot experts (>= " + S.hot_factor + "x mean)", expertList(S.hot, true)],
    ["left out (data quality)", qualityText(D.quality)],
  ]).id = "verdict-table";
  S.warnings.forEach(w => { const p = html("p", sec, "Warning: " + w.text); p.className = "warning"; });
})();

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
  const every = Math.ceil(12 / ch);  // row labels 12 px apart at least: no overlapping text
  layers.forEach((l, r) => {
    if (r % every === 0) el("text", {x: L - 6, y: T + r * ch + ch - 1, "text-anchor": "end"}, svg, l.layer);
    shares[r].forEach((s, e) => {
      const c = el("rect", {x: L + e * cw, y: T + r * ch, width: cw, height: ch, fill: blues(max ? Math.sqrt(s / max) : 0), id: "h-" + l.layer + "-" + e}, svg);
      el("title", {}, c, "layer " + l.layer + ", expert " + e + ": share " + pct(s) + " (" + l.hits[e] + " hits)");
    });
  });
  // A square-root scale: one hot expert would otherwise wash out a balanced model's structure.
  colorLegend(sec, 0, max, v => blues(max ? Math.sqrt(v / max) : 0), pct).id = "heat-legend";
  html("p", sec, "Colour: share of the layer's selections on a square-root scale, 0 (white) to " + pct(max) + " (darkest); a fair share is " + pct(1 / E) + ". Columns are expert ids, rows are layers.").className = "note";
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
  const row = (name, l) => [name, l.tokens, num(l.gini, 3), num(l.cv, 3), num(l.entropy_norm, 3), num(l.max_over_mean, 2), pct(l.top10_share), l.dead_experts];
  table(sec, ["layer", "tokens", "Gini", "CV", "H/Hmax", "max/mean", "top-10 share", "dead"],
        layers.map(l => row(l.layer, l)).concat([row("all layers", D.global)])).id = "imbalance-table";
})();

(function decisions() {
  const sec = document.getElementById("decisions"), X = D.decisions;
  if (!X || !X.coverage.length) { html("p", sec, "No routing records."); return; }
  // Experts needed per layer for each coverage level (by selections; dashed: by weight mass).
  html("h3", sec, "Experts needed to cover a share of the selections");
  const xs = X.coverage.map(c => c.layer), colors = ["#93c5fd", "#60a5fa", "#2563eb", "#1e40af", "#172554"];
  const series = X.levels.map((p, i) => ({name: pct(p).replace(".00", "") + " of selections", values: X.coverage.map(c => c.hits[i]), color: colors[i]}));
  if (X.coverage.some(c => c.mass)) series.push({name: "90% of weight mass", values: X.coverage.map(c => c.mass ? c.mass[2] : null), color: "#d97706", dash: "5,3"});
  lineChart(sec, series, xs, {xlabel: "layer", lo: 0, hi: E});
  html("p", sec, "Experts (of " + E + ") that carry 50 to 99 % of each layer's selections, busiest first: moescope coverage.").className = "note";
  // Coverage curves: one line per layer, share covered against experts kept.
  const curves = X.coverage.map((c, i) => ({name: "layer " + c.layer, values: c.curve, color: "hsl(" + Math.round(220 - 180 * i / Math.max(1, X.coverage.length - 1)) + ",70%,45%)", width: 1}));
  const cdiv = html("div", sec); cdiv.id = "coverage-curves";
  lineChart(cdiv, curves.length > 16 ? curves.filter((c, i) => i % Math.ceil(curves.length / 16) === 0) : curves, Array.from({length: E}, (_, i) => i + 1), {xlabel: "experts kept", lo: 0, hi: 1});
  html("p", sec, "Cumulative share of a layer's selections carried by its n busiest experts" + (curves.length > 16 ? " (every " + Math.ceil(curves.length / 16) + "th layer)" : "") + ".").className = "note";
  // Keep/drop map: which experts a keep-coverage rule keeps, per layer.
  html("h3", sec, "Keep/drop map (keep " + pct(X.keep_rule.keep_coverage).replace(".00", "") + " coverage by selections)");
  const cw = Math.max(2, Math.min(36, Math.floor(1100 / E))), ch = Math.max(6, Math.min(16, Math.floor(600 / X.keep.length))), L = 40, T = 18;
  const svg = el("svg", {width: L + cw * E + 10, height: T + ch * X.keep.length + 4, id: "keep-map"}, sec);
  const tick = Math.max(1, Math.ceil(E / 32)), every = Math.ceil(12 / ch);
  for (let e = 0; e < E; e += tick) el("text", {x: L + e * cw + cw / 2, y: T - 5, "text-anchor": "middle"}, svg, e);
  X.keep.forEach((k, r) => {
    if (r % every === 0) el("text", {x: L - 6, y: T + r * ch + ch - 1, "text-anchor": "end"}, svg, k.layer);
    const kept = new Set(k.kept);
    for (let e = 0; e < E; e++) {
      const c = el("rect", {x: L + e * cw, y: T + r * ch, width: cw, height: ch, fill: kept.has(e) ? "#2563eb" : "#f1f5f9", stroke: "#fff", "stroke-width": cw > 4 ? 0.5 : 0}, svg);
      el("title", {}, c, "layer " + k.layer + ", expert " + e + ": " + (kept.has(e) ? "kept" : "dropped"));
    }
  });
  table(sec, ["", ""], [["experts kept", X.keep.reduce((a, k) => a + k.kept.length, 0) + " of " + X.keep.length * E],
    ["selections dropped (recorded tokens)", pct(X.dropped_selection_share)]]).id = "keep-table";
  html("p", sec, "Blue: kept, grey: dropped. Export and the cost per tag: moescope prune --keep-coverage 0.9 --export FILE.").className = "note";
  // Cache hit rate against capacity.
  html("h3", sec, "Expert-cache hit rate against capacity");
  const caps = X.cache.static.map((_, i) => i + 1);
  const cs = [{name: "static (the C busiest experts per layer)", values: X.cache.static, color: "#2563eb"}];
  const byPolicy = {};
  X.cache.live.forEach(p => { (byPolicy[p.policy] = byPolicy[p.policy] || caps.map(() => null))[p.capacity - 1] = p.hit_rate; });
  Object.keys(byPolicy).forEach((p, i) => cs.push({name: p + " (live, moescoped --cache-capacity)", values: byPolicy[p], color: ["#d97706", "#059669"][i % 2], square: true, width: 0.01}));
  const kdiv = html("div", sec); kdiv.id = "cache-curve";
  lineChart(kdiv, cs, caps, {xlabel: "slots per layer", lo: 0, hi: 1});
  html("p", sec, "Share of selections served from a per-layer cache of C expert slots, pooled over layers. lru, lfu and opt on a log: moescope cache --capacity C FILE.").className = "note";
})();

(function cooc() {
  const sec = document.getElementById("cooc");
  if (!D.cooc) { html("p", sec, D.cooc_missing || "No co-occurrence counts."); return; }
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
  colorLegend(sec, 0, max, v => blues(max ? v / max : 0), v => "Jaccard " + num(v, 3)).id = "cooc-legend";
})();

(function corr() {
  const sec = document.getElementById("corr");
  if (!D.corr.length) { html("p", sec, "Not enough layers."); return; }
  const ls = [...new Set(D.corr.map(c => c[0]))], ds = [...new Set(D.corr.map(c => c[1]))];
  const cw = Math.max(8, Math.min(24, Math.floor(1000 / ds.length))), ch = Math.max(6, Math.min(14, Math.floor(500 / ls.length))), L = 40, T = 18;
  const svg = el("svg", {width: L + cw * ds.length + 10, height: T + ch * ls.length + 4, id: "corr-map"}, sec);
  ds.forEach((d, i) => { if (ds.length < 40 || i % 2 === 0) el("text", {x: L + i * cw + cw / 2, y: T - 5, "text-anchor": "middle"}, svg, d); });
  const every = Math.ceil(12 / ch);
  ls.forEach((l, r) => { if (r % every === 0) el("text", {x: L - 6, y: T + r * ch + ch - 1, "text-anchor": "end"}, svg, l); });
  D.corr.forEach(([l, d, r]) => {
    const c = el("rect", {x: L + ds.indexOf(d) * cw, y: T + ls.indexOf(l) * ch, width: cw, height: ch, fill: diverging(r)}, svg);
    el("title", {}, c, "r(layer " + l + ", delta " + d + ") = " + num(r, 3));
  });
  colorLegend(sec, -1, 1, diverging, v => "r = " + num(v, 0)).id = "corr-legend";
  html("p", sec, "Rows: layer l. Columns: delta. Periodic summary (mean and std of r over l):").className = "note";
  const periodic = D.periodic.filter(p => p.n > 0);
  if (periodic.length) table(sec, ["delta", "mean r", "std r", "layer pairs"], periodic.map(p => [p.delta, num(p.mean, 3), num(p.std, 3), p.n]));
  else html("p", sec, "Too few layers for the periodic deltas (" + D.periodic.map(p => p.delta).join(", ") + ").").className = "note";
})();

(function gates() {
  const sec = document.getElementById("gates");
  if (!D.gates.length) { html("p", sec, "No gate-input vectors were logged."); return; }
  html("p", sec, "Per pair of consecutive logged layers (all tokens): mean ± std of each distance between the gate inputs of the same token.").className = "note";
  const xs = D.gates.map(g => g.from_layer + "→" + g.to_layer);
  // Cosine and Pearson are often nearly equal: a thick solid line under a dashed one with
  // square markers keeps both visible.
  lineChart(sec, [{name: "cosine similarity (mean)", values: D.gates.map(g => g.cosine_similarity[0]), color: "#2563eb", width: 3.5},
                  {name: "pearson (mean)", values: D.gates.map(g => g.pearson[0]), color: "#dc2626", dash: "5 3", square: true}], xs, {xlabel: "pair"});
  lineChart(sec, [{name: "L2-normalised distance (mean)", values: D.gates.map(g => g.l2_normalized[0]), color: "#d97706"},
                  {name: "mean |u-v|", values: D.gates.map(g => g.mean_abs_diff[0]), color: "#7c3aed"}], xs, {xlabel: "pair", lo: 0});
  const m = ["cosine_similarity", "cosine_distance", "euclidean", "l2_normalized", "l1", "pearson", "max_abs_diff", "mean_abs_diff"];
  table(sec, ["pair", "pairs"].concat(m), D.gates.map(g => [g.from_layer + " → " + g.to_layer, g.count].concat(m.map(k => num(g[k][0], 4) + " ± " + num(g[k][1], 4)))));
})();

(function compare() {
  const sec = document.getElementById("compare");
  if (!D.compare.length) { html("p", sec, "Only one tag: nothing to compare it with (tag records with FILE=TAG, --listen ...=TAG or a tag field)."); return; }
  html("p", sec, "Jensen-Shannon divergence (bits) between each tag's expert shares and the shares of the rest (the records not tagged so), per layer; 0 = same routing. The figures and verdicts are those of moescope compare --tag TAG.").className = "note";
  const colors = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2"];
  const perLayer = D.compare.map(c => c.layers.filter(l => l.layer >= 0));
  const xs = perLayer[0].map(l => l.layer);
  // With two tags, each against the rest is the same pair: the lines coincide. The first is
  // drawn thick and the others dashed on top, so every series stays visible.
  lineChart(sec, D.compare.map((c, i) => ({name: c.tag_a, values: perLayer[i].map(l => l.js_divergence_bits), color: colors[i % colors.length],
                                           width: i ? undefined : 3.5, dash: i ? "5 3" : undefined, square: i > 0})), xs, {xlabel: "layer", lo: 0});
  // The verdict of moescope compare --tag TAG, per tag: how many layers differ.
  D.compare.forEach(c => { html("p", sec, c.verdict.replace(/^verdict: /, "Verdict: ")).className = "compare-verdict"; });
  // All layers combined can hide real differences: per tag, the layers that differ most.
  html("p", sec, "noise JS: the divergence two samples of these sizes from one distribution show (resampled); p: chi-square test of the tag against the other records (approximate: a token's selections are not independent).").className = "note";
  table(sec, ["tag", "layer", "JS bits", "noise JS", "p", "verdict", "leans on expert", "share in tag", "share in rest"],
        D.compare.flatMap(c => c.layers.filter(l => l.layer >= 0).sort((a, b) => b.js_divergence_bits - a.js_divergence_bits).slice(0, 3)
          .map(l => [c.tag_a, l.layer, num(l.js_divergence_bits, 4), num(l.js_noise_floor, 4), l.chi2_p_value === null ? "-" : l.chi2_p_value.toPrecision(2), l.verdict, l.leans ? l.leans[0] : "-", l.leans ? pct(l.leans[1]) : "-", l.leans ? pct(l.leans[2]) : "-"]))).id = "compare-layers";
  D.compare.forEach(c => {
    const g = c.layers.find(l => l.layer < 0);
    if (!g) return;
    html("p", sec, "Tag '" + c.tag_a + "' over all layers: JS " + num(g.js_divergence_bits, 4) + " bits (verdict " + g.verdict + " against the rest); experts whose share differs most:");
    table(sec, ["expert", "share in '" + c.tag_a + "'", "share in '" + c.tag_b + "'", "ratio"], g.top.map(([e, a, b]) => [e, pct(a), pct(b), b ? num(a / b, 2) : "-"]));
  });
})();

// Two runs of one workload token by token: the figures of moescope diff A B.
(function routingDiff() {
  const sec = document.getElementById("routing-diff"), R = D.routing_diff;
  if (!R) { html("p", sec, "Two runs of one workload, token by token: moescope report --html OUT A B (two log files).").className = "note"; return; }
  const share = R.tokens.aligned ? R.tokens.differ_in_any_layer / R.tokens.aligned : null;
  html("p", sec, "A: " + R.a + " (" + R.records_a.toLocaleString() + " records); B: " + R.b + " (" + R.records_b.toLocaleString() + " records).").className = "note";
  html("p", sec, (R.near_chance ? "Agreement near chance (kappa " + num(R.all.kappa, 3) + ": tokens paired at random overlap " + num(R.all.chance_overlap, 4) + "): A and B may not be runs of the same requests. " : "") +
    "Lowest mean top-k overlap " + num(R.min_overlap, 4) + " (layer " + R.min_overlap_layer + "); kappa " + num(R.all.kappa, 3) + "; " + pct(share) + " of " + R.tokens.aligned.toLocaleString() + " aligned tokens differ in at least one layer.").id = "diff-verdict";
  const xs = R.layers.map(l => l.layer);
  lineChart(sec, [{name: "top-1 agreement", values: R.layers.map(l => l.top1_agreement), color: "#2563eb"},
                  {name: "mean top-k overlap", values: R.layers.map(l => l.overlap), color: "#d97706"},
                  {name: "exact-set agreement", values: R.layers.map(l => l.exact_agreement), color: "#059669"},
                  {name: "Jaccard", values: R.layers.map(l => l.jaccard), color: "#7c3aed"}], xs, {xlabel: "layer", lo: 0, hi: 1});
  const row = (name, l) => [name, l.aligned, num(l.top1_agreement, 4), num(l.overlap, 4), num(l.exact_agreement, 4), num(l.jaccard, 4), num(l.weight_mass_overlap, 4), num(l.chance_overlap, 4), l.only_a, l.only_b];
  table(sec, ["layer", "aligned", "top-1", "overlap", "exact", "Jaccard", "weight mass", "chance overlap", "only A", "only B"],
        R.layers.map(l => row(l.layer, l)).concat([row("all layers", R.all)])).id = "diff-table";
})();

(function timeline() {
  const sec = document.getElementById("timeline");
  if (D.timeline.length < 2) { html("p", sec, "No timestamps" + (D.timeline.length ? " beyond one time bucket" : "") + ": the daemon times records on arrival; files need a ts field.").id = "no-timestamps"; return; }
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

(function weights() {
  const sec = document.getElementById("weights"), W = D.weights;
  if (!W) { html("p", sec, "No model file given: moescope report --model MODEL adds router and expert weight similarity.").className = "note"; return; }
  const m = W.model;
  html("p", sec, m.path + " (" + m.format + (m.architecture ? ", " + m.architecture : "") + "): " + (m.layers ?? "?") + " layers, " + (m.experts ?? "?") + " experts, top-" + (m.top_k ?? "?") + ", n_embd " + (m.n_embd ?? "?")).className = "note";
  const R = W.router;
  if (R && R.layers.length) {
    const n = R.layers.length, cw = Math.max(4, Math.min(24, Math.floor(600 / n))), L = 40, T = 18;
    html("p", sec, "Router similarity: cosine of the flattened router matrices of layers l (rows) and l' (columns).").className = "note";
    const svg = el("svg", {width: L + cw * n + 10, height: T + cw * n + 4, id: "router-map"}, sec);
    const every = Math.ceil(12 / cw);
    R.layers.forEach((l, i) => { if (i % every === 0) { el("text", {x: L + i * cw + cw / 2, y: T - 5, "text-anchor": "middle"}, svg, l); el("text", {x: L - 6, y: T + i * cw + cw - 1, "text-anchor": "end"}, svg, l); } });
    R.cosine.forEach((row, i) => row.forEach((v, j) => {
      const c = el("rect", {x: L + j * cw, y: T + i * cw, width: cw, height: cw, fill: diverging(v)}, svg);
      el("title", {}, c, "layers " + R.layers[i] + " & " + R.layers[j] + ": cosine " + num(v, 4) + ", row cosine " + num(R.row_cosine[i][j], 4) + ", norm r " + num(R.row_norm_correlation[i][j], 4));
    }));
    colorLegend(sec, -1, 1, diverging, v => "cosine " + num(v, 0)).id = "router-legend";
    if (R.by_delta.length) {
      html("p", sec, "Delta profile: mean over layer pairs l, l + delta (periodic structure shows as peaks).").className = "note";
      lineChart(sec, [{name: "cosine (flattened)", values: R.by_delta.map(d => d.cosine), color: "#2563eb"},
                      {name: "row cosine (mean over experts)", values: R.by_delta.map(d => d.row_cosine), color: "#d97706"},
                      {name: "row-norm correlation", values: R.by_delta.map(d => d.row_norm_correlation), color: "#059669"}],
                R.by_delta.map(d => d.delta), {xlabel: "delta"});
    }
  }
  const X = W.experts;
  if (!X) { if (W.experts_skipped) html("p", sec, "Expert weights not compared: " + W.experts_skipped).className = "note"; return; }
  html("p", sec, "Merge candidates: the most similar expert pairs (cosine of flattened gate/up/down weights).").className = "note";
  const joined = X.similar_pairs.length && X.similar_pairs[0].lift !== undefined;
  table(sec, ["layer", "a", "b", "cosine"].concat(joined ? ["lift", "share a", "share b"] : []),
        X.similar_pairs.map(p => [p.layer, p.a, p.b, num(p.cosine, 4)].concat(joined ? [num(p.lift, 2), pct(p.share_a), pct(p.share_b)] : []))).id = "merge-candidates";
  if (X.cross_layer.length) table(sec, ["delta", "experts compared", "mean cosine", "median cosine"], X.cross_layer.map(c => [c.delta, c.n, num(c.mean, 4), num(c.median, 4)]));
})();
