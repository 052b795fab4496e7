// Where parsers deliver what they found in the bytes. Implemented by analytics (ingest)
// and by tests; parsers know nothing else about their consumer.
#pragma once

#include <string_view>

#include "parsers/record.hpp"

namespace moe {

// Lines that are not records but not errors either (headers, other log output, blanks).
// `header` is the llama-server CSV header, written on every server start (a restart marker);
// `context` sets state for the following lines (an eval-callback "Layer N" line).
enum class SkipKind : uint8_t { header, context, blank, other };

class RecordSink {
  public:
    virtual ~RecordSink() = default;
    virtual void on_routing(const RoutingRecord& r) = 0;
    virtual void on_gate(const GateRecord& g) = 0;
    virtual void on_meta(const MetaRecord& m) = 0;
    virtual void on_counts(const CountRecord& c) = 0;
    virtual void on_reject(RejectReason why, std::string_view line) = 0;
    virtual void on_skip(SkipKind kind, std::string_view line) = 0;
};

}  // namespace moe
