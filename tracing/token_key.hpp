// Which token of which run a routing record belongs to, for following a token across layers
// and across runs (docs/FIGURES.md "Following a token"). A record with a request id is
// token `token` of that request; a record without one (llama-server logs) is row `row` of
// forward pass `pass` of its stream (ingest/forward_position.hpp). The two kinds never match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "parsers/record.hpp"

namespace moe {

struct TokenId {
    enum class Kind : uint8_t { request, pass };
    Kind kind = Kind::request;
    uint64_t stream = 0;    // a hash of the request id, or the forward pass
    int64_t position = -1;  // the token within its request, or the row within its pass
    bool operator==(const TokenId&) const = default;
};

struct TokenKey {
    TokenId token;
    int32_t layer = -1;
    bool operator==(const TokenKey&) const = default;
};

// 64 bits of the request id: two ids share one with a chance of about n^2 / 2^65 for n
// requests, which a log never approaches (a million requests: 3e-8).
inline uint64_t request_hash(std::string_view request) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: stable, so tests can predict it
    for (unsigned char c : request)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

// nullopt: the record has no position (no token index, and no row: it did not come through
// a stream's ingest).
inline std::optional<TokenId> token_of(const RoutingRecord& r) {
    if (!r.request.empty()) {
        const int64_t position = r.token >= 0 ? r.token : r.row;
        if (position < 0) return std::nullopt;
        return TokenId{TokenId::Kind::request, request_hash(r.request), position};
    }
    if (r.pass < 0) return std::nullopt;
    return TokenId{TokenId::Kind::pass, static_cast<uint64_t>(r.pass),
                   r.token >= 0 ? r.token : r.row};
}

// The position used for position buckets: the token index, else the row in the batch.
inline int64_t position_of(const RoutingRecord& r) {
    return r.token >= 0 ? r.token : r.row;
}

struct TokenIdHash {
    size_t operator()(const TokenId& t) const {
        uint64_t h = t.stream * 0x9E3779B97F4A7C15ull;
        h ^= static_cast<uint64_t>(t.position) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
        return static_cast<size_t>(h ^ static_cast<uint64_t>(t.kind));
    }
};
struct TokenKeyHash {
    size_t operator()(const TokenKey& k) const {
        return TokenIdHash{}(k.token) ^ (static_cast<size_t>(k.layer) * 0xC2B2AE3D27D4EB4Full);
    }
};

}  // namespace moe
