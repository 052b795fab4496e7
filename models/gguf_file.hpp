// A GGUF file (llama.cpp's model and imatrix container), memory-mapped: header (v2/v3),
// metadata key/values (scalars, strings, arrays, nested arrays), the tensor table and the
// aligned data section. Every offset and size is checked against the mapping; a truncated or
// hostile file throws std::runtime_error naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "models/mapped_file.hpp"
#include "models/tensor_view.hpp"

namespace moe::models {

// GGUF metadata value types (gguf.h).
enum class GgufValueType : uint32_t {
    u8 = 0,
    i8 = 1,
    u16 = 2,
    i16 = 3,
    u32 = 4,
    i32 = 5,
    f32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    u64 = 10,
    i64 = 11,
    f64 = 12
};

struct GgufValue;
struct GgufArray {
    GgufValueType elem = GgufValueType::u8;
    std::vector<GgufValue> items;
};

struct GgufValue {
    GgufValueType type = GgufValueType::u8;
    // Unsigned, signed, floating and bool scalars; strings point into the mapping.
    std::variant<uint64_t, int64_t, double, bool, std::string_view, GgufArray> v;

    // The value as an integer, when it is a number (bool counts as 0/1).
    std::optional<int64_t> as_int() const;
    std::optional<std::string_view> as_string() const;
    const GgufArray* as_array() const { return std::get_if<GgufArray>(&v); }
};

class GgufFile {
  public:
    explicit GgufFile(const std::string& path);

    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
    const MappedFile& file() const { return file_; }

    const std::map<std::string, GgufValue, std::less<>>& metadata() const { return meta_; }
    const GgufValue* find(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<std::string_view> get_string(std::string_view key) const;

    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* tensor(std::string_view name) const;

  private:
    MappedFile file_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::map<std::string, GgufValue, std::less<>> meta_;
    std::vector<TensorView> tensors_;
    std::map<std::string, size_t, std::less<>> by_name_;
};

// True when the file starts with the GGUF magic.
bool is_gguf(const std::string& path);

}  // namespace moe::models
