// The binary engine recorders (issue 15): llama-imatrix GGUF counts and TensorRT-LLM's
// per-rank safetensors statistics, read by path (FormatEntry::read_file); truncated and
// garbled files are one reject each, never a crash (docs/ARCHITECTURE.md "Count-only sources").
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "byte_builder.hpp"
#include "cli/analyze.hpp"
#include "cli/input_files.hpp"
#include "parsers/format_registry.hpp"
#include "recording_sink.hpp"
#include "temp_dir.hpp"

using namespace moe;
using moe::test::Bytes;
using moe::test::RecordingSink;
using moe::test::write_file;

namespace {

// A GGUF v3 file of F32 tensors shaped as llama-imatrix writes counts: ne = [1, n].
std::string imatrix_gguf(const std::vector<std::pair<std::string, std::vector<float>>>& ts) {
    Bytes h;
    h.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(ts.size()).put<uint64_t>(1);
    h.str("general.type").put<uint32_t>(8).str("imatrix");
    uint64_t offset = 0;
    for (const auto& [name, v] : ts) {
        h.str(name).put<uint32_t>(2).put<uint64_t>(1).put<uint64_t>(v.size());
        h.put<uint32_t>(0).put<uint64_t>(offset);
        offset += (v.size() * 4 + 31) / 32 * 32;
    }
    h.b.append((32 - h.b.size() % 32) % 32, '\0');
    for (size_t i = 0; i < ts.size(); ++i) {
        if (i > 0) h.b.append((32 - h.b.size() % 32) % 32, '\0');  // none after the last
        for (float x : ts[i].second)
            h.put<float>(x);
    }
    return h.b;
}

// A safetensors file of int64 [n] tensors, as torch.bincount gives them.
std::string rank_file(const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts) {
    std::string header = "{", data;
    for (const auto& [name, v] : ts) {
        if (header.size() > 1) header += ",";
        header += "\"" + name + "\":{\"dtype\":\"I64\",\"shape\":[" + std::to_string(v.size()) +
                  "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
                  std::to_string(data.size() + 8 * v.size()) + "]}";
        for (int64_t x : v)
            data.append(reinterpret_cast<const char*>(&x), 8);
    }
    header += "}";
    Bytes out;
    out.put<uint64_t>(header.size());
    return out.b + header + data;
}

// What analyze does with `path`: the whole-file format that claims it reads it.
RecordingSink read(const std::string& path, Format f = Format::auto_detect) {
    const FormatEntry* e = FormatRegistry::builtin().file_reader(f, path);
    REQUIRE(e != nullptr);
    RecordingSink sink;
    e->read_file(path, sink);
    return sink;
}

// Every proper prefix of `whole` at `path`: read without a crash, at least one reject.
void every_truncation_rejected(const std::string& path, const std::string& whole, Format f) {
    for (size_t n = 0; n < whole.size(); ++n) {
        write_file(path, whole.substr(0, n));
        const RecordingSink s = read(path, f);
        INFO("cut at " << n);
        CHECK(!s.rejects.empty());
    }
}

const Format kImatrix{"imatrix-gguf"}, kTrtllm{"trtllm-stats"};

}  // namespace

TEST_CASE("imatrix-gguf: ffn_down_exps counts per layer, gate when down is missing") {
    test::TempDir dir;
    const std::string path = dir.file("imatrix.gguf");
    write_file(path, imatrix_gguf({{"blk.0.ffn_down.weight.counts", {7}},
                                   {"blk.1.ffn_down_exps.weight.counts", {3, 0, 5}},
                                   {"blk.1.ffn_gate_exps.weight.counts", {3, 0, 5}},
                                   {"blk.1.ffn_gate_exps.weight.in_sum2", {1, 2, 3}},
                                   {"blk.2.ffn_gate_exps.weight.counts", {1, 1, 1}}}));
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, path)->name == "imatrix-gguf");
    const RecordingSink s = read(path);
    CHECK(s.rejects.empty());
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 1);
    CHECK(s.counts[0].counts == std::vector<double>{3, 0, 5});
    CHECK(s.counts[1].layer == 2);
    CHECK(s.counts[1].counts == std::vector<double>{1, 1, 1});
}

TEST_CASE("imatrix-gguf: a text file is not claimed; no expert counts is one reject") {
    test::TempDir dir;
    const std::string text = dir.file("log.txt");
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, dir.file("none")) == nullptr);
    write_file(text, "GGUF\tthe first word of a log line\n");
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, text) == nullptr);
    write_file(text, "{\"logical_count\": [[1]]}");
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, text) == nullptr);
    const std::string dense = dir.file("dense.gguf");
    write_file(dense, imatrix_gguf({{"blk.0.attn_q.weight.counts", {9}}}));
    const RecordingSink s = read(dense);
    CHECK(s.counts.empty());
    REQUIRE(s.rejects.size() == 1);
    CHECK(s.rejects[0].first == RejectReason::missing_field);
    CHECK(s.rejects[0].second.find("ffn_*_exps") != std::string::npos);
}

TEST_CASE("imatrix-gguf: every truncation and a garbled header are one clean reject") {
    test::TempDir dir;
    const std::string path = dir.file("t.gguf");
    every_truncation_rejected(
        path, imatrix_gguf({{"blk.3.ffn_down_exps.weight.counts", {1, 2, 3, 4}}}), kImatrix);
    std::string bad = imatrix_gguf({{"blk.3.ffn_down_exps.weight.counts", {1, 2}}});
    bad[8] = '\x7f';  // tensor count 127: the table runs past the end
    write_file(path, bad);
    const RecordingSink s = read(path);
    CHECK(s.counts.empty());
    REQUIRE(s.rejects.size() == 1);
    CHECK(s.rejects[0].second.find(path) != std::string::npos);
}

TEST_CASE("trtllm-stats: {iter}_{layer} tensors summed over iterations, meta_info gives k") {
    test::TempDir dir;
    write_file(dir.file("meta_info.json"), R"({"num_experts": 3, "num_experts_per_token": 2})");
    const std::string path = dir.file("rank0.safetensors");
    write_file(path, rank_file({{"100_0", {1, 2, 3}},
                                {"101_0", {1, 0, 0}},
                                {"100_1", {0, 0, 4}},
                                {"not_a_count", {9, 9, 9}}}));
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, path)->name == "trtllm-stats");
    const RecordingSink s = read(path);
    CHECK(s.rejects.empty());
    REQUIRE(s.metas.size() == 1);
    CHECK(s.metas[0].top_k == 2);
    CHECK(s.metas[0].num_experts == 3);
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 0);
    CHECK(s.counts[0].counts == std::vector<double>{2, 2, 3});
    CHECK(s.counts[1].layer == 1);
    CHECK(s.counts[1].counts == std::vector<double>{0, 0, 4});

    // The directory is its rank files: meta_info.json is read beside them.
    write_file(dir.file("cooccurrence_rank0.safetensors"), "x");
    const auto files = expand_inputs({{dir.path().string(), "t"}});
    REQUIRE(files.size() == 1);
    CHECK(files[0].path == path);
}

TEST_CASE("trtllm-stats: every reject of a rank file says why, though the file has no lines") {
    // A rank file is read whole: a record the aggregates refuse has no line to show, and its
    // sample was empty (issue 29 item 8). It now says what the record stated.
    test::TempDir dir;
    write_file(dir.file("meta_info.json"), R"({"num_experts": 5000, "num_experts_per_token": 2})");
    write_file(dir.file("rank0.safetensors"),
               rank_file({{"100_0", std::vector<int64_t>(5000, 1)}, {"100_1", {1, 2, 3}}}));
    Aggregates agg;
    const auto stats = analyze_files({{dir.path().string(), ""}}, Format::auto_detect, agg);
    REQUIRE(stats.size() == 1);
    const SourceStats& s = stats[0];
    CHECK(s.records == 1);  // layer 1
    const auto samples = [&](RejectReason r) { return s.reject_samples[static_cast<size_t>(r)]; };
    CHECK(s.rejects[static_cast<size_t>(RejectReason::invalid_meta)] == 1);
    CHECK(samples(RejectReason::invalid_meta) ==
          std::vector<std::string>{"a meta record states 5000 experts, top-k 2"});
    CHECK(s.rejects[static_cast<size_t>(RejectReason::expert_out_of_range)] == 1);
    CHECK(samples(RejectReason::expert_out_of_range) ==
          std::vector<std::string>{"totals of layer 0 for experts 0-4999"});
    for (size_t r = 0; r < kRejectReasonCount; ++r)
        for (const std::string& x : s.reject_samples[r])
            CHECK_FALSE(x.empty());
}

TEST_CASE("trtllm-stats: garbled meta, a ragged layer, truncations: rejects, never a crash") {
    test::TempDir dir;
    write_file(dir.file("meta_info.json"), R"({"num_experts": "three"})");
    const std::string path = dir.file("rank1.safetensors");
    write_file(path, rank_file({{"100_0", {1, 2, 3}}, {"101_0", {1, 1}}}));
    const RecordingSink s = read(path);
    REQUIRE(s.rejects.size() == 2);
    CHECK(s.rejects[0].second.find("meta_info.json") != std::string::npos);
    CHECK(s.rejects[1].first == RejectReason::wrong_vector_length);
    REQUIRE(s.counts.size() == 1);
    CHECK(s.counts[0].counts == std::vector<double>{1, 2, 3});
    // A file named like a rank file but not safetensors is not claimed under auto.
    write_file(path, "rank file\n");
    CHECK(FormatRegistry::builtin().file_reader(Format::auto_detect, path) == nullptr);
    every_truncation_rejected(path, rank_file({{"100_0", {1, 2, 3}}}), kTrtllm);
}
