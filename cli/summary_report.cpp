#include "cli/summary_report.hpp"

#include <algorithm>
#include <cmath>

#include "analytics/imbalance.hpp"
#include "cli/command.hpp"
#include "cli/quality_report.hpp"
#include "cli/short_last_layer.hpp"
#include "cli/source_report.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

// Joins the words of one list item ("L1/E8 (2.58x)") so that wrap() breaks between items.
constexpr char kKeep = '\x1f';

// docs/FIGURES.md "Summary": an expert is hot at >= 2x its layer's mean hits, cold below a
// tenth of it (but selected), dead when never selected.
constexpr double kHotFactor = 2.0;
constexpr double kColdFactor = 0.1;
constexpr size_t kListed = 5;      // layers / experts named per line
constexpr size_t kMaxWidth = 100;  // columns of the text form

struct ExpertRef {
    int32_t layer;
    int32_t expert;
    double load;  // hits / mean hits of its layer
};

struct LayerRef {
    int32_t layer;
    ImbalanceFigures fig;
};

struct Summary {
    size_t layers = 0;
    uint64_t tokens = 0;
    uint32_t experts = 0;
    uint32_t top_k = 0;
    std::vector<LayerRef> by_gini;  // ascending: most balanced first
    std::vector<ExpertRef> dead, cold, hot;
    std::vector<std::pair<std::string, std::string>> warnings;  // code, text
    std::vector<QualityFinding> quality;
};

Summary summarize(const Aggregates& agg, const TagStats& t,
                  const std::vector<SourceStats>& sources) {
    Summary s;
    const size_t E = agg.num_experts();
    s.experts = static_cast<uint32_t>(E);
    s.tokens = t.global.tokens;
    // A short last layer's Gini is not comparable (the warning below says so): it is not
    // named as most or least balanced (docs/FIGURES.md "Short last layer").
    const auto short_last = short_last_layer(t);
    for (int32_t id : t.layer_ids()) {
        const LayerStats& l = *t.layer(id);
        const ImbalanceFigures f = compute_imbalance(l.hits, E);
        ++s.layers;
        s.top_k = std::max(s.top_k, l.top_k);
        if (!short_last || short_last->layer != id) s.by_gini.push_back({id, f});
        for (size_t e = 0; e < E; ++e) {
            const uint64_t h = e < l.hits.size() ? l.hits[e] : 0;
            const double load = f.mean > 0 ? static_cast<double>(h) / f.mean : NAN;
            const ExpertRef r{id, static_cast<int32_t>(e), load};
            if (h == 0)
                s.dead.push_back(r);
            else if (load < kColdFactor)
                s.cold.push_back(r);
            else if (load >= kHotFactor)
                s.hot.push_back(r);
        }
    }
    std::stable_sort(s.by_gini.begin(), s.by_gini.end(),
                     [](const LayerRef& a, const LayerRef& b) { return a.fig.gini < b.fig.gini; });
    std::stable_sort(s.hot.begin(), s.hot.end(),
                     [](const ExpertRef& a, const ExpertRef& b) { return a.load > b.load; });
    std::stable_sort(s.cold.begin(), s.cold.end(),
                     [](const ExpertRef& a, const ExpertRef& b) { return a.load < b.load; });

    // docs/FIGURES.md "Data quality": what was left out is the quality line; a defect still
    // counted and every note are warnings.
    s.quality = quality_findings(agg, sources, t);
    for (const QualityFinding& f : s.quality)
        if (f.found && (!f.check->suspect || f.remains))
            s.warnings.emplace_back(std::string(f.check->code),
                                    f.check->suspect ? remaining_text(f) : f.text);
    return s;
}

// Layers named at each end: at most half of them, so the two lists never overlap.
size_t layers_listed(const std::vector<LayerRef>& v) {
    if (v.size() < 2) return v.size();
    return std::min(kListed, v.size() / 2);
}

std::string layer_list(const std::vector<LayerRef>& v, bool reversed) {
    std::string s;
    for (size_t i = 0; i < layers_listed(v); ++i) {
        const LayerRef& l = reversed ? v[v.size() - 1 - i] : v[i];
        s += (i ? ", " : "") + std::to_string(l.layer) + kKeep + "(Gini" + kKeep +
             fmt_num::fixed(l.fig.gini, 3) + ")";
    }
    return s;
}

std::string expert_list(const std::vector<ExpertRef>& v, bool with_load) {
    std::string s;
    for (size_t i = 0; i < std::min(kListed, v.size()); ++i) {
        s += (i ? ", " : "") + std::string("L") + std::to_string(v[i].layer) + "/E" +
             std::to_string(v[i].expert);
        // Below 1 three decimals, cut toward zero: a cold 0.0995 reads 0.099x, never the
        // 0.10x that the "<0.1x" heading above it excludes.
        if (with_load)
            s += kKeep + std::string("(") +
                 (v[i].load < 1 ? fmt_num::fixed(std::floor(v[i].load * 1000) / 1000, 3)
                                : fmt_num::fixed(v[i].load, 2)) +
                 "x)";
    }
    if (v.size() > kListed) s += ", ...";
    return s;
}

// "label  text", the text wrapped at kMaxWidth under itself, between list items only (a
// kKeep joins the words of one item).
std::string line(const std::string& label, const std::string& text) {
    constexpr size_t kLabel = 16;
    const std::string first = label + std::string(kLabel - std::min(kLabel - 1, label.size()), ' ');
    std::string out = wrap(first, text, kMaxWidth, std::string(kLabel, ' '));
    std::replace(out.begin(), out.end(), kKeep, ' ');
    return out;
}

void write_experts(JsonWriter& w, std::string_view key, const std::vector<ExpertRef>& v) {
    w.key(key).begin_array();
    for (const auto& e : v) {
        w.begin_object().field("layer", e.layer).field("expert", e.expert);
        w.field("load", e.load).end_object();
    }
    w.end_array();
}

void write_layer_refs(JsonWriter& w, std::string_view key, const std::vector<LayerRef>& v,
                      bool reversed) {
    w.key(key).begin_array();
    for (size_t i = 0; i < layers_listed(v); ++i) {
        const LayerRef& l = reversed ? v[v.size() - 1 - i] : v[i];
        w.begin_object().field("layer", l.layer).field("gini", l.fig.gini);
        w.field("max_over_mean", l.fig.max_over_mean).end_object();
    }
    w.end_array();
}

}  // namespace

void write_summary_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                        const std::vector<SourceStats>& sources) {
    const Summary s = summarize(agg, tag, sources);
    w.key("summary").begin_object();
    w.field("tag", std::string_view(tag.name)).field("layers", static_cast<uint64_t>(s.layers));
    // Engine totals without k have selections, not tokens; an unknown k is null, never 0.
    const double unknown = NAN;
    w.field("tokens", tag.global.tokens_known() ? static_cast<double>(s.tokens) : unknown)
        .field("num_experts", s.experts)
        .field("top_k", s.top_k ? static_cast<double>(s.top_k) : unknown);
    w.field("count_only", tag.global.count_only()).field("selections", tag.global.selections());
    w.field("hot_factor", kHotFactor).field("cold_factor", kColdFactor);
    write_layer_refs(w, "most_balanced", s.by_gini, false);
    write_layer_refs(w, "least_balanced", s.by_gini, true);
    write_experts(w, "dead", s.dead);
    write_experts(w, "cold", s.cold);
    write_experts(w, "hot", s.hot);
    w.key("warnings").begin_array();
    for (const auto& [code, text] : s.warnings)
        w.begin_object()
            .field("code", std::string_view(code))
            .field("text", std::string_view(text))
            .end_object();
    w.end_array();
    w.end_object();
}

std::string summary_text(const Aggregates& agg, const TagStats& tag,
                         const std::vector<SourceStats>& sources) {
    const Summary s = summarize(agg, tag, sources);
    if (s.layers == 0) return "Summary (tag '" + tag.name + "'): no routing records.\n";
    const size_t slots = s.layers * s.experts;
    auto count = [&](const std::vector<ExpertRef>& v) {
        return fmt_num::integer(v.size()) + " of " + fmt_num::integer(slots) + " (layer, expert)";
    };
    // Engine totals have no records to count, and k only when stated (docs/FIGURES.md).
    const LayerStats& g = tag.global;
    const std::string what =
        g.count_only() ? (s.top_k ? "top-" + std::to_string(s.top_k) + ", " : std::string()) +
                             fmt_num::integer(g.counted) + " selections (engine totals, count-only)"
        : g.has_counts()
            ? "top-" + std::to_string(s.top_k) + ", " + fmt_num::integer(g.selections()) +
                  " selections, " + fmt_num::integer(g.counted) +
                  " of them engine totals (mixed: tokens unknown)"
            : "top-" + std::to_string(s.top_k) + ", " + fmt_num::integer(s.tokens) +
                  " routing records";
    std::string out = "Summary (tag '" + tag.name + "'): " + std::to_string(s.layers) +
                      " layers x " + std::to_string(s.experts) + " experts, " + what + "\n";
    out += line("most balanced", layer_list(s.by_gini, false));
    out += line("least balanced", layer_list(s.by_gini, true));
    out += line("dead experts",
                count(s.dead) + (s.dead.empty() ? "" : ": " + expert_list(s.dead, false)));
    out += line("cold (<0.1x)",
                count(s.cold) + (s.cold.empty() ? "" : ": " + expert_list(s.cold, true)));
    out += line("hot (>=2x mean)",
                count(s.hot) + (s.hot.empty() ? "" : ": " + expert_list(s.hot, true)));
    out += line("quality", quality_line(s.quality));
    if (s.warnings.empty()) out += line("warnings", "none");
    for (const auto& [code, text] : s.warnings)
        out += line("warning", text);
    return out;
}

// One row per dead, cold or hot (layer, expert).
std::string summary_csv(const Aggregates& agg, const TagStats& tag,
                        const std::vector<SourceStats>& sources) {
    const Summary s = summarize(agg, tag, sources);
    Table t({"tag", "layer", "expert", "status", "load"});
    for (const auto& [name, v] : {std::pair{"dead", &s.dead}, {"cold", &s.cold}, {"hot", &s.hot}})
        for (const auto& e : *v)
            t.add({tag.name, std::to_string(e.layer), std::to_string(e.expert), name,
                   fmt_num::csv(e.load)});
    return t.csv();
}

extern const CommandSpec kSummaryCommand = {
    "summary",
    "One screen: most and least balanced layers, dead, cold and hot experts, warnings",
    [](CLI::App& app, CommandArgs& a) { flag::query(app, a); },
    kNeedsNothing,
    [](JsonWriter& w, const Query& x) { write_summary_json(w, x.agg, x.tag(), x.sources); },
    [](const Query& x) { return summary_csv(x.agg, x.tag(), x.sources); },
    [](const Query& x) { return summary_text(x.agg, x.tag(), x.sources); },
};

}  // namespace moe
