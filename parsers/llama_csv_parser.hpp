// The patched llama-server's moe_expert_selection.log:
//   layer_id,expert_ids                      header (rewritten on every server start)
//   12,52 40 85 110 79 113 60 130            one token's top-k at layer 12
//   gate_input,20,0,0.123 -0.456 1.5e-05 ... the router input of token 0 at layer 20
// Any other line is ordinary log output: skipped and counted, never fatal.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "parsers/format_parser.hpp"

namespace moe {

// What a selection line (one starting with a digit, or '-' and a digit) holds: a record
// (`ok`: layer and ids[0, n)) or the reason it is rejected.
struct SelectionScan {
    bool ok = false;
    RejectReason why = RejectReason::malformed;  // when not ok
    int32_t layer = 0;
    size_t n = 0;
    static SelectionScan reject(RejectReason r) { return {false, r}; }
};
using TopKIds = std::span<int32_t, kMaxTopK>;

// The scalar reference: every reject, in the order they are decided.
SelectionScan scan_selection_scalar(std::string_view line, TopKIds ids);
// The same verdict and ids, through the SIMD fast path (parsers/simd_selection.hpp) when
// the line has the common shape.
SelectionScan scan_selection(std::string_view line, TopKIds ids);

class LlamaCsvParser final : public FormatParser {
  public:
    bool claims(std::string_view line) const override;
    bool may_claim(unsigned char c) const override {
        return (c >= '0' && c <= '9') || c == '-' || c == 'g' || c == 'l';
    }
    // Any line: also blanks and other text (skipped), so it can be used on its own.
    void parse(std::string_view line, RecordSink& sink) override;

  private:
    void parse_selection(std::string_view line, RecordSink& sink);
    void parse_gate(std::string_view line, RecordSink& sink);

    std::array<int32_t, kMaxTopK> ids_;  // the current line's top-k
    std::vector<float> values_;
};

}  // namespace moe
