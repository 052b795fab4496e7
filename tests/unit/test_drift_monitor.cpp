// The daemon's live drift windows (daemon/drift_monitor.hpp): what a flush hands over is
// counted once, also when the write of that flush fails and its changes go back to be
// written again with the next flush's.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "daemon/drift_monitor.hpp"

using namespace moe;

namespace {

// `n` records of layer 0 at time t, all choosing `experts`.
void add(Aggregates& agg, TagId tag, int n, std::vector<int32_t> experts, double t) {
    for (int i = 0; i < n; ++i) {
        RoutingRecord r;
        r.layer = 0;
        r.experts = experts;
        r.timestamp = t;
        REQUIRE_FALSE(agg.add_routing(tag, r));
    }
}

}  // namespace

TEST_CASE("drift windows: a failed write's restored changes are not counted again") {
    DriftConfig cfg;
    cfg.baseline = "ref";
    cfg.window_seconds = 60;
    DriftMonitor drift(cfg);
    const double T0 = 1699999980;  // a window start (a multiple of 60)
    Aggregates agg;
    const TagId ref = agg.tag_id("ref"), live = agg.tag_id("live");
    add(agg, ref, 200, {0, 1}, T0);
    add(agg, live, 30, {2, 3}, T0 + 10);  // window [T0, T0 + 60)

    // The first flush's write fails: its changes go back, and the next flush takes them
    // with what arrived since.
    auto first = agg.take_changes();
    drift.observe(*first, agg, T0 + 30);
    drift.write_failed(*first);
    agg.restore_changes(*first);
    add(agg, live, 20, {0, 1}, T0 + 20);
    auto second = agg.take_changes();
    drift.observe(*second, agg, T0 + 61);  // closes the window

    const auto& latest = drift.latest();
    const auto it = latest.find({"live", 0});
    REQUIRE(it != latest.end());
    CHECK(it->second.start == static_cast<int64_t>(T0));
    CHECK(it->second.point.tokens == 50);  // 30 + 20, not 30 + 30 + 20

    // A later successful flush of more records adds only those.
    add(agg, live, 5, {0, 1}, T0 + 30);
    auto third = agg.take_changes();
    drift.observe(*third, agg, T0 + 62);
    CHECK(latest.at({"live", 0}).point.tokens == 55);
}
