// A routing record copied out of the parser's buffers so ingest can decide about it later
// (top-k probation, identical-run exclusion, the strided-view verdict), with what counting
// it needs: its tag, its arrival time and a sample of its line for a reject, and what
// aligns it with other runs (request, phase, pass, row). Saved in the stream checkpoint.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "parsers/record.hpp"
#include "parsers/state_codec.hpp"

namespace moe {

struct HeldRecord {
    int32_t layer = -1;
    int64_t token = -1;
    std::vector<int32_t> experts;
    std::vector<float> weights, logits;
    double timestamp = NAN;
    double arrival = NAN;
    std::string tag;
    std::string sample;  // the start of its line, for a reject sample
    std::string request, phase;
    int64_t pass = -1;
    int32_t row = -1;
    // A checkpoint's layout revision since which held records keep request, phase, pass and
    // row (ingest/stream_checkpoint.cpp "MSS5").
    static constexpr uint32_t kRevisionWithPositions = 5;

    static HeldRecord of(const RoutingRecord& r, double arrival, std::string_view line);
    RoutingRecord view() const;
    void save(StateWriter& w) const;
    bool restore(StateReader& r);
};

void save_held(StateWriter& w, const std::vector<HeldRecord>& v);
bool restore_held(StateReader& r, std::vector<HeldRecord>& v);

}  // namespace moe
