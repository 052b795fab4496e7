// `moescope cooc`: pairs of experts selected together.
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "analytics/cooc_figures.hpp"
#include "cli/command.hpp"
#include "cli/deep_report.hpp"

namespace moe {

namespace {
std::vector<int32_t> layers_for(const TagStats& tag, const QueryOptions& q) {
    if (!q.layer) return tag.layer_ids();
    return {*q.layer};  // the runner checked it has records (require_layer)
}

std::vector<CoocPair> top_pairs(const LayerStats& l, const QueryOptions& q) {
    auto pairs = cooc_pairs(l, q.by);
    if (pairs.size() > q.top) pairs.resize(q.top);
    return pairs;
}

Table pairs_table(const TagStats& tag, const QueryOptions& q, bool with_layer) {
    std::vector<std::string> h = {"a",           "b",       "count", "p_b_given_a",
                                  "p_a_given_b", "jaccard", "lift"};
    if (with_layer) h.insert(h.begin(), {"tag", "layer"});
    Table t(h);
    // with_layer is the CSV form: 6 significant digits and empty nulls (docs/FIGURES.md).
    const auto num = [&](double v) { return with_layer ? fmt_num::csv(v) : fmt_num::fixed(v, 4); };
    for (int32_t id : layers_for(tag, q))
        for (const auto& p : top_pairs(*tag.layer(id), q)) {
            std::vector<std::string> row = {
                std::to_string(p.a), std::to_string(p.b), fmt_num::integer(p.count),
                num(p.p_b_given_a),  num(p.p_a_given_b),  num(p.jaccard),
                num(p.lift)};
            if (with_layer) row.insert(row.begin(), {tag.name, std::to_string(id)});
            t.add(row);
        }
    return t;
}

// Full symmetric matrix with h_a on the diagonal (a pair's count never exceeds either).
std::vector<std::vector<uint64_t>> full_matrix(const LayerStats& l, size_t E) {
    std::vector<std::vector<uint64_t>> m(E, std::vector<uint64_t>(E, 0));
    for (size_t a = 0; a < E; ++a) {
        m[a][a] = a < l.hits.size() ? l.hits[a] : 0;
        for (size_t b = a + 1; b < E; ++b)
            m[a][b] = m[b][a] = l.cooc.get(a, b);
    }
    return m;
}

const LayerStats& one_layer(const TagStats& tag, const QueryOptions& q) {
    if (!q.layer) throw std::invalid_argument("--matrix needs --layer L");
    return *tag.layer(layers_for(tag, q).front());
}
}  // namespace

void write_cooc_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q) {
    if (q.matrix) {
        const auto m = full_matrix(one_layer(tag, q), agg.num_experts());
        w.key("cooc_matrix")
            .begin_object()
            .field("tag", std::string_view(tag.name))
            .field("layer", *q.layer);
        w.field("num_experts", agg.num_experts()).key("counts").begin_array();
        for (const auto& row : m) {
            w.begin_array();
            for (uint64_t c : row)
                w.value(c);
            w.end_array();
        }
        w.end_array().end_object();
        return;
    }
    w.key("cooc").begin_array();
    for (int32_t id : layers_for(tag, q))
        for (const auto& p : top_pairs(*tag.layer(id), q)) {
            w.begin_object().field("tag", std::string_view(tag.name)).field("layer", id);
            w.field("a", p.a)
                .field("b", p.b)
                .field("count", p.count)
                .field("p_b_given_a", p.p_b_given_a);
            w.field("p_a_given_b", p.p_a_given_b)
                .field("jaccard", p.jaccard)
                .field("lift", p.lift)
                .end_object();
        }
    w.end_array();
}

std::string cooc_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    if (q.matrix) return cooc_csv(agg, tag, q);
    std::string s;
    for (int32_t id : layers_for(tag, q)) {
        QueryOptions one = q;
        one.layer = id;
        s += "Layer " + std::to_string(id) + " (tag '" + tag.name + "'): top " +
             std::to_string(q.top) + " pairs by " +
             (q.by == CoocOrder::lift      ? "lift"
              : q.by == CoocOrder::jaccard ? "jaccard"
                                           : "count") +
             ", of " + fmt_num::integer(tag.layer(id)->tokens) + " tokens\n";
        s += pairs_table(tag, one, false).render("  ") + "\n";
    }
    return s;
}

std::string cooc_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    if (!q.matrix) return pairs_table(tag, q, true).csv();
    const auto m = full_matrix(one_layer(tag, q), agg.num_experts());
    std::string s = "expert";
    for (size_t b = 0; b < m.size(); ++b)
        s += "," + std::to_string(b);
    s += "\n";
    for (size_t a = 0; a < m.size(); ++a) {
        s += std::to_string(a);
        for (uint64_t c : m[a])
            s += "," + std::to_string(c);
        s += "\n";
    }
    return s;
}

extern const CommandSpec kCoocCommand = {
    "cooc",
    "Experts selected together: counts, P(b|a), Jaccard, lift",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: every layer)");
        flag::top(app, a, 20, "Pairs per layer");
        const std::map<std::string, CoocOrder> by{{"count", CoocOrder::count},
                                                  {"lift", CoocOrder::lift},
                                                  {"jaccard", CoocOrder::jaccard}};
        app.add_option("--by", a.q.by, "Rank pairs by count, lift or jaccard")
            ->transform(CLI::CheckedTransformer(by).description("{count,lift,jaccard}"))
            ->default_str("count");
        flag::matrix(app, a, "Print the full E x E count matrix of --layer (diagonal: hits)");
    },
    kNeedsTotals | kNeedsLayer | kNeedsPerToken,
    [](JsonWriter& w, const Query& x) { write_cooc_json(w, x.agg, x.tag(), x.q); },
    [](const Query& x) { return cooc_csv(x.agg, x.tag(), x.q); },
    [](const Query& x) { return cooc_text(x.agg, x.tag(), x.q); },
};

}  // namespace moe
