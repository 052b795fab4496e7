#include "daemon/prometheus_text.hpp"

#include <charconv>
#include <cmath>

#include "analytics/imbalance.hpp"

namespace moe {

std::string prometheus_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

void header(std::string& s, const char* name, const char* type, const char* help) {
    s += "# HELP ";
    s += name;
    s += ' ';
    s += help;
    s += "\n# TYPE ";
    s += name;
    s += ' ';
    s += type;
    s += '\n';
}

void number(std::string& s, double v) {
    if (std::isnan(v))
        s += "NaN";
    else if (std::isinf(v))
        s += v > 0 ? "+Inf" : "-Inf";
    else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        s.append(buf, r.ptr);
    }
}

void sample(std::string& s, const char* name, const std::string& labels, double v) {
    s += name;
    s += '{';
    s += labels;
    s += "} ";
    number(s, v);
    s += '\n';
}

std::string layer_labels(const std::string& tag, int32_t layer) {
    return "tag=\"" + tag + "\",layer=\"" +
           (layer < 0 ? std::string("all") : std::to_string(layer)) + "\"";
}

}  // namespace

std::string prometheus_text(const Aggregates& agg, const std::vector<const SourceStats*>& sources) {
    std::string s;
    s.reserve(1 << 16);
    header(s, "moescope_expert_hits_total", "counter",
           "Routing records whose top-k contained the expert.");
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        const TagStats& ts = agg.tag(t);
        const std::string tag = prometheus_label(ts.name);
        for (int32_t l : ts.layer_ids()) {
            const LayerStats& ls = *ts.layer(l);
            const std::string base = layer_labels(tag, l) + ",expert=\"";
            for (size_t e = 0; e < ls.hits.size(); ++e)
                sample(s, "moescope_expert_hits_total", base + std::to_string(e) + "\"",
                       static_cast<double>(ls.hits[e]));
        }
    }
    header(s, "moescope_layer_tokens_total", "counter",
           "Routing records (tokens) per layer; layer=\"all\": every layer.");
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        const TagStats& ts = agg.tag(t);
        const std::string tag = prometheus_label(ts.name);
        for (int32_t l : ts.layer_ids())
            sample(s, "moescope_layer_tokens_total", layer_labels(tag, l),
                   static_cast<double>(ts.layer(l)->tokens));
        sample(s, "moescope_layer_tokens_total", layer_labels(tag, -1),
               static_cast<double>(ts.global.tokens));
    }
    struct Gauge {
        const char* name;
        const char* help;
        double ImbalanceFigures::*field;
    };
    static const Gauge gauges[] = {
        {"moescope_layer_gini", "Gini coefficient of the expert hit counts (0 = balanced).",
         &ImbalanceFigures::gini},
        {"moescope_layer_cv", "Coefficient of variation of the expert hit counts.",
         &ImbalanceFigures::cv},
        {"moescope_layer_entropy_norm", "Routing entropy divided by log2(experts) (1 = balanced).",
         &ImbalanceFigures::entropy_norm},
        {"moescope_layer_max_over_mean",
         "Load imbalance factor: busiest expert's hits over the mean.",
         &ImbalanceFigures::max_over_mean},
        {"moescope_layer_top10_share", "Fraction of selections taken by the 10 busiest experts.",
         &ImbalanceFigures::top10_share},
    };
    std::vector<std::pair<std::string, ImbalanceFigures>> figs;
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        const TagStats& ts = agg.tag(t);
        const std::string tag = prometheus_label(ts.name);
        auto fig = [&](const LayerStats& ls) {
            return compute_imbalance(ls.hits, agg.num_experts());
        };
        for (int32_t l : ts.layer_ids())
            figs.emplace_back(layer_labels(tag, l), fig(*ts.layer(l)));
        if (ts.global.tokens) figs.emplace_back(layer_labels(tag, -1), fig(ts.global));
    }
    for (const Gauge& g : gauges) {
        header(s, g.name, "gauge", g.help);
        for (const auto& [labels, f] : figs)
            sample(s, g.name, labels, f.*g.field);
    }
    header(s, "moescope_layer_dead_experts", "gauge", "Experts with no hits in the layer.");
    for (const auto& [labels, f] : figs)
        sample(s, "moescope_layer_dead_experts", labels, f.dead_experts);

    auto per_source = [&](const char* name, const char* type, const char* help, auto value) {
        header(s, name, type, help);
        for (const SourceStats* src : sources)
            sample(s, name,
                   "source=\"" + prometheus_label(src->name) + "\",kind=\"" + src->kind + "\"",
                   static_cast<double>(value(*src)));
    };
    per_source("moescope_source_bytes_total", "counter", "Bytes read.",
               [](const SourceStats& x) { return x.bytes; });
    per_source("moescope_source_lines_total", "counter", "Complete lines read.",
               [](const SourceStats& x) { return x.lines; });
    per_source("moescope_source_records_total", "counter", "Routing records counted.",
               [](const SourceStats& x) { return x.records; });
    per_source("moescope_source_gate_vectors_total", "counter", "Gate-input vectors accepted.",
               [](const SourceStats& x) { return x.gate_records; });
    per_source("moescope_source_skipped_lines_total", "counter",
               "Lines that are not records (headers, other log output).",
               [](const SourceStats& x) { return x.skipped_lines; });
    per_source("moescope_source_lag_bytes", "gauge",
               "Bytes of a followed file not yet committed (0 for sockets).",
               [](const SourceStats& x) { return x.lag_bytes(); });
    header(s, "moescope_source_rejects_total", "counter", "Rejected lines by reason (see README).");
    for (const SourceStats* src : sources)
        for (int r = 0; r < kRejectReasonCount; ++r)
            sample(s, "moescope_source_rejects_total",
                   "source=\"" + prometheus_label(src->name) + "\",reason=\"" +
                       std::string(reject_reason_name(static_cast<RejectReason>(r))) + "\"",
                   static_cast<double>(src->rejects[static_cast<size_t>(r)]));
    header(s, "moescope_experts", "gauge", "Experts per layer (stated, or largest id + 1).");
    s += "moescope_experts " + std::to_string(agg.num_experts()) + "\n";
    return s;
}

}  // namespace moe
