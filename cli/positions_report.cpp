// `moescope positions`: routing figures (Gini, entropy, top experts, JS divergence against
// the layer's whole) per token position bucket and per phase (docs/FIGURES.md "Positions"),
// so first-token and prefill specialisation shows (tracing/position_routing.hpp).
#include <string>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "cli/token_inputs.hpp"
#include "tracing/position_routing.hpp"

namespace moe {

namespace {

struct PositionsArgs final : CommandOptions {
    PositionRouting routing;
    bool observes() const override { return true; }
    void observe(const Aggregates&, size_t, TagId, const RoutingRecord& r) override {
        routing.add(r);
    }
};

std::vector<GroupFigures> figures_of(const Query& x) {
    require_token_files(x, "positions");
    const auto& own = x.own<PositionsArgs>();
    std::vector<GroupFigures> f = position_figures(own.routing, x.agg.num_experts(), x.q.top);
    if (f.empty()) throw NoDataError("no routing record has a position or a phase");
    return f;
}

// Layer records in no group of one kind: the figures of that kind rest on the others.
void left_out_json(JsonWriter& w, const PositionRouting& r) {
    w.key("left_out")
        .begin_object()
        .field("records_without_position", r.without_position())
        .field("records_without_phase", r.without_phase())
        .field("records_past_phase_cap", r.phases_over_cap())
        .end_object();
}

std::string left_out_text(const PositionRouting& r) {
    std::string s;
    const auto line = [&](uint64_t n, const std::string& what) {
        if (n > 0) s += "\n" + std::to_string(n) + " layer records " + what;
    };
    line(r.without_position(), "have no position: in no position group");
    line(r.without_phase(), "have no phase: in no phase group");
    line(r.phases_over_cap(), "belong to phases past the first " +
                                  std::to_string(PositionRouting::kMaxPhases) +
                                  ": in no phase group");
    return s.empty() ? s : s + "\n";
}

void positions_json(JsonWriter& w, const Query& x) {
    const std::vector<GroupFigures> figures = figures_of(x);
    left_out_json(w, x.own<PositionsArgs>().routing);
    w.key("positions").begin_array();
    for (const GroupFigures& f : figures) {
        w.begin_object()
            .field("kind", std::string_view(f.kind))
            .field("group", std::string_view(f.group));
        if (f.layer >= 0) w.field("layer", f.layer);
        w.field("tokens", f.tokens)
            .field("gini", f.fig.gini)
            .field("entropy_bits", f.fig.entropy_bits);
        w.field("entropy_norm", f.fig.entropy_norm);
        w.field("js_divergence_bits", f.js_divergence_bits).key("top_experts").begin_array();
        for (const ExpertShare& e : f.top_experts)
            w.begin_object().field("expert", e.expert).field("share", e.share).end_object();
        w.end_array().end_object();
    }
    w.end_array();
}

Table positions_table(const Query& x, bool csv, bool all_layers_only) {
    Table t(csv ? std::vector<std::string>{"kind", "group", "layer", "tokens", "gini",
                                           "entropy_bits", "js_divergence_bits", "top_experts"}
                : std::vector<std::string>{"kind", "group", "layer", "tokens", "gini", "entropy",
                                           "js_bits", "top experts"});
    const auto num = [&](double v) { return csv ? fmt_num::csv(v) : fmt_num::fixed(v, 4); };
    for (const GroupFigures& f : figures_of(x)) {
        if (all_layers_only && f.layer >= 0) continue;
        std::string top;
        size_t shown = 0;  // the text table fits 100 columns: three experts
        for (const ExpertShare& e : f.top_experts)
            if (csv || shown++ < 3)
                top += (top.empty() ? "" : " ") + std::to_string(e.expert) + ":" +
                       (csv ? fmt_num::csv(e.share) : fmt_num::percent(e.share, 1));
        t.add({f.kind, f.group, f.layer >= 0 ? std::to_string(f.layer) : "all",
               std::to_string(f.tokens), num(f.fig.gini), num(f.fig.entropy_bits),
               num(f.js_divergence_bits), top});
    }
    return t;
}

}  // namespace

extern const CommandSpec kPositionsCommand = {
    "positions",
    "Routing figures per token position bucket and per phase, against each layer's whole",
    [](CLI::App& app, CommandArgs& a) {
        a.make_own<PositionsArgs>();
        flag::token_query(app, a);
        flag::top(app, a, 5, "Top experts listed per row");
    },
    kNeedsNothing,
    positions_json,
    [](const Query& x) { return positions_table(x, true, false).csv(); },
    [](const Query& x) {
        return "per group, all layers' hits summed (--json or --csv: per layer too):\n\n" +
               positions_table(x, false, true).render() +
               left_out_text(x.own<PositionsArgs>().routing);
    },
};

}  // namespace moe
