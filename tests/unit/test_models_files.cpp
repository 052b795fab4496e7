// The model-file containers (models/gguf_file, models/safetensors_file): values read back
// from hand-built files, and truncated or garbled files rejected with std::runtime_error.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "byte_builder.hpp"
#include "models/gguf_file.hpp"
#include "models/safetensors_file.hpp"
#include "temp_dir.hpp"

using namespace moe::models;
using moe::test::Bytes;
using moe::test::TempDir;
using moe::test::write_file;

namespace {

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> ne;  // innermost first, as GGUF lists them
    uint32_t type;
    std::string data;
};

std::string gguf(const std::vector<TensorSpec>& tensors) {
    Bytes h;
    h.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(tensors.size()).put<uint64_t>(5);
    h.str("general.architecture").put<uint32_t>(8).str("qwen3moe");
    h.str("qwen3moe.expert_count").put<uint32_t>(4).put<uint32_t>(4);
    h.str("general.alignment").put<uint32_t>(4).put<uint32_t>(64);
    h.str("tokenizer.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("a").str("bc");
    // An array of arrays of i32: [[1, 2], [3]].
    h.str("nested").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(2);
    h.put<uint32_t>(5).put<uint64_t>(2).put<int32_t>(1).put<int32_t>(2);
    h.put<uint32_t>(5).put<uint64_t>(1).put<int32_t>(3);
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        h.str(t.name).put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
        for (uint64_t d : t.ne)
            h.put<uint64_t>(d);
        h.put<uint32_t>(t.type).put<uint64_t>(offset);
        offset += (t.data.size() + 63) / 64 * 64;
    }
    h.pad(64);
    for (const auto& t : tensors) {
        h.b += t.data;
        if (&t != &tensors.back()) h.pad(64);
    }
    return h.b;
}

template <class T>
std::string raw(std::initializer_list<T> v) {
    Bytes b;
    for (T x : v)
        b.put<T>(x);
    return b.b;
}

std::vector<TensorSpec> sample_tensors() {
    Bytes q;  // Q8_0: scale 0.5 (f16 0x3800), then -16..15
    q.put<uint16_t>(0x3800);
    for (int k = 0; k < 32; ++k)
        q.put<int8_t>(static_cast<int8_t>(k - 16));
    return {
        {"blk.0.ffn_gate_inp.weight", {3, 2}, 0, raw<float>({1, 2, 3, 4, 5, 6})},
        // F16 1, -2, 0.5, 65504 and BF16 1, -3
        {"h", {4}, 1, raw<uint16_t>({0x3c00, 0xc000, 0x3800, 0x7bff})},
        {"b", {2}, 30, raw<uint16_t>({0x3f80, 0xc040})},
        {"q", {32}, 8, q.b},
        {"k", {256}, 12, std::string(144, '\0')},  // Q4_K: readable table, not convertible
    };
}

}  // namespace

TEST_CASE("GGUF: metadata, tensor table and the four float types read back", "[models]") {
    TempDir dir;
    const std::string path = dir.file("m.gguf");
    write_file(path, gguf(sample_tensors()));
    REQUIRE(is_gguf(path));
    GgufFile f(path);
    CHECK(f.version() == 3);
    CHECK(f.alignment() == 64);
    CHECK(f.data_offset() % 64 == 0);
    CHECK(f.get_string("general.architecture") == "qwen3moe");
    CHECK(f.get_int("qwen3moe.expert_count") == 4);
    const GgufArray* tokens = f.find("tokenizer.tokens")->as_array();
    REQUIRE(tokens);
    REQUIRE(tokens->items.size() == 2);
    CHECK(tokens->items[1].as_string() == "bc");
    const GgufArray* nested = f.find("nested")->as_array();
    REQUIRE(nested->items.size() == 2);
    CHECK(nested->items[0].as_array()->items[1].as_int() == 2);
    CHECK(nested->items[1].as_array()->items[0].as_int() == 3);

    const TensorView* r = f.tensor("blk.0.ffn_gate_inp.weight");
    REQUIRE(r);
    CHECK(r->shape == std::vector<uint64_t>{2, 3});  // outermost first
    CHECK(r->rows() == 2);
    std::vector<float> row(3);
    r->to_float(1, 1, row);
    CHECK(row == std::vector<float>{4, 5, 6});

    std::vector<float> h(4);
    f.tensor("h")->to_float(0, 1, h);
    CHECK(h == std::vector<float>{1, -2, 0.5f, 65504});
    std::vector<float> b(2);
    f.tensor("b")->to_float(0, 1, b);
    CHECK(b == std::vector<float>{1, -3});
    std::vector<double> q(32);
    f.tensor("q")->to_double(0, 1, q);
    for (int k = 0; k < 32; ++k)
        CHECK(q[k] == 0.5 * (k - 16));

    const TensorView* k4 = f.tensor("k");
    CHECK(k4->type_name == "Q4_K");
    std::vector<float> out(256);
    CHECK_THROWS_WITH(k4->to_float(0, 1, out), Catch::Contains("tensor type Q4_K not supported"));
    CHECK_THROWS_AS(r->to_float(1, 2, row), std::out_of_range);
}

TEST_CASE("GGUF: F16 subnormals, infinities and a 3-D tensor sliced per expert", "[models]") {
    TempDir dir;
    const std::string path = dir.file("s.gguf");
    // ne = [2, 1, 3]: 3 experts of 1 row of 2.
    write_file(
        path,
        gguf({{"x", {2, 1, 3}, 1, raw<uint16_t>({0x0001, 0x8001, 0x7c00, 0xfc00, 0, 0x3c00})}}));
    GgufFile f(path);
    const TensorView& x = *f.tensor("x");
    CHECK(x.shape == std::vector<uint64_t>{3, 1, 2});
    std::vector<float> v(2);
    x.slice(0).to_float(0, 1, v);
    CHECK(v[0] == 0x1p-24f);
    CHECK(v[1] == -0x1p-24f);
    x.slice(1).to_float(0, 1, v);
    CHECK(std::isinf(v[0]));
    CHECK(v[1] < 0);
    x.slice(2).to_float(0, 1, v);
    CHECK(v == std::vector<float>{0, 1});
    CHECK_THROWS_AS(x.slice(3), std::out_of_range);
}

TEST_CASE("GGUF: every truncation and garbled headers are refused cleanly", "[models]") {
    TempDir dir;
    const std::string whole = gguf(sample_tensors());
    const std::string path = dir.file("t.gguf");
    for (size_t n = 0; n < whole.size(); n += (n < 600 ? 1 : 37)) {
        write_file(path, whole.substr(0, n));
        INFO("prefix " << n);
        CHECK_THROWS_AS(GgufFile(path), std::runtime_error);
    }
    // Garbled header bytes (a fixed pseudo-random sequence): a clean error or a file whose
    // every tensor converts inside its bounds.
    uint32_t seed = 12345;
    size_t refused = 0;
    for (int round = 0; round < 400; ++round) {
        std::string bad = whole;
        for (int k = 0; k < 3; ++k) {
            seed = seed * 1664525u + 1013904223u;
            bad[(seed >> 8) % 600] = static_cast<char>(seed >> 24);
        }
        write_file(path, bad);
        try {
            GgufFile f(path);
            for (const TensorView& t : f.tensors()) {
                if (!convertible(t.dtype) || t.row_length() > 4096) continue;
                std::vector<float> out(t.row_length());
                for (uint64_t r = 0; r < std::min<uint64_t>(t.rows(), 64); ++r)
                    t.to_float(r, 1, out);
            }
        } catch (const std::runtime_error&) {
            ++refused;
        }
    }
    CHECK(refused > 0);
    // Hostile counts must not allocate: a tensor count of 2^60.
    Bytes h;
    h.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1ull << 60).put<uint64_t>(0);
    write_file(path, h.b);
    CHECK_THROWS_WITH(GgufFile(path), Catch::Contains("tensor count is larger than the file"));
    Bytes v1;
    v1.put<uint32_t>(0x46554747).put<uint32_t>(1).put<uint64_t>(0).put<uint64_t>(0);
    write_file(path, v1.b);
    CHECK_THROWS_WITH(GgufFile(path), Catch::Contains("version 1 is not supported"));
    CHECK_THROWS_WITH(GgufFile(dir.file("missing.gguf")), Catch::Contains("cannot open"));
}

namespace {

std::string safetensors(const std::string& header, const std::string& data) {
    Bytes b;
    b.put<uint64_t>(header.size());
    return b.b + header + data;
}

}  // namespace

TEST_CASE("safetensors: float and integer dtypes, metadata, errors", "[models]") {
    TempDir dir;
    const std::string path = dir.file("m.safetensors");
    const std::string header = R"({"__metadata__":{"format":"pt"},)"
                               R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                               R"("c":{"dtype":"I64","shape":[3],"data_offsets":[16,40]},)"
                               R"("i":{"dtype":"I32","shape":[2],"data_offsets":[40,48]},)"
                               R"("bf":{"dtype":"BF16","shape":[2],"data_offsets":[48,52]}})";
    const std::string data = raw<float>({1, 2, 3, 4}) + raw<int64_t>({5, 1ll << 40, -7}) +
                             raw<int32_t>({9, -1}) + raw<uint16_t>({0x3f80, 0x4040});
    write_file(path, safetensors(header, data));
    SafetensorsFile f(path);
    CHECK(f.metadata().at("format") == "pt");
    std::vector<float> w(2);
    f.tensor("w")->to_float(1, 1, w);
    CHECK(w == std::vector<float>{3, 4});
    std::vector<double> c(3);
    f.tensor("c")->to_double(0, 1, c);
    CHECK(c == std::vector<double>{5, 1099511627776.0, -7});  // exact in double
    std::vector<double> i(2);
    f.tensor("i")->to_double(0, 1, i);
    CHECK(i == std::vector<double>{9, -1});
    std::vector<float> bf(2);
    f.tensor("bf")->to_float(0, 1, bf);
    CHECK(bf == std::vector<float>{1, 3});

    const std::string whole = safetensors(header, data);
    for (size_t n = 0; n < whole.size(); ++n) {
        write_file(path, whole.substr(0, n));
        INFO("prefix " << n);
        CHECK_THROWS_AS(SafetensorsFile(path), std::runtime_error);
    }
    write_file(path,
               safetensors(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", data));
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("do not hold its shape"));
    write_file(path,
               safetensors(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[60,76]}})", data));
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("outside the data"));
    write_file(path, safetensors(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],)"
                                 R"("data_offsets":[0,16]}})",
                                 data));
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("overflows"));
    write_file(path, safetensors(R"({"w":[1,2]})", data));
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("lacks dtype"));
    Bytes huge;
    huge.put<uint64_t>(~0ull);
    write_file(path, huge.b + "{}");
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("past the end"));
    write_file(path, safetensors("{not json", ""));
    CHECK_THROWS_WITH(SafetensorsFile(path), Catch::Contains("not a JSON object"));
}

TEST_CASE("safetensors: a sharded checkpoint through its index", "[models]") {
    TempDir dir;
    write_file(
        dir.file("a.safetensors"),
        safetensors(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", raw<float>({7})));
    write_file(dir.file("b.safetensors"),
               safetensors(R"({"y":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})",
                           raw<uint16_t>({0x4000})));
    std::ofstream(dir.file("model.safetensors.index.json"))
        << R"({"metadata":{},"weight_map":{"x":"a.safetensors","y":"b.safetensors"}})";
    for (const std::string& p : {dir.path().string(), dir.file("model.safetensors.index.json")}) {
        SafetensorsModel m(p);
        CHECK(m.shards().size() == 2);
        CHECK(m.tensors().size() == 2);
        std::vector<float> v(1);
        m.tensor("y")->to_float(0, 1, v);
        CHECK(v[0] == 2);
        m.tensor("x")->to_float(0, 1, v);
        CHECK(v[0] == 7);
        CHECK(m.tensor("z") == nullptr);
    }
    std::ofstream(dir.file("model.safetensors.index.json"))
        << R"({"weight_map":{"x":"../a.safetensors"}})";
    CHECK_THROWS_WITH(SafetensorsModel(dir.path().string()), Catch::Contains("not a file name"));
    std::ofstream(dir.file("model.safetensors.index.json"))
        << R"({"weight_map":{"x":"a.safetensors","q":"a.safetensors"}})";
    CHECK_THROWS_WITH(SafetensorsModel(dir.path().string()),
                      Catch::Contains("q is not in its shard"));
}
