#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "analytics/ema_vector.hpp"
#include "analytics/layer_stats.hpp"

using moe::EmaVector;

namespace {
// The definition, literally: every expert decays on every record.
struct NaiveEma {
    std::vector<double> v;
    double norm = 0;
    void update(const std::vector<int32_t>& sel, double d) {
        for (size_t e = 0; e < v.size(); ++e) {
            double x = 0;
            for (int32_t s : sel)
                if (static_cast<size_t>(s) == e) x = 1.0 / static_cast<double>(sel.size());
            v[e] = d * v[e] + (1 - d) * x;
        }
        norm = d * norm + (1 - d);
    }
};

void compare(double decay, int records) {
    const size_t E = 16;
    EmaVector fast;
    fast.resize(E);
    NaiveEma slow{std::vector<double>(E, 0.0)};
    std::mt19937 rng(42);
    for (int t = 0; t < records; ++t) {
        std::vector<int32_t> sel;
        while (sel.size() < 3) {
            const auto e = static_cast<int32_t>(rng() % E);
            if (std::find(sel.begin(), sel.end(), e) == sel.end()) sel.push_back(e);
        }
        fast.update(sel, decay);
        slow.update(sel, decay);
    }
    for (size_t e = 0; e < E; ++e) {
        CHECK(fast.value(e) == Approx(slow.v[e]).epsilon(1e-9).margin(1e-300));
        if (slow.norm > 0) CHECK(fast.corrected(e) == Approx(slow.v[e] / slow.norm).epsilon(1e-9));
    }
    CHECK(fast.norm() == Approx(slow.norm).epsilon(1e-12));
}
}  // namespace

TEST_CASE("O(k) scaled EMA equals the O(E) definition") {
    compare(0.99999, 5000);
    compare(0.99, 5000);
}

TEST_CASE("scaled EMA survives rescaling (fast decay underflows the scale)") {
    compare(0.5, 3000);  // 0.5^665 < 1e-200: rescaled several times
}

TEST_CASE("EMA state round-trips through assign()") {
    EmaVector a;
    a.resize(4);
    a.update(std::vector<int32_t>{1, 2}, 0.9);
    a.update(std::vector<int32_t>{2, 3}, 0.9);
    EmaVector b;
    b.assign(a.values(), a.norm());
    b.update(std::vector<int32_t>{0, 1}, 0.9);
    a.update(std::vector<int32_t>{0, 1}, 0.9);
    for (size_t e = 0; e < 4; ++e)
        CHECK(b.value(e) == Approx(a.value(e)));
}

TEST_CASE("counting a record into its layer and all layers gives both EMAs update()'s bits") {
    // LayerStats::add walks the ids once for the layer and for all layers combined; each
    // EMA must still be exactly EmaVector::update, including across rescaling (decay 0.5).
    std::mt19937 rng(3);
    for (const double decay : {0.99999, 0.9, 0.5}) {
        moe::LayerStats layer, all;
        layer.resize(32, true);
        all.resize(32, false);
        EmaVector want_layer, want_all;
        want_layer.resize(32);
        want_all.resize(32);
        moe::LayerOptions o;
        o.ema_decay = decay;
        std::vector<double> scratch;
        for (int n = 0; n < 5000; ++n) {
            std::vector<int32_t> ids(1 + rng() % 8);
            for (size_t i = 0; i < ids.size(); ++i)
                ids[i] = static_cast<int32_t>(i * 4 + rng() % 4);  // distinct
            moe::RoutingRecord r;
            r.layer = 0;
            r.experts = ids;
            moe::LayerStats::add(layer, all, r, o, scratch);
            want_layer.update(ids, decay);
            want_all.update(ids, decay);
        }
        CHECK(layer.ema.values() == want_layer.values());
        CHECK(all.ema.values() == want_all.values());
        CHECK(layer.ema.norm() == want_layer.norm());
        CHECK(layer.tokens == 5000);
        CHECK(all.selections() == layer.selections());
    }
}
