// Router-pipeline JSON documents, one per file (on one line or pretty-printed):
//   {config, num_experts, top_k, dataset, samples: [{sample_id, layers: [{layer,
//    router_logits_sample: [[...] per token], selected_experts: [[...] per token],
//    expert_weights: [[...] per token]}]}]}
// `dataset` is the tag, `sample_id` the request; each row of selected_experts is one token. Parsed
// with simdjson's DOM API: random access to a nested layout whose fields come in any order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "parsers/record_sink.hpp"

namespace moe {

// The reject reason for a JSON error (NaN/Infinity spellings are non_finite).
RejectReason json_reject_reason(simdjson::error_code e, std::string_view text);

class RouterDocumentParser {
  public:
    // Emits the document's records (or rejects) and returns true; returns false if `text`
    // is a JSON object without a "samples" list, with `compact` set to it minified (one
    // record object spread over several lines, for the line parser).
    bool parse(std::string_view text, RecordSink& sink, std::string& compact);

  private:
    void emit_layer(std::string_view text, RecordSink& sink, const std::string& tag,
                    std::string_view request, int64_t layer, simdjson::dom::array sel,
                    simdjson::dom::array* wts, simdjson::dom::array* lgs);

    simdjson::dom::parser dom_;
    std::string request_;       // a numeric sample_id as its digits
    std::vector<int32_t> ids_;  // reused row buffers
    std::vector<float> w_, lg_;
};

}  // namespace moe
