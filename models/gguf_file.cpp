#include "models/gguf_file.hpp"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace moe::models {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 4;
constexpr uint32_t kMaxDims = 8;

// A bounds-checked reader over the mapping: every read says what it was reading when the
// file ends early.
class Cursor {
  public:
    Cursor(const MappedFile& f) : f_(f) {}

    const std::byte* take(uint64_t n, const char* what) {
        if (n > f_.size() - pos_) fail(std::string("truncated while reading ") + what);
        const std::byte* p = f_.data() + pos_;
        pos_ += n;
        return p;
    }
    template <class T>
    T get(const char* what) {
        T v;
        std::memcpy(&v, take(sizeof v, what), sizeof v);
        return v;
    }
    std::string_view string(const char* what) {
        const uint64_t n = get<uint64_t>(what);
        return {reinterpret_cast<const char*>(take(n, what)), static_cast<size_t>(n)};
    }
    uint64_t remaining() const { return f_.size() - pos_; }
    uint64_t pos() const { return pos_; }
    [[noreturn]] void fail(const std::string& msg) const {
        throw std::runtime_error(f_.path() + ": not a valid GGUF file: " + msg + " (at byte " +
                                 std::to_string(pos_) + ")");
    }

  private:
    const MappedFile& f_;
    uint64_t pos_ = 0;
};

uint64_t min_size(GgufValueType t) {
    switch (t) {
        case GgufValueType::u8:
        case GgufValueType::i8:
        case GgufValueType::boolean:
            return 1;
        case GgufValueType::u16:
        case GgufValueType::i16:
            return 2;
        case GgufValueType::u32:
        case GgufValueType::i32:
        case GgufValueType::f32:
            return 4;
        default:
            return 8;  // u64, i64, f64, string length, array header (type + count: 12)
    }
}

GgufValue read_value(Cursor& c, GgufValueType t, int depth) {
    GgufValue v;
    v.type = t;
    switch (t) {
        case GgufValueType::u8:
            v.v = uint64_t{c.get<uint8_t>("a u8 value")};
            break;
        case GgufValueType::i8:
            v.v = int64_t{c.get<int8_t>("an i8 value")};
            break;
        case GgufValueType::u16:
            v.v = uint64_t{c.get<uint16_t>("a u16 value")};
            break;
        case GgufValueType::i16:
            v.v = int64_t{c.get<int16_t>("an i16 value")};
            break;
        case GgufValueType::u32:
            v.v = uint64_t{c.get<uint32_t>("a u32 value")};
            break;
        case GgufValueType::i32:
            v.v = int64_t{c.get<int32_t>("an i32 value")};
            break;
        case GgufValueType::u64:
            v.v = c.get<uint64_t>("a u64 value");
            break;
        case GgufValueType::i64:
            v.v = c.get<int64_t>("an i64 value");
            break;
        case GgufValueType::f32:
            v.v = double{c.get<float>("an f32 value")};
            break;
        case GgufValueType::f64:
            v.v = c.get<double>("an f64 value");
            break;
        case GgufValueType::boolean:
            v.v = c.get<uint8_t>("a bool value") != 0;
            break;
        case GgufValueType::string:
            v.v = c.string("a string value");
            break;
        case GgufValueType::array: {
            if (depth >= kMaxArrayDepth) c.fail("arrays nested too deep");
            GgufArray a;
            const uint32_t et = c.get<uint32_t>("an array type");
            if (et > 12) c.fail("unknown array element type " + std::to_string(et));
            a.elem = static_cast<GgufValueType>(et);
            const uint64_t n = c.get<uint64_t>("an array length");
            // A hostile count must not drive the allocation: each element takes bytes.
            if (n > c.remaining() / min_size(a.elem))
                c.fail("array of " + std::to_string(n) + " elements is longer than the file");
            a.items.reserve(n);
            for (uint64_t i = 0; i < n; ++i)
                a.items.push_back(read_value(c, a.elem, depth + 1));
            v.v = std::move(a);
            break;
        }
        default:
            c.fail("unknown metadata value type " + std::to_string(static_cast<uint32_t>(t)));
    }
    return v;
}

}  // namespace

std::optional<int64_t> GgufValue::as_int() const {
    if (auto* u = std::get_if<uint64_t>(&v)) return static_cast<int64_t>(*u);
    if (auto* i = std::get_if<int64_t>(&v)) return *i;
    if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
    if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
    return std::nullopt;
}

std::optional<std::string_view> GgufValue::as_string() const {
    if (auto* s = std::get_if<std::string_view>(&v)) return *s;
    return std::nullopt;
}

GgufFile::GgufFile(const std::string& path) : file_(path) {
    Cursor c(file_);
    const uint32_t magic = c.get<uint32_t>("the magic");
    if (magic != kMagic) c.fail("no GGUF magic");
    version_ = c.get<uint32_t>("the version");
    if (version_ == 0x03000000u || version_ == 0x02000000u)
        c.fail("big-endian GGUF is not supported");
    if (version_ != 2 && version_ != 3)
        c.fail("version " + std::to_string(version_) + " is not supported (2 and 3 are)");
    const uint64_t n_tensors = c.get<uint64_t>("the tensor count");
    const uint64_t n_kv = c.get<uint64_t>("the metadata count");
    if (n_kv > c.remaining() / 12) c.fail("metadata count is larger than the file");
    if (n_tensors > c.remaining() / 24) c.fail("tensor count is larger than the file");

    for (uint64_t i = 0; i < n_kv; ++i) {
        const std::string key(c.string("a metadata key"));
        const uint32_t t = c.get<uint32_t>("a metadata type");
        if (t > 12) c.fail("key " + key + ": unknown value type " + std::to_string(t));
        meta_.insert_or_assign(key, read_value(c, static_cast<GgufValueType>(t), 0));
    }
    if (const GgufValue* a = find("general.alignment")) {
        const auto v = a->as_int();
        if (!v || *v <= 0 || (*v & (*v - 1)) != 0 || *v > (1 << 20))
            c.fail("general.alignment must be a power of two");
        alignment_ = static_cast<uint64_t>(*v);
    }

    struct Raw {
        TensorView view;
        uint64_t offset;
    };
    std::vector<Raw> raw;
    raw.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorView t;
        t.name = std::string(c.string("a tensor name"));
        const uint32_t nd = c.get<uint32_t>("a tensor's dimension count");
        if (nd > kMaxDims)
            c.fail("tensor " + t.name + " has " + std::to_string(nd) + " dimensions");
        std::vector<uint64_t> ne(nd);
        for (auto& d : ne)
            d = c.get<uint64_t>("a tensor dimension");
        const uint32_t type = c.get<uint32_t>("a tensor type");
        const uint64_t offset = c.get<uint64_t>("a tensor offset");
        const auto info = ggml_type_info(type);
        if (!info) c.fail("tensor " + t.name + ": unknown tensor type id " + std::to_string(type));
        t.dtype = info->dtype;
        t.type_name = std::string(info->name);
        t.shape.assign(ne.rbegin(), ne.rend());  // GGUF lists the innermost first
        const std::string overflow = path + ": tensor " + t.name + ": size overflows";
        const uint64_t row_len = ne.empty() ? 1 : ne[0];
        if (row_len % info->block != 0)
            c.fail("tensor " + t.name + ": row length " + std::to_string(row_len) +
                   " is not a multiple of the " + t.type_name + " block size");
        t.row_bytes = checked_mul(row_len / info->block, info->bytes, overflow);
        uint64_t rows = 1;
        for (size_t d = 1; d < ne.size(); ++d)
            rows = checked_mul(rows, ne[d], overflow);
        t.nbytes = checked_mul(rows, t.row_bytes, overflow);
        raw.push_back({std::move(t), offset});
    }
    data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
    if (n_tensors > 0 && data_offset_ > file_.size()) c.fail("truncated before the tensor data");
    for (auto& [t, offset] : raw) {
        const std::string overflow = path + ": tensor " + t.name + ": offset overflows";
        const uint64_t begin = checked_add(data_offset_, offset, overflow);
        const uint64_t end = checked_add(begin, t.nbytes, overflow);
        if (end > file_.size())
            throw std::runtime_error(path + ": tensor " + t.name + " (" + std::to_string(t.nbytes) +
                                     " bytes at " + std::to_string(begin) +
                                     ") runs past the end of the file (" +
                                     std::to_string(file_.size()) + " bytes): truncated?");
        t.data = file_.data() + begin;
        if (!by_name_.emplace(t.name, tensors_.size()).second)
            throw std::runtime_error(path + ": tensor " + t.name + " is listed twice");
        tensors_.push_back(std::move(t));
    }
}

const GgufValue* GgufFile::find(std::string_view key) const {
    const auto it = meta_.find(key);
    return it == meta_.end() ? nullptr : &it->second;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->as_int() : std::nullopt;
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->as_string() : std::nullopt;
}

const TensorView* GgufFile::tensor(std::string_view name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

bool is_gguf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char m[4] = {};
    return in.read(m, 4) && std::memcmp(m, "GGUF", 4) == 0;
}

}  // namespace moe::models
