// `moescope requests`: per request and layer, the experts a request touches (its working
// set), and across requests what a per-request expert cache must hold (docs/FIGURES.md
// "Requests"). Computed as the FILE arguments are read (tracing/request_sets.hpp).
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "cli/token_inputs.hpp"
#include "options/capacity_list.hpp"
#include "tracing/request_sets.hpp"

namespace moe {

namespace {

struct RequestsArgs final : CommandOptions {
    std::string capacities;  // a comma list as given (a vector option would take FILEs)
    RequestWorkingSets sets;
    bool observes() const override { return true; }
    // A request is its id within its tag (without the phase: prefill and decode of one
    // request are one request), so problem 0 of two datasets stays two requests.
    void observe(const Aggregates& agg, size_t, TagId tag, const RoutingRecord& r) override {
        const std::string_view name = agg.tag(tag).name;  // TAG, TAG@PHASE, or PHASE alone
        sets.add(
            r, !r.phase.empty() && name == r.phase ? kAllTagName : name.substr(0, name.find('@')));
    }
};

struct RequestsResult {
    const RequestWorkingSets& sets;
    std::vector<RequestLayer> rows;
    std::vector<LayerWorkingSets> layers;
};

RequestsResult requests_of(const Query& x) {
    require_token_files(x, "requests");
    const auto& own = x.own<RequestsArgs>();
    const std::vector<uint32_t> caps = own.capacities.empty()
                                           ? std::vector<uint32_t>{}
                                           : parse_capacity_list(own.capacities, "--capacity");
    std::vector<RequestLayer> rows = own.sets.rows();
    if (rows.empty())
        throw NoDataError(
            "no routing record names a request (request, req_id, request_id, "
            "sample_id or problem_id): nothing to group by request");
    std::vector<LayerWorkingSets> layers = summarize_working_sets(rows, caps);
    return {own.sets, std::move(rows), std::move(layers)};
}

void requests_json(JsonWriter& w, const Query& x) {
    const RequestsResult r = requests_of(x);
    w.key("requests").begin_array();
    for (const RequestLayer& row : r.rows)
        w.begin_object()
            .field("request", std::string_view(r.sets.requests()[row.request].id))
            .field("tag", std::string_view(r.sets.requests()[row.request].scope))
            .field("layer", row.layer)
            .field("tokens", row.tokens)
            .field("working_set", row.working_set)
            .end_object();
    w.end_array().key("layers").begin_array();
    for (const LayerWorkingSets& l : r.layers) {
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
    w.end_array().field("without_request", r.sets.without_request());
}

std::string requests_csv(const Query& x) {
    const RequestsResult r = requests_of(x);
    Table t({"request", "tag", "layer", "tokens", "working_set"});
    for (const RequestLayer& row : r.rows)
        t.add({r.sets.requests()[row.request].id, r.sets.requests()[row.request].scope,
               std::to_string(row.layer), std::to_string(row.tokens),
               std::to_string(row.working_set)});
    return t.csv();
}

std::string requests_text(const Query& x) {
    const RequestsResult r = requests_of(x);
    std::vector<std::string> h = {"layer", "requests", "ws p50", "ws p90", "ws max", "ws mean"};
    if (!r.layers.empty())
        for (const CapacityShare& c : r.layers.front().over_capacity)
            h.push_back("> " + std::to_string(c.capacity));
    Table t(h);
    for (const LayerWorkingSets& l : r.layers) {
        std::vector<std::string> row = {l.layer >= 0 ? std::to_string(l.layer) : "all",
                                        fmt_num::integer(l.requests),
                                        fmt_num::fixed(l.p50, 1),
                                        fmt_num::fixed(l.p90, 1),
                                        std::to_string(l.max),
                                        fmt_num::fixed(l.mean, 2)};
        for (const CapacityShare& c : l.over_capacity)
            row.push_back(fmt_num::percent(c.share, 1));
        t.add(std::move(row));
    }
    std::string out =
        fmt_num::integer(r.sets.requests().size()) +
        " requests; working set (ws): distinct experts a request touches per layer\n\n" +
        t.render();
    Table g({"tokens n", "mean ws after n", "(request, layer)s"});
    for (const GrowthPoint& p : r.layers.back().growth)
        g.add({fmt_num::integer(p.n), fmt_num::fixed(p.mean_working_set, 2),
               fmt_num::integer(p.count)});
    out += "\ngrowth of the working set, all layers:\n" + g.render();
    if (r.sets.without_request())
        out += "\n" + fmt_num::integer(r.sets.without_request()) + " records name no request\n";
    return out;
}

}  // namespace

extern const CommandSpec kRequestsCommand = {
    "requests",
    "Per request and layer, the distinct experts touched (working set) and how fast it grows",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<RequestsArgs>();
        flag::token_query(app, a);
        app.add_option("--capacity", own.capacities,
                       "C[,C2,...]: also the share of requests touching more than C experts of "
                       "a layer");
    },
    kNeedsNothing,
    requests_json,
    requests_csv,
    requests_text,
};

}  // namespace moe
