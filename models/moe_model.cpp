#include "models/moe_model.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <simdjson.h>

namespace moe::models {

namespace {

namespace fs = std::filesystem;

// config.json facts; multimodal configs keep the language model's under "text_config".
void read_config(const fs::path& path, ModelFacts& f) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.load(path.string()).get(root)) return;  // facts are optional: tensors decide
    simdjson::dom::element text;
    if (!root["text_config"].get(text) && text.is_object()) root = text;
    auto integer = [&](std::initializer_list<const char*> keys) -> std::optional<int64_t> {
        for (const char* k : keys) {
            int64_t v;
            if (!root[k].get(v)) return v;
        }
        return std::nullopt;
    };
    std::string_view type;
    if (!root["model_type"].get(type)) f.architecture = std::string(type);
    f.layers = integer({"num_hidden_layers", "n_layer"});
    f.experts =
        integer({"num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"});
    f.top_k = integer({"num_experts_per_tok", "moe_top_k", "top_k"});
    f.n_embd = integer({"hidden_size", "d_model"});
}

std::vector<const TensorView*> pointers(const std::vector<TensorView>& ts) {
    std::vector<const TensorView*> out;
    for (const auto& t : ts)
        out.push_back(&t);
    return out;
}

}  // namespace

size_t MoeLayer::num_experts() const {
    if (router) return router->shape.empty() ? 0 : router->shape.front();
    return experts[0].size();
}

MoeModel::MoeModel(const std::string& path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec) && is_gguf(path)) {
        gguf_ = std::make_unique<GgufFile>(path);
        facts_.format = "gguf";
        facts_.file_bytes = gguf_->file().size();
        const auto arch = gguf_->get_string("general.architecture");
        facts_.architecture = std::string(arch.value_or(""));
        const std::string a = facts_.architecture + ".";
        facts_.layers = gguf_->get_int(a + "block_count");
        facts_.experts = gguf_->get_int(a + "expert_count");
        facts_.top_k = gguf_->get_int(a + "expert_used_count");
        facts_.n_embd = gguf_->get_int(a + "embedding_length");
        collect(pointers(gguf_->tensors()));
    } else {
        if (!fs::exists(path, ec)) throw std::runtime_error(path + ": no such file or directory");
        st_ = std::make_unique<SafetensorsModel>(path);
        facts_.format = "safetensors";
        for (const auto& s : st_->shards())
            facts_.file_bytes += s->file().size();
        read_config(fs::path(st_->directory()) / "config.json", facts_);
        collect(st_->tensors());
    }
    if (layers_.empty())
        throw std::runtime_error(path +
                                 ": no MoE router tensors (blk.N.ffn_gate_inp.weight or "
                                 "layers.N.mlp.gate.weight): not a Mixture-of-Experts "
                                 "model?");
    const MoeLayer& first = layers_.front();
    if (!facts_.experts) facts_.experts = static_cast<int64_t>(first.num_experts());
    if (!facts_.n_embd && first.router)
        facts_.n_embd = static_cast<int64_t>(first.router->row_length());
}

void MoeModel::collect(const std::vector<const TensorView*>& all) {
    std::map<int32_t, MoeLayer> by_layer;
    std::map<std::tuple<int32_t, size_t, int32_t>, const TensorView*> per_expert;
    for (const TensorView* t : all) {
        const auto role = classify_tensor(t->name);
        if (!role) continue;
        MoeLayer& l = by_layer[role->layer];
        l.layer = role->layer;
        const auto p = static_cast<size_t>(role->proj);
        switch (role->kind) {
            case TensorRole::Kind::router:
                if (t->shape.size() != 2)
                    throw std::runtime_error("router " + t->name + " is not a matrix");
                l.router = t;
                break;
            case TensorRole::Kind::expert_stack:
                if (t->shape.size() != 3)
                    throw std::runtime_error("expert tensor " + t->name + " is not 3-D");
                for (uint64_t e = 0; e < t->shape[0]; ++e)
                    l.experts[p].push_back(t->slice(e));
                break;
            case TensorRole::Kind::expert:
                per_expert[{role->layer, p, role->expert}] = t;
                break;
        }
    }
    for (const auto& [key, t] : per_expert) {  // in expert order per layer and projection
        auto& list = by_layer[std::get<0>(key)].experts[std::get<1>(key)];
        if (static_cast<int32_t>(list.size()) != std::get<2>(key))
            throw std::runtime_error(t->name + ": experts of this layer are not numbered 0.." +
                                     std::to_string(list.size()));
        list.push_back(*t);
    }
    for (auto& [n, l] : by_layer)
        if (l.router) layers_.push_back(std::move(l));
}

const MoeLayer* MoeModel::layer(int32_t n) const {
    for (const auto& l : layers_)
        if (l.layer == n) return &l;
    return nullptr;
}

void MoeModel::release(const TensorView& t) const {
    auto drop = [&](const MappedFile& f) {
        if (t.data >= f.data() && t.data < f.data() + f.size())
            f.release(static_cast<size_t>(t.data - f.data()), t.nbytes);
    };
    if (gguf_) drop(gguf_->file());
    if (st_)
        for (const auto& s : st_->shards())
            drop(s->file());
}

}  // namespace moe::models
