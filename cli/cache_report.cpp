// `moescope cache`: hit rates of a per-layer expert cache of C slots under lru, lfu, opt and
// static on the recorded sequence of FILE arguments, or from a database: the daemon's live
// lru/lfu counters and static from the hits (docs/FIGURES.md "Cache simulation").
#include <algorithm>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "decisions/cache_sim.hpp"
#include "options/capacity_list.hpp"

namespace moe {

namespace {

// The cache command's own options: comma lists as given (a vector option would swallow the
// FILE arguments that follow).
struct CacheArgs final : CommandOptions {
    std::string capacities;
    std::string policies;  // empty: every policy the input supports
};

struct CacheRow {
    std::optional<int32_t> layer;  // none: all layers pooled
    uint32_t capacity;
    CachePolicy policy;
    CacheResult r;
};

// What one invocation shows: rows ordered capacity, policy, layer (then the pooled row).
struct CacheTable {
    std::vector<uint32_t> capacities;
    std::vector<CachePolicy> policies;
    std::vector<CacheRow> rows;
};

std::vector<CachePolicy> policies_of(const std::string& list) {
    std::vector<CachePolicy> out;
    for (const auto& name : split_commas(list)) {
        const auto p = parse_cache_policy(name);
        if (!p)
            throw std::invalid_argument("unknown --policy '" + name +
                                        "' (use lru, lfu, opt, static)");
        out.push_back(*p);
    }
    return out;
}

std::vector<int32_t> layers_of(const Query& x) {
    std::vector<int32_t> ids = x.tag().layer_ids();
    if (x.q.layer) std::erase_if(ids, [&](int32_t l) { return l != *x.q.layer; });
    if (ids.empty()) throw NoDataError("no routing records in tag '" + x.q.tag + "'");
    return ids;
}

// The recorded sequence of FILE arguments: every policy, any capacity.
CacheTable from_sequence(const Query& x) {
    const auto& d = x.own<CacheArgs>();
    if (d.capacities.empty())
        throw std::invalid_argument("--capacity is required with FILE arguments");
    CacheTable t{parse_capacity_list(d.capacities, "--capacity"),
                 policies_of(d.policies.empty() ? "lru,lfu,opt,static" : d.policies),
                 {}};
    auto per_layer = layer_accesses(*x.sequence, x.tag_id());
    if (x.q.layer) std::erase_if(per_layer, [&](const auto& kv) { return kv.first != *x.q.layer; });
    if (per_layer.empty()) throw NoDataError("no routing records in tag '" + x.q.tag + "'");
    for (uint32_t C : t.capacities)
        for (CachePolicy p : t.policies) {
            CacheRow overall{std::nullopt, C, p, {}};
            for (const auto& [layer, acc] : per_layer) {
                t.rows.push_back({layer, C, p, simulate_cache(acc, C, p)});
                overall.r.add(t.rows.back().r);
            }
            t.rows.push_back(overall);
        }
    return t;
}

// The C most-selected experts' share of the selections: the static policy needs only the
// totals, so it answers from a database for any capacity.
CacheResult static_from_hits(const LayerStats& l, uint32_t C) {
    std::vector<uint64_t> h = l.hits;
    std::sort(h.begin(), h.end(), std::greater<>());
    CacheResult r{l.selections(), 0};
    for (size_t i = 0; i < std::min<size_t>(C, h.size()); ++i)
        r.hits += h[i];
    return r;
}

// A database: lru and lfu as the daemon simulated them live (--cache-capacity), static from
// the hits; opt needs the future of the sequence, which a database does not keep.
CacheTable from_database(const Query& x) {
    const auto& d = x.own<CacheArgs>();
    const TagStats& ts = x.tag();
    const auto layers = layers_of(x);
    std::vector<uint32_t> live;  // capacities simulated live, in the tag's first layer order
    for (int32_t l : layers)
        for (const auto& c : ts.layer(l)->caches.caches)
            if (std::find(live.begin(), live.end(), c.spec().capacity) == live.end())
                live.push_back(c.spec().capacity);
    std::sort(live.begin(), live.end());
    auto live_list = [&] {
        std::string s;
        for (uint32_t c : live)
            s += (s.empty() ? "" : ",") + std::to_string(c);
        return s.empty() ? std::string("none (start moescoped with --cache-capacity C)") : s;
    };
    CacheTable t{
        d.capacities.empty() ? live : parse_capacity_list(d.capacities, "--capacity"), {}, {}};
    if (t.capacities.empty())
        throw std::invalid_argument(
            "give --capacity C: this database has no live cache simulation (moescoped "
            "--cache-capacity C keeps one; FILE arguments simulate any capacity)");
    if (d.policies.empty())
        t.policies = {CachePolicy::lru, CachePolicy::lfu, CachePolicy::fixed};
    else
        t.policies = policies_of(d.policies);
    for (CachePolicy p : t.policies)
        if (p == CachePolicy::opt)
            throw std::invalid_argument(
                "opt needs the whole recorded sequence: give FILE arguments (a database keeps "
                "totals and the daemon's live lru/lfu counters only)");
    for (uint32_t C : t.capacities)
        for (CachePolicy p : t.policies) {
            CacheRow overall{std::nullopt, C, p, {}};
            for (int32_t l : layers) {
                const LayerStats& ls = *ts.layer(l);
                CacheResult r;
                if (p == CachePolicy::fixed) {
                    r = static_from_hits(ls, C);
                } else {
                    const auto op = p == CachePolicy::lfu ? OnlinePolicy::lfu : OnlinePolicy::lru;
                    const auto it = std::find_if(ls.caches.caches.begin(), ls.caches.caches.end(),
                                                 [&](const OnlineCache& c) {
                                                     return c.spec() == CacheSpec{op, C};
                                                 });
                    if (it == ls.caches.caches.end())
                        throw std::invalid_argument(
                            "no live " + std::string(cache_policy_name(p)) + " cache of " +
                            std::to_string(C) + " slots at layer " + std::to_string(l) +
                            " in this database; live capacities (moescoped --cache-capacity): " +
                            live_list() +
                            "; static works for any capacity, FILE arguments for every policy");
                    r = {it->accesses, it->hits};
                }
                t.rows.push_back({l, C, p, r});
                overall.r.add(r);
            }
            t.rows.push_back(overall);
        }
    return t;
}

CacheTable simulate(const Query& x) {
    return x.sequence ? from_sequence(x) : from_database(x);
}

void cache_json(JsonWriter& w, const Query& x) {
    w.field("tag", std::string_view(x.q.tag)).key("results").begin_array();
    for (const auto& r : simulate(x).rows) {
        w.begin_object();
        if (r.layer) w.field("layer", *r.layer);
        w.field("capacity", r.capacity).field("policy", cache_policy_name(r.policy));
        w.field("accesses", r.r.accesses).field("hits", r.r.hits).field("hit_rate", r.r.hit_rate());
        w.end_object();
    }
    w.end_array();
}

std::string cache_csv(const Query& x) {
    Table t({"layer", "capacity", "policy", "accesses", "hits", "hit_rate"});
    for (const auto& r : simulate(x).rows)
        t.add({r.layer ? std::to_string(*r.layer) : "all", std::to_string(r.capacity),
               std::string(cache_policy_name(r.policy)), std::to_string(r.r.accesses),
               std::to_string(r.r.hits), fmt_num::sig(r.r.hit_rate(), 10)});
    return t.csv();
}

// One table per capacity: a row per layer (and "all"), a column per policy.
std::string cache_text(const Query& x) {
    const CacheTable ct = simulate(x);
    const auto& rows = ct.rows;
    const auto& policies = ct.policies;
    std::string s = wrap("",
                         "Expert-cache hit rate per layer (tag '" + x.q.tag +
                             "'; one access per selection, docs/FIGURES.md \"Cache simulation\")",
                         100, "");
    size_t i = 0;
    const auto& capacities = ct.capacities;
    for (uint32_t C : capacities) {
        std::vector<std::string> h = {"layer"};
        for (CachePolicy p : policies)
            h.emplace_back(cache_policy_name(p));
        Table t(h);
        const size_t layers = rows.size() / (capacities.size() * policies.size());
        for (size_t l = 0; l < layers; ++l) {
            const auto& first = rows[i + l];
            std::vector<std::string> row = {first.layer ? std::to_string(*first.layer) : "all"};
            for (size_t p = 0; p < policies.size(); ++p)
                row.push_back(fmt_num::percent(rows[i + p * layers + l].r.hit_rate()));
            t.add(row);
        }
        i += layers * policies.size();
        s += "Capacity " + std::to_string(C) + " of " + std::to_string(x.agg.num_experts()) +
             " experts\n" + t.render("  ");
    }
    return s;
}

}  // namespace

extern const CommandSpec kCacheCommand = {
    "cache",
    "Expert-cache hit rates per layer: lru, lfu, opt, static (FILE) or live (database)",
    [](CLI::App& app, CommandArgs& a) {
        auto& d = a.make_own<CacheArgs>();
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: every layer)");
        app.add_option("--capacity", d.capacities,
                       "Cache slots per layer: C[,C2,...] (required with FILE arguments; on a "
                       "database: the daemon's --cache-capacity values)");
        app.add_option("--policy", d.policies,
                       "Policies (lru,lfu,opt,static); default: all on FILE arguments, "
                       "lru,lfu,static on a database");
    },
    kNeedsTotals | kNeedsLayer | kNeedsSequence | kNeedsPerToken | kWarnsQuality,
    cache_json,
    cache_csv,
    cache_text,
};

}  // namespace moe
