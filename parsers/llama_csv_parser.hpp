// The patched llama-server's moe_expert_selection.log:
//   layer_id,expert_ids                      header (rewritten on every server start)
//   12,52 40 85 110 79 113 60 130            one token's top-k at layer 12
//   gate_input,20,0,0.123 -0.456 1.5e-05 ... the router input of token 0 at layer 20
// Any other line is ordinary log output: skipped and counted, never fatal.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "parsers/format_parser.hpp"

namespace moe {

class LlamaCsvParser final : public FormatParser {
  public:
    bool claims(std::string_view line) const override;
    // Any line: also blanks and other text (skipped), so it can be used on its own.
    void parse(std::string_view line, RecordSink& sink) override;

  private:
    void parse_selection(std::string_view line, RecordSink& sink);
    void parse_gate(std::string_view line, RecordSink& sink);

    std::array<int32_t, kMaxTopK> ids_;  // the current line's top-k
    std::vector<float> values_;
};

}  // namespace moe
