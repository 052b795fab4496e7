// `moescope matrix`: the layer x expert hit counts, for spreadsheets and dataframes. CSV is
// the tidy long form (tag, layer, expert, hits, share) or, with --wide, one row per layer
// and one column per expert.
#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

std::vector<int32_t> selected_layers(const TagStats& t, const QueryOptions& q) {
    if (q.layer) return {*q.layer};  // the runner checked that it has records
    return t.layer_ids();
}

uint64_t hits_at(const LayerStats& l, size_t e) {
    return e < l.hits.size() ? l.hits[e] : 0;
}

Table wide_table(const Aggregates& agg, const TagStats& t, const QueryOptions& q, bool csv) {
    std::vector<std::string> h = {"layer"};
    if (csv) h.insert(h.begin(), "tag");
    for (size_t e = 0; e < agg.num_experts(); ++e)
        h.push_back(std::to_string(e));
    Table table(h);
    for (int32_t id : selected_layers(t, q)) {
        std::vector<std::string> row = {std::to_string(id)};
        if (csv) row.insert(row.begin(), t.name);
        for (size_t e = 0; e < agg.num_experts(); ++e)
            row.push_back(fmt_num::integer(hits_at(*t.layer(id), e)));
        table.add(row);
    }
    return table;
}

// The matrix command's own option: --wide CSV.
struct MatrixArgs final : CommandOptions {
    bool wide = false;
};

std::string matrix_csv(const Aggregates& agg, const TagStats& t, const QueryOptions& q, bool wide) {
    if (wide) return wide_table(agg, t, q, true).csv();
    Table table({"tag", "layer", "expert", "hits", "share"});
    for (int32_t id : selected_layers(t, q)) {
        const LayerStats& l = *t.layer(id);
        const double S = static_cast<double>(l.selections());
        for (size_t e = 0; e < agg.num_experts(); ++e)
            table.add({t.name, std::to_string(id), std::to_string(e),
                       fmt_num::integer(hits_at(l, e)),
                       fmt_num::csv(S > 0 ? static_cast<double>(hits_at(l, e)) / S : NAN)});
    }
    return table.csv();
}

void matrix_json(JsonWriter& w, const Query& x) {
    const TagStats& t = x.tag();
    w.key("matrix").begin_array();
    for (int32_t id : selected_layers(t, x.q)) {
        w.begin_object().field("tag", std::string_view(t.name)).field("layer", id);
        w.key("hits").begin_array();
        for (size_t e = 0; e < x.agg.num_experts(); ++e)
            w.value(hits_at(*t.layer(id), e));
        w.end_array().end_object();
    }
    w.end_array();
}

std::string matrix_text(const Query& x) {
    const TagStats& t = x.tag();
    if (t.layer_ids().empty()) return "No routing records for tag '" + t.name + "'.\n";
    return "Hits per layer (rows) and expert (columns), tag '" + t.name + "':\n" +
           wide_table(x.agg, t, x.q, false).render();
}

}  // namespace

extern const CommandSpec kMatrixCommand = {
    "matrix",
    "Layer x expert hit counts (CSV: long form, or --wide)",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<MatrixArgs>();
        flag::query(app, a);
        flag::layer(app, a, "Only this layer");
        app.add_flag("--wide", own.wide, "One row per layer, one column per expert");
    },
    kNeedsLayer,
    matrix_json,
    [](const Query& x) { return matrix_csv(x.agg, x.tag(), x.q, x.own<MatrixArgs>().wide); },
    matrix_text,
};

}  // namespace moe
