// Where a routing record stands in its stream: its forward pass and its row within the
// batch. llama-server logs carry no request or token (docs/ARCHITECTURE.md "Record
// positions"): lines of one layer's tokens come together, then the next layer's, and a new forward
// pass shows as the layer number dropping back. A batch is a run of consecutive records of one
// layer (the same rule as StridedBatchCheck and batch_start); a pass is a run of batches whose
// layers rise. Two runs of one workload are aligned by (pass, row, layer) (tracing/token_key.hpp).
// Saved in the stream checkpoint, so a resumed stream numbers on.
#pragma once

#include <cstdint>
#include <limits>

#include "parsers/state_codec.hpp"

namespace moe {

class ForwardPosition {
  public:
    void add(int32_t layer) {
        if (layer == layer_) {
            if (row_ < std::numeric_limits<int32_t>::max()) ++row_;
            return;
        }
        // The first batch of a stream, or the layer dropped back: the next forward pass.
        if (layer_ < 0 || layer < layer_) ++pass_;
        layer_ = layer;
        row_ = 0;
    }
    int64_t pass() const { return pass_; }
    int32_t row() const { return row_; }
    // A restart (llama-server header, truncation): the next record starts a new pass.
    void new_stream() { layer_ = -1; }

    void save(StateWriter& w) const {
        w.put<int32_t>(layer_);
        w.put<int64_t>(pass_);
        w.put<int32_t>(row_);
    }
    bool restore(StateReader& r) {
        layer_ = r.get<int32_t>();
        pass_ = r.get<int64_t>();
        row_ = r.get<int32_t>();
        return r.ok() && pass_ >= -1 && row_ >= 0;
    }

  private:
    int32_t layer_ = -1;
    int64_t pass_ = -1;
    int32_t row_ = 0;
};

}  // namespace moe
