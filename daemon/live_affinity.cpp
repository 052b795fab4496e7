#include "daemon/live_affinity.hpp"

#include <spdlog/spdlog.h>

#include "daemon/prometheus_text.hpp"

namespace moe {

LiveAffinity::Follower& LiveAffinity::follower(TagId tag) {
    if (tag >= followers_.size()) followers_.resize(tag + 1);
    Follower& f = followers_[tag];
    if (f.affinity || f.refused) return f;
    const uint64_t bytes = (window_ + LayerAffinity::kLateWindow) * LayerAffinity::kWaitingBytes;
    if (!agg_.reserve_bytes(bytes)) {
        spdlog::warn(
            "--affinity: tag '{}' not followed: its window ({} MB) does not fit --max-memory-mb",
            agg_.tag(tag).name, bytes >> 20);
        return f;
    }
    f.affinity = std::make_unique<LayerAffinity>(
        window_, false,
        [this, tag](int32_t from_layer, std::span<const int32_t> a, std::span<const int32_t> b) {
            if (agg_.add_transition(tag, from_layer, a, b)) return;
            Follower& me = followers_[tag];
            if (me.refused++ == 0)
                spdlog::warn(
                    "--affinity: tag '{}' layers {}>{}: its transition table does not fit "
                    "--max-memory-mb; such pairs are counted as refused",
                    agg_.tag(tag).name, from_layer, from_layer + 1);
        });
    return f;
}

void LiveAffinity::add(TagId tag, const RoutingRecord& r) {
    Follower& f = follower(tag);
    if (f.affinity)
        f.affinity->add(r);
    else
        ++f.refused;
}

LiveAffinity::Counters LiveAffinity::counters() const {
    Counters c;
    for (const Follower& f : followers_) {
        c.refused += f.refused;
        if (!f.affinity) continue;
        c.pairs += f.affinity->pairs();
        c.evicted += f.affinity->evicted();
        c.unfollowed += f.affinity->unfollowed();
        c.duplicates += f.affinity->duplicates();
        c.unplaced += f.affinity->unplaced();
        c.waiting += f.affinity->waiting();
    }
    return c;
}

std::string LiveAffinity::prometheus() const {
    std::string s;
    const ExpositionLimits limits;
    std::vector<std::pair<std::string, const TransitionTable*>> series;
    for (TagId t = 0; t < agg_.tag_count() && t <= limits.max_tags; ++t) {
        const TagStats& ts = agg_.tag(t);
        const std::string tag = prometheus_label(ts.name);
        for (const auto& [from, table] : ts.transitions)
            series.emplace_back("tag=\"" + tag + "\",from_layer=\"" + std::to_string(from) +
                                    "\",to_layer=\"" + std::to_string(from + 1) + "\"",
                                &table);
    }
    prometheus_header(s, metric::affinity_mi, "gauge",
                      "Mutual information (bits) between a token's experts at a layer and at the "
                      "next, since the start (docs/FIGURES.md \"Affinity\").");
    for (const auto& [labels, t] : series)
        prometheus_sample(s, metric::affinity_mi, labels, mutual_information_bits(*t));
    prometheus_header(s, metric::affinity_tokens, "counter",
                      "Tokens followed from a layer to the next (N of the transition table).");
    for (const auto& [labels, t] : series)
        prometheus_sample(s, metric::affinity_tokens, labels, static_cast<double>(t->tokens()));
    const Counters c = counters();
    prometheus_header(s, metric::affinity_unpaired, "counter",
                      "Records --affinity did not pair with the same token's next layer, by "
                      "reason: unfollowed (the highest layer: none follows), evicted (pushed "
                      "out of --affinity-window), duplicate, unplaced (no request and token, "
                      "no forward pass), refused (memory budget).");
    for (auto [reason, n] : {std::pair{"unfollowed", c.unfollowed},
                             {"evicted", c.evicted},
                             {"duplicate", c.duplicates},
                             {"unplaced", c.unplaced},
                             {"refused", c.refused}})
        prometheus_sample(s, metric::affinity_unpaired, std::string("reason=\"") + reason + "\"",
                          static_cast<double>(n));
    prometheus_header(s, metric::affinity_waiting, "gauge",
                      "Records waiting for their token's next layer (at most --affinity-window "
                      "+ 32768 per tag).");
    prometheus_sample(s, metric::affinity_waiting, "", static_cast<double>(c.waiting));
    return s;
}

}  // namespace moe
