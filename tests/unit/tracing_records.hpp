// Test helper: routing records owned by the test, and streams of them with known answers.
#pragma once

#include <string>
#include <vector>

#include "parsers/record.hpp"

namespace moe::test {

struct Rec {
    std::string request;
    int64_t token = -1;
    int32_t layer = 0;
    std::vector<int32_t> experts;
    std::vector<float> weights = {};
    std::string phase = {};
    int64_t pass = -1;
    int32_t row = -1;

    RoutingRecord view() const {
        RoutingRecord r;
        r.request = request;
        r.token = token;
        r.layer = layer;
        r.experts = experts;
        r.weights = weights;
        r.phase = phase;
        r.pass = pass;
        r.row = row;
        return r;
    }
};

template <class Sink>
void feed(const std::vector<Rec>& recs, Sink&& sink) {
    for (const Rec& r : recs)
        sink(r.view());
}

}  // namespace moe::test
