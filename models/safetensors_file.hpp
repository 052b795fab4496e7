// safetensors files, memory-mapped: an 8-byte little-endian header length, a JSON header
// (parsed with simdjson) naming each tensor's dtype, shape and data_offsets, then the data.
// Every size and offset is checked against the mapping; a truncated or hostile file throws
// std::runtime_error naming the file. SafetensorsModel opens a sharded checkpoint through its
// model.safetensors.index.json (or one file, or a directory) and finds tensors by name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/mapped_file.hpp"
#include "models/tensor_view.hpp"

namespace moe::models {

class SafetensorsFile {
  public:
    explicit SafetensorsFile(const std::string& path);

    const MappedFile& file() const { return file_; }
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* tensor(std::string_view name) const;
    const std::map<std::string, std::string, std::less<>>& metadata() const { return meta_; }

  private:
    MappedFile file_;
    std::vector<TensorView> tensors_;
    std::map<std::string, size_t, std::less<>> by_name_;
    std::map<std::string, std::string, std::less<>> meta_;  // "__metadata__"
};

// The safetensors dtype strings: F32, F16, BF16, F64, I8..I64, U8..U64, BOOL.
std::optional<DType> safetensors_dtype(std::string_view s);

class SafetensorsModel {
  public:
    // path: a .safetensors file, a model.safetensors.index.json, or a directory holding
    // either (the index first, else every *.safetensors in name order).
    explicit SafetensorsModel(const std::string& path);

    const std::vector<const TensorView*>& tensors() const { return all_; }
    const TensorView* tensor(std::string_view name) const;
    const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }
    const std::string& directory() const { return dir_; }  // for config.json

  private:
    void add_shard(const std::string& path);
    std::string dir_;
    std::vector<std::unique_ptr<SafetensorsFile>> shards_;
    std::vector<const TensorView*> all_;
    std::map<std::string, const TensorView*, std::less<>> by_name_;
};

}  // namespace moe::models
