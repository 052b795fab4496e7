// llama.cpp eval-callback text, as printed by a debugging build:
//   Layer 10 - Selected Expert IDs (top-8):
//     Token 0: [42, 105, 17, 3, 99, 12, 7, 64]
//     Token 1: [...]
// Token lines belong to the last "Layer" header seen on the same stream.
#pragma once

#include <string_view>
#include <vector>

#include "parsers/format_parser.hpp"

namespace moe {

class EvalCallbackParser final : public FormatParser {
  public:
    // A header, or a token line after a header.
    bool claims(std::string_view line) const override;
    void parse(std::string_view line, RecordSink& sink) override;
    // The current layer is the state that spans lines.
    void reset() override { layer_ = -1; }
    void save(StateWriter& w) const override;
    bool restore(StateReader& r) override;

  private:
    int32_t layer_ = -1;
    std::vector<int32_t> experts_;
};

}  // namespace moe
