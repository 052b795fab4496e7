// `moescope matrix`: the layer x expert hit counts, for spreadsheets and dataframes. CSV is
// the tidy long form (tag, layer, expert, hits, share) or, with --wide, one row per layer
// and one column per expert; without --tag, a block per input tag.
#include <algorithm>
#include <cmath>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

std::vector<int32_t> selected_layers(const TagStats& t, const QueryOptions& q) {
    if (q.layer) return t.layer(*q.layer) ? std::vector<int32_t>{*q.layer} : std::vector<int32_t>{};
    return t.layer_ids();
}

uint64_t hits_at(const LayerStats& l, size_t e) {
    return e < l.hits.size() ? l.hits[e] : 0;
}

// The hits of one tag's selected layers, padded to E experts.
struct Block {
    std::string tag;
    std::vector<std::pair<int32_t, std::vector<uint64_t>>> layers;
};

Block block_of(const TagStats& t, const QueryOptions& q, size_t E) {
    Block b{t.name, {}};
    for (int32_t id : selected_layers(t, q)) {
        std::vector<uint64_t> h(E);
        for (size_t e = 0; e < E; ++e)
            h[e] = hits_at(*t.layer(id), e);
        b.layers.emplace_back(id, std::move(h));
    }
    return b;
}

// What the CSV holds: --tag's counts; without --tag, when inputs carry tags (FILE=TAG), each
// tag's and the untagged rest's (an empty tag cell), so that a dataframe keeps the inputs
// apart instead of one 'all' (issue 31).
std::vector<Block> csv_blocks(const Aggregates& agg, const TagStats& t, const QueryOptions& q,
                              bool tag_given) {
    const size_t E = agg.num_experts();
    if (tag_given || agg.tag_count() < 2) return {block_of(t, q, E)};
    std::vector<Block> out;
    Block rest = block_of(t, q, E);
    rest.tag.clear();
    for (TagId id = 1; id < agg.tag_count(); ++id) {
        out.push_back(block_of(agg.tag(id), q, E));
        for (const auto& [layer, hits] : out.back().layers)
            for (auto& [l, h] : rest.layers)
                if (l == layer)
                    for (size_t e = 0; e < E; ++e)
                        h[e] -= hits[e];
    }
    std::erase_if(rest.layers, [](const auto& lh) {
        return std::all_of(lh.second.begin(), lh.second.end(), [](uint64_t h) { return h == 0; });
    });
    if (!rest.layers.empty()) out.push_back(std::move(rest));
    return out;
}

Table wide_table(const std::vector<Block>& blocks, size_t E) {
    std::vector<std::string> h = {"tag", "layer"};
    for (size_t e = 0; e < E; ++e)
        h.push_back(std::to_string(e));
    Table table(h);
    for (const Block& b : blocks)
        for (const auto& [id, hits] : b.layers) {
            std::vector<std::string> row = {b.tag, std::to_string(id)};
            for (uint64_t x : hits)
                row.push_back(fmt_num::integer(x));
            table.add(row);
        }
    return table;
}

// The matrix command's own option: --wide CSV; and whether --tag was given (--tag all
// asks for 'all', no --tag for each input's tag).
struct MatrixArgs final : CommandOptions {
    bool wide = false;
    const CLI::Option* tag = nullptr;
    bool tag_given() const { return tag && tag->count() > 0; }
};

std::string matrix_csv(const Aggregates& agg, const TagStats& t, const QueryOptions& q,
                       const MatrixArgs& own) {
    const std::vector<Block> blocks = csv_blocks(agg, t, q, own.tag_given());
    if (own.wide) return wide_table(blocks, agg.num_experts()).csv();
    Table table({"tag", "layer", "expert", "hits", "share"});
    for (const Block& b : blocks)
        for (const auto& [id, hits] : b.layers) {
            uint64_t S = 0;
            for (uint64_t x : hits)
                S += x;
            for (size_t e = 0; e < hits.size(); ++e)
                table.add(
                    {b.tag, std::to_string(id), std::to_string(e), fmt_num::integer(hits[e]),
                     fmt_num::csv(S > 0 ? static_cast<double>(hits[e]) / static_cast<double>(S)
                                        : NAN)});
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

// The text matrix in slices of experts that fit 100 columns (32 experts took 160).
std::string matrix_text(const Query& x) {
    const TagStats& t = x.tag();
    if (t.layer_ids().empty()) return "No routing records for tag '" + t.name + "'.\n";
    const size_t E = x.agg.num_experts();
    const Block all = block_of(t, x.q, E);
    uint64_t most = 0;
    for (const auto& [id, hits] : all.layers)
        most = std::max(most, *std::max_element(hits.begin(), hits.end()));
    const size_t cell = std::max(fmt_num::integer(most).size(), std::to_string(E).size()) + 2;
    const size_t per = std::max<size_t>(1, (100 - 8) / cell);
    std::string out = "Hits per layer (rows) and expert (columns), tag '" + t.name + "':\n";
    for (size_t from = 0; from < E; from += per) {
        const size_t to = std::min(E, from + per);
        std::vector<std::string> h = {"layer"};
        for (size_t e = from; e < to; ++e)
            h.push_back(std::to_string(e));
        Table table(h);
        for (const auto& [id, hits] : all.layers) {
            std::vector<std::string> row = {std::to_string(id)};
            for (size_t e = from; e < to; ++e)
                row.push_back(fmt_num::integer(hits[e]));
            table.add(row);
        }
        out += (from ? "\n" : "") + table.render();
    }
    return out;
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
        own.tag = app.get_option("--tag");
    },
    kNeedsLayer,
    matrix_json,
    [](const Query& x) { return matrix_csv(x.agg, x.tag(), x.q, x.own<MatrixArgs>()); },
    matrix_text,
};

}  // namespace moe
