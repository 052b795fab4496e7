#include "models/safetensors_file.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <simdjson.h>

namespace moe::models {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& path, const std::string& msg) {
    throw std::runtime_error(path + ": not a valid safetensors file: " + msg);
}

size_t dtype_size(DType t) {
    switch (t) {
        case DType::f64:
        case DType::i64:
        case DType::u64:
            return 8;
        case DType::f32:
        case DType::i32:
        case DType::u32:
            return 4;
        case DType::f16:
        case DType::bf16:
        case DType::i16:
        case DType::u16:
            return 2;
        default:
            return 1;
    }
}

// Header limit: real headers are a few MB; a larger value is a corrupt or hostile length.
constexpr uint64_t kMaxHeader = 100ull << 20;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::optional<DType> safetensors_dtype(std::string_view s) {
    static const std::pair<std::string_view, DType> names[] = {
        {"F32", DType::f32},     {"F16", DType::f16}, {"BF16", DType::bf16}, {"F64", DType::f64},
        {"I8", DType::i8},       {"I16", DType::i16}, {"I32", DType::i32},   {"I64", DType::i64},
        {"U8", DType::u8},       {"U16", DType::u16}, {"U32", DType::u32},   {"U64", DType::u64},
        {"BOOL", DType::boolean}};
    for (const auto& [n, t] : names)
        if (n == s) return t;
    return std::nullopt;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
    if (file_.size() < 8) bad(path, "shorter than its 8-byte header length");
    uint64_t n;
    std::memcpy(&n, file_.data(), 8);
    if (n > file_.size() - 8) bad(path, "header length " + std::to_string(n) + " is past the end");
    if (n > kMaxHeader) bad(path, "header length " + std::to_string(n) + " is too large");
    const std::byte* data = file_.data() + 8 + n;
    const uint64_t data_size = file_.size() - 8 - n;

    simdjson::dom::parser parser;
    simdjson::padded_string json(reinterpret_cast<const char*>(file_.data() + 8), n);
    simdjson::dom::object root;
    if (auto err = parser.parse(json).get(root))
        bad(path, std::string("header is not a JSON object: ") + simdjson::error_message(err));
    for (auto [key, value] : root) {
        const std::string name(key);
        if (name == "__metadata__") {
            simdjson::dom::object m;
            if (value.get(m)) bad(path, "__metadata__ is not an object");
            for (auto [k, v] : m) {
                std::string_view s;
                if (!v.get(s)) meta_.emplace(std::string(k), std::string(s));
            }
            continue;
        }
        simdjson::dom::object o;
        std::string_view dt;
        simdjson::dom::array shape, offsets;
        if (value.get(o) || o["dtype"].get(dt) || o["shape"].get(shape) ||
            o["data_offsets"].get(offsets))
            bad(path, "tensor " + name + " lacks dtype, shape or data_offsets");
        TensorView t;
        t.name = name;
        t.type_name = std::string(dt);
        const auto dtype = safetensors_dtype(dt);
        t.dtype = dtype.value_or(DType::other);
        const std::string overflow = path + ": tensor " + name + ": size overflows";
        uint64_t numel = 1;
        for (auto d : shape) {
            uint64_t v;
            if (d.get(v)) bad(path, "tensor " + name + ": shape entries must be integers");
            t.shape.push_back(v);
            numel = checked_mul(numel, v, overflow);
        }
        std::vector<uint64_t> off;
        for (auto d : offsets) {
            uint64_t v;
            if (d.get(v)) bad(path, "tensor " + name + ": data_offsets must be integers");
            off.push_back(v);
        }
        if (off.size() != 2 || off[0] > off[1] || off[1] > data_size)
            bad(path, "tensor " + name + ": data_offsets are outside the data (" +
                          std::to_string(data_size) + " bytes): truncated?");
        t.nbytes = off[1] - off[0];
        if (dtype && t.nbytes != checked_mul(numel, dtype_size(*dtype), overflow))
            bad(path, "tensor " + name + ": " + std::to_string(t.nbytes) +
                          " bytes do not hold its shape");
        t.row_bytes = dtype ? t.row_length() * dtype_size(*dtype) : 0;
        t.data = data + off[0];
        if (!by_name_.emplace(name, tensors_.size()).second)
            bad(path, "tensor " + name + " is listed twice");
        tensors_.push_back(std::move(t));
    }
}

const TensorView* SafetensorsFile::tensor(std::string_view name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsModel::SafetensorsModel(const std::string& path) {
    fs::path p(path);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
        dir_ = p.string();
        if (fs::exists(p / "model.safetensors.index.json"))
            p /= "model.safetensors.index.json";
        else {
            std::vector<std::string> files;
            for (const auto& e : fs::directory_iterator(p))
                if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
            if (files.empty())
                throw std::runtime_error(path +
                                         ": no model.safetensors.index.json or .safetensors "
                                         "file in this directory (give a .gguf by its path)");
            std::sort(files.begin(), files.end());
            for (const auto& f : files)
                add_shard(f);
            return;
        }
    } else {
        dir_ = p.parent_path().string();
    }
    if (p.extension() != ".json") {
        add_shard(p.string());
        return;
    }
    // The index: {"weight_map": {"tensor name": "shard file", ...}}.
    const std::string text = read_text(p.string());
    simdjson::dom::parser parser;
    simdjson::dom::object map;
    if (parser.parse(simdjson::padded_string(text))["weight_map"].get(map))
        throw std::runtime_error(p.string() + ": no \"weight_map\" object");
    std::set<std::string> files;
    for (auto [name, file] : map) {
        std::string_view f;
        if (file.get(f))
            throw std::runtime_error(p.string() + ": weight_map values must be strings");
        if (f.find('/') != std::string_view::npos || f == "..")
            throw std::runtime_error(p.string() + ": shard '" + std::string(f) +
                                     "' is not a file name in the index's directory");
        files.insert(std::string(f));
    }
    for (const auto& f : files)
        add_shard((p.parent_path() / f).string());
    for (auto [name, file] : map)
        if (!tensor(std::string_view(name)))
            throw std::runtime_error(p.string() + ": tensor " + std::string(name) +
                                     " is not in its shard " +
                                     std::string(std::string_view(file.get_string().value())));
}

void SafetensorsModel::add_shard(const std::string& path) {
    shards_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const TensorView& t : shards_.back()->tensors()) {
        if (!by_name_.emplace(t.name, &t).second)
            throw std::runtime_error(path + ": tensor " + t.name + " is also in another shard");
        all_.push_back(&t);
    }
}

const TensorView* SafetensorsModel::tensor(std::string_view name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace moe::models
