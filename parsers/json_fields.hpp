// The field spellings seen in the wild (docs/INPUTS.md "Log formats"), mapped to one meaning.
#pragma once

#include <string_view>

namespace moe {

enum class JsonField : uint8_t {
    unknown,
    type,         // "meta", "gate_input", "routing"
    layer,        // layer, layer_id
    experts,      // experts, expert_ids, topk_ids, selected_experts
    weights,      // weights, topk_weights, gating_probs, expert_weights
    logits,       // logits, router_logits
    token,        // token, token_idx, token_pos, token_id
    request,      // request, req_id, request_id, sample_id, problem_id
    tag,          // tag, dataset
    timestamp,    // ts, timestamp, time
    values,       // gate_input vector
    model_id,     // model_id, model
    num_experts,  // num_experts, n_experts
    top_k,        // top_k, topk, k
    samples,      // router-pipeline document
    routed,       // routed_experts: [tokens][layers][top_k], or base64 int32 (SGLang)
    phase,        // phase: prefill / decode, composed with the tag (docs/ARCHITECTURE.md)
    num_layers,   // num_layers: the shape of base64 routed_experts
};

// Switch on length first: this runs once per key of every record.
constexpr JsonField json_field(std::string_view k) {
    switch (k.size()) {
        case 1:
            return k == "k" ? JsonField::top_k : JsonField::unknown;
        case 2:
            return k == "ts" ? JsonField::timestamp : JsonField::unknown;
        case 3:
            return k == "tag" ? JsonField::tag : JsonField::unknown;
        case 4:
            if (k == "type") return JsonField::type;
            if (k == "time") return JsonField::timestamp;
            return JsonField::unknown;
        case 5:
            if (k == "layer") return JsonField::layer;
            if (k == "token") return JsonField::token;
            if (k == "model") return JsonField::model_id;
            if (k == "top_k" || k == "topk") return JsonField::top_k;
            if (k == "phase") return JsonField::phase;
            return JsonField::unknown;
        case 6:
            if (k == "logits") return JsonField::logits;
            if (k == "values") return JsonField::values;
            if (k == "req_id") return JsonField::request;
            return JsonField::unknown;
        case 7:
            if (k == "experts") return JsonField::experts;
            if (k == "weights") return JsonField::weights;
            if (k == "request") return JsonField::request;
            if (k == "dataset") return JsonField::tag;
            if (k == "samples") return JsonField::samples;
            return JsonField::unknown;
        case 8:
            if (k == "layer_id") return JsonField::layer;
            if (k == "topk_ids") return JsonField::experts;
            if (k == "token_id") return JsonField::token;
            if (k == "model_id") return JsonField::model_id;
            return JsonField::unknown;
        case 9:
            if (k == "token_idx") return JsonField::token;
            if (k == "token_pos") return JsonField::token;
            if (k == "sample_id") return JsonField::request;
            if (k == "timestamp") return JsonField::timestamp;
            if (k == "n_experts") return JsonField::num_experts;
            return JsonField::unknown;
        case 10:
            if (k == "expert_ids") return JsonField::experts;
            if (k == "request_id") return JsonField::request;
            if (k == "problem_id") return JsonField::request;
            if (k == "num_layers") return JsonField::num_layers;
            return JsonField::unknown;
        case 11:
            if (k == "num_experts") return JsonField::num_experts;
            return JsonField::unknown;
        case 12:
            if (k == "topk_weights") return JsonField::weights;
            if (k == "gating_probs") return JsonField::weights;
            return JsonField::unknown;
        case 13:
            if (k == "router_logits") return JsonField::logits;
            return JsonField::unknown;
        case 14:
            if (k == "expert_weights") return JsonField::weights;
            if (k == "routed_experts") return JsonField::routed;
            return JsonField::unknown;
        case 16:
            if (k == "selected_experts") return JsonField::experts;
            return JsonField::unknown;
        default:
            return JsonField::unknown;
    }
}

}  // namespace moe
