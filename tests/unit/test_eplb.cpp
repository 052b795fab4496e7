#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "decisions/eplb.hpp"

using namespace moe;
using namespace moe::eplb;

using Ids = std::vector<int32_t>;

TEST_CASE("EPLB README worked example: phy2log reproduced exactly") {
    // github.com/deepseek-ai/EPLB README: 2 layers x 12 experts, 16 replicas, 4 groups,
    // 2 nodes, 8 GPUs; the printed output of eplb.rebalance_experts.
    const std::vector<std::vector<double>> weight = {
        {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
        {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};
    const PlanShape s{16, 8, 2, 4, Policy::hierarchical};
    CHECK(effective_policy(s) == Policy::hierarchical);
    const LayerPlan l0 = rebalance(weight[0], s);
    const LayerPlan l1 = rebalance(weight[1], s);
    CHECK(l0.phy2log == Ids{5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1});
    CHECK(l1.phy2log == Ids{7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1});
    // Counts agree with the map, and every expert has a slot.
    CHECK(l0.count == replica_counts(l0.phy2log, 12));
    CHECK(l1.count == replica_counts(l1.phy2log, 12));
    CHECK(std::accumulate(l0.count.begin(), l0.count.end(), 0) == 16);
    // Replica ranks: the k-th slot of an expert (in slot order here) need not be rank k, but
    // each expert's ranks are 0..count-1.
    for (const LayerPlan* p : {&l0, &l1})
        for (int32_t e = 0; e < 12; ++e) {
            std::vector<int32_t> ranks;
            for (size_t i = 0; i < p->phy2log.size(); ++i)
                if (p->phy2log[i] == e) ranks.push_back(p->rank[i]);
            std::sort(ranks.begin(), ranks.end());
            Ids want(ranks.size());
            std::iota(want.begin(), want.end(), 0);
            CHECK(ranks == want);
        }
}

TEST_CASE("balanced_packing: heaviest first into the lightest pack with room") {
    // Sorted 4,3,2,1: 4 -> p0, 3 -> p1, 2 -> p1 (3 < 4), 1 -> p0 (the only one with room).
    const Packing p = balanced_packing(std::vector<float>{1, 2, 3, 4}, 2);
    CHECK(p.pack == Ids{0, 1, 1, 0});
    CHECK(p.rank == Ids{1, 1, 0, 0});
    // Equal weights keep id order and equal packs go to the first one.
    const Packing t = balanced_packing(std::vector<float>{5, 5, 5, 5}, 2);
    CHECK(t.pack == Ids{0, 1, 0, 1});
    CHECK(t.rank == Ids{0, 0, 1, 1});
    // One item per pack: the published shortcut keeps items in place, whatever the weights.
    const Packing one = balanced_packing(std::vector<float>{1, 9, 5}, 3);
    CHECK(one.pack == Ids{0, 1, 2});
    CHECK(one.rank == Ids{0, 0, 0});
    CHECK_THROWS_AS(balanced_packing(std::vector<float>{1, 2, 3}, 2), std::invalid_argument);
}

TEST_CASE("replicate_experts: each extra slot to the largest load per replica") {
    // 10/1 is largest -> expert 0 (now 5 per replica); then 6 > 5 > 4 -> expert 2.
    const Replication r = replicate_experts(std::vector<float>{10, 4, 6}, 5);
    CHECK(r.phy2log == Ids{0, 1, 2, 0, 2});
    CHECK(r.rank == Ids{0, 0, 0, 1, 1});
    CHECK(r.count == Ids{2, 1, 2});
    // A tie goes to the first expert.
    CHECK(replicate_experts(std::vector<float>{6, 3, 6}, 4).phy2log == Ids{0, 1, 2, 0});
    CHECK_THROWS_AS(replicate_experts(std::vector<float>{1, 2}, 1), std::invalid_argument);
}

TEST_CASE(
    "global policy: one group on one node, also the fallback when nodes do not divide "
    "groups") {
    const std::vector<double> w = {90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86};
    const std::vector<float> wf(w.begin(), w.end());
    const LayerPlan want = rebalance_hierarchical(wf, 16, 1, 1, 8);
    CHECK(rebalance(w, {16, 8, 2, 4, Policy::global}).phy2log == want.phy2log);
    const PlanShape odd{16, 8, 2, 3, Policy::hierarchical};  // 3 groups on 2 nodes
    CHECK(effective_policy(odd) == Policy::global);
    CHECK(rebalance(w, odd).phy2log == want.phy2log);
    // By hand: replicas go to 183, 165, 132, 104 (each then halved: 91.5, 82.5, 66, 52);
    // packing 16 replicas onto 8 GPUs evens the per-GPU loads out to within one replica.
    CHECK(want.count == Ids{1, 2, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1});
    const Balance b = evaluate(w, want.phy2log, 8);
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    CHECK(std::accumulate(b.gpu_load.begin(), b.gpu_load.end(), 0.0) == Approx(total));
    const LayerPlan four = rebalance(w, {16, 4, 1, 1, Policy::global});
    CHECK(evaluate(w, four.phy2log, 4).balancedness >
          evaluate(w, identity_placement(12), 4).balancedness);
}

TEST_CASE("evaluate: GPU load splits an expert's load evenly over its replicas") {
    const std::vector<double> load = {8, 4, 2, 2};
    const Balance id = evaluate(load, identity_placement(4), 2);  // GPUs {0,1} {2,3}
    CHECK(id.gpu_load == std::vector<double>{12, 4});
    CHECK(id.balancedness == Approx(8.0 / 12.0));
    CHECK(id.imbalance == Approx(0.5));
    // Experts 0 and 1 twice: 4 + 2 + 4 = 10 on GPU 0, 2 + 2 + 2 = 6 on GPU 1.
    const Balance r = evaluate(load, Ids{0, 1, 0, 2, 3, 1}, 2);
    CHECK(r.gpu_load == std::vector<double>{10, 6});
    CHECK(r.balancedness == Approx(0.8));
    CHECK(r.imbalance == Approx(0.25));
    // No load at all: balanced by definition.
    const Balance z = evaluate(std::vector<double>{0, 0}, Ids{0, 1}, 2);
    CHECK(z.balancedness == 1.0);
    CHECK(z.imbalance == 0.0);
    CHECK_THROWS_AS(evaluate(load, Ids{0, 1, 2, 4}, 2), std::invalid_argument);  // no expert 4
    CHECK_THROWS_AS(evaluate(load, Ids{0, 1, 2, 2}, 2), std::invalid_argument);  // 3 unplaced
    CHECK_THROWS_AS(evaluate(load, Ids{0, 1, 2, 3}, 3), std::invalid_argument);  // 4 over 3
}

TEST_CASE("check_shape names the option that does not fit") {
    CHECK_THROWS_WITH(check_shape({10, 4, 1, 1}, 12), Catch::Contains("--slots 10"));
    CHECK_THROWS_WITH(check_shape({18, 4, 1, 1}, 16), Catch::Contains("not a multiple of --gpus"));
    CHECK_THROWS_WITH(check_shape({16, 4, 3, 3}, 16), Catch::Contains("--nodes 3"));
    CHECK_NOTHROW(check_shape({16, 8, 1, 1}, 12));  // the identity placement needs not fit
    CHECK_THROWS_WITH(check_shape({16, 4, 1, 5}, 16), Catch::Contains("--groups 5"));
    CHECK_NOTHROW(check_shape({16, 4, 2, 4}, 12));
}

TEST_CASE("summarize: min, linear-interpolated percentiles, mean") {
    const Summary s = summarize({5, 1, 4, 2, 3});
    CHECK(s.min == 1);
    CHECK(s.p50 == 3);
    CHECK(s.p90 == Approx(4.6));
    CHECK(s.mean == 3);
    CHECK(summarize({}).mean == 0);
}
