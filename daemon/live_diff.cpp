#include "daemon/live_diff.hpp"

#include <stdexcept>

#include "daemon/prometheus_text.hpp"

namespace moe {

std::optional<DiffPairSpec> parse_diff_pair(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    DiffPairSpec p{text.substr(0, colon), text.substr(colon + 1)};
    if (p.a.empty() || p.b.empty() || p.a == p.b) return std::nullopt;
    return p;
}

LiveDiffs::LiveDiffs(Aggregates& agg, const std::vector<DiffPairSpec>& pairs, size_t window)
    : agg_(agg) {
    // A waiting record, a per-token tally, the streams seen and a recently aligned key (about
    // 150 bytes: a hash node and a list node of a 32-byte TokenKey): about this much per slot.
    constexpr uint64_t kSlotBytes = 470;
    for (const DiffPairSpec& p : pairs) {
        if (!agg_.reserve_bytes(window * kSlotBytes))
            throw std::runtime_error("--diff " + p.a + ":" + p.b + ": a --diff-window of " +
                                     std::to_string(window) +
                                     " records does not fit --max-memory-mb");
        Pair& mine = pairs_.emplace_back();
        mine.spec = p;
        mine.diff = std::make_unique<RoutingDiff>(window);
        if (auto it = agg_.live_diffs().find({p.a, p.b}); it != agg_.live_diffs().end())
            mine.base = it->second;
    }
}

void LiveDiffs::add(TagId tag, const RoutingRecord& r) {
    for (Pair& p : pairs_) {
        if (tag >= p.side.size()) p.side.resize(tag + 1, -1);
        int8_t& side = p.side[tag];
        if (side < 0) {
            const std::string& name = agg_.tag(tag).name;
            side = in_run(name, p.spec.a) ? 0 : in_run(name, p.spec.b) ? 1 : 2;
        }
        if (side < 2) p.diff->add(side == 0 ? DiffSide::a : DiffSide::b, r);
    }
}

void LiveDiffs::publish() {
    for (Pair& p : pairs_) {
        Aggregates::LiveDiff& out = agg_.live_diffs()[{p.spec.a, p.spec.b}];
        for (const auto& [layer, d] : p.diff->layers()) {
            const uint64_t counted = d.agreement.aligned + d.only_a_total() + d.only_b_total();
            uint64_t& last = p.published[layer];
            if (counted == last) continue;
            last = counted;
            DiffLayerCounts now = p.base.count(layer) ? p.base.at(layer) : DiffLayerCounts{};
            DiffLayerCounts live;
            live.agreement = d.agreement;
            live.only_a = d.only_a_total();
            live.only_b = d.only_b_total();
            const auto evicted = static_cast<size_t>(Unmatched::evicted);
            live.evicted = d.only_a[evicted] + d.only_b[evicted];
            now.add(live);
            now.dirty = true;
            out[layer] = now;
        }
    }
}

std::string LiveDiffs::prometheus() const {
    std::string s;
    if (pairs_.empty()) return s;
    struct Line {
        std::string labels;
        const DiffLayerCounts* d;
    };
    std::vector<Line> lines;
    std::vector<std::pair<std::string, const Pair*>> runs;
    for (const Pair& p : pairs_) {
        const std::string run =
            "a=\"" + prometheus_label(p.spec.a) + "\",b=\"" + prometheus_label(p.spec.b) + "\"";
        runs.emplace_back(run, &p);
        const auto it = agg_.live_diffs().find({p.spec.a, p.spec.b});
        if (it == agg_.live_diffs().end()) continue;
        for (const auto& [layer, d] : it->second)
            lines.push_back({run + ",layer=\"" + std::to_string(layer) + "\"", &d});
    }
    prometheus_header(s, metric::diff_overlap, "gauge",
                      "Live diff (--diff A:B): mean top-k overlap |A and B| / k of the tokens "
                      "aligned since the start (0..1).");
    for (const Line& x : lines)
        prometheus_sample(s, metric::diff_overlap, x.labels, x.d->agreement.mean_overlap());
    prometheus_header(s, metric::diff_top1, "gauge",
                      "Live diff: share of aligned tokens with the same first-ranked expert.");
    for (const Line& x : lines)
        prometheus_sample(s, metric::diff_top1, x.labels, x.d->agreement.top1_agreement());
    prometheus_header(s, metric::diff_aligned, "counter",
                      "Live diff: tokens of the layer seen in both runs.");
    for (const Line& x : lines)
        prometheus_sample(s, metric::diff_aligned, x.labels,
                          static_cast<double>(x.d->agreement.aligned));
    prometheus_header(s, metric::diff_unmatched, "counter",
                      "Live diff: records of run a or b counted without a partner (pushed out of "
                      "--diff-window, or a second record of a token and layer).");
    for (const Line& x : lines)
        for (auto [run, n] : {std::pair{"a", x.d->only_a}, {"b", x.d->only_b}})
            prometheus_sample(s, metric::diff_unmatched, x.labels + ",run=\"" + run + "\"",
                              static_cast<double>(n));
    prometheus_header(s, metric::diff_evicted, "counter",
                      "Live diff: of the unmatched records, those pushed out of --diff-window.");
    for (const Line& x : lines)
        prometheus_sample(s, metric::diff_evicted, x.labels, static_cast<double>(x.d->evicted));
    prometheus_header(s, metric::diff_waiting, "gauge",
                      "Live diff: records waiting for their partner (at most --diff-window).");
    for (const auto& [run, p] : runs)
        prometheus_sample(s, metric::diff_waiting, run, static_cast<double>(p->diff->waiting()));
    return s;
}

}  // namespace moe
