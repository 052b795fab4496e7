#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "analytics/ema_vector.hpp"

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
