// What a followed file's checkpoint holds besides the parser state: a fingerprint of the
// bytes just before the committed offset (up to kFingerprintBytes of them), so that a file
// truncated and rewritten (a restarted llama-server) is told from the file that was read,
// while running and across a restart. Stored in SourceStats::stream_state as
// "MFP1" | hash (8 bytes) | length (4 bytes) | StreamIngest::checkpoint(); a state without
// the prefix (older databases) has no fingerprint. See docs/ARCHITECTURE.md (file following).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace moe {

inline constexpr size_t kFingerprintBytes = 4096;

struct Fingerprint {
    uint64_t hash = 0;
    uint32_t length = 0;  // bytes hashed, ending at the offset
    bool operator==(const Fingerprint&) const = default;
};

// FNV-1a: not cryptographic, only "did these bytes change".
inline Fingerprint fingerprint_of(std::string_view bytes) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : bytes)
        h = (h ^ c) * 1099511628211ull;
    return {h, static_cast<uint32_t>(bytes.size())};
}

struct FollowCheckpoint {
    std::optional<Fingerprint> fingerprint;
    std::string ingest_state;
};

inline constexpr std::string_view kFollowCheckpointMagic = "MFP1";

inline std::string encode_follow_checkpoint(const Fingerprint& fp, std::string_view ingest) {
    std::string out(kFollowCheckpointMagic);
    out.append(reinterpret_cast<const char*>(&fp.hash), sizeof fp.hash);
    out.append(reinterpret_cast<const char*>(&fp.length), sizeof fp.length);
    out.append(ingest);
    return out;
}

inline FollowCheckpoint decode_follow_checkpoint(std::string_view s) {
    constexpr size_t head = kFollowCheckpointMagic.size() + sizeof(uint64_t) + sizeof(uint32_t);
    if (s.size() < head || s.substr(0, kFollowCheckpointMagic.size()) != kFollowCheckpointMagic)
        return {std::nullopt, std::string(s)};
    Fingerprint fp;
    std::memcpy(&fp.hash, s.data() + kFollowCheckpointMagic.size(), sizeof fp.hash);
    std::memcpy(&fp.length, s.data() + kFollowCheckpointMagic.size() + sizeof fp.hash,
                sizeof fp.length);
    return {fp, std::string(s.substr(head))};
}

}  // namespace moe
