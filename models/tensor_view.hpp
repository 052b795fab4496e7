// One tensor inside a mapped model file, as both readers (GGUF, safetensors) describe it:
// element type, shape (outermost first, numpy order) and the bytes. Rows are the innermost
// dimension; to_float/to_double convert rows into a caller buffer, so a whole tensor is never
// materialised (docs/ARCHITECTURE.md "models/").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moe::models {

// Element types. Quantised GGUF types other than Q8_0 are listed so tensor tables of any
// llama.cpp model can be read; converting them throws "tensor type X not supported".
enum class DType : uint8_t {
    f32,
    f16,
    bf16,
    f64,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    boolean,
    q8_0,
    other
};

bool convertible(DType t);  // to_float/to_double work for it

struct TensorView {
    std::string name;
    DType dtype = DType::f32;
    std::string type_name;        // as the file spells it ("Q4_K", "F16", ...)
    std::vector<uint64_t> shape;  // outermost first; the last is the row length
    const std::byte* data = nullptr;
    size_t nbytes = 0;
    size_t row_bytes = 0;  // bytes of one row (blocks for quantised types)

    uint64_t row_length() const { return shape.empty() ? 1 : shape.back(); }
    uint64_t rows() const;
    uint64_t numel() const { return rows() * row_length(); }

    // Rows [first, first + count) as floats (doubles) into out (count * row_length values).
    // Throws std::runtime_error "tensor type X not supported" for other types, and
    // std::out_of_range for rows past the end or a short buffer.
    void to_float(uint64_t first, uint64_t count, std::span<float> out) const;
    void to_double(uint64_t first, uint64_t count, std::span<double> out) const;

    // The sub-tensor at index i of the outermost dimension (one expert of a stacked 3-D
    // tensor): shape without its first entry, bytes of that slice.
    TensorView slice(uint64_t i) const;
};

// Bytes per block and elements per block of a GGUF type id; nullopt for an unknown id.
struct GgmlTypeInfo {
    std::string_view name;
    uint32_t block = 1, bytes = 4;
    DType dtype = DType::other;
};
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id);

// Overflow-checked a * b; throws std::runtime_error(what) on overflow.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what);
uint64_t checked_add(uint64_t a, uint64_t b, const std::string& what);

}  // namespace moe::models
