// `moescope timeline`: hits per time bucket for one layer (or all layers combined).
#include <ctime>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "analytics/imbalance.hpp"
#include "cli/command.hpp"
#include "cli/deep_report.hpp"

namespace moe {

std::string iso_utc(int64_t seconds) {
    const time_t t = static_cast<time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {
struct Row {
    int64_t start, seconds;
    uint64_t tokens, selections;
    const std::vector<uint64_t>* hits;
    ImbalanceFigures fig;
};

std::vector<Row> rows_of(const Aggregates& agg, TagId tag, const QueryOptions& q) {
    const int32_t layer = q.layer.value_or(-1);
    std::vector<Row> out;
    for (const auto& [key, b] : agg.timeline().buckets()) {
        if (key.tag != tag || key.layer != layer) continue;
        if (key.start < q.since || key.start >= q.until) continue;  // --since/--until
        Row r{key.start, b.seconds, b.tokens,
              0,         &b.hits,   compute_imbalance(b.hits, agg.num_experts())};
        r.selections = r.fig.selections;
        out.push_back(r);
    }
    if (q.expert && *q.expert >= static_cast<int32_t>(agg.num_experts()))
        throw std::invalid_argument("expert " + std::to_string(*q.expert) +
                                    " out of range (the model has " +
                                    std::to_string(agg.num_experts()) + " experts)");
    return out;
}

uint64_t hits_of(const Row& r, int32_t e) {
    return static_cast<size_t>(e) < r.hits->size() ? (*r.hits)[static_cast<size_t>(e)] : 0;
}

// The text table, or (csv) one row per bucket with its tag and layer, shares as fractions.
Table timeline_table(const Aggregates& agg, TagId tag, const QueryOptions& q, bool csv) {
    std::vector<std::string> h = {"start_utc", "seconds", "tokens", "selections"};
    if (csv) h.insert(h.begin(), {"tag", "layer"});
    if (q.expert)
        h.insert(h.end(), {"expert", "hits", "share"});
    else
        h.insert(h.end(), {"top_expert", "top_share", "gini", "entropy_norm"});
    Table t(h);
    const auto share = [&](double f) { return csv ? fmt_num::csv(f) : fmt_num::percent(f); };
    const auto real = [&](double v) { return csv ? fmt_num::csv(v) : fmt_num::fixed(v, 4); };
    for (const auto& r : rows_of(agg, tag, q)) {
        std::vector<std::string> row = {iso_utc(r.start), std::to_string(r.seconds),
                                        fmt_num::integer(r.tokens), fmt_num::integer(r.selections)};
        if (csv)
            row.insert(row.begin(),
                       {agg.tag(tag).name, q.layer ? std::to_string(*q.layer) : "all"});
        const double S = static_cast<double>(r.selections);
        if (q.expert) {
            const uint64_t x = hits_of(r, *q.expert);
            row.insert(row.end(), {std::to_string(*q.expert), fmt_num::integer(x),
                                   share(S > 0 ? static_cast<double>(x) / S : NAN)});
        } else {
            row.insert(row.end(), {std::to_string(r.fig.argmax),
                                   share(S > 0 ? static_cast<double>(r.fig.max) / S : NAN),
                                   real(r.fig.gini), real(r.fig.entropy_norm)});
        }
        t.add(row);
    }
    return t;
}
}  // namespace

void write_timeline_json(JsonWriter& w, const Aggregates& agg, TagId tag, const QueryOptions& q) {
    w.key("timeline").begin_array();
    for (const auto& r : rows_of(agg, tag, q)) {
        w.begin_object().field("tag", std::string_view(agg.tag(tag).name));
        if (q.layer)
            w.field("layer", *q.layer);
        else
            w.key("layer").null();
        w.field("start", r.start)
            .field("start_utc", std::string_view(iso_utc(r.start)))
            .field("seconds", r.seconds);
        w.field("tokens", r.tokens).field("selections", r.selections);
        if (q.expert) {
            const uint64_t x = hits_of(r, *q.expert);
            w.field("expert", *q.expert).field("hits", x);
            w.field("share", r.selections
                                 ? static_cast<double>(x) / static_cast<double>(r.selections)
                                 : NAN);
        } else {
            w.field("top_expert", r.fig.argmax)
                .field("top_hits", r.fig.max)
                .field("gini", r.fig.gini);
            w.field("entropy_norm", r.fig.entropy_norm).key("hits").begin_array();
            for (size_t e = 0; e < agg.num_experts(); ++e)
                w.value(e < r.hits->size() ? (*r.hits)[e] : uint64_t{0});
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
}

std::string timeline_text(const Aggregates& agg, TagId tag, const QueryOptions& q) {
    const Table t = timeline_table(agg, tag, q, false);
    if (t.empty())
        return wrap("",
                    "No timed records for tag '" + agg.tag(tag).name +
                        "' (the daemon times records on arrival; analyze needs a ts/timestamp "
                        "field).",
                    100, "");
    return (q.layer ? "Layer " + std::to_string(*q.layer) : std::string("All layers combined")) +
           ", tag '" + agg.tag(tag).name + "', per time bucket (UTC):\n" + t.render();
}

std::string timeline_csv(const Aggregates& agg, TagId tag, const QueryOptions& q) {
    return timeline_table(agg, tag, q, true).csv();
}

extern const CommandSpec kTimelineCommand = {
    "timeline",
    "Hits per time bucket",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: all layers combined)");
        app.add_option_function<int32_t>(
               "--expert", [&q = a.q](int32_t e) { q.expert = e; },
               "Follow one expert's hits and share")
            ->check(CLI::Range(0, kMaxExpert));
    },
    kNeedsTimeline | kNeedsLayer,
    [](JsonWriter& w, const Query& x) { write_timeline_json(w, x.agg, x.tag_id(), x.q); },
    [](const Query& x) { return timeline_csv(x.agg, x.tag_id(), x.q); },
    [](const Query& x) { return timeline_text(x.agg, x.tag_id(), x.q); },
};

}  // namespace moe
