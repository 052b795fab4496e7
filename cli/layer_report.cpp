#include "cli/layer_report.hpp"

#include "cli/input_warnings.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "analytics/figures.hpp"
#include "analytics/imbalance.hpp"
#include "cli/cold_report.hpp"
#include "cli/command.hpp"
#include "cli/figure_output.hpp"
#include "cli/short_last_layer.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

constexpr size_t kWidth = 100;  // terminal columns the text fits (issue 12)

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
    // EMA is not kept per time bucket, and engine totals have no record order.
    const bool no_ema = agg.windowed() || l.count_only();
    for (size_t e = 0; e < v.fig.num_experts; ++e) {
        const uint64_t h = e < l.hits.size() ? l.hits[e] : 0;
        const bool has_w = l.weighted_tokens > 0 && e < l.weight_mass.size();
        v.ranked.push_back({static_cast<int32_t>(e), h, S > 0 ? static_cast<double>(h) / S : NAN,
                            no_ema ? NAN : l.ema.value(e), no_ema ? NAN : l.ema.corrected(e),
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

// --layer (checked by the runner to have records), else all layers combined.
const LayerStats& selected_layer(const TagStats& tag, const QueryOptions& q) {
    return q.layer ? *tag.layer(*q.layer) : tag.global;
}

void write_expert_json(JsonWriter& w, const ExpertRow& e) {
    w.begin_object();
    w.field("expert", e.expert).field("hits", e.hits).field("share", e.share);
    w.field("ema", e.ema)
        .field("ema_corrected", e.ema_corrected)
        .field("weight_mass", e.weight_mass);
    w.end_object();
}

// The figures of layer_figures() under their keys, then the experts given.
void write_layer_json(JsonWriter& w, const std::string& tag, const LayerView& v,
                      const std::vector<ExpertRow>& experts) {
    w.begin_object();
    w.field("tag", std::string_view(tag));
    if (v.layer >= 0) w.field("layer", v.layer);
    write_figures_json(w, {*v.stats, v.fig});
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

// Two lines, so the block stays within kWidth columns.
std::string figures_line(const ImbalanceFigures& f) {
    return "  imbalance: gini " + fmt_num::fixed(f.gini, 3) + "  cv " + fmt_num::fixed(f.cv, 3) +
           "  std " + fmt_num::fixed(f.std, 1) + "  entropy " + fmt_num::fixed(f.entropy_bits, 3) +
           " bits (" + fmt_num::fixed(f.entropy_norm, 3) + " of max)\n             max/mean " +
           fmt_num::fixed(f.max_over_mean, 2) + "  max/min " + fmt_num::fixed(f.max_over_min, 2) +
           "  top-5 " + fmt_num::percent(f.top5_share) + "  top-10 " +
           fmt_num::percent(f.top10_share) + "\n";
}

// `note`: a line under the token count (the short last layer, cli/short_last_layer.hpp).
std::string block(const LayerView& v, const std::string& title, size_t top, size_t bottom,
                  const std::string& note = {}) {
    const ImbalanceFigures& f = v.fig;
    std::string s = title + ":\n";
    s += v.stats->tokens_known()
             ? "  Tokens: " + fmt_num::integer(v.stats->tokens) + " (top-" +
                   std::to_string(v.stats->top_k) + ")\n"
             : std::string(v.stats->count_only()
                               ? "  Tokens: - (engine totals without k; --top-k K estimates them)\n"
                               : "  Tokens: - (engine totals mixed with records)\n");
    if (!note.empty()) s += wrap("  Note: ", note, kWidth, "        ");
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

// Cells of the figures that `pick` selects, formatted for `format`.
std::vector<std::string> figure_cells(const LayerView& v, bool brief, OutputFormat format) {
    std::vector<std::string> cells;
    for (const Figure& f : layer_figures())
        if (!brief || f.brief) cells.push_back(format_figure(f, {*v.stats, v.fig}, format));
    return cells;
}

std::vector<std::string> figure_headers(bool brief, bool human) {
    std::vector<std::string> h;
    for (const Figure& f : layer_figures())
        if (!brief || f.brief) h.emplace_back(human ? f.header : f.key);
    return h;
}

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
    const auto short_last = short_last_layer(tag);
    const auto is_short = [&](const LayerView& v) {
        return short_last && v.layer == short_last->layer;
    };
    if (q.brief) {
        std::vector<std::string> h = {"layer"};
        const auto fh = figure_headers(true, true);
        h.insert(h.end(), fh.begin(), fh.end());
        Table t(h);
        for (const auto& v : views) {
            if (q.layer && v.layer != *q.layer) continue;
            auto cells = figure_cells(v, true, q.format);
            cells.insert(cells.begin(), std::to_string(v.layer) + (is_short(v) ? "*" : ""));
            t.add(cells);
        }
        auto g = figure_cells(make_view(agg, -1, tag.global), true, q.format);
        g.insert(g.begin(), "all");
        t.add(g);
        const bool marked = short_last && (!q.layer || *q.layer == short_last->layer);
        return t.render() +
               (marked ? wrap("* ", short_last_layer_text(*short_last), kWidth, "  ") : "");
    }
    s += "Tag '" + tag.name + "': " + std::to_string(views.size()) + " layers, " +
         (tag.global.count_only()
              ? fmt_num::integer(tag.global.selections()) + " selections (engine totals), "
          : tag.global.has_counts()
              ? fmt_num::integer(tag.global.selections()) + " selections (" +
                    fmt_num::integer(tag.global.counted) + " from engine totals), "
              : fmt_num::integer(tag.global.tokens) + " routing records, ") +
         std::to_string(agg.num_experts()) + " experts" +
         (agg.num_experts_stated() ? "" : " (largest id + 1)") + "\n";
    s += std::string(80, '=') + "\n";
    for (const auto& v : views) {
        if (q.layer && v.layer != *q.layer) continue;
        s += "\n" + block(v, "Layer " + std::to_string(v.layer), q.top, q.bottom,
                          is_short(v) ? short_last_layer_text(*short_last) : "");
    }
    if (!q.layer) {
        s += "\n" + std::string(80, '=') + "\n\n";
        s += block(make_view(agg, -1, tag.global), "Global statistics (all layers combined)", q.top,
                   q.bottom);
    }
    return s;
}

std::string layers_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    std::vector<std::string> h = {"tag", "layer"};
    const auto fh = figure_headers(false, false);
    h.insert(h.end(), fh.begin(), fh.end());
    Table t(h);
    auto row = [&](const LayerView& v, const std::string& layer) {
        auto cells = figure_cells(v, false, OutputFormat::csv);
        cells.insert(cells.begin(), {tag.name, layer});
        t.add(cells);
    };
    for (const auto& v : views_of(agg, tag))
        if (!q.layer || v.layer == *q.layer) row(v, std::to_string(v.layer));
    if (!q.layer) row(make_view(agg, -1, tag.global), "all");
    return t.csv();
}

// One tidy table for spreadsheets: a row per (layer, expert), experts in id order, then the
// same for all layers combined (layer "all"); the layer's figures repeated on each of its rows.
std::string layer_experts_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    std::vector<std::string> h = {"tag",   "layer", "expert",        "hits",
                                  "share", "ema",   "ema_corrected", "weight_mass"};
    const auto fh = figure_headers(false, false);
    h.insert(h.end(), fh.begin(), fh.end());
    Table t(h);
    auto rows = [&](const LayerView& v, const std::string& layer) {
        const auto figures = figure_cells(v, false, OutputFormat::csv);
        auto by_id = v.ranked;
        std::sort(by_id.begin(), by_id.end(),
                  [](const ExpertRow& a, const ExpertRow& b) { return a.expert < b.expert; });
        for (const auto& e : by_id) {
            std::vector<std::string> cells = {tag.name,
                                              layer,
                                              std::to_string(e.expert),
                                              std::to_string(e.hits),
                                              fmt_num::csv(e.share),
                                              fmt_num::csv(e.ema),
                                              fmt_num::csv(e.ema_corrected),
                                              fmt_num::csv(e.weight_mass)};
            cells.insert(cells.end(), figures.begin(), figures.end());
            t.add(cells);
        }
    };
    for (const auto& v : views_of(agg, tag))
        if (!q.layer || v.layer == *q.layer) rows(v, std::to_string(v.layer));
    if (!q.layer) rows(make_view(agg, -1, tag.global), "all");
    return t.csv();
}

void write_experts_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                        const QueryOptions& q) {
    const LayerStats& l = selected_layer(tag, q);
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
// One unit per column, named in the header: the text shows shares in percent (share,
// bias-corrected EMA, raw EMA), CSV shows the same as fractions with tag and layer per row.
Table experts_table(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const bool csv = q.format == OutputFormat::csv;
    const LayerStats& l = selected_layer(tag, q);
    const LayerView v = make_view(agg, q.layer.value_or(-1), l);
    Table t(csv ? std::vector<std::string>{"tag", "layer", "rank", "expert", "hits", "share",
                                           "ema_corrected", "ema", "weight_mass"}
                : std::vector<std::string>{"rank", "expert", "hits", "share %", "EMA %",
                                           "raw EMA %", "weight mass"});
    const auto pct = [&](double f) {
        return csv ? fmt_num::csv(f) : std::isnan(f) ? "-" : fmt_num::fixed(f * 100.0, 2);
    };
    const auto rows = top_and_bottom(v, q.top, q.bottom);
    for (const auto& e : rows) {
        const auto rank = std::find_if(v.ranked.begin(), v.ranked.end(),
                                       [&](const ExpertRow& r) { return r.expert == e.expert; }) -
                          v.ranked.begin() + 1;
        std::vector<std::string> row = {
            std::to_string(rank),
            std::to_string(e.expert),
            fmt_num::integer(e.hits),
            pct(e.share),
            pct(e.ema_corrected),
            pct(e.ema),
            csv ? fmt_num::csv(e.weight_mass) : fmt_num::fixed(e.weight_mass, 3)};
        if (csv) row.insert(row.begin(), {tag.name, q.layer ? std::to_string(*q.layer) : "all"});
        t.add(row);
    }
    return t;
}
}  // namespace

std::string experts_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const LayerStats& l = selected_layer(tag, q);
    const ImbalanceFigures f = make_view(agg, q.layer.value_or(-1), l).fig;
    std::string s =
        (q.layer ? "Layer " + std::to_string(*q.layer) : std::string("All layers combined")) +
        " (tag '" + tag.name +
        "'): " + (l.tokens_known() ? fmt_num::integer(l.tokens) + " tokens, " : std::string()) +
        fmt_num::integer(f.selections) + " selections" +
        (l.count_only() ? " (engine totals)" : std::string()) + ", " +
        std::to_string(f.unique_experts) + "/" + std::to_string(f.num_experts) + " experts used\n";
    s += figures_line(f) + "\n";
    return s + experts_table(agg, tag, q).render();
}

std::string experts_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    return experts_table(agg, tag, q).csv();
}

extern const CommandSpec kLayersCommand = {
    "layers",
    "Per-layer hits and imbalance figures, then all layers combined",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Only this layer");
        flag::brief(app, a);
        flag::top(app, a, 10, "Experts listed as most frequent");
        flag::bottom(app, a, 5, "Experts listed as least frequent");
    },
    kNeedsLayer,
    [](JsonWriter& w, const Query& x) {
        write_warnings_json(w, x.sources);
        write_layers_json(w, x.agg, x.tag(), x.q);
    },
    [](const Query& x) { return layers_csv(x.agg, x.tag(), x.q); },
    [](const Query& x) { return warnings_text(x.sources) + layers_text(x.agg, x.tag(), x.q); },
};

namespace {
// The experts command's own option: --cold SHARE lists the cold experts instead.
struct ExpertsArgs final : CommandOptions {
    double cold_share = NAN;
    bool cold() const { return !std::isnan(cold_share); }
};
}  // namespace

extern const CommandSpec kExpertsCommand = {
    "experts",
    "Experts of one layer (or all layers combined), ranked by hits",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<ExpertsArgs>();
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: all layers combined)");
        flag::top(app, a, 10, "Busiest experts to list");
        flag::bottom(app, a, 5, "Least busy experts to list");
        app.add_option("--cold", own.cold_share,
                       "Instead: every (layer, expert) below this share of its layer's "
                       "selections (e.g. 0.001), with the tag that uses it most");
    },
    kNeedsLayer,
    [](JsonWriter& w, const Query& x) {
        const auto& own = x.own<ExpertsArgs>();
        if (own.cold()) return cold_json(w, x, own.cold_share);
        write_experts_json(w, x.agg, x.tag(), x.q);
    },
    [](const Query& x) {
        const auto& own = x.own<ExpertsArgs>();
        return own.cold() ? cold_csv(x, own.cold_share) : experts_csv(x.agg, x.tag(), x.q);
    },
    [](const Query& x) {
        const auto& own = x.own<ExpertsArgs>();
        return own.cold() ? cold_text(x, own.cold_share) : experts_text(x.agg, x.tag(), x.q);
    },
};

}  // namespace moe
