#include "cli/gate_report.hpp"

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {
const char* tokens_name(GateTokens t) {
    return t == GateTokens::first ? "first" : "all";
}

template <class F>
void for_each_pair(const TagStats& tag, const QueryOptions& q, F&& f) {
    for (const auto& [key, g] : tag.gates) {
        if (key.tokens != q.gate_tokens) continue;
        if (q.layer && key.from_layer != *q.layer && key.to_layer != *q.layer) continue;
        f(key, g);
    }
}
// A --layer with no gate pair is "nothing to show" (exit 3), like a layer without records.
void require_pairs(const TagStats& tag, const QueryOptions& q) {
    if (!q.layer) return;
    bool any = false;
    std::string layers;
    for (const auto& [key, g] : tag.gates) {
        if (key.tokens != q.gate_tokens) continue;
        if (key.from_layer == *q.layer || key.to_layer == *q.layer) any = true;
        layers += (layers.empty() ? "" : ", ") + std::to_string(key.from_layer) + "->" +
                  std::to_string(key.to_layer);
    }
    if (!any)
        throw NoDataError("no gate-input pairs involve layer " + std::to_string(*q.layer) +
                          " in tag '" + tag.name + "'" +
                          (layers.empty() ? " (there are none)" : " (pairs: " + layers + ")"));
}
}  // namespace

void write_gates_json(JsonWriter& w, const TagStats& tag, const QueryOptions& q) {
    w.key("gate_pairs").begin_array();
    for_each_pair(tag, q, [&](const GatePairKey& key, const GatePairStats& g) {
        w.begin_object();
        w.field("tag", std::string_view(tag.name)).field("tokens", tokens_name(key.tokens));
        w.field("from_layer", key.from_layer)
            .field("to_layer", key.to_layer)
            .field("count", g.pairs);
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            const RunningStats& rs = g.metrics[m];
            w.key(gate_metric_name(static_cast<GateMetric>(m))).begin_object();
            w.field("count", rs.n).field("mean", rs.n ? rs.mean : NAN).field("std", rs.std_pop());
            w.field("min", rs.n ? rs.min : NAN).field("max", rs.n ? rs.max : NAN);
            w.end_object();
        }
        w.end_object();
    });
    w.end_array();
}

std::string gates_text(const TagStats& tag, const QueryOptions& q) {
    std::string s;
    for_each_pair(tag, q, [&](const GatePairKey& key, const GatePairStats& g) {
        s += "Layer " + std::to_string(key.from_layer) + " -> " + std::to_string(key.to_layer) +
             ": " + std::to_string(g.pairs) + " token pairs (" +
             (key.tokens == GateTokens::first ? "token 0 only" : "all tokens") + ")\n";
        Table t({"metric", "mean", "std", "min", "max", "n"});
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            const RunningStats& rs = g.metrics[m];
            t.add({std::string(gate_metric_name(static_cast<GateMetric>(m))),
                   fmt_num::sig(rs.n ? rs.mean : NAN, 6), fmt_num::sig(rs.std_pop(), 6),
                   fmt_num::sig(rs.n ? rs.min : NAN, 6), fmt_num::sig(rs.n ? rs.max : NAN, 6),
                   fmt_num::integer(rs.n)});
        }
        s += t.render("  ") + "\n";
    });
    if (s.empty())
        return std::string("No gate-input pairs (") +
               (q.gate_tokens == GateTokens::first ? "token 0" : "all tokens") + ") for tag '" +
               tag.name + "'.\n";
    return s;
}

std::string gates_csv(const TagStats& tag, const QueryOptions& q) {
    Table t({"tag", "tokens", "from_layer", "to_layer", "pairs", "metric", "n", "mean", "std",
             "min", "max"});
    for_each_pair(tag, q, [&](const GatePairKey& key, const GatePairStats& g) {
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            const RunningStats& rs = g.metrics[m];
            t.add({tag.name, tokens_name(key.tokens), std::to_string(key.from_layer),
                   std::to_string(key.to_layer), fmt_num::integer(g.pairs),
                   std::string(gate_metric_name(static_cast<GateMetric>(m))),
                   fmt_num::integer(rs.n), fmt_num::csv(rs.n ? rs.mean : NAN),
                   fmt_num::csv(rs.std_pop()), fmt_num::csv(rs.n ? rs.min : NAN),
                   fmt_num::csv(rs.n ? rs.max : NAN)});
        }
    });
    return t.csv();
}

extern const CommandSpec kGatesCommand = {
    "gates",
    "Gate-input distances between consecutive logged layers",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Only pairs involving this layer");
        flag::gate_tokens(app, a);
    },
    kNeedsTotals | kNeedsPerToken,
    [](JsonWriter& w, const Query& x) {
        require_pairs(x.tag(), x.q);
        write_gates_json(w, x.tag(), x.q);
    },
    [](const Query& x) {
        require_pairs(x.tag(), x.q);
        return gates_csv(x.tag(), x.q);
    },
    [](const Query& x) {
        require_pairs(x.tag(), x.q);
        return gates_text(x.tag(), x.q);
    },
};

}  // namespace moe
