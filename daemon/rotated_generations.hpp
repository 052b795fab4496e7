// The generations of a followed file that rotation left beside it (f.log.1, f.log-20260101,
// f.log.2.gz, ...), and their content read by offset whether plain or compressed, so the
// follower can tell which of them it has read (docs/ARCHITECTURE.md "Following files").
#pragma once

#include <sys/stat.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/follow_checkpoint.hpp"

namespace moe {

inline int64_t mtime_ns(const struct stat& st) {
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

struct Generation {
    std::string path;
    struct stat st {};
    bool compressed = false;  // gzip or zstd, told by its first bytes

    bool same_file(const struct stat& o) const {
        return st.st_dev == o.st_dev && st.st_ino == o.st_ino;
    }
    int64_t mtime_ns() const { return moe::mtime_ns(st); }
};

// Whether `name` is a rotated name of the file `base`: base, then '.', '-' or '_', then
// digits and the separators of dates and times (- _ . : T), then optionally .gz, .zst or
// .zstd: f.log.1, f.log.2.gz, f.log-20260101, f.log.2026-01-01_10:00.zst.
bool rotated_name(std::string_view base, std::string_view name);

// The regular files of `path`'s directory with a rotated name of its file name, among the
// first `max_entries` entries (a huge directory is not scanned to its end).
std::vector<Generation> rotated_siblings(const std::string& path, size_t max_entries);

// A generation as it was when opened (compressed generations are decompressed).
Generation describe_generation(const std::string& path, const struct stat& st);

// The bytes [end - n, end) of a generation's (decompressed) content, fewer at its start;
// nullopt when its content ends before `end` or cannot be read.
std::optional<std::string> content_window(const Generation& g, uint64_t end, size_t n);

// Its first `n` bytes (decompressed), fewer if it is shorter.
std::string content_prefix(const Generation& g, size_t n);

// The mark of a generation's content up to `end` (nullopt if it is shorter).
std::optional<GenerationMark> mark_of(const Generation& g, uint64_t end);

// `g` holds the content `m` describes (a rename, a copy, a compressed copy), up to m.end.
bool holds(const Generation& g, const GenerationMark& m);
// `g` was read as one of `marks`: a plain file with the mark's inode and first bytes
// (renamed), or a compressed copy of it, or a prefix of one still being compressed (the
// mark's first bytes, nothing before the mark's end that differs). A plain file with another
// inode is never taken for a copy: a new generation may begin as an old one did. Reads g's
// first bytes once, whatever the number of marks.
bool read_before(const Generation& g, std::span<const GenerationMark> marks);

}  // namespace moe
