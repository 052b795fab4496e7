// What a followed file's checkpoint holds besides the parser state: marks that recognise a
// file by its content wherever rotation put it (renamed, copied by copytruncate, compressed):
// the committed generation's first bytes and the bytes just before the committed offset, its
// mtime, and the same marks of the last generations read to their end, so that a copy of one
// of them is never read again. Stored in SourceStats::stream_state as
//   "MFP2" | mark of the committed offset | mtime (int64 ns) | count (uint32) | marks | state
// where a mark is head hash, head length, end (uint64), hash and length before the end,
// device and inode (uint64 each), and state is StreamIngest::checkpoint(). "MFP1" | hash | length |
// state (the bytes before the offset only) and a state without a prefix (older databases) are still
// read. See docs/ARCHITECTURE.md "Following files".
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

inline constexpr size_t kFingerprintBytes = 4096;

struct Fingerprint {
    uint64_t hash = 0;
    uint32_t length = 0;  // bytes hashed
    bool operator==(const Fingerprint&) const = default;
};

// FNV-1a: not cryptographic, only "did these bytes change".
inline Fingerprint fingerprint_of(std::string_view bytes) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : bytes)
        h = (h ^ c) * 1099511628211ull;
    return {h, static_cast<uint32_t>(bytes.size())};
}

// A file read up to `end`: its first bytes and the bytes before `end` (each up to
// kFingerprintBytes), and its device and inode. Another file holding the same two windows
// holds the same content (a copy); the same inode with the same first bytes is the same file
// (renamed), a reused inode has other first bytes.
struct GenerationMark {
    Fingerprint head;        // bytes [0, min(end, 4096)); length 0: unknown (MFP1)
    uint64_t end = 0;        // bytes read
    Fingerprint before_end;  // bytes [end - min(end, 4096), end)
    uint64_t dev = 0, ino = 0;
    bool operator==(const GenerationMark&) const = default;
};

struct FollowCheckpoint {
    std::optional<GenerationMark> at;      // the committed offset (none: an older database)
    int64_t mtime_ns = 0;                  // the committed file's mtime (0: unknown)
    std::vector<GenerationMark> finished;  // generations read to their end, oldest first
    std::string ingest_state;
};

inline constexpr size_t kFinishedMarksKept = 64;

namespace follow_codec {
inline constexpr std::string_view kMagic1 = "MFP1", kMagic2 = "MFP2";

template <class T>
void put(std::string& out, T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
inline void put(std::string& out, const Fingerprint& f) {
    put(out, f.hash);
    put(out, f.length);
}
inline void put(std::string& out, const GenerationMark& m) {
    put(out, m.head);
    put(out, m.end);
    put(out, m.before_end);
    put(out, m.dev);
    put(out, m.ino);
}

// Reads from the front of `s`; false (and nothing more read) when too short.
struct Reader {
    std::string_view s;
    template <class T>
    bool get(T& v) {
        if (s.size() < sizeof v) return false;
        std::memcpy(&v, s.data(), sizeof v);
        s.remove_prefix(sizeof v);
        return true;
    }
    bool get(Fingerprint& f) { return get(f.hash) && get(f.length); }
    bool get(GenerationMark& m) {
        return get(m.head) && get(m.end) && get(m.before_end) && get(m.dev) && get(m.ino);
    }
};
}  // namespace follow_codec

inline std::string encode_follow_checkpoint(const FollowCheckpoint& c) {
    using namespace follow_codec;
    std::string out(kMagic2);
    put(out, c.at.value_or(GenerationMark{}));
    put(out, c.mtime_ns);
    put(out, static_cast<uint32_t>(c.finished.size()));
    for (const GenerationMark& m : c.finished)
        put(out, m);
    out.append(c.ingest_state);
    return out;
}

inline FollowCheckpoint decode_follow_checkpoint(std::string_view s) {
    using namespace follow_codec;
    FollowCheckpoint c;
    Reader r{s.substr(std::min(s.size(), kMagic2.size()))};
    if (s.starts_with(kMagic2)) {
        GenerationMark at;
        uint32_t n = 0;
        if (r.get(at) && r.get(c.mtime_ns) && r.get(n) && n <= kFinishedMarksKept) {
            c.at = at;
            c.finished.resize(n);
            bool ok = true;
            for (GenerationMark& m : c.finished)
                ok = ok && r.get(m);
            if (ok) {
                c.ingest_state.assign(r.s);
                return c;
            }
        }
        return {std::nullopt, 0, {}, std::string(s)};  // unreadable: all parser state
    }
    if (s.starts_with(kMagic1)) {
        GenerationMark at;
        if (r.get(at.before_end)) {
            c.at = at;  // end: the committed offset (SourceStats::offset)
            c.ingest_state.assign(r.s);
            return c;
        }
    }
    c.ingest_state.assign(s);
    return c;
}

}  // namespace moe
