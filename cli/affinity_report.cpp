// `moescope affinity`: how layer l's choice predicts layer l + 1's (docs/FIGURES.md
// "Affinity"): transition counts, P(b|a), lift, mutual information, and whether prefetching
// the predicted experts beats keeping the hottest ones (tracing/layer_affinity.hpp).
#include <cmath>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "cli/token_inputs.hpp"
#include "tracing/layer_affinity.hpp"

namespace moe {

namespace {

constexpr double kDefaultSplit = 0.5;

struct AffinityArgs final : CommandOptions {
    double split = NAN;  // NaN: not given (kDefaultSplit)
    uint64_t min_count = 5;
    std::string tag = std::string(kAllTagName);
    LayerAffinity affinity;
    size_t input = 0;
    bool observes() const override { return true; }
    void observe(const Aggregates& agg, size_t i, TagId t, const RoutingRecord& r) override {
        if (tag != kAllTagName && agg.tag(t).name != tag) return;
        // Each FILE argument numbers its own passes: a token never continues in another.
        if (i != input) affinity.finish(), input = i;
        affinity.add(r);
    }
    double split_or_default() const { return std::isnan(split) ? kDefaultSplit : split; }
    void inputs_done() override { affinity.finish(); }
};

constexpr uint32_t kMultipliers[] = {1, 2, 4};  // m = k, 2k, 4k

struct PairFigures {
    int32_t from = -1;
    const TransitionTable* table = nullptr;
    double mutual_information = 0;
    std::optional<PrefetchEvaluation> prefetch;  // none on a database: it keeps no order
};

// A database keeps the transition counts moescoped --affinity counted (TagStats::
// transitions), not the order of the pairs the prefetch evaluation is fitted and scored in.
std::vector<PairFigures> stored_pairs(const Query& x) {
    const auto& own = x.own<AffinityArgs>();
    if (!std::isnan(own.split))
        throw std::invalid_argument(
            "--split needs the order of the records, which a database does not keep: give "
            "the log files as FILE arguments for the prefetch evaluation");
    const TagStats& t = x.tag_named(own.tag);
    if (t.transitions.empty())
        throw NoDataError("the database " + x.db + " keeps no transitions of tag '" + own.tag +
                          "' (moescoped --affinity keeps them)");
    std::vector<PairFigures> out;
    for (const auto& [from, table] : t.transitions)
        out.push_back({from, &table, mutual_information_bits(table), std::nullopt});
    return out;
}

std::vector<PairFigures> pairs_of(const Query& x) {
    if (x.args.files.empty()) return stored_pairs(x);
    const auto& own = x.own<AffinityArgs>();
    const LayerAffinity& a = own.affinity;
    if (a.tables().empty())
        throw NoDataError(
            "no token is seen at two consecutive layers (records need a request "
            "id and token, or come from a llama-server log)");
    std::vector<PairFigures> out;
    for (const auto& [from, t] : a.tables())
        out.push_back(
            {from, &t, mutual_information_bits(t),
             evaluate_prefetch(a.sequences().at(from), own.split_or_default(), kMultipliers)});
    return out;
}

void affinity_json(JsonWriter& w, const Query& x) {
    const auto& own = x.own<AffinityArgs>();
    const std::vector<PairFigures> pairs = pairs_of(x);
    w.key("transitions").begin_array();
    for (const PairFigures& p : pairs)
        for (const Transition& c : transitions(*p.table))
            w.begin_object()
                .field("from_layer", p.from)
                .field("to_layer", p.from + 1)
                .field("a", c.a)
                .field("b", c.b)
                .field("count", c.count)
                .field("p_b_given_a", c.p_b_given_a)
                .field("lift", c.lift)
                .end_object();
    w.end_array().key("pairs").begin_array();
    for (const PairFigures& p : pairs) {
        w.begin_object().field("from_layer", p.from).field("to_layer", p.from + 1);
        w.field("tokens", p.table->tokens()).field("mutual_information_bits", p.mutual_information);
        for (const char* key : {"fitted", "scored"}) {
            w.key(key);
            p.prefetch ? w.value(key[0] == 'f' ? p.prefetch->fitted : p.prefetch->scored)
                       : w.null();
        }
        for (auto [key, is_static] : {std::pair{"recall", false}, {"static_recall", true}}) {
            w.key(key);
            if (!p.prefetch) {
                w.null();
                continue;
            }
            w.begin_object();
            for (const PrefetchRecall& r : p.prefetch->recall)
                w.field(std::to_string(r.m), is_static ? r.static_recall : r.recall);
            w.end_object();
        }
        w.key("top_lift").begin_array();
        for (const Transition& c : top_lift(*p.table, x.q.top, own.min_count))
            w.begin_object()
                .field("a", c.a)
                .field("b", c.b)
                .field("count", c.count)
                .field("lift", c.lift)
                .end_object();
        w.end_array().end_object();
    }
    const LayerAffinity& a = own.affinity;
    w.end_array().key("followed");
    if (x.args.files.empty()) {  // the daemon's counters are its gauges, not stored
        w.null();
        return;
    }
    w.begin_object();
    w.field("pairs", a.pairs()).field("unfollowed", a.unfollowed()).field("evicted", a.evicted());
    w.field("duplicates", a.duplicates()).field("unplaced", a.unplaced()).end_object();
}

std::string affinity_csv(const Query& x) {
    Table t({"from_layer", "to_layer", "a", "b", "count", "p_b_given_a", "lift"});
    for (const PairFigures& p : pairs_of(x))
        for (const Transition& c : transitions(*p.table))
            t.add({std::to_string(p.from), std::to_string(p.from + 1), std::to_string(c.a),
                   std::to_string(c.b), std::to_string(c.count), fmt_num::csv(c.p_b_given_a),
                   fmt_num::csv(c.lift)});
    return t.csv();
}

std::string affinity_text(const Query& x) {
    const auto& own = x.own<AffinityArgs>();
    const std::vector<PairFigures> pairs = pairs_of(x);
    std::vector<std::string> h = {"layers", "tokens", "MI bits"};
    if (pairs.front().prefetch)
        for (const PrefetchRecall& r : pairs.front().prefetch->recall)
            h.insert(h.end(), {"recall@" + std::to_string(r.m), "static@" + std::to_string(r.m)});
    Table t(h);
    Table lift({"layers", "highest lift (a>b, lift, tokens)"});  // apart: 100 columns
    for (const PairFigures& p : pairs) {
        const std::string layers = std::to_string(p.from) + ">" + std::to_string(p.from + 1);
        std::vector<std::string> row = {layers, fmt_num::integer(p.table->tokens()),
                                        fmt_num::fixed(p.mutual_information, 4)};
        if (p.prefetch)
            for (const PrefetchRecall& r : p.prefetch->recall)
                row.insert(row.end(),
                           {fmt_num::percent(r.recall, 1), fmt_num::percent(r.static_recall, 1)});
        t.add(std::move(row));
        std::string top;
        for (const Transition& c : top_lift(*p.table, 3, own.min_count))
            top += (top.empty() ? "" : ", ") + std::to_string(c.a) + ">" + std::to_string(c.b) +
                   " " + fmt_num::fixed(c.lift, 2) + " " + fmt_num::integer(c.count);
        lift.add({layers, top.empty() ? "-" : top});
    }
    const std::string head =
        pairs.front().prefetch
            ? "prefetch fitted on the first " + fmt_num::percent(own.split_or_default(), 0) +
                  " of each layer pair's tokens, scored on the rest;\nstatic: layer l + 1's m "
                  "hottest experts\n\n"
            : "transitions kept by moescoped --affinity in " + x.db + ", tag " + own.tag +
                  ";\nthe prefetch evaluation needs FILE arguments\n\n";
    return head + t.render() + "\n" + lift.render();
}

}  // namespace

extern const CommandSpec kAffinityCommand = {
    "affinity",
    "How layer l's experts predict layer l + 1's: transitions, lift, MI, prefetch recall",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<AffinityArgs>();
        flag::token_query(app, a);
        app.add_option("--tag", own.tag,
                       "Only records of this tag (a database: the transitions moescoped "
                       "--affinity kept for it)")
            ->capture_default_str();
        app.add_option("--split", own.split,
                       "Share of each layer pair's tokens the prefetch predictor is fitted on "
                       "(FILE arguments only)")
            ->check(CLI::Range(0.0, 1.0))
            ->default_str(std::to_string(kDefaultSplit).substr(0, 3));
        flag::top(app, a, 10, "Highest-lift pairs listed per layer pair");
        app.add_option("--min-count", own.min_count,
                       "Only pairs seen this many times rank by lift (rare pairs have huge lift)")
            ->capture_default_str();
    },
    kNeedsTracing,
    affinity_json,
    affinity_csv,
    affinity_text,
};

}  // namespace moe
