#include "models/moe_names.hpp"

#include <charconv>

namespace moe::models {

namespace {

// Reads a non-negative decimal at the front of s and the dot after it; false if none.
bool take_index(std::string_view& s, int32_t& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec != std::errc() || out < 0 || r.ptr == s.data() + s.size() || *r.ptr != '.')
        return false;
    s.remove_prefix(static_cast<size_t>(r.ptr - s.data()) + 1);
    return true;
}

bool take(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

std::optional<Projection> projection(std::string_view s) {
    if (s == "gate_proj" || s == "w1") return Projection::gate;
    if (s == "up_proj" || s == "w3") return Projection::up;
    if (s == "down_proj" || s == "w2") return Projection::down;
    return std::nullopt;
}

std::optional<TensorRole> gguf_name(std::string_view s) {
    TensorRole r;
    if (!take(s, "blk.") || !take_index(s, r.layer)) return std::nullopt;
    if (s == "ffn_gate_inp.weight") return r;
    r.kind = TensorRole::Kind::expert_stack;
    if (s == "ffn_gate_exps.weight") return r.proj = Projection::gate, r;
    if (s == "ffn_up_exps.weight") return r.proj = Projection::up, r;
    if (s == "ffn_down_exps.weight") return r.proj = Projection::down, r;
    return std::nullopt;
}

std::optional<TensorRole> hf_name(std::string_view s) {
    // Any prefix (model., language_model.model., ...) before "layers.N.".
    const size_t at = s.find("layers.");
    if (at == std::string_view::npos || (at > 0 && s[at - 1] != '.')) return std::nullopt;
    s.remove_prefix(at + 7);
    TensorRole r;
    if (!take_index(s, r.layer)) return std::nullopt;
    if (!take(s, "mlp.") && !take(s, "block_sparse_moe.")) return std::nullopt;
    if (s == "gate.weight") return r;
    if (!take(s, "experts.") || !take_index(s, r.expert) || !s.ends_with(".weight"))
        return std::nullopt;
    s.remove_suffix(7);
    const auto p = projection(s);
    if (!p) return std::nullopt;
    r.kind = TensorRole::Kind::expert;
    r.proj = *p;
    return r;
}

}  // namespace

std::optional<TensorRole> classify_tensor(std::string_view name) {
    if (name.starts_with("blk.")) return gguf_name(name);
    return hf_name(name);
}

}  // namespace moe::models
