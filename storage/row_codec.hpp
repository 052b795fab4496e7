// How aggregates become column values and back: little-endian BLOBs of counts and
// doubles, newline-joined sample lists, logit moments and histogram bins.
#pragma once

#include <bit>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "analytics/logit_stats.hpp"
#include "storage/sqlite.hpp"

namespace moe::rows {

static_assert(std::endian::native == std::endian::little, "blobs are stored little-endian");

template <class T>
std::span<const std::byte> as_bytes(const std::vector<T>& v) {
    return std::as_bytes(std::span<const T>(v));
}

template <class T>
std::vector<T> from_blob(std::span<const std::byte> b) {
    std::vector<T> v(b.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
    return v;
}

inline std::vector<double> moments_of(const LogitStats& ls) {
    std::vector<double> out;
    out.reserve(ls.per_expert.size() * 5);
    for (const RunningStats& r : ls.per_expert)
        out.insert(out.end(), {static_cast<double>(r.n), r.mean, r.m2, r.min, r.max});
    return out;
}

inline void restore_moments(LogitStats& ls, const std::vector<double>& v) {
    ls.per_expert.assign(v.size() / 5, RunningStats{});
    for (size_t e = 0; e < ls.per_expert.size(); ++e) {
        RunningStats& r = ls.per_expert[e];
        r.n = static_cast<uint64_t>(v[e * 5]);
        r.mean = v[e * 5 + 1];
        r.m2 = v[e * 5 + 2];
        r.min = v[e * 5 + 3];
        r.max = v[e * 5 + 4];
    }
}

inline std::string join_lines(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += '\n';
        s += x;
    }
    return s;
}

inline std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> v;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        if (nl == std::string::npos) nl = s.size();
        v.push_back(s.substr(start, nl - start));
        start = nl + 1;
    }
    return v;
}

}  // namespace moe::rows
