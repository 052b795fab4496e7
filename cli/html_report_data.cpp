// The data behind the HTML report, as one JSON object (see html_report.cpp for the page).
#include <algorithm>
#include <cmath>
#include <ctime>

#include "analytics/cooccurrence.hpp"
#include "analytics/imbalance.hpp"
#include "analytics/layer_correlation.hpp"
#include "analytics/tag_compare.hpp"
#include "cli/deep_report.hpp"
#include "cli/figure_output.hpp"
#include "cli/html_report.hpp"
#include "cli/input_warnings.hpp"
#include "cli/json_writer.hpp"
#include "cli/quality_report.hpp"
#include "cli/summary_report.hpp"
#include "cli/weights_report.hpp"
#include "decisions/significance.hpp"

namespace moe {

namespace {

double rounded(double v, double scale = 1e6) {
    return std::isfinite(v) ? std::round(v * scale) / scale : v;
}

std::vector<uint64_t> padded(const LayerStats& l, size_t E) {
    std::vector<uint64_t> h = l.hits;
    h.resize(std::max(h.size(), E), 0);
    return h;
}

int32_t busiest_imbalance_layer(const TagStats& t, size_t E) {
    int32_t best = -1;
    double gini = -1;
    for (int32_t l : t.layer_ids()) {
        const double g = compute_imbalance(t.layer(l)->hits, E).gini;
        if (g > gini && t.layer(l)->cooc.num_experts() > 0) gini = g, best = l;
    }
    return best;
}

// Why the report has no co-occurrence heatmap, in words true for this data.
std::string cooc_missing(const TagStats& t, size_t E, int32_t layer, bool asked) {
    const auto ids = t.layer_ids();
    if (ids.empty()) return "No routing records, so no co-occurrence counts.";
    if (asked && !t.layer(layer))
        return "Layer " + std::to_string(layer) + " has no records (layers " +
               std::to_string(ids.front()) + " to " + std::to_string(ids.back()) +
               "); choose one with moescope report --cooc-layer L.";
    if (E > kMaxCoocExperts)
        return "No co-occurrence counts: the model has " + std::to_string(E) +
               " experts, more than the " + std::to_string(kMaxCoocExperts) + " counted.";
    return "No co-occurrence counts for layer " + std::to_string(layer) +
           " (not kept: moescoped --analytics standard or full keeps them).";
}

}  // namespace

std::string html_report_data(const Aggregates& agg, const std::vector<SourceStats>& sources,
                             const QueryOptions& q, const HtmlReportOptions& o) {
    const auto id = agg.find_tag(q.tag);
    if (!id) throw std::invalid_argument("unknown tag '" + q.tag + "'");
    const TagStats& t = agg.tag(*id);
    const size_t E = agg.num_experts();
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("tag", std::string_view(t.name)).field("num_experts", static_cast<uint64_t>(E));
    w.field("model_id", std::string_view(agg.model_id()))
        .field("generated", std::string_view(iso_utc(std::time(nullptr))));
    w.field("tokens", t.global.tokens).field("count_only", t.global.count_only());
    w.field("selections", t.global.selections());
    write_summary_json(w, agg, t, sources);
    write_quality_json(w, quality_findings(agg, sources, t), o.keep_suspect);

    w.key("layers").begin_array();
    for (int32_t l : t.layer_ids()) {
        const auto h = padded(*t.layer(l), E);
        const ImbalanceFigures f = compute_imbalance(h);
        w.begin_object().field("layer", l);
        write_figures_json(w, {*t.layer(l), f});
        w.key("hits").begin_array();
        for (uint64_t x : h)
            w.value(x);
        w.end_array().end_object();
    }
    w.end_array();
    w.key("global").begin_object();
    write_figures_json(w, {t.global, compute_imbalance(t.global.hits, E)});
    w.end_object();

    const int32_t cl = o.cooc_layer >= 0 ? o.cooc_layer : busiest_imbalance_layer(t, E);
    if (const LayerStats* l = cl >= 0 ? t.layer(cl) : nullptr; l && l->cooc.num_experts() > 0) {
        w.key("cooc")
            .begin_object()
            .field("layer", cl)
            .field("tokens", l->tokens)
            .key("hits")
            .begin_array();
        for (uint64_t x : padded(*l, E))
            w.value(x);
        w.end_array().key("counts").begin_array();  // upper triangle, row by row
        for (size_t a = 0; a < E; ++a)
            for (size_t b = a + 1; b < E; ++b)
                w.value(l->cooc.get(a, b));
        w.end_array().end_object();
    } else {
        w.field("cooc_missing", std::string_view(cooc_missing(t, E, cl, o.cooc_layer >= 0)));
    }

    const auto rs = layer_correlations(t, E, q.delta_max);
    w.key("corr").begin_array();
    for (const auto& c : rs)
        w.begin_array().value(c.layer).value(c.delta).value(rounded(c.r, 1e4)).end_array();
    w.end_array().key("periodic").begin_array();
    for (int32_t d : q.periodic) {
        const auto p = periodic_summary(layer_correlations(t, E, std::max(q.delta_max, d)), d);
        w.begin_object()
            .field("delta", d)
            .field("mean", rounded(p.mean, 1e4))
            .field("std", rounded(p.std, 1e4));
        w.field("n", static_cast<uint64_t>(p.n)).end_object();
    }
    w.end_array();

    w.key("gates").begin_array();
    for (const auto& [key, g] : t.gates) {
        if (key.tokens != GateTokens::all) continue;
        w.begin_object()
            .field("from_layer", key.from_layer)
            .field("to_layer", key.to_layer)
            .field("count", g.pairs);
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            const RunningStats& rs1 = g.metrics[m];
            w.key(gate_metric_name(static_cast<GateMetric>(m))).begin_array();
            w.value(rounded(rs1.n ? rs1.mean : NAN))
                .value(rounded(rs1.std_pop()))
                .value(rounded(rs1.n ? rs1.min : NAN));
            w.value(rounded(rs1.n ? rs1.max : NAN)).end_array();
        }
        w.end_object();
    }
    w.end_array();

    // Each tag against the rest (or, for a tag's report, that tag): the `compare` command's
    // figures and verdict (judged_layers), so the report and the command agree.
    w.key("compare").begin_array();
    QueryOptions cq;
    cq.top = 5;
    for (TagId other = 1; other < agg.tag_count(); ++other) {
        const TagStats& a = agg.tag(other);
        if (&t != &agg.tag(kAllTag) && &a != &t) continue;
        const ComparePair p = compare_with_rest(agg, a);
        if (!p) continue;  // one tag only: nothing to compare it with
        const std::vector<Judged> judged = judged_layers(agg, p, cq);
        w.begin_object()
            .field("tag_a", std::string_view(a.name))
            .field("tag_b", std::string_view(p.b->name))
            .field("verdict", std::string_view(compare_verdict(p, judged).text));
        w.key("layers").begin_array();
        for (const Judged& j : judged) {
            w.begin_object()
                .field("layer", j.c.layer)
                .field("js_divergence_bits", rounded(j.c.js_divergence_bits))
                .field("js_noise_floor", rounded(j.sig ? j.sig->js_noise_floor : NAN))
                .field("chi2_p_value", j.sig ? j.sig->selections.p_value : NAN)
                .field("verdict", verdict_name(j));
            if (const ExpertShareDiff* e = leans_on(j.c))
                w.key("leans")
                    .begin_array()
                    .value(e->expert)
                    .value(rounded(e->share_a))
                    .value(rounded(e->share_b))
                    .end_array();
            else
                w.key("leans").null();
            w.key("top").begin_array();
            for (const auto& e : j.c.experts)
                w.begin_array()
                    .value(e.expert)
                    .value(rounded(e.share_a))
                    .value(rounded(e.share_b))
                    .end_array();
            w.end_array().end_object();
        }
        w.end_array().end_object();
    }
    w.end_array();

    write_report_decisions(w, agg, t, *id);
    write_report_diff(w, o);

    w.key("timeline").begin_array();
    for (const auto& [key, b] : agg.timeline().buckets()) {
        if (key.tag != *id || key.layer != -1) continue;
        const ImbalanceFigures f = compute_imbalance(b.hits, E);
        w.begin_array().value(key.start).value(b.seconds).value(b.tokens).value(f.argmax);
        w.value(rounded(
            f.selections ? static_cast<double>(f.max) / static_cast<double>(f.selections) : NAN));
        w.value(rounded(f.gini)).end_array();
    }
    w.end_array();

    w.key("sources").begin_array();
    for (const auto& s : sources) {
        w.begin_object().field("name", std::string_view(s.name)).field("records", s.records);
        w.field("rejected", s.total_rejects()).field("skipped", s.skipped_lines).end_object();
    }
    w.end_array();
    write_warnings_json(w, sources);
    if (o.weights) {
        w.key("weights").begin_object();
        write_weights_json(w, *o.weights);
        w.end_object();
    }
    w.end_object();
    return out;
}

}  // namespace moe
