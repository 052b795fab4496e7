// TensorRT-LLM's expert statistics (tensorrt_llm/_torch/expert_statistic.py, enabled by
// EXPERT_STATISTIC_ITER_RANGE, written into EXPERT_STATISTIC_PATH): per rank
// rank{r}.safetensors with one tensor "{iter}_{layer}" per recorded iteration and MoE layer,
// torch.bincount of the selected experts (int64 [num_experts]); rank 0 also writes
// meta_info.json {"num_experts", "num_experts_per_token"}. Each rank file gives one
// CountRecord per layer summed over its iterations (the iterations carry no wall time, so
// they are not timeline buckets); ranks add up as files of one directory do. Counts only:
// docs/ARCHITECTURE.md "Count-only sources". A binary whole file, read by path.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/safetensors_file.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

namespace {

class TrtllmStatsParser final : public FormatParser {
  public:
    // safetensors is binary: its lines are never this format's.
    bool claims(std::string_view) const override { return false; }
    bool may_claim(unsigned char) const override { return false; }
    void parse(std::string_view line, RecordSink& sink) override { skip_unrecognized(line, sink); }
};

bool is_rank_file(std::string_view path) {
    static const std::regex name(R"(rank\d+\.safetensors)");
    return std::regex_match(std::filesystem::path(path).filename().string(), name);
}

// EXPERT_STATISTIC_PATH: in a directory holding meta_info.json the rank files are the data
// (read_meta takes meta_info.json beside them; cooccurrence_rank{r} files are not read).
std::vector<bool> rank_files_only(std::span<const std::string> paths) {
    const bool stats_dir = std::any_of(paths.begin(), paths.end(), [](const std::string& p) {
        return std::filesystem::path(p).filename() == "meta_info.json";
    });
    std::vector<bool> keep(paths.size(), true);
    for (size_t i = 0; stats_dir && i < paths.size(); ++i)
        keep[i] = is_rank_file(paths[i]);
    return keep;
}

// rank{r}.safetensors: an 8-byte header length, then the JSON header.
bool claims_rank_file(std::string_view path, std::string_view head) {
    return head.size() > 8 && head[8] == '{' && is_rank_file(path);
}

// meta_info.json next to the rank files: top-k (tokens = selections / k) and E, if there.
void read_meta(const std::string& path, RecordSink& sink) {
    const auto meta = std::filesystem::path(path).parent_path() / "meta_info.json";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(meta, ec)) return;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    int64_t experts = 0, k = 0;
    if (parser.load(meta.string()).get(doc) || doc["num_experts"].get(experts) ||
        doc["num_experts_per_token"].get(k) || experts <= 0 || k <= 0 || k > experts ||
        experts > (int64_t{1} << 20))
        return sink.on_reject(RejectReason::malformed, meta.string() +
                                                           ": not {\"num_experts\": E, "
                                                           "\"num_experts_per_token\": k}");
    MetaRecord m;
    m.num_experts = static_cast<uint32_t>(experts);
    m.top_k = static_cast<uint32_t>(k);
    sink.on_meta(m);
}

void read_rank(const std::string& path, RecordSink& sink) {
    static const std::regex key(R"((\d{1,9})_(\d{1,9}))");
    try {
        const models::SafetensorsFile file(path);
        read_meta(path, sink);
        std::map<long, std::vector<double>> layers;  // summed over iterations
        std::vector<double> one;
        for (const models::TensorView& t : file.tensors()) {
            std::smatch m;
            if (!std::regex_match(t.name, m, key)) continue;  // not "{iter}_{layer}"
            const long layer = std::stol(m[2]);
            try {
                if (t.shape.size() != 1 || t.numel() == 0)
                    throw std::runtime_error("tensor " + t.name + " is not [num_experts]");
                one.assign(t.numel(), 0.0);
                t.to_double(0, t.rows(), one);
            } catch (const std::exception& e) {  // one iteration's tensor costs only itself
                sink.on_reject(RejectReason::malformed, e.what());
                continue;
            }
            std::vector<double>& sum = layers[layer];
            if (sum.empty()) sum.assign(one.size(), 0.0);
            if (sum.size() != one.size()) {
                sink.on_reject(RejectReason::wrong_vector_length, t.name);
                continue;
            }
            for (size_t e = 0; e < one.size(); ++e)
                sum[e] += one[e];
        }
        if (layers.empty())
            return sink.on_reject(RejectReason::missing_field,
                                  path + ": no \"{iter}_{layer}\" count tensors");
        for (const auto& [layer, counts] : layers) {
            if (layer > kMaxLayer) {
                sink.on_reject(RejectReason::layer_out_of_range, std::to_string(layer));
                continue;
            }
            CountRecord c;
            c.layer = static_cast<int32_t>(layer);
            c.counts = counts;
            c.snapshot = true;
            sink.on_counts(c);
        }
    } catch (const std::exception& e) {  // truncated or hostile file
        sink.on_reject(RejectReason::malformed, e.what());
    }
}

}  // namespace

FormatEntry trtllm_stats_format() {
    FormatEntry e{"trtllm-stats",
                  "TensorRT-LLM expert statistics rank{r}.safetensors, tensors {iter}_{layer} "
                  "(totals)",
                  330,
                  make_parser<TrtllmStatsParser>,
                  claims_rank_file,
                  read_rank};
    e.directory_files = rank_files_only;
    return e;
}

}  // namespace moe
