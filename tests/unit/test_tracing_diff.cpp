// tracing/routing_diff: two runs aligned by (token, layer), on streams with known answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "tracing/routing_diff.hpp"
#include "tracing_records.hpp"

using namespace moe;
using moe::test::Rec;

namespace {

// `requests` requests of `tokens` tokens over `layers` layers, top-4 of 16 experts with
// weights, request-major then layer-major (as the Mixtral traces are written).
std::vector<Rec> run(int requests, int tokens, int layers, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::vector<Rec> v;
    for (int q = 0; q < requests; ++q)
        for (int l = 0; l < layers; ++l)
            for (int t = 0; t < tokens; ++t) {
                std::vector<int32_t> ids(16);
                std::iota(ids.begin(), ids.end(), 0);
                std::shuffle(ids.begin(), ids.end(), rng);
                ids.resize(4);
                v.push_back({"q" + std::to_string(q),
                             t,
                             l,
                             ids,
                             {0.4f, 0.3f, 0.2f, 0.1f},
                             t < tokens / 2 ? "prefill" : "decode"});
            }
    return v;
}

// The first expert not in `ids`.
int32_t outside(const std::vector<int32_t>& ids) {
    for (int32_t e = 0;; ++e)
        if (std::find(ids.begin(), ids.end(), e) == ids.end()) return e;
}

RoutingDiff diff(const std::vector<Rec>& a, const std::vector<Rec>& b,
                 size_t window = RoutingDiff::kDefaultWindow) {
    RoutingDiff d(window);
    for (const Rec& r : a)
        d.add(DiffSide::a, r.view());
    for (const Rec& r : b)
        d.add(DiffSide::b, r.view());
    d.finish();
    return d;
}

}  // namespace

TEST_CASE("diff of a run with itself: everything agrees, nothing flips") {
    const auto a = run(3, 20, 4);
    const RoutingDiff d = diff(a, a);
    REQUIRE(d.layers().size() == 4);
    for (const auto& [layer, l] : d.layers()) {
        CHECK(l.agreement.aligned == 60);
        CHECK(l.agreement.top1_agreement() == 1);
        CHECK(l.agreement.mean_overlap() == 1);
        CHECK(l.agreement.exact_agreement() == 1);
        CHECK(l.agreement.mean_jaccard() == 1);
        CHECK(l.agreement.mean_weight_mass() == Approx(1.0));  // sum of min(w, w) = sum of w
        CHECK(l.only_a_total() == 0);
        CHECK(l.only_b_total() == 0);
        CHECK(l.flips.empty());
        CHECK(l.top_flips(10).empty());
    }
    const LayerDiff all = d.all_layers();
    CHECK(all.agreement.aligned == 240);
    CHECK(all.gained.empty());
    CHECK(all.lost.empty());
    CHECK(d.tokens().tokens == 60);
    CHECK(d.tokens().differ_any == 0);
    CHECK(d.tokens().differing_layers == std::vector<uint64_t>{60});
    CHECK(d.waiting() == 0);
}

TEST_CASE("diff against a copy with every token's top-1 replaced: exact expected values") {
    const auto a = run(2, 10, 3);
    auto b = a;
    for (Rec& r : b)
        r.experts[0] = outside(r.experts);
    const RoutingDiff d = diff(a, b);
    for (const auto& [layer, l] : d.layers()) {
        INFO(layer);
        CHECK(l.agreement.aligned == 20);
        CHECK(l.agreement.top1_agreement() == 0);
        CHECK(l.agreement.mean_overlap() == 0.75);  // 3 of k = 4
        CHECK(l.agreement.exact_agreement() == 0);
        CHECK(l.agreement.mean_jaccard() == Approx(3.0 / 5.0));
        // Shared: ranks 2-4 with weights 0.3 + 0.2 + 0.1.
        CHECK(l.agreement.mean_weight_mass() == Approx(0.6));
        uint64_t gained = 0, lost = 0;
        for (uint64_t x : l.gained)
            gained += x;
        for (uint64_t x : l.lost)
            lost += x;
        CHECK(gained == 20);
        CHECK(lost == 20);
        uint64_t flipped = 0;
        for (const auto& [key, n] : l.flips)
            flipped += n;
        CHECK(flipped == 20);
    }
    // Each flip pairs A's top-1 with its replacement.
    std::map<uint64_t, uint64_t> expected;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].layer == 1)
            ++expected[uint64_t(uint32_t(a[i].experts[0])) << 32 | uint32_t(b[i].experts[0])];
    std::map<uint64_t, uint64_t> got(d.layers().at(1).flips.begin(), d.layers().at(1).flips.end());
    CHECK(got == expected);
    CHECK(d.tokens().tokens == 20);
    CHECK(d.tokens().differ_any == 20);
    CHECK(d.tokens().differing_layers == std::vector<uint64_t>{0, 0, 0, 20});
}

TEST_CASE("diff: a known share of tokens differs in a known number of layers") {
    const auto a = run(4, 25, 6);  // 100 tokens
    auto b = a;
    // Token t of request q differs in (q * 25 + t) % 4 layers: layers 0 .. n-1.
    std::vector<uint64_t> hist(5, 0);
    for (int q = 0; q < 4; ++q)
        for (int t = 0; t < 25; ++t)
            ++hist[static_cast<size_t>((q * 25 + t) % 4)];
    for (Rec& r : b) {
        const int q = std::stoi(r.request.substr(1));
        const int n = (q * 25 + static_cast<int>(r.token)) % 4;
        if (r.layer < n) r.experts.back() = outside(r.experts);  // the last rank replaced
    }
    const RoutingDiff d = diff(a, b);
    hist.resize(4);
    CHECK(d.tokens().differing_layers == hist);
    CHECK(d.tokens().differ_any == 75);
    CHECK(d.tokens().tokens == 100);
    // Layer 0 differs for n >= 1 (75 tokens), layer 2 for n == 3 (25), layer 5 never.
    CHECK(d.layers().at(0).agreement.exact_agreement() == 0.25);
    CHECK(d.layers().at(0).agreement.top1_agreement() == 1);
    CHECK(d.layers().at(0).agreement.mean_overlap() == Approx((25 + 75 * 0.75) / 100));
    CHECK(d.layers().at(2).agreement.exact_agreement() == 0.75);
    CHECK(d.layers().at(5).agreement.exact_agreement() == 1);
    // Rank-order pairing: the lost last rank flips to its replacement.
    CHECK(d.layers().at(0).top_flips(1000).size() >= 1);
}

TEST_CASE("diff: unmatched records are counted with the reason") {
    std::vector<Rec> a = {
        {"r1", 0, 0, {1, 2}}, {"r1", 1, 0, {1, 2}}, {"r1", 2, 0, {1, 2}},  // r1: 3 tokens in A
        {"r2", 0, 0, {3, 4}},                                              // r2: only in A
        {"r1", 0, 0, {5, 6}},                                              // a duplicate
    };
    std::vector<Rec> b = {
        {"r1", 0, 0, {1, 2}},
        {"r1", 1, 0, {2, 1}},  // r1: 2 tokens in B
        {"r3", 0, 1, {3, 4}},  // r3: only in B
    };
    const RoutingDiff d = diff(a, b);
    const LayerDiff& l0 = d.layers().at(0);
    CHECK(l0.agreement.aligned == 2);
    CHECK(l0.agreement.exact_agreement() == 1);   // {2, 1} is the same set as {1, 2} ...
    CHECK(l0.agreement.top1_agreement() == 0.5);  // ... but not the same top-1
    using U = Unmatched;
    CHECK(l0.only_a[size_t(U::different_length)] == 1);
    CHECK(l0.only_a[size_t(U::missing_request)] == 1);
    CHECK(l0.only_a[size_t(U::duplicate)] == 1);
    CHECK(l0.only_a_total() == 3);
    CHECK(l0.only_b_total() == 0);
    CHECK(d.layers().at(1).only_b[size_t(U::missing_request)] == 1);
    // Every record is aligned or counted unmatched.
    const LayerDiff all = d.all_layers();
    CHECK(2 * all.agreement.aligned + all.only_a_total() + all.only_b_total() ==
          a.size() + b.size());
}

TEST_CASE("diff: a record replayed after its token was aligned is a duplicate") {
    // Found by a review: B = A with 1,000 lines replayed counted them as different_length
    // (a longer run), because the first copies had already met their partners.
    const std::vector<Rec> a = {{"r1", 0, 0, {1, 2}}, {"r1", 1, 0, {1, 2}}};
    std::vector<Rec> b = a;
    b.insert(b.end(), a.begin(), a.end());  // the same lines again
    const RoutingDiff d = diff(a, b);
    const LayerDiff& l0 = d.layers().at(0);
    using U = Unmatched;
    CHECK(l0.agreement.aligned == 2);
    CHECK(l0.only_b[size_t(U::duplicate)] == 2);
    CHECK(l0.only_b[size_t(U::different_length)] == 0);
    CHECK(l0.only_a_total() == 0);
}

TEST_CASE("diff: a full window evicts its oldest record, counted, never dropped") {
    const auto a = run(1, 10, 1);
    auto b = a;
    std::reverse(b.begin(), b.end());  // B's last token is A's first: A's records wait
    const RoutingDiff d = diff(a, b, 4);
    const LayerDiff& l = d.layers().at(0);
    // A's tokens 0-5 were pushed out by 6-9; B's tokens 9-6 then met theirs; B's 5-0 found
    // nothing and waited (the window holds 4: 5 and 4 were pushed out by 1 and 0); 3-0 wait
    // to the end, when their partners are known to have been pushed out: evicted too.
    CHECK(l.agreement.aligned == 4);
    CHECK(l.only_a[size_t(Unmatched::evicted)] == 6);
    CHECK(l.only_b[size_t(Unmatched::evicted)] == 6);
    CHECK(l.only_b[size_t(Unmatched::different_length)] == 0);
    CHECK(2 * l.agreement.aligned + l.only_a_total() + l.only_b_total() == 20);
}

TEST_CASE("diff: the interleaving of the two runs does not change the figures") {
    const auto a = run(3, 12, 3, 5);
    auto b = run(3, 12, 3, 6);  // another routing of the same tokens
    b.resize(b.size() - 7);     // and a shorter last request
    RoutingDiff together;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < b.size()) together.add(DiffSide::b, b[i].view());
        if (i < a.size()) together.add(DiffSide::a, a[i].view());
    }
    together.finish();
    const RoutingDiff apart = diff(a, b);
    const LayerDiff x = together.all_layers(), y = apart.all_layers();
    CHECK(x.agreement.aligned == y.agreement.aligned);
    CHECK(x.agreement.top1 == y.agreement.top1);
    CHECK(x.agreement.overlap == Approx(y.agreement.overlap));
    CHECK(x.only_a == y.only_a);
    CHECK(x.gained == y.gained);
    CHECK(x.flips == y.flips);
    CHECK(together.tokens().differing_layers == apart.tokens().differing_layers);
    CHECK(x.only_a[size_t(Unmatched::different_length)] == 7);
}

TEST_CASE("diff: agreement by position bucket and by phase") {
    std::vector<Rec> a, b;
    for (int64_t t : {0, 1, 15, 16, 127, 128, 1023, 1024, 5000}) {
        a.push_back({"r", t, 0, {1, 2}, {}, t < 16 ? "prefill" : "decode"});
        // Positions from 128 on lose their top-1.
        b.push_back({"r", t, 0, {t >= 128 ? 3 : 1, 2}, {}, t < 16 ? "prefill" : "decode"});
    }
    const RoutingDiff d = diff(a, b);
    const auto& p = d.by_position();
    CHECK(p[0].aligned == 1);
    CHECK(p[1].aligned == 2);
    CHECK(p[2].aligned == 2);
    CHECK(p[3].aligned == 2);
    CHECK(p[4].aligned == 2);
    CHECK(p[2].top1_agreement() == 1);
    CHECK(p[3].top1_agreement() == 0);
    CHECK(p[3].mean_overlap() == 0.5);
    REQUIRE(d.by_phase().size() == 2);
    CHECK(d.by_phase()[0].first == "prefill");
    CHECK(d.by_phase()[0].second.aligned == 3);
    CHECK(d.by_phase()[1].first == "decode");
    CHECK(d.by_phase()[1].second.top1_agreement() == Approx(2.0 / 6.0));
    CHECK(std::isnan(d.layers().at(0).agreement.mean_weight_mass()));  // no weights
}

TEST_CASE("diff: llama-server records align by forward pass and row; others are unplaced") {
    std::vector<Rec> a, b;
    for (int64_t pass = 0; pass < 3; ++pass)
        for (int32_t layer = 0; layer < 2; ++layer)
            for (int32_t row = 0; row < 4; ++row) {
                Rec r{"", -1, layer, {row, 4 + layer}};
                r.pass = pass;
                r.row = row;
                a.push_back(r);
                if (pass == 2 && row == 3) continue;  // B's last pass is a row short
                if (pass == 1) r.experts[0] = 7;
                b.push_back(r);
            }
    a.push_back({"", -1, 0, {1, 2}});  // no request, no pass: cannot be placed
    const RoutingDiff d = diff(a, b);
    CHECK(d.unplaced(DiffSide::a) == 1);
    CHECK(d.records(DiffSide::a) == 25);
    CHECK(d.with_request(DiffSide::a) == 0);
    const LayerDiff all = d.all_layers();
    CHECK(all.agreement.aligned == 22);
    CHECK(all.agreement.top1 == 22 - 8);  // pass 1 changed every top-1
    CHECK(all.only_a[size_t(Unmatched::different_length)] == 2);
    CHECK(d.tokens().tokens == 11);
}

TEST_CASE("diff: a small window closes token tallies early, and says so") {
    const auto a = run(1, 6, 3);
    RoutingDiff d(2);  // layer-major: a token's layers are 6 records apart
    for (const Rec& r : a) {
        d.add(DiffSide::a, r.view());
        d.add(DiffSide::b, r.view());
    }
    d.finish();
    CHECK(d.all_layers().agreement.aligned == 18);
    CHECK(d.tokens().tokens > 6);  // tallies split: a token counted once per closing
    CHECK(d.tokens().closed_early > 0);
}

TEST_CASE("diff: past 63 phases every new phase shares one row") {
    std::vector<Rec> a;
    for (int i = 0; i < 70; ++i)
        a.push_back({"r", i, 0, {1}, {}, "p" + std::to_string(i)});
    const RoutingDiff d = diff(a, a);
    REQUIRE(d.by_phase().size() == RoutingDiff::kMaxPhases);
    CHECK(d.by_phase().back().first == "(other)");
    CHECK(d.by_phase().back().second.aligned == 7);
}

TEST_CASE("diff: once A has ended, B's records do not wait; partners pushed out say so") {
    const auto a = run(2, 10, 1);  // q0 and q1, 10 tokens each
    RoutingDiff d(12);
    for (const Rec& r : a)
        d.add(DiffSide::a, r.view());  // q0's tokens 0-7 are pushed out
    d.end_of(DiffSide::a);
    for (const Rec& r : a)
        d.add(DiffSide::b, r.view());
    CHECK(d.waiting() == 0);  // nothing of B waited for an A that had ended
    d.finish();
    const LayerDiff& l = d.layers().at(0);
    CHECK(l.agreement.aligned == 12);
    CHECK(l.only_a[size_t(Unmatched::evicted)] == 8);
    // B's q0 tokens 0-7: A had q0, but its records were pushed out.
    CHECK(l.only_b[size_t(Unmatched::evicted)] == 8);
    CHECK(l.only_b_total() == 8);
}
