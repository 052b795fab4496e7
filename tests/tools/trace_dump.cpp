// Test tool: runs the token-following analyses of tracing/ over log files and prints their
// figures as JSON, for tests/integration/test_tracing_reference.py to compare with its numpy
// reference. Until the `diff`, `requests`, `positions` and `affinity` commands exist, this is
// how the real ingest path (parsers, validation, data-quality holds) reaches them.
//   trace_dump diff A B [WINDOW]
//   trace_dump requests FILE [CAPACITY...]
//   trace_dump positions FILE
//   trace_dump affinity FILE [SPLIT]
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "cli/json_writer.hpp"
#include "ingest/input_reader.hpp"
#include "ingest/stream_ingest.hpp"
#include "tracing/layer_affinity.hpp"
#include "tracing/position_routing.hpp"
#include "tracing/request_sets.hpp"
#include "tracing/routing_diff.hpp"

using namespace moe;

namespace {

// Every record the ingest counts, in order, to `f`.
void read(const std::string& path, const std::function<void(const RoutingRecord&)>& f) {
    Aggregates agg{AnalyticsOptions{}};
    SourceStats stats;
    StreamIngest ingest(agg, stats, Format::auto_detect);
    ingest.set_observer([&](TagId, const RoutingRecord& r) { f(r); });
    InputReader in(path);
    for (std::string_view b = in.read(); !b.empty(); b = in.read())
        ingest.feed(b);
    ingest.finish();
}

void agreement(JsonWriter& w, const AgreementSums& s) {
    w.field("aligned", s.aligned)
        .field("top1_agreement", s.top1_agreement())
        .field("overlap", s.mean_overlap())
        .field("exact_agreement", s.exact_agreement())
        .field("jaccard", s.mean_jaccard())
        .field("weight_mass_overlap", s.mean_weight_mass());
}

void diff_layer(JsonWriter& w, const LayerDiff& d) {
    agreement(w, d.agreement);
    w.field("only_a", d.only_a_total()).field("only_b", d.only_b_total());
    for (auto [key, counts] : {std::pair{"only_a_why", &d.only_a}, {"only_b_why", &d.only_b}}) {
        w.key(key).begin_object();
        for (size_t i = 0; i < kUnmatchedReasons; ++i)
            w.field(unmatched_name(static_cast<Unmatched>(i)), (*counts)[i]);
        w.end_object();
    }
    w.key("experts").begin_array();
    for (size_t e = 0; e < std::max(d.gained.size(), d.lost.size()); ++e) {
        const uint64_t g = e < d.gained.size() ? d.gained[e] : 0;
        const uint64_t l = e < d.lost.size() ? d.lost[e] : 0;
        w.begin_object().field("expert", static_cast<uint64_t>(e)).field("gained", g);
        w.field("lost", l).field("net", static_cast<int64_t>(g) - static_cast<int64_t>(l));
        w.end_object();
    }
    w.end_array().key("top_flips").begin_array();
    for (const ExpertFlip& f : d.top_flips(10))
        w.begin_object()
            .field("from", f.from)
            .field("to", f.to)
            .field("count", f.count)
            .end_object();
    w.end_array();
}

int diff(const std::string& a, const std::string& b, size_t window) {
    RoutingDiff d(window);
    read(a, [&](const RoutingRecord& r) { d.add(DiffSide::a, r); });
    read(b, [&](const RoutingRecord& r) { d.add(DiffSide::b, r); });
    d.finish();
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("layers").begin_array();
    for (const auto& [layer, l] : d.layers()) {
        w.begin_object().field("layer", layer);
        diff_layer(w, l);
        w.end_object();
    }
    w.begin_object();
    diff_layer(w, d.all_layers());
    w.end_object().end_array();
    const TokenDiffTally& t = d.tokens();
    w.key("tokens").begin_object().field("aligned", t.tokens);
    w.field("differ_in_any_layer", t.differ_any).field("closed_early", t.closed_early);
    w.key("differing_layers").begin_array();
    for (uint64_t n : t.differing_layers)
        w.value(n);
    w.end_array().end_object().key("positions").begin_array();
    for (int i = 0; i < kPositionBuckets; ++i) {
        w.begin_object().field("bucket", position_bucket_name(i));
        agreement(w, d.by_position()[static_cast<size_t>(i)]);
        w.end_object();
    }
    w.end_array().key("phases").begin_array();
    for (const auto& [phase, s] : d.by_phase()) {
        w.begin_object().field("phase", std::string_view(phase));
        agreement(w, s);
        w.end_object();
    }
    w.end_array();
    w.field("unplaced_a", d.unplaced(DiffSide::a)).field("unplaced_b", d.unplaced(DiffSide::b));
    w.end_object();
    std::cout << out << "\n";
    return 0;
}

int requests(const std::string& path, const std::vector<uint32_t>& caps) {
    RequestWorkingSets sets;
    read(path, [&](const RoutingRecord& r) { sets.add(r); });
    std::string out;
    JsonWriter w(out);
    const auto rows = sets.rows();
    w.begin_object().key("requests").begin_array();
    for (const RequestLayer& r : rows)
        w.begin_object()
            .field("request", std::string_view(sets.requests()[r.request]))
            .field("layer", r.layer)
            .field("tokens", r.tokens)
            .field("working_set", r.working_set)
            .end_object();
    w.end_array().key("layers").begin_array();
    for (const LayerWorkingSets& l : summarize_working_sets(rows, caps)) {
        w.begin_object();
        if (l.layer >= 0) w.field("layer", l.layer);
        w.field("requests", l.requests).field("working_set_p50", l.p50);
        w.field("working_set_p90", l.p90).field("working_set_max", l.max);
        w.field("working_set_mean", l.mean).key("growth").begin_array();
        for (const GrowthPoint& g : l.growth)
            w.begin_object()
                .field("n", g.n)
                .field("mean_working_set", g.mean_working_set)
                .field("count", g.count)
                .end_object();
        w.end_array().key("over_capacity").begin_array();
        for (const CapacityShare& c : l.over_capacity)
            w.begin_object().field("capacity", c.capacity).field("share", c.share).end_object();
        w.end_array().end_object();
    }
    w.end_array().field("without_request", sets.without_request()).end_object();
    std::cout << out << "\n";
    return 0;
}

int positions(const std::string& path) {
    PositionRouting p;
    read(path, [&](const RoutingRecord& r) { p.add(r); });
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("positions").begin_array();
    for (const GroupFigures& f : position_figures(p)) {
        w.begin_object()
            .field("kind", std::string_view(f.kind))
            .field("group", std::string_view(f.group));
        if (f.layer >= 0) w.field("layer", f.layer);
        w.field("tokens", f.tokens)
            .field("gini", f.fig.gini)
            .field("entropy_bits", f.fig.entropy_bits);
        w.field("js_divergence_bits", f.js_divergence_bits).key("top_experts").begin_array();
        for (const ExpertShare& e : f.top_experts)
            w.begin_object().field("expert", e.expert).field("share", e.share).end_object();
        w.end_array().end_object();
    }
    w.end_array().end_object();
    std::cout << out << "\n";
    return 0;
}

int affinity(const std::string& path, double split) {
    LayerAffinity a;
    read(path, [&](const RoutingRecord& r) { a.add(r); });
    a.finish();
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("transitions").begin_array();
    for (const auto& [from, t] : a.tables())
        for (const Transition& c : transitions(t))
            w.begin_object()
                .field("from_layer", from)
                .field("to_layer", from + 1)
                .field("a", c.a)
                .field("b", c.b)
                .field("count", c.count)
                .field("p_b_given_a", c.p_b_given_a)
                .field("lift", c.lift)
                .end_object();
    w.end_array().key("pairs").begin_array();
    const std::vector<uint32_t> mult = {1, 2, 4};
    for (const auto& [from, t] : a.tables()) {
        const PrefetchEvaluation ev = evaluate_prefetch(a.sequences().at(from), split, mult);
        w.begin_object().field("from_layer", from).field("to_layer", from + 1);
        w.field("tokens", t.tokens()).field("mutual_information_bits", mutual_information_bits(t));
        w.field("fitted", ev.fitted).field("scored", ev.scored);
        for (auto [key, is_static] : {std::pair{"recall", false}, {"static_recall", true}}) {
            w.key(key).begin_object();
            for (const PrefetchRecall& r : ev.recall)
                w.field(std::to_string(r.m), is_static ? r.static_recall : r.recall);
            w.end_object();
        }
        w.key("top_lift").begin_array();
        for (const Transition& c : top_lift(t, 5))
            w.begin_object().field("a", c.a).field("b", c.b).field("lift", c.lift).end_object();
        w.end_array().end_object();
    }
    w.end_array().field("unfollowed", a.unfollowed()).field("evicted", a.evicted());
    w.end_object();
    std::cout << out << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() >= 3 && args[0] == "diff")
            return diff(args[1], args[2],
                        args.size() > 3 ? std::stoull(args[3]) : RoutingDiff::kDefaultWindow);
        if (args.size() >= 2 && args[0] == "requests") {
            std::vector<uint32_t> caps;
            for (size_t i = 2; i < args.size(); ++i)
                caps.push_back(static_cast<uint32_t>(std::stoul(args[i])));
            return requests(args[1], caps);
        }
        if (args.size() == 2 && args[0] == "positions") return positions(args[1]);
        if (args.size() >= 2 && args[0] == "affinity")
            return affinity(args[1], args.size() > 2 ? std::stod(args[2]) : 0.5);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: trace_dump diff A B [WINDOW] | requests FILE [C...] | positions FILE | "
                 "affinity FILE [SPLIT]\n";
    return 2;
}
