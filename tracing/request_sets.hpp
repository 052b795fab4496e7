// Per request and layer, the experts a request touches (its working set), and how fast that
// set grows with its tokens (docs/FIGURES.md "Requests"): what a per-request expert cache
// must hold. A request's tokens at a layer are its records of that layer in log order. A
// request is its id within a scope (the caller's: moescope's is the tag), so problem 0 of
// one dataset is not problem 0 of another.
// Memory: per (request, layer) E bits and one count per doubling of its tokens; records
// without a request id are only counted.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "parsers/record.hpp"

namespace moe {

struct RequestLayer {
    uint32_t request = 0;  // index into RequestWorkingSets::requests()
    int32_t layer = -1;
    uint64_t tokens = 0;
    uint32_t working_set = 0;  // distinct experts selected
    // growth[i]: distinct experts after the first 2^i tokens (i while 2^i <= tokens).
    std::vector<uint32_t> growth;
};

class RequestWorkingSets {
  public:
    void add(const RoutingRecord& r, std::string_view scope = {});

    struct Request {
        std::string scope, id;
    };
    // Requests in order of first appearance.
    const std::vector<Request>& requests() const { return names_; }
    // Every (request, layer) seen, by request (first appearance) then layer.
    std::vector<RequestLayer> rows() const;
    uint64_t without_request() const { return without_request_; }

  private:
    struct Cell {
        RequestLayer row;
        std::vector<uint64_t> bits;  // expert e selected: bit e
    };
    uint32_t request_index(std::string_view scope, std::string_view id);

    std::vector<Request> names_;
    std::unordered_map<std::string, uint32_t> index_;  // scope, '\x1f', id
    std::string last_name_;  // records of one request usually come together
    uint32_t last_index_ = 0;
    std::unordered_map<uint64_t, Cell> cells_;  // key: request << 32 | layer
    uint64_t without_request_ = 0;
};

struct GrowthPoint {
    uint64_t n = 0;               // tokens
    double mean_working_set = 0;  // over (request, layer)s with at least n tokens
    uint64_t count = 0;           // how many those are
};

struct CapacityShare {
    uint32_t capacity = 0;
    double share = 0;  // of the layer's requests, those touching more than `capacity` experts
};

struct LayerWorkingSets {
    int32_t layer = -1;  // -1: every (request, layer) of all layers together
    uint64_t requests = 0;
    double p50 = 0, p90 = 0, mean = 0;  // working-set size across requests (numpy percentiles)
    uint32_t max = 0;
    std::vector<GrowthPoint> growth;  // n = 1, 2, 4, ...
    std::vector<CapacityShare> over_capacity;
};

// Per layer ascending, then the row of all layers (layer -1).
std::vector<LayerWorkingSets> summarize_working_sets(std::span<const RequestLayer> rows,
                                                     std::span<const uint32_t> capacities);

}  // namespace moe
