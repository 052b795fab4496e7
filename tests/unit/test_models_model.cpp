// MoeModel over a hand-built safetensors checkpoint (per-expert HF tensors, config.json
// facts under text_config) and expert_similarity's figures against values computed here.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "models/moe_model.hpp"
#include "models/weight_similarity.hpp"
#include "temp_dir.hpp"

using namespace moe::models;
using moe::test::TempDir;

namespace {

struct F32Tensor {
    std::string name;
    std::vector<uint64_t> shape;
    std::vector<float> values;
};

void write_safetensors(const std::string& path, const std::vector<F32Tensor>& ts) {
    std::string header = "{", data;
    for (const auto& t : ts) {
        std::string shape;
        for (uint64_t d : t.shape)
            shape += (shape.empty() ? "" : ",") + std::to_string(d);
        const size_t begin = data.size();
        data.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
        header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name +
                  "\":{\"dtype\":\"F32\",\"shape\":[" + shape + "],\"data_offsets\":[" +
                  std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
    }
    header += "}";
    const uint64_t n = header.size();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << data;
}

// Layers 3 and 4, 3 experts of 2x2 gate/up/down matrices; expert 2 is twice expert 0.
float value(int l, int e, int p, int i) {
    if (e == 2) return 2 * value(l, 0, p, i);
    const float sign = e == 1 && i % 2 ? -1.f : 1.f;
    return static_cast<float>(i + 1 + p) * sign + static_cast<float>(l - 3) * 0.5f;
}

std::vector<F32Tensor> model_tensors() {
    static const char* proj[] = {"gate_proj", "up_proj", "down_proj"};
    std::vector<F32Tensor> ts;
    for (int l : {3, 4}) {
        const std::string pre = "model.layers." + std::to_string(l) + ".mlp.";
        ts.push_back({pre + "gate.weight", {3, 2}, {1, 0, 0, 1, 1, 1}});
        for (int e = 2; e >= 0; --e)  // out of order on purpose
            for (int p = 0; p < 3; ++p) {
                std::vector<float> v(4);
                for (int i = 0; i < 4; ++i)
                    v[static_cast<size_t>(i)] = value(l, e, p, i);
                ts.push_back(
                    {pre + "experts." + std::to_string(e) + "." + proj[p] + ".weight", {2, 2}, v});
            }
    }
    return ts;
}

std::vector<double> flat(int l, int e) {
    std::vector<double> x;
    for (int p = 0; p < 3; ++p)
        for (int i = 0; i < 4; ++i)
            x.push_back(value(l, e, p, i));
    return x;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return d / std::sqrt(na * nb);
}

}  // namespace

TEST_CASE("MoeModel groups HF expert tensors per layer and reads config.json", "[models]") {
    TempDir dir;
    write_safetensors(dir.file("model.safetensors"), model_tensors());
    std::ofstream(dir.file("config.json"))
        << R"({"architectures":["X"],"text_config":{"model_type":"olmoe","num_hidden_layers":5,)"
           R"("num_experts":3,"num_experts_per_tok":2,"hidden_size":2}})";
    const MoeModel m(dir.path().string());
    CHECK(m.facts().format == "safetensors");
    CHECK(m.facts().architecture == "olmoe");
    CHECK(m.facts().layers == 5);
    CHECK(m.facts().top_k == 2);
    REQUIRE(m.layers().size() == 2);
    CHECK(m.layers()[0].layer == 3);
    CHECK(m.layers()[1].num_experts() == 3);
    CHECK(m.layers()[0].experts[2][1].name == "model.layers.3.mlp.experts.1.down_proj.weight");
    CHECK(expert_weights_problem(m).empty());

    for (unsigned threads : {1u, 2u, 5u}) {
        INFO(threads << " threads");
        ExpertOptions o;
        o.top = 2;
        o.threads = threads;
        size_t ticks = 0;
        o.progress = [&](size_t done, size_t total) {
            ++ticks;
            CHECK(done <= total);
        };
        const ExpertSimilarity s = expert_similarity(m, o);
        CHECK(ticks == 3);  // two layers, one cross-layer pair
        REQUIRE(s.similar_pairs.size() == 2);
        CHECK(s.similar_pairs[0].layer == 3);  // expert 2 = 2x expert 0: cosine 1
        CHECK(s.similar_pairs[0].a == 0);
        CHECK(s.similar_pairs[0].b == 2);
        CHECK(s.similar_pairs[0].cosine == Approx(1.0).margin(1e-9));
        CHECK(s.cosine[1](0, 1) == Approx(cosine(flat(4, 0), flat(4, 1))).margin(1e-9));
        REQUIRE(s.cross.size() == 1);
        CHECK(s.cross[0].n == 3);
        double mean = 0;
        for (int e = 0; e < 3; ++e)
            mean += cosine(flat(3, e), flat(4, e)) / 3;
        CHECK(s.cross[0].mean == Approx(mean).margin(1e-9));
        CHECK(s.bytes == 2 * (2 * 3 * 3 * 16));  // each layer once, then both again
    }
}

TEST_CASE("MoeModel refuses gaps in expert numbering and models without routers", "[models]") {
    TempDir dir;
    auto ts = model_tensors();
    std::erase_if(
        ts, [](const F32Tensor& t) { return t.name.find("experts.1.up") != std::string::npos; });
    write_safetensors(dir.file("gap.safetensors"), ts);
    CHECK_THROWS_WITH(MoeModel(dir.file("gap.safetensors")), Catch::Contains("not numbered 0.."));
    write_safetensors(dir.file("dense.safetensors"),
                      {{"model.layers.0.mlp.up_proj.weight", {1, 1}, {1}}});
    CHECK_THROWS_WITH(MoeModel(dir.file("dense.safetensors")),
                      Catch::Contains("no MoE router tensors"));
    CHECK_THROWS_WITH(MoeModel(dir.file("none")), Catch::Contains("no such file"));
}
