#include "models/tensor_view.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace moe::models {

namespace {

template <class T>
T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// IEEE half to float without F16C: the exponent rebias is one multiply by 2^112, which also
// turns half subnormals into the right floats; Inf/NaN keep an all-ones exponent.
float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t em = h & 0x7fffu;
    uint32_t bits;
    if (em >= 0x7c00u)
        bits = (em << 13) | 0x7f800000u;
    else
        bits = std::bit_cast<uint32_t>(std::bit_cast<float>(em << 13) * 0x1p112f);
    return std::bit_cast<float>(bits | sign);
}

float bf16_to_float(uint16_t h) {
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

template <class Out>
void convert_row(DType t, const std::byte* p, uint64_t n, Out* out) {
    switch (t) {
        case DType::f32:
            for (uint64_t i = 0; i < n; ++i)
                out[i] = static_cast<Out>(load<float>(p + 4 * i));
            return;
        case DType::f16:
            for (uint64_t i = 0; i < n; ++i)
                out[i] = static_cast<Out>(half_to_float(load<uint16_t>(p + 2 * i)));
            return;
        case DType::bf16:
            for (uint64_t i = 0; i < n; ++i)
                out[i] = static_cast<Out>(bf16_to_float(load<uint16_t>(p + 2 * i)));
            return;
        case DType::q8_0:  // blocks of 32: an f16 scale, then 32 int8
            for (uint64_t b = 0; b < n / 32; ++b) {
                const std::byte* blk = p + 34 * b;
                const float d = half_to_float(load<uint16_t>(blk));
                for (int k = 0; k < 32; ++k)
                    out[32 * b + k] =
                        static_cast<Out>(d * static_cast<float>(load<int8_t>(blk + 2 + k)));
            }
            return;
#define MOESCOPE_INT_CASE(tag, T)                                  \
    case DType::tag:                                               \
        for (uint64_t i = 0; i < n; ++i)                           \
            out[i] = static_cast<Out>(load<T>(p + sizeof(T) * i)); \
        return;
            MOESCOPE_INT_CASE(f64, double)
            MOESCOPE_INT_CASE(i8, int8_t)
            MOESCOPE_INT_CASE(i16, int16_t)
            MOESCOPE_INT_CASE(i32, int32_t)
            MOESCOPE_INT_CASE(i64, int64_t)
            MOESCOPE_INT_CASE(u8, uint8_t)
            MOESCOPE_INT_CASE(u16, uint16_t)
            MOESCOPE_INT_CASE(u32, uint32_t)
            MOESCOPE_INT_CASE(u64, uint64_t)
            MOESCOPE_INT_CASE(boolean, uint8_t)
#undef MOESCOPE_INT_CASE
        case DType::other:
            break;
    }
}

template <class Out>
void convert(const TensorView& v, uint64_t first, uint64_t count, std::span<Out> out) {
    if (!convertible(v.dtype))
        throw std::runtime_error("tensor " + v.name + ": tensor type " + v.type_name +
                                 " not supported (F32, F16, BF16, Q8_0 and integer types are)");
    const uint64_t rows = v.rows(), n = v.row_length();
    if (first > rows || count > rows - first)
        throw std::out_of_range("tensor " + v.name + ": rows past the end");
    if (out.size() / (n ? n : 1) < count)
        throw std::out_of_range("tensor " + v.name + ": output buffer too small");
    for (uint64_t r = 0; r < count; ++r)
        convert_row(v.dtype, v.data + (first + r) * v.row_bytes, n, out.data() + r * n);
}

}  // namespace

bool convertible(DType t) {
    return t != DType::other;
}

uint64_t TensorView::rows() const {
    uint64_t r = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i)
        r *= shape[i];
    return r;
}

void TensorView::to_float(uint64_t first, uint64_t count, std::span<float> out) const {
    convert(*this, first, count, out);
}

void TensorView::to_double(uint64_t first, uint64_t count, std::span<double> out) const {
    convert(*this, first, count, out);
}

TensorView TensorView::slice(uint64_t i) const {
    if (shape.size() < 2 || i >= shape[0])
        throw std::out_of_range("tensor " + name + ": no slice " + std::to_string(i));
    TensorView s = *this;
    s.shape.erase(s.shape.begin());
    s.nbytes = nbytes / shape[0];
    s.data = data + i * s.nbytes;
    s.name = name + "[" + std::to_string(i) + "]";
    return s;
}

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id) {
    // ggml.h's type ids with their block sizes and bytes per block.
    switch (id) {
        case 0:
            return GgmlTypeInfo{"F32", 1, 4, DType::f32};
        case 1:
            return GgmlTypeInfo{"F16", 1, 2, DType::f16};
        case 2:
            return GgmlTypeInfo{"Q4_0", 32, 18};
        case 3:
            return GgmlTypeInfo{"Q4_1", 32, 20};
        case 6:
            return GgmlTypeInfo{"Q5_0", 32, 22};
        case 7:
            return GgmlTypeInfo{"Q5_1", 32, 24};
        case 8:
            return GgmlTypeInfo{"Q8_0", 32, 34, DType::q8_0};
        case 9:
            return GgmlTypeInfo{"Q8_1", 32, 36};
        case 10:
            return GgmlTypeInfo{"Q2_K", 256, 84};
        case 11:
            return GgmlTypeInfo{"Q3_K", 256, 110};
        case 12:
            return GgmlTypeInfo{"Q4_K", 256, 144};
        case 13:
            return GgmlTypeInfo{"Q5_K", 256, 176};
        case 14:
            return GgmlTypeInfo{"Q6_K", 256, 210};
        case 15:
            return GgmlTypeInfo{"Q8_K", 256, 292};
        case 16:
            return GgmlTypeInfo{"IQ2_XXS", 256, 66};
        case 17:
            return GgmlTypeInfo{"IQ2_XS", 256, 74};
        case 18:
            return GgmlTypeInfo{"IQ3_XXS", 256, 98};
        case 19:
            return GgmlTypeInfo{"IQ1_S", 256, 50};
        case 20:
            return GgmlTypeInfo{"IQ4_NL", 32, 18};
        case 21:
            return GgmlTypeInfo{"IQ3_S", 256, 110};
        case 22:
            return GgmlTypeInfo{"IQ2_S", 256, 82};
        case 23:
            return GgmlTypeInfo{"IQ4_XS", 256, 136};
        case 24:
            return GgmlTypeInfo{"I8", 1, 1, DType::i8};
        case 25:
            return GgmlTypeInfo{"I16", 1, 2, DType::i16};
        case 26:
            return GgmlTypeInfo{"I32", 1, 4, DType::i32};
        case 27:
            return GgmlTypeInfo{"I64", 1, 8, DType::i64};
        case 28:
            return GgmlTypeInfo{"F64", 1, 8, DType::f64};
        case 29:
            return GgmlTypeInfo{"IQ1_M", 256, 56};
        case 30:
            return GgmlTypeInfo{"BF16", 1, 2, DType::bf16};
        case 34:
            return GgmlTypeInfo{"TQ1_0", 256, 54};
        case 35:
            return GgmlTypeInfo{"TQ2_0", 256, 66};
        case 39:
            return GgmlTypeInfo{"MXFP4", 32, 17};
        default:
            return std::nullopt;
    }
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) throw std::runtime_error(what);
    return r;
}

uint64_t checked_add(uint64_t a, uint64_t b, const std::string& what) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) throw std::runtime_error(what);
    return r;
}

}  // namespace moe::models
