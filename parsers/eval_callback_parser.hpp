// llama.cpp eval-callback text, as printed by a debugging build:
//   Layer 10 - Selected Expert IDs (top-8):
//     Token 0: [42, 105, 17, 3, 99, 12, 7, 64]
//     Token 1: [...]
// Token lines belong to the last "Layer" header seen on the same stream.
#pragma once

#include <string_view>
#include <vector>

#include "parsers/record_sink.hpp"

namespace moe {

class EvalCallbackParser {
  public:
    static bool claims(std::string_view line);
    // True if the line was this format's (a header or a token line after a header).
    bool parse(std::string_view line, RecordSink& sink);
    void reset() { layer_ = -1; }
    int32_t layer() const { return layer_; }
    void set_layer(int32_t layer) { layer_ = layer >= 0 && layer <= kMaxLayer ? layer : -1; }

  private:
    int32_t layer_ = -1;
    std::vector<int32_t> experts_;
};

}  // namespace moe
