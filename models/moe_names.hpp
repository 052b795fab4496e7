// What a tensor name means in the common MoE layouts (docs/ARCHITECTURE.md "models/"):
//   GGUF (llama.cpp):  blk.N.ffn_gate_inp.weight            router [E, D]
//                      blk.N.ffn_{gate,up,down}_exps.weight  experts stacked [E, rows, cols]
//   Hugging Face:      *layers.N.mlp.gate.weight             router (Qwen-MoE, DeepSeek, OLMoE)
//                      *layers.N.block_sparse_moe.gate.weight  router (Mixtral)
//                      *layers.N.{mlp,block_sparse_moe}.experts.M.{gate,up,down}_proj.weight
//                      *layers.N.block_sparse_moe.experts.M.{w1,w3,w2}.weight (Mixtral)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace moe::models {

enum class Projection : uint8_t { gate = 0, up = 1, down = 2 };
inline constexpr size_t kProjections = 3;

struct TensorRole {
    enum class Kind : uint8_t { router, expert_stack, expert } kind = Kind::router;
    int32_t layer = 0;
    Projection proj = Projection::gate;  // Kind::expert_stack, Kind::expert
    int32_t expert = -1;                 // Kind::expert only
};

// nullopt for every other tensor (attention, norms, shared experts, dense MLPs).
std::optional<TensorRole> classify_tensor(std::string_view name);

}  // namespace moe::models
