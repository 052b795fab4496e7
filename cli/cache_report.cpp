// `moescope cache`: hit rates of a per-layer expert cache of C slots under lru, lfu, opt and
// static on the recorded sequence of FILE arguments (docs/FIGURES.md "Cache simulation").
#include <algorithm>
#include <stdexcept>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "decisions/cache_sim.hpp"

namespace moe {

namespace {

struct CacheRow {
    std::optional<int32_t> layer;  // none: all layers pooled
    uint32_t capacity;
    CachePolicy policy;
    CacheResult r;
};

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::vector<uint32_t> capacities_of(const DecisionArgs& d) {
    std::vector<uint32_t> out;
    for (const auto& c : split(d.capacities)) {
        size_t used = 0;
        unsigned long v = 0;
        try {
            v = std::stoul(c, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != c.size() || v == 0 || v > (1u << 20))
            throw std::invalid_argument("bad --capacity '" + c +
                                        "' (use slot counts from 1, e.g. 4,8,16)");
        out.push_back(static_cast<uint32_t>(v));
    }
    return out;
}

std::vector<CachePolicy> policies_of(const DecisionArgs& d) {
    std::vector<CachePolicy> out;
    for (const auto& name : split(d.policies)) {
        const auto p = parse_cache_policy(name);
        if (!p)
            throw std::invalid_argument("unknown --policy '" + name +
                                        "' (use lru, lfu, opt, static)");
        out.push_back(*p);
    }
    return out;
}

std::vector<CacheRow> simulate(const Query& x) {
    if (!x.sequence)
        throw std::invalid_argument(
            "cache simulates the recorded sequence of FILE arguments; a database keeps totals "
            "only (moescope cache --capacity C FILE...)");
    const DecisionArgs& d = x.args.decide;
    const auto policies = policies_of(d);
    auto per_layer = layer_accesses(*x.sequence, x.tag_id());
    if (x.q.layer) std::erase_if(per_layer, [&](const auto& kv) { return kv.first != *x.q.layer; });
    if (per_layer.empty()) throw NoDataError("no routing records in tag '" + x.q.tag + "'");
    std::vector<CacheRow> rows;
    for (uint32_t C : capacities_of(d))
        for (CachePolicy p : policies) {
            CacheRow overall{std::nullopt, C, p, {}};
            for (const auto& [layer, acc] : per_layer) {
                rows.push_back({layer, C, p, simulate_cache(acc, C, p)});
                overall.r.add(rows.back().r);
            }
            rows.push_back(overall);
        }
    return rows;
}

void cache_json(JsonWriter& w, const Query& x) {
    w.field("tag", std::string_view(x.q.tag)).key("results").begin_array();
    for (const auto& r : simulate(x)) {
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
    for (const auto& r : simulate(x))
        t.add({r.layer ? std::to_string(*r.layer) : "all", std::to_string(r.capacity),
               std::string(cache_policy_name(r.policy)), std::to_string(r.r.accesses),
               std::to_string(r.r.hits), fmt_num::sig(r.r.hit_rate(), 10)});
    return t.csv();
}

// One table per capacity: a row per layer (and "all"), a column per policy.
std::string cache_text(const Query& x) {
    const auto rows = simulate(x);
    const auto policies = policies_of(x.args.decide);
    std::string s = "Expert-cache hit rate per layer (tag '" + x.q.tag +
                    "'; one access per selection, docs/FIGURES.md \"Cache simulation\")\n";
    size_t i = 0;
    const auto capacities = capacities_of(x.args.decide);
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
    "Simulate a per-layer expert cache (lru, lfu, opt, static) on FILE arguments",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: every layer)");
        app.add_option("--capacity", a.decide.capacities, "Cache slots per layer: C[,C2,...]")
            ->required();
        app.add_option("--policy", a.decide.policies, "Policies: lru,lfu,opt,static")
            ->capture_default_str();
    },
    kNeedsTotals | kNeedsLayer | kNeedsSequence | kNeedsPerToken,
    cache_json,
    cache_csv,
    cache_text,
};

}  // namespace moe
