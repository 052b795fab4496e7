// A MoE model file opened for weight analysis: GGUF (one file) or safetensors (one file, a
// sharded index, or a directory), its router and expert tensors by layer (models/moe_names)
// and its facts from GGUF metadata or config.json. Tensors stay views into the mappings.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/gguf_file.hpp"
#include "models/moe_names.hpp"
#include "models/safetensors_file.hpp"

namespace moe::models {

struct MoeLayer {
    int32_t layer = 0;
    const TensorView* router = nullptr;  // [experts, n_embd]; null if the layer has none
    // experts[p][e]: expert e's matrix of projection p (a slice of a stacked GGUF tensor or
    // its own HF tensor); empty when the file has no such tensors.
    std::array<std::vector<TensorView>, kProjections> experts;
    size_t num_experts() const;
};

struct ModelFacts {
    std::string format;        // "gguf" or "safetensors"
    std::string architecture;  // general.architecture / config.json model_type
    std::optional<int64_t> layers, experts, top_k, n_embd;
    uint64_t file_bytes = 0;  // all files together
};

class MoeModel {
  public:
    // Throws std::runtime_error for unreadable files and for a model without MoE routers.
    explicit MoeModel(const std::string& path);

    const ModelFacts& facts() const { return facts_; }
    const std::vector<MoeLayer>& layers() const { return layers_; }  // by layer number
    const MoeLayer* layer(int32_t n) const;

    // Drops the mapped pages of t (done with it): memory stays near one layer's tensors.
    void release(const TensorView& t) const;

  private:
    void collect(const std::vector<const TensorView*>& all);
    std::unique_ptr<GgufFile> gguf_;
    std::unique_ptr<SafetensorsModel> st_;
    ModelFacts facts_;
    std::vector<MoeLayer> layers_;
};

}  // namespace moe::models
