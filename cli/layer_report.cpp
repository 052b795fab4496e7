#include "cli/layer_report.hpp"

#include <algorithm>
#include <stdexcept>

#include "analytics/imbalance.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

struct ExpertRow {
    int32_t expert;
    uint64_t hits;
    double share;
    double ema;
    double ema_corrected;
    double weight_mass;  // NaN when the records carried no weights
};

struct LayerView {
    int32_t layer;  // -1: all layers combined
    const LayerStats* stats;
    ImbalanceFigures fig;
    std::vector<ExpertRow> ranked;  // by hits descending, then id
};

LayerView make_view(const Aggregates& agg, int32_t layer, const LayerStats& l) {
    LayerView v{layer, &l, {}, {}};
    v.fig = compute_imbalance(l.hits, agg.num_experts());
    const double S = static_cast<double>(v.fig.selections);
    const bool windowed = agg.windowed();  // EMA is not kept per time bucket
    for (size_t e = 0; e < v.fig.num_experts; ++e) {
        const uint64_t h = e < l.hits.size() ? l.hits[e] : 0;
        const bool has_w = l.weighted_tokens > 0 && e < l.weight_mass.size();
        v.ranked.push_back({static_cast<int32_t>(e), h, S > 0 ? static_cast<double>(h) / S : NAN,
                            windowed ? NAN : l.ema.value(e), windowed ? NAN : l.ema.corrected(e),
                            has_w ? l.weight_mass[e] : NAN});
    }
    std::stable_sort(v.ranked.begin(), v.ranked.end(),
                     [](const ExpertRow& a, const ExpertRow& b) { return a.hits > b.hits; });
    return v;
}

std::vector<LayerView> views_of(const Aggregates& agg, const TagStats& tag) {
    std::vector<LayerView> out;
    for (int32_t id : tag.layer_ids())
        out.push_back(make_view(agg, id, *tag.layer(id)));
    return out;
}

const LayerStats& layer_or_throw(const TagStats& tag, const QueryOptions& q) {
    if (!q.layer) return tag.global;
    const LayerStats* l = tag.layer(*q.layer);
    if (!l || l->tokens == 0)
        throw std::invalid_argument("no records for layer " + std::to_string(*q.layer) +
                                    " in tag '" + tag.name + "'");
    return *l;
}

void write_expert_json(JsonWriter& w, const ExpertRow& e) {
    w.begin_object();
    w.field("expert", e.expert).field("hits", e.hits).field("share", e.share);
    w.field("ema", e.ema)
        .field("ema_corrected", e.ema_corrected)
        .field("weight_mass", e.weight_mass);
    w.end_object();
}

// The keys of DESIGN.md's "layers" objects; `experts` is the list given.
void write_layer_json(JsonWriter& w, const std::string& tag, const LayerView& v,
                      const std::vector<ExpertRow>& experts) {
    const ImbalanceFigures& f = v.fig;
    w.begin_object();
    w.field("tag", std::string_view(tag));
    if (v.layer >= 0) w.field("layer", v.layer);
    w.field("tokens", v.stats->tokens).field("selections", f.selections);
    w.field("num_experts", f.num_experts).field("top_k", v.stats->top_k);
    w.field("unique_experts", f.unique_experts).field("dead_experts", f.dead_experts);
    w.field("mean", f.mean).field("median", f.median).field("min", f.min).field("max", f.max);
    w.field("min_expert", f.argmin).field("max_expert", f.argmax);
    w.field("std", f.std).field("cv", f.cv).field("gini", f.gini);
    w.field("entropy_bits", f.entropy_bits).field("entropy_norm", f.entropy_norm);
    w.field("top5_share", f.top5_share).field("top10_share", f.top10_share);
    w.field("max_over_mean", f.max_over_mean).field("mean_over_max", f.mean_over_max);
    w.field("max_over_min", f.max_over_min);
    w.key("experts").begin_array();
    for (const auto& e : experts)
        write_expert_json(w, e);
    w.end_array();
    w.end_object();
}

std::vector<ExpertRow> top_and_bottom(const LayerView& v, size_t top, size_t bottom) {
    const size_t n = v.ranked.size();
    if (top + bottom >= n) return v.ranked;
    std::vector<ExpertRow> out(v.ranked.begin(), v.ranked.begin() + static_cast<ptrdiff_t>(top));
    out.insert(out.end(), v.ranked.end() - static_cast<ptrdiff_t>(bottom), v.ranked.end());
    return out;
}

std::string expert_line(const ExpertRow& e) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "    Expert %3d: %5llu selections (%5.2f%%)\n", e.expert,
                  static_cast<unsigned long long>(e.hits), e.share * 100.0);
    return buf;
}

std::string figures_line(const ImbalanceFigures& f) {
    return "  imbalance: gini " + fmt_num::fixed(f.gini, 3) + "  cv " + fmt_num::fixed(f.cv, 3) +
           "  std " + fmt_num::fixed(f.std, 1) + "  entropy " + fmt_num::fixed(f.entropy_bits, 3) +
           " bits (" + fmt_num::fixed(f.entropy_norm, 3) + " of max)  max/mean " +
           fmt_num::fixed(f.max_over_mean, 2) + "  max/min " + fmt_num::fixed(f.max_over_min, 2) +
           "  top-5 " + fmt_num::percent(f.top5_share) + "  top-10 " +
           fmt_num::percent(f.top10_share) + "\n";
}

std::string block(const LayerView& v, const std::string& title, size_t top, size_t bottom) {
    const ImbalanceFigures& f = v.fig;
    std::string s = title + ":\n";
    s += "  Tokens: " + fmt_num::integer(v.stats->tokens) + " (top-" +
         std::to_string(v.stats->top_k) + ")\n";
    s += "  Total expert selections: " + fmt_num::integer(f.selections) + "\n";
    s += "  Unique experts used: " + std::to_string(f.unique_experts) + " of " +
         std::to_string(f.num_experts) + " (" + std::to_string(f.dead_experts) + " dead)\n";
    s += "  load: mean " + fmt_num::fixed(f.mean, 1) + "  median " + fmt_num::fixed(f.median, 1) +
         "  min " + fmt_num::integer(f.min) + " (expert " + std::to_string(f.argmin) + ")  max " +
         fmt_num::integer(f.max) + " (expert " + std::to_string(f.argmax) + ")\n";
    s += figures_line(f);
    s += "  Top " + std::to_string(std::min(top, v.ranked.size())) + " most frequent experts:\n";
    for (size_t i = 0; i < std::min(top, v.ranked.size()); ++i)
        s += expert_line(v.ranked[i]);
    const size_t b = std::min(bottom, v.ranked.size());
    s += "  Bottom " + std::to_string(b) + " least frequent experts:\n";
    for (size_t i = v.ranked.size() - b; i < v.ranked.size(); ++i)
        s += expert_line(v.ranked[i]);
    return s;
}

std::vector<std::string> figure_cells(const LayerView& v) {
    const ImbalanceFigures& f = v.fig;
    return {fmt_num::integer(v.stats->tokens),
            fmt_num::integer(f.selections),
            std::to_string(v.stats->top_k),
            std::to_string(f.unique_experts),
            std::to_string(f.dead_experts),
            fmt_num::sig(f.gini, 4),
            fmt_num::sig(f.cv, 4),
            fmt_num::sig(f.entropy_bits, 5),
            fmt_num::sig(f.entropy_norm, 4),
            fmt_num::sig(f.max_over_mean, 4),
            fmt_num::sig(f.max_over_min, 4),
            fmt_num::sig(f.top5_share, 4),
            fmt_num::sig(f.top10_share, 4),
            std::to_string(f.argmax),
            fmt_num::integer(f.max)};
}

const std::vector<std::string> kFigureHeaders = {
    "tokens",       "selections", "top_k",        "unique",       "dead",
    "gini",         "cv",         "entropy_bits", "entropy_norm", "max_over_mean",
    "max_over_min", "top5_share", "top10_share",  "max_expert",   "max_hits"};

}  // namespace

void write_layers_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                       const QueryOptions& q) {
    w.key("layers").begin_array();
    for (const auto& v : views_of(agg, tag)) {
        if (q.layer && v.layer != *q.layer) continue;
        write_layer_json(w, tag.name, v, v.ranked);
    }
    w.end_array();
    w.key("global");
    const LayerView g = make_view(agg, -1, tag.global);
    write_layer_json(w, tag.name, g, g.ranked);
}

std::string layers_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const auto views = views_of(agg, tag);
    if (views.empty()) return "No routing records for tag '" + tag.name + "'.\n";
    std::string s;
    if (q.brief) {
        std::vector<std::string> h = {"layer"};
        h.insert(h.end(), kFigureHeaders.begin(), kFigureHeaders.end());
        Table t(h);
        for (const auto& v : views) {
            if (q.layer && v.layer != *q.layer) continue;
            auto cells = figure_cells(v);
            cells.insert(cells.begin(), std::to_string(v.layer));
            t.add(cells);
        }
        auto g = figure_cells(make_view(agg, -1, tag.global));
        g.insert(g.begin(), "all");
        t.add(g);
        return t.render();
    }
    s += "Tag '" + tag.name + "': " + std::to_string(views.size()) + " layers, " +
         fmt_num::integer(tag.global.tokens) + " routing records, " +
         std::to_string(agg.num_experts()) + " experts" +
         (agg.num_experts_stated() ? "" : " (largest id + 1)") + "\n";
    s += std::string(80, '=') + "\n";
    for (const auto& v : views) {
        if (q.layer && v.layer != *q.layer) continue;
        s += "\n" + block(v, "Layer " + std::to_string(v.layer), q.top, q.bottom);
    }
    if (!q.layer) {
        s += "\n" + std::string(80, '=') + "\n\n";
        s += block(make_view(agg, -1, tag.global), "Global statistics (all layers combined)", q.top,
                   q.bottom);
    }
    return s;
}

std::string layers_csv(const Aggregates& agg, const TagStats& tag) {
    std::vector<std::string> h = {"tag", "layer"};
    h.insert(h.end(), kFigureHeaders.begin(), kFigureHeaders.end());
    Table t(h);
    auto row = [&](const LayerView& v, const std::string& layer) {
        auto cells = figure_cells(v);
        cells.insert(cells.begin(), {tag.name, layer});
        t.add(cells);
    };
    for (const auto& v : views_of(agg, tag))
        row(v, std::to_string(v.layer));
    row(make_view(agg, -1, tag.global), "all");
    return t.csv();
}

void write_experts_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                        const QueryOptions& q) {
    const LayerStats& l = layer_or_throw(tag, q);
    const LayerView v = make_view(agg, q.layer.value_or(-1), l);
    if (q.layer) {
        w.key("layers").begin_array();
        write_layer_json(w, tag.name, v, top_and_bottom(v, q.top, q.bottom));
        w.end_array();
    } else {
        w.key("global");
        write_layer_json(w, tag.name, v, top_and_bottom(v, q.top, q.bottom));
    }
}

namespace {
Table experts_table(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const LayerStats& l = layer_or_throw(tag, q);
    const LayerView v = make_view(agg, q.layer.value_or(-1), l);
    Table t({"rank", "expert", "hits", "share", "ema", "ema_corrected", "weight_mass"});
    const auto rows = top_and_bottom(v, q.top, q.bottom);
    for (const auto& e : rows) {
        const auto rank = std::find_if(v.ranked.begin(), v.ranked.end(),
                                       [&](const ExpertRow& r) { return r.expert == e.expert; }) -
                          v.ranked.begin() + 1;
        t.add({std::to_string(rank), std::to_string(e.expert), fmt_num::integer(e.hits),
               q.format == OutputFormat::csv ? fmt_num::sig(e.share, 6) : fmt_num::percent(e.share),
               fmt_num::sig(e.ema, 4),
               q.format == OutputFormat::csv ? fmt_num::sig(e.ema_corrected, 6)
                                             : fmt_num::percent(e.ema_corrected),
               fmt_num::sig(e.weight_mass, 6)});
    }
    return t;
}
}  // namespace

std::string experts_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const LayerStats& l = layer_or_throw(tag, q);
    const ImbalanceFigures f = make_view(agg, q.layer.value_or(-1), l).fig;
    std::string s =
        (q.layer ? "Layer " + std::to_string(*q.layer) : std::string("All layers combined")) +
        " (tag '" + tag.name + "'): " + fmt_num::integer(l.tokens) + " tokens, " +
        fmt_num::integer(f.selections) + " selections, " + std::to_string(f.unique_experts) + "/" +
        std::to_string(f.num_experts) + " experts used\n";
    s += figures_line(f) + "\n";
    return s + experts_table(agg, tag, q).render();
}

std::string experts_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    return experts_table(agg, tag, q).csv();
}

}  // namespace moe
