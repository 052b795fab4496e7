// llama.cpp's `llama-imatrix` output (tools/imatrix/imatrix.cpp, GGUF with general.type
// "imatrix"): for every weight W it writes "W.in_sum2" and "W.counts", and for a merged
// expert tensor (blk.N.ffn_{gate,up,down}_exps.weight) counts is F32 [n_expert] holding how
// many (token, slot) selections went to each expert. gate, up and down are fed the same ids
// by ggml_mul_mat_id, so their counts are equal: down is taken because every MoE FFN has it
// (some architectures merge gate and up); a layer without it falls back to the others.
// Counts only: docs/ARCHITECTURE.md "Count-only sources". A binary whole file, read by path.
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/gguf_file.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

namespace {

class ImatrixGgufParser final : public FormatParser {
  public:
    // A GGUF file is binary: its lines are never this format's.
    bool claims(std::string_view) const override { return false; }
    bool may_claim(unsigned char) const override { return false; }
    void parse(std::string_view line, RecordSink& sink) override { skip_unrecognized(line, sink); }
};

// The magic and a little-endian version 2 or 3: a text line starting "GGUF" is not one.
bool claims_gguf(std::string_view, std::string_view head) {
    return head.size() >= 8 && head.substr(0, 4) == "GGUF" && (head[4] == 2 || head[4] == 3) &&
           head.substr(5, 3) == std::string_view("\0\0\0", 3);
}

// Lower is preferred: down first (present in every MoE FFN), then gate, up, gate_up.
int preference(const std::string& proj) {
    static const char* const order[] = {"down", "gate", "up", "gate_up"};
    for (int i = 0; i < 4; ++i)
        if (proj == order[i]) return i;
    return 4;
}

void read_imatrix(const std::string& path, RecordSink& sink) {
    static const std::regex name(R"(blk\.(\d+)\.ffn_([a-z_]+?)_exps\.weight\.counts)");
    struct Pick {
        int preference;
        const models::TensorView* tensor;
    };
    std::vector<double> counts;
    try {
        const models::GgufFile file(path);
        std::map<long, Pick> layers;  // layer -> the counts tensor taken
        for (const models::TensorView& t : file.tensors()) {
            std::smatch m;
            if (!std::regex_match(t.name, m, name)) continue;
            const long layer = std::stol(m[1].str().substr(0, 9));
            const int pref = preference(m[2]);
            auto [it, fresh] = layers.try_emplace(layer, Pick{pref, &t});
            if (!fresh && pref < it->second.preference) it->second = Pick{pref, &t};
        }
        if (layers.empty())
            return sink.on_reject(RejectReason::missing_field,
                                  path +
                                      ": no blk.N.ffn_*_exps.weight.counts tensors (not an "
                                      "llama-imatrix file of a MoE model)");
        for (const auto& [layer, pick] : layers) {
            const models::TensorView& t = *pick.tensor;
            if (layer > kMaxLayer) {
                sink.on_reject(RejectReason::layer_out_of_range, t.name);
                continue;
            }
            try {
                counts.assign(t.numel(), 0.0);
                t.to_double(0, t.rows(), counts);
            } catch (const std::exception& e) {  // one layer's tensor costs only itself
                sink.on_reject(RejectReason::malformed, e.what());
                continue;
            }
            CountRecord c;
            c.layer = static_cast<int32_t>(layer);
            c.counts = counts;
            c.snapshot = true;
            sink.on_counts(c);
        }
    } catch (const std::exception& e) {  // truncated, hostile, or an unsupported type
        sink.on_reject(RejectReason::malformed, e.what());
    }
}

}  // namespace

FormatEntry imatrix_gguf_format() {
    return {"imatrix-gguf",
            "llama.cpp llama-imatrix GGUF, blk.N.ffn_*_exps.weight.counts (totals)",
            340,
            make_parser<ImatrixGgufParser>,
            claims_gguf,
            read_imatrix};
}

}  // namespace moe
