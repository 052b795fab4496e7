// Tensor-name mapping (models/moe_names) and the router delta means
// (models/weight_similarity); the numbers themselves are checked against numpy in
// tests/integration/test_weights.py.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/moe_names.hpp"
#include "models/weight_similarity.hpp"

using namespace moe::models;

TEST_CASE("MoE tensor names of GGUF and Hugging Face families", "[models]") {
    struct Case {
        const char* name;
        TensorRole::Kind kind;
        int32_t layer;
        Projection proj;
        int32_t expert;
    };
    using K = TensorRole::Kind;
    const Case cases[] = {
        {"blk.7.ffn_gate_inp.weight", K::router, 7, Projection::gate, -1},
        {"blk.12.ffn_down_exps.weight", K::expert_stack, 12, Projection::down, -1},
        {"blk.0.ffn_up_exps.weight", K::expert_stack, 0, Projection::up, -1},
        {"model.layers.3.mlp.gate.weight", K::router, 3, Projection::gate, -1},
        {"model.layers.3.mlp.experts.17.up_proj.weight", K::expert, 3, Projection::up, 17},
        {"model.layers.31.block_sparse_moe.gate.weight", K::router, 31, Projection::gate, -1},
        {"model.layers.2.block_sparse_moe.experts.5.w2.weight", K::expert, 2, Projection::down, 5},
        {"model.layers.2.block_sparse_moe.experts.5.w3.weight", K::expert, 2, Projection::up, 5},
        {"language_model.model.layers.4.mlp.experts.0.gate_proj.weight", K::expert, 4,
         Projection::gate, 0},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto r = classify_tensor(c.name);
        REQUIRE(r);
        CHECK(r->kind == c.kind);
        CHECK(r->layer == c.layer);
        if (c.kind != K::router) CHECK(r->proj == c.proj);
        CHECK(r->expert == c.expert);
    }
    for (const char* other :
         {"blk.3.ffn_gate.weight", "blk.3.ffn_gate_inp_shexp.weight", "blk.x.ffn_gate_inp.weight",
          "model.layers.3.mlp.gate_proj.weight", "model.layers.3.mlp.shared_expert_gate.weight",
          "model.layers.3.mlp.experts.1.gate_proj.bias", "model.layers.3.mlp.experts.1.w4.weight",
          "model.players.3.mlp.gate.weight", "model.layers.-1.mlp.gate.weight", "output.weight"}) {
        INFO(other);
        CHECK_FALSE(classify_tensor(other));
    }
}

TEST_CASE("Router delta means follow layer numbers and skip undefined pairs", "[models]") {
    RouterSimilarity r;
    r.layers = {1, 2, 3, 5};
    const double nan = std::nan("");
    r.cosine = Eigen::MatrixXd::Constant(4, 4, 1.0);
    r.cosine(0, 1) = r.cosine(1, 0) = 0.2;  // 1-2
    r.cosine(1, 2) = r.cosine(2, 1) = 0.4;  // 2-3
    r.cosine(2, 3) = r.cosine(3, 2) = 0.9;  // 3-5
    r.cosine(0, 2) = r.cosine(2, 0) = nan;  // 1-3: shapes differ
    r.row_cosine = r.cosine;
    r.row_norm_correlation = Eigen::MatrixXd::Constant(4, 4, nan);
    const RouterDelta d1 = router_delta(r, 1);
    CHECK(d1.pairs == 2);
    CHECK(d1.cosine == Approx(0.3));
    CHECK(std::isnan(d1.row_norm_correlation));
    const RouterDelta d2 = router_delta(r, 2);
    CHECK(d2.pairs == 1);  // 3-5 only: 1-3 is undefined
    CHECK(d2.cosine == Approx(0.9));
    CHECK(router_delta(r, 7).pairs == 0);
    CHECK(std::isnan(router_delta(r, 7).cosine));
}
