// Test helper: a RecordSink that copies everything it is given.
#pragma once

#include <string>
#include <vector>

#include "parsers/line_parser.hpp"
#include "parsers/record_sink.hpp"

namespace moe::test {

struct Routing {
    std::string tag;
    int32_t layer;
    int64_t token;
    std::vector<int32_t> experts;
    std::vector<float> weights;
    std::vector<float> logits;
    std::string request = {};
    std::string phase = {};
};
struct Gate {
    std::string tag;
    int32_t layer;
    int64_t token;
    std::vector<float> values;
};

struct Counts {
    std::string tag;
    int32_t layer;
    int32_t first_expert;
    std::vector<double> counts;
};

struct RecordingSink : RecordSink {
    std::vector<Counts> counts;
    std::vector<Routing> routing;
    std::vector<Gate> gates;
    std::vector<MetaRecord> metas;
    std::vector<std::string> meta_models;
    std::vector<std::pair<RejectReason, std::string>> rejects;
    std::vector<std::pair<SkipKind, std::string>> skips;

    void on_routing(const RoutingRecord& r) override {
        routing.push_back({std::string(r.tag),
                           r.layer,
                           r.token,
                           {r.experts.begin(), r.experts.end()},
                           {r.weights.begin(), r.weights.end()},
                           {r.logits.begin(), r.logits.end()},
                           std::string(r.request),
                           std::string(r.phase)});
    }
    void on_gate(const GateRecord& g) override {
        gates.push_back({std::string(g.tag), g.layer, g.token, {g.values.begin(), g.values.end()}});
    }
    void on_meta(const MetaRecord& m) override {
        metas.push_back(m);
        meta_models.emplace_back(m.model_id);
    }
    void on_counts(const CountRecord& c) override {
        counts.push_back(
            {std::string(c.tag), c.layer, c.first_expert, {c.counts.begin(), c.counts.end()}});
    }
    void on_reject(RejectReason why, std::string_view line) override {
        rejects.emplace_back(why, line);
    }
    void on_skip(SkipKind kind, std::string_view line) override { skips.emplace_back(kind, line); }
};

// What one line (or one document's text) parses to under format `f`.
inline RecordingSink parse_as(Format f, std::string_view text) {
    RecordingSink sink;
    LineParser p(f);
    p.parse(text, sink);
    return sink;
}

}  // namespace moe::test
