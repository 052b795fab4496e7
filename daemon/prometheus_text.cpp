#include "daemon/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <span>
#include <tuple>

#include "analytics/figures.hpp"
#include "analytics/imbalance.hpp"
#include "analytics/quality.hpp"
#include "decisions/eplb.hpp"

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

}  // namespace

void prometheus_header(std::string& s, const char* name, const char* type, const char* help) {
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

void prometheus_sample(std::string& s, const char* name, const std::string& labels, double v) {
    s += name;
    if (!labels.empty()) {
        s += '{';
        s += labels;
        s += '}';
    }
    s += ' ';
    number(s, v);
    s += '\n';
}

namespace {

constexpr auto header = &prometheus_header;
constexpr auto sample = &prometheus_sample;

std::string layer_labels(const std::string& tag, int32_t layer) {
    return "tag=\"" + tag + "\",layer=\"" +
           (layer < 0 ? std::string("all") : std::to_string(layer)) + "\"";
}

// What one tag="..." value shows: its layers (bounded) and all layers combined.
struct LayerView {
    int32_t layer;  // -1: all layers
    uint64_t tokens;
    std::span<const uint64_t> hits;
    bool tokens_known = true;  // false: engine totals without k (tokens holds selections)
};
struct TagView {
    std::string label;
    std::vector<LayerView> layers;  // the per-layer ones, then layer="all"
    const TagStats* tag = nullptr;  // null for tag="other"
};

// Counts of the tags folded into tag="other", owned here while the views point at them.
struct Folded {
    std::map<int32_t, std::pair<uint64_t, std::vector<uint64_t>>> by_layer;  // -1: all
    std::map<int32_t, bool> unknown_tokens;  // a folded tag's layer without a token count
    void add(int32_t layer, const LayerStats& ls) {
        auto& [tokens, hits] = by_layer[layer];
        tokens += ls.tokens;
        unknown_tokens[layer] |= !ls.tokens_known();
        if (hits.size() < ls.hits.size()) hits.resize(ls.hits.size(), 0);
        for (size_t e = 0; e < ls.hits.size(); ++e)
            hits[e] += ls.hits[e];
    }
};

std::vector<TagView> tag_views(const Aggregates& agg, const ExpositionLimits& lim, Folded& other,
                               uint64_t& omitted) {
    std::vector<TagView> views;
    auto add_layers = [&](TagView& v, auto&& each_layer) {
        size_t n = 0;
        each_layer([&](int32_t l, uint64_t tokens, std::span<const uint64_t> hits, bool known) {
            if (l >= 0 && ++n > lim.max_layers) {
                ++omitted;
                return;
            }
            v.layers.push_back({l, tokens, hits, known});
        });
    };
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        const TagStats& ts = agg.tag(t);
        std::string label = prometheus_label(ts.name);
        if (t != kAllTag && (views.size() > lim.max_tags || label.size() > lim.max_tag_label)) {
            for (int32_t l : ts.layer_ids())
                other.add(l, *ts.layer(l));
            other.add(-1, ts.global);
            ++omitted;
            continue;
        }
        TagView& v = views.emplace_back(TagView{std::move(label), {}, &ts});
        add_layers(v, [&](auto&& emit) {
            for (int32_t l : ts.layer_ids())
                emit(l, ts.layer(l)->tokens, ts.layer(l)->hits, ts.layer(l)->tokens_known());
            emit(-1, ts.global.tokens, ts.global.hits, ts.global.tokens_known());
        });
    }
    if (!other.by_layer.empty()) {
        TagView& v = views.emplace_back(TagView{"other", {}, nullptr});
        add_layers(v, [&](auto&& emit) {
            for (auto& [l, th] : other.by_layer)
                if (l >= 0) emit(l, th.first, th.second, !other.unknown_tokens[l]);
            auto& [tokens, hits] = other.by_layer[-1];
            emit(-1, tokens, hits, !other.unknown_tokens[-1]);
        });
    }
    return views;
}

// The live caches (moescoped --cache-capacity): accesses and hits as counters, so a
// dashboard can take the hit rate over any window, and the hit rate since the start as a
// gauge; per layer and pooled over the tag's layers (layer="all").
void cache_metrics(std::string& s, const std::vector<TagView>& views) {
    struct Line {
        std::string labels;
        uint64_t accesses, hits;
    };
    std::vector<Line> lines;
    for (const TagView& v : views) {
        if (!v.tag) continue;
        std::map<std::pair<int, uint32_t>, std::pair<uint64_t, uint64_t>> pooled;
        auto labels = [&](int32_t layer, const CacheSpec& c) {
            return layer_labels(v.label, layer) + ",policy=\"" +
                   std::string(online_policy_name(c.policy)) + "\",capacity=\"" +
                   std::to_string(c.capacity) + "\"";
        };
        for (const LayerView& l : v.layers) {
            const LayerStats* ls = l.layer >= 0 ? v.tag->layer(l.layer) : nullptr;
            if (!ls) continue;
            for (const OnlineCache& c : ls->caches.caches) {
                lines.push_back({labels(l.layer, c.spec()), c.accesses, c.hits});
                auto& [a, h] = pooled[{static_cast<int>(c.spec().policy), c.spec().capacity}];
                a += c.accesses;
                h += c.hits;
            }
        }
        for (const auto& [key, ah] : pooled)
            lines.push_back({labels(-1, {static_cast<OnlinePolicy>(key.first), key.second}),
                             ah.first, ah.second});
    }
    if (lines.empty()) return;
    header(s, metric::cache_accesses, "counter",
           "Live expert-cache simulation: accesses (one per selection).");
    for (const Line& x : lines)
        sample(s, metric::cache_accesses, x.labels, static_cast<double>(x.accesses));
    header(s, metric::cache_hits, "counter", "Live expert-cache simulation: accesses that hit.");
    for (const Line& x : lines)
        sample(s, metric::cache_hits, x.labels, static_cast<double>(x.hits));
    header(s, metric::cache_hit_rate, "gauge",
           "Live expert-cache simulation: hits / accesses since the start (ratio).");
    for (const Line& x : lines)
        sample(s, metric::cache_hit_rate, x.labels,
               x.accesses ? static_cast<double>(x.hits) / static_cast<double>(x.accesses) : NAN);
}

// The watched placement on each layer's load since the start: balancedness and imbalance
// per tag and layer, and for tag "all" each GPU's load as a counter, so PromQL can take the
// balance over a recent window: avg by (layer) (rate(...[10m])) / max by (layer) (...).
void placement_metrics(std::string& s, const std::vector<TagView>& views, size_t E,
                       const WatchedPlacement& p) {
    struct Line {
        std::string labels;
        eplb::Balance b;
        bool all_tag;  // the per-GPU counters are for tag "all" only
    };
    std::vector<Line> lines;
    for (const TagView& v : views) {
        if (!v.tag) continue;
        const bool all_tag = v.tag->name == kAllTagName;
        for (const LayerView& l : v.layers) {
            const std::vector<int32_t>* row = l.layer >= 0 ? p.map.row(l.layer) : nullptr;
            if (!row || l.tokens == 0) continue;
            std::vector<double> load(E, 0.0);
            for (size_t e = 0; e < l.hits.size() && e < E; ++e)
                load[e] = static_cast<double>(l.hits[e]);
            try {
                lines.push_back(
                    {layer_labels(v.label, l.layer), eplb::evaluate(load, *row, p.gpus), all_tag});
            } catch (const std::invalid_argument&) {
                // The map does not fit this layer (ids beyond E, unplaced experts, slots not
                // a multiple of the GPUs): no sample for it.
            }
        }
    }
    if (lines.empty()) return;
    header(s, metric::placement_balancedness, "gauge",
           "Watched placement (--placement): mean / max GPU load on the load since the start.");
    for (const Line& x : lines)
        sample(s, metric::placement_balancedness, x.labels, x.b.balancedness);
    header(s, metric::placement_imbalance, "gauge",
           "Watched placement (--placement): max / mean GPU load - 1 on the load since the start.");
    for (const Line& x : lines)
        sample(s, metric::placement_imbalance, x.labels, x.b.imbalance);
    header(s, metric::placement_gpu_load, "counter",
           "Watched placement: selections routed to the GPU (an expert's hits split evenly over "
           "its replicas); tag \"all\" only.");
    for (const Line& x : lines) {
        if (!x.all_tag) continue;
        for (size_t g = 0; g < x.b.gpu_load.size(); ++g)
            sample(s, metric::placement_gpu_load, x.labels + ",gpu=\"" + std::to_string(g) + "\"",
                   x.b.gpu_load[g]);
    }
}

}  // namespace

std::string prometheus_text(const Aggregates& agg, const std::vector<const SourceStats*>& sources,
                            const ExpositionLimits& limits, const WatchedPlacement* placement) {
    std::string s;
    s.reserve(1 << 16);
    uint64_t omitted = 0;
    Folded other;
    const std::vector<TagView> views = tag_views(agg, limits, other, omitted);

    header(s, metric::expert_hits, "counter", "Routing records whose top-k contained the expert.");
    size_t expert_budget = limits.max_expert_samples;
    for (const TagView& v : views) {
        for (const LayerView& l : v.layers) {
            if (l.layer < 0) continue;  // per layer only, as before
            if (l.hits.size() > expert_budget) {
                omitted += l.hits.size();
                continue;
            }
            expert_budget -= l.hits.size();
            const std::string base = layer_labels(v.label, l.layer) + ",expert=\"";
            for (size_t e = 0; e < l.hits.size(); ++e)
                sample(s, metric::expert_hits, base + std::to_string(e) + "\"",
                       static_cast<double>(l.hits[e]));
        }
    }
    header(s, metric::layer_tokens, "counter",
           "Routing records (tokens) per layer; layer=\"all\": every layer. No series where "
           "the count is unknown (engine totals without k).");
    for (const TagView& v : views)
        for (const LayerView& l : v.layers)
            if (l.tokens_known)
                sample(s, metric::layer_tokens, layer_labels(v.label, l.layer),
                       static_cast<double>(l.tokens));
    // The gauges are the figures of analytics/figures.cpp marked `gauge`, named
    // moescope_layer_<key> (docs/FIGURES.md "Prometheus metrics").
    std::vector<std::tuple<std::string, uint64_t, ImbalanceFigures>> figs;
    for (const TagView& v : views)
        for (const LayerView& l : v.layers)
            if (l.layer >= 0 || l.tokens)
                figs.emplace_back(layer_labels(v.label, l.layer), l.tokens,
                                  compute_imbalance(l.hits, agg.num_experts()));
    for (const Figure& g : layer_figures()) {
        if (!g.gauge) continue;
        const std::string name = metric::layer_figure(g);
        header(s, name.c_str(), "gauge", std::string(g.help).c_str());
        for (const auto& [labels, tokens, f] : figs)
            sample(s, name.c_str(), labels, g.value({tokens, 0, f}));
    }

    cache_metrics(s, views);
    if (placement) placement_metrics(s, views, agg.num_experts(), *placement);

    auto per_source = [&](const char* name, const char* type, const char* help, auto value) {
        header(s, name, type, help);
        for (const SourceStats* src : sources)
            sample(s, name,
                   "source=\"" + prometheus_label(src->name) + "\",kind=\"" + src->kind + "\"",
                   static_cast<double>(value(*src)));
    };
    per_source(metric::source_bytes, "counter", "Bytes read.",
               [](const SourceStats& x) { return x.bytes; });
    per_source(metric::source_lines, "counter", "Complete lines read.",
               [](const SourceStats& x) { return x.lines; });
    per_source(metric::source_records, "counter", "Routing records counted.",
               [](const SourceStats& x) { return x.records; });
    per_source(metric::source_gate_vectors, "counter", "Gate-input vectors accepted.",
               [](const SourceStats& x) { return x.gate_records; });
    per_source(metric::source_skipped_lines, "counter",
               "Lines that are not records (headers, other log output).",
               [](const SourceStats& x) { return x.skipped_lines; });
    per_source(metric::source_lag_bytes, "gauge",
               "Bytes of a followed file not yet committed (0 for sockets).",
               [](const SourceStats& x) { return x.lag_bytes(); });
    per_source(metric::source_connections, "counter", "Connections accepted (0 for files, stdin).",
               [](const SourceStats& x) { return x.connections; });
    per_source(metric::source_connections_refused, "counter",
               "Connections closed at once: --max-connections were open.",
               [](const SourceStats& x) { return x.connections_refused; });
    per_source(metric::source_open_connections, "gauge", "Connections open now.",
               [](const SourceStats& x) { return x.open_connections; });
    header(s, metric::source_rejects, "counter", "Rejected lines by reason (see docs/INPUTS.md).");
    for (const SourceStats* src : sources)
        for (int r = 0; r < kRejectReasonCount; ++r)
            sample(s, metric::source_rejects,
                   "source=\"" + prometheus_label(src->name) + "\",reason=\"" +
                       std::string(reject_reason_name(static_cast<RejectReason>(r))) + "\"",
                   static_cast<double>(src->rejects[static_cast<size_t>(r)]));
    header(s, metric::source_left_out, "counter",
           "Records the data-quality checks prove wrong, left out of every figure, by check "
           "(docs/FIGURES.md \"Data quality\").");
    for (const SourceStats* src : sources)
        for (const QualityCheck& c : quality_checks())
            if (c.suspect)
                sample(s, metric::source_left_out,
                       "source=\"" + prometheus_label(src->name) + "\",check=\"" +
                           std::string(c.code) + "\"",
                       static_cast<double>(src->excluded(*c.suspect)));
    header(s, metric::experts, "gauge", "Experts per layer (stated, or largest id + 1).");
    s += std::string(metric::experts) + " " + std::to_string(agg.num_experts()) + "\n";
    header(s, metric::series_omitted, "gauge",
           "Tags folded into tag=\"other\", layers and per-expert samples left out of this "
           "exposition by its size limits (docs/GUARANTEES.md).");
    s += std::string(metric::series_omitted) + " " + std::to_string(omitted) + "\n";
    return s;
}

std::string prometheus_last_commit(double unix_seconds) {
    std::string s;
    header(s, metric::last_commit, "gauge",
           "Unix time of the last commit to the database (the daemon's start before the first).");
    s += metric::last_commit;
    s += ' ';
    number(s, unix_seconds);
    s += '\n';
    return s;
}

}  // namespace moe
