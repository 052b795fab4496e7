// The checkpoint of a stream's state, stored in the database next to its offset
// (docs/SCHEMA.md). Layout, little-endian (parsers/state_codec.hpp):
//   "MSS2"  parsers (LineParser::save: count, then name + state per stateful format)
//           strided-batch check, gate vectors waiting for their next layer
//   "MSS3"  as MSS2, then the identical-run check with its held records, the routing
//           record count and the records held on top-k probation
//   "MSS4"  as MSS3, then the strided-view policy with its held rows
//   "MSS5"  as MSS4, held records also with request, phase, pass and row
//           (HeldRecord::kRevisionWithPositions), then the forward position
// "MSS1" (before formats had a registry) held eval-callback's current layer as a bare
// int32 where the parsers' section now is; it is still read, so a database written then
// resumes where it stopped.
#include "ingest/stream_ingest.hpp"

namespace moe {

namespace {
constexpr uint32_t kMagicV1 = 0x3153534d;  // "MSS1"
constexpr uint32_t kMagicV2 = 0x3253534d;  // "MSS2"
constexpr uint32_t kMagicV3 = 0x3353534d;  // "MSS3"
constexpr uint32_t kMagicV4 = 0x3453534d;  // "MSS4"
constexpr uint32_t kMagicV5 = 0x3553534d;  // "MSS5"
static_assert(HeldRecord::kRevisionWithPositions == 5);
}  // namespace

std::string StreamIngest::checkpoint() const {
    StateWriter w;
    w.put<uint32_t>(kMagicV5);
    parser_.save(w);
    strided_.save(w);
    gates_.save(w, agg_);
    identical_.save(w);
    w.put<uint64_t>(routing_seq_);
    probation_.save(w);
    policy_.save(w);
    positions_.save(w);
    return w.take();
}

bool StreamIngest::restore(std::string_view state) {
    if (state.empty()) return false;
    StateReader r(state);
    bool ok = false;
    const auto magic = r.get<uint32_t>();
    if (magic == kMagicV5) r.set_revision(HeldRecord::kRevisionWithPositions);
    const bool v4 = magic == kMagicV4 || magic == kMagicV5;  // has what MSS4 added
    switch (magic) {
        case kMagicV5:
        case kMagicV4:
        case kMagicV3:
        case kMagicV2:
            ok = parser_.restore(r);
            break;
        case kMagicV1: {
            parser_.reset();
            StateWriter eval_layer;  // eval-callback saves its layer as that same int32
            eval_layer.put<int32_t>(r.get<int32_t>());
            ok = r.ok() && parser_.restore_format(Format::eval_callback.name(), eval_layer.take());
            break;
        }
        default:
            return false;
    }
    ok = ok && strided_.restore(r, v4) && gates_.restore(r, agg_);
    if (ok && (magic == kMagicV3 || v4)) {
        ok = identical_.restore(r);
        routing_seq_ = r.get<uint64_t>();
        ok = ok && probation_.restore(r);
    }
    if (ok && v4) ok = policy_.restore(r);
    if (ok && magic == kMagicV5) ok = positions_.restore(r);
    ok = ok && r.at_end();
    if (!ok) {
        identical_ = {};
        probation_.clear();
        policy_ = {};
        positions_ = {};
        new_stream();
        parser_.reset();
    }
    return ok;
}

}  // namespace moe
