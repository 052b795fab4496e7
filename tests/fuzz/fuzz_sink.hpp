// A RecordSink for fuzz targets that checks the invariants every parser promises.
#pragma once

#include <cmath>

#include "parsers/record_sink.hpp"

namespace moe::fuzz {

struct CheckingSink : RecordSink {
    void on_routing(const RoutingRecord& r) override {
        if (r.experts.empty() || r.experts.size() > kMaxTopK) __builtin_trap();
        if (r.layer < 0 || r.layer > kMaxLayer) __builtin_trap();
        for (float w : r.weights)
            if (!std::isfinite(w)) __builtin_trap();
        for (float x : r.logits)
            if (!std::isfinite(x)) __builtin_trap();
        touch(r.tag);
    }
    void on_gate(const GateRecord& g) override {
        if (g.values.empty() || g.layer < 0 || g.layer > kMaxLayer) __builtin_trap();
        for (float v : g.values)
            if (!std::isfinite(v)) __builtin_trap();
        touch(g.tag);
    }
    void on_meta(const MetaRecord& m) override {
        if (m.num_experts > static_cast<uint32_t>(kMaxExpert) + 1) __builtin_trap();
        touch(m.model_id);
    }
    void on_counts(const CountRecord& c) override {
        if (c.layer < 0 || c.layer > kMaxLayer || c.first_expert < 0) __builtin_trap();
        for (double x : c.counts)
            touch(std::string_view(reinterpret_cast<const char*>(&x), sizeof x));
        touch(c.tag);
    }
    void on_reject(RejectReason why, std::string_view line) override {
        if (static_cast<int>(why) >= kRejectReasonCount) __builtin_trap();
        touch(line);
    }
    void on_skip(SkipKind, std::string_view line) override { touch(line); }

    // Reads every byte of a view so ASan catches a dangling one.
    static void touch(std::string_view s) {
        volatile char sink = 0;
        for (char c : s)
            sink ^= c;
    }
};

}  // namespace moe::fuzz
