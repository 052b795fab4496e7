#include <catch2/catch.hpp>

#include "decisions/kde_values.hpp"

using namespace moe;
using Kind = KdeQuantity::Kind;

namespace {
std::vector<double> of(const KdeQuantity& q, std::vector<int32_t> ids, std::vector<float> w,
                       std::vector<float> z = {}, int32_t expert = -1) {
    std::vector<float> scratch;
    std::vector<double> out;
    kde_values_of(q, ids, w, z, expert, scratch, out);
    return out;
}
}  // namespace

TEST_CASE("a KDE quantity's stored name parses back, and other names do not parse") {
    for (const Kind kind : {Kind::rank, Kind::trimmed, Kind::popular})
        for (const bool logits : {false, true})
            for (const uint32_t n : {1u, 2u, 4u, 12u, 100u}) {
                const KdeQuantity q{kind, n, logits};
                const auto back = KdeQuantity::parse(q.name());
                REQUIRE(back);
                CHECK(back->kind == kind);
                CHECK(back->n == n);
                CHECK(back->logits == logits);
            }
    CHECK(KdeQuantity{Kind::trimmed, 2, false}.name() == "trim2_weights");
    CHECK(KdeQuantity{Kind::popular, 3, true}.name() == "popular3_logit");
    for (const char* bad : {"", "top_weight", "top0_weight", "top01_weight", "top1_weights",
                            "trim2_weight", "popularx_logit", "top1_logit ", "top-1_weight"})
        CHECK_FALSE(KdeQuantity::parse(bad));
}

TEST_CASE("kde values of one record: K-th largest, trimmed, the popular expert's") {
    const std::vector<int32_t> ids{5, 2, 7, 1};
    const std::vector<float> w{0.4f, 0.3f, 0.2f, 0.1f};
    const std::vector<float> z{0.5f, -1, 3, 0, 2, 4, -2, 1};  // experts 0..7
    CHECK(of({Kind::rank, 1, false}, ids, w) == std::vector<double>{0.4f});
    CHECK(of({Kind::rank, 4, false}, ids, w) == std::vector<double>{0.1f});
    CHECK(of({Kind::rank, 5, false}, ids, w).empty());  // fewer than K
    CHECK(of({Kind::rank, 2, true}, ids, w, z) == std::vector<double>{3});
    CHECK(of({Kind::trimmed, 1, false}, ids, w) == std::vector<double>{0.2f, 0.3f});
    CHECK(of({Kind::trimmed, 2, false}, ids, w).empty());  // 2T >= k: nothing left
    CHECK(of({Kind::trimmed, 3, true}, ids, w, z) == std::vector<double>{0.5, 1});
    CHECK(of({Kind::popular, 1, false}, ids, w, z, 7) == std::vector<double>{0.2f});
    CHECK(of({Kind::popular, 1, false}, ids, w, z, 3).empty());  // not among the top-k
    CHECK(of({Kind::popular, 1, true}, ids, w, z, 3) == std::vector<double>{0});
    CHECK(of({Kind::popular, 1, true}, ids, w, z, 8).empty());  // beyond the logits
    CHECK(of({Kind::rank, 1, true}, ids, w).empty());           // no logits recorded
    CHECK(of({Kind::rank, 1, false}, ids, {}).empty());         // no weights recorded
}

TEST_CASE("popular experts rank a tag's selections per layer, ties to the lower id") {
    RoutingSequence seq(true);
    auto add = [&](TagId tag, int32_t layer, std::vector<int32_t> ids) {
        RoutingRecord r;
        r.layer = layer;
        r.experts = ids;
        seq.add(tag, r);
    };
    add(1, 0, {3, 1});
    add(1, 0, {3, 2});
    add(1, 0, {2, 0});
    add(2, 0, {0, 1});  // another tag: not counted
    add(2, 0, {0, 1});
    add(1, 4, {6, 5});
    const auto first = popular_experts(seq, 1, 1);
    CHECK(first == std::map<int32_t, int32_t>{{0, 2}, {4, 5}});  // 2 and 3 tie at layer 0
    CHECK(popular_experts(seq, 1, 2) == std::map<int32_t, int32_t>{{0, 3}, {4, 6}});
    CHECK(popular_experts(seq, 1, 4) == std::map<int32_t, int32_t>{{0, 1}});  // layer 4: 2 experts
    CHECK(popular_experts(seq, 1, 5).empty());
}

TEST_CASE("a sequence keeps each record's logits only when asked") {
    const std::vector<int32_t> ids{1, 0};
    const std::vector<float> z{0.25f, 1.5f, -1};
    RoutingRecord r;
    r.layer = 0;
    r.experts = ids;
    r.logits = z;
    RoutingSequence kept(true), plain;
    for (auto* s : {&kept, &plain}) {
        s->add(1, r);
        RoutingRecord none = r;
        none.logits = {};
        s->add(1, none);
        s->add(1, r);
    }
    REQUIRE(kept.entries().size() == 3);
    CHECK(std::vector<float>(kept.logits(kept.entries()[2]).begin(),
                             kept.logits(kept.entries()[2]).end()) == z);
    CHECK(kept.logits(kept.entries()[1]).empty());
    CHECK(plain.logits(plain.entries()[0]).empty());
}
