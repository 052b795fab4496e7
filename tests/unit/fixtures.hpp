// Test fixtures shared by several test files.
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace moe::test {

inline std::string source_path(const std::string& rel) {
    return std::string(MOESCOPE_SOURCE_DIR) + "/" + rel;
}

// docs/FIGURES.md's worked example: 128 hit counts (tests/data/seed000_layer3.txt).
inline std::vector<uint64_t> seed000_hits() {
    std::ifstream in(source_path("tests/data/seed000_layer3.txt"));
    if (!in) throw std::runtime_error("missing tests/data/seed000_layer3.txt");
    std::vector<uint64_t> h;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line[0] != '#') h.push_back(std::stoull(line));
    return h;
}

// 6,240 top-8 records whose per-expert totals are `hits`: the expert-major sequence of all
// selections, record t taking positions t, t + T, ..., t + 7T (distinct experts because no
// expert has more than T hits), records interleaved so each expert's hits spread over time.
inline std::vector<std::vector<int32_t>> records_for(const std::vector<uint64_t>& hits, size_t k) {
    std::vector<int32_t> seq;
    for (size_t e = 0; e < hits.size(); ++e)
        seq.insert(seq.end(), hits[e], static_cast<int32_t>(e));
    const size_t T = seq.size() / k;
    std::vector<std::vector<int32_t>> recs(T);
    for (size_t t = 0; t < T; ++t) {
        const size_t src = (t * 997) % T;  // 997 is coprime with 6,240: a permutation
        for (size_t j = 0; j < k; ++j)
            recs[t].push_back(seq[src + j * T]);
    }
    return recs;
}

}  // namespace moe::test
