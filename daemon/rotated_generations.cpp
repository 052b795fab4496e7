#include "daemon/rotated_generations.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "ingest/input_reader.hpp"
#include "models/unique_fd.hpp"

namespace moe {

namespace {
constexpr size_t kPeekChunk = 64u << 10;  // decompressed a slice at a time, for a few KiB

bool ends_with_any(std::string_view& s, std::initializer_list<std::string_view> suffixes) {
    for (std::string_view x : suffixes)
        if (s.size() > x.size() && s.ends_with(x)) {
            s.remove_suffix(x.size());
            return true;
        }
    return false;
}

std::string read_head(const std::string& path, size_t n) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    std::string out(n, '\0');
    const ssize_t got = fd.valid() ? ::pread(fd.get(), out.data(), n, 0) : -1;
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return out;
}
}  // namespace

bool rotated_name(std::string_view base, std::string_view name) {
    if (name.size() <= base.size() + 1 || !name.starts_with(base)) return false;
    name.remove_prefix(base.size());
    ends_with_any(name, {".gz", ".zst", ".zstd"});
    if (name.size() < 2 || (name[0] != '.' && name[0] != '-' && name[0] != '_')) return false;
    bool digit = false;
    for (char c : name.substr(1)) {
        digit = digit || (c >= '0' && c <= '9');
        if (!(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.' && c != ':' && c != 'T')
            return false;
    }
    return digit;
}

Generation describe_generation(const std::string& path, const struct stat& st) {
    return {path, st, compressed_magic(read_head(path, 4))};
}

std::vector<Generation> rotated_siblings(const std::string& path, size_t max_entries) {
    namespace fs = std::filesystem;
    const fs::path p(path);
    const std::string base = p.filename().string();
    std::vector<Generation> out;
    std::error_code ec;
    size_t seen = 0;
    for (fs::directory_iterator it(p.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
        if (++seen > max_entries) break;
        const std::string name = it->path().filename().string();
        struct stat st {};
        if (!rotated_name(base, name) || ::stat(it->path().c_str(), &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        out.push_back(describe_generation(it->path().string(), st));
    }
    return out;
}

std::optional<std::string> content_window(const Generation& g, uint64_t end, size_t n) {
    const uint64_t begin = end - std::min<uint64_t>(end, n);
    std::string out;
    if (!g.compressed) {
        UniqueFd fd(::open(g.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        if (!fd.valid()) return std::nullopt;
        out.resize(end - begin);
        size_t got = 0;
        while (got < out.size()) {
            const ssize_t r = ::pread(fd.get(), out.data() + got, out.size() - got,
                                      static_cast<off_t>(begin + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return std::nullopt;
            got += static_cast<size_t>(r);
        }
        return out;
    }
    try {  // compressed: decompressed from its start (rare: a rotated generation at most)
        InputReader in(g.path, kPeekChunk);
        uint64_t pos = 0;
        while (pos < end) {
            const std::string_view chunk = in.read();
            if (chunk.empty()) return std::nullopt;
            const uint64_t from = std::max(pos, begin), to = std::min(pos + chunk.size(), end);
            if (from < to) out.append(chunk.substr(from - pos, to - from));
            pos += chunk.size();
        }
        return out;
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

std::string content_prefix(const Generation& g, size_t n) {
    std::string out;
    if (!g.compressed) return read_head(g.path, n);
    try {
        InputReader in(g.path, kPeekChunk);
        for (std::string_view chunk = in.read(); !chunk.empty() && out.size() < n;
             chunk = in.read())
            out.append(chunk.substr(0, n - out.size()));
    } catch (const std::runtime_error&) {  // corrupt: what came before the error
    }
    return out;
}

std::optional<GenerationMark> mark_of(const Generation& g, uint64_t end) {
    const auto head =
        content_window(g, std::min<uint64_t>(end, kFingerprintBytes), kFingerprintBytes);
    const auto before = content_window(g, end, kFingerprintBytes);
    if (!head || !before) return std::nullopt;
    return GenerationMark{fingerprint_of(*head), end, fingerprint_of(*before), g.st.st_dev,
                          g.st.st_ino};
}

namespace {
bool same_head(const Generation& g, const GenerationMark& m) {
    if (m.head.length == 0) return false;  // unknown (an older checkpoint)
    const auto head = content_window(g, m.head.length, m.head.length);
    return head && fingerprint_of(*head) == m.head;
}
}  // namespace

bool holds(const Generation& g, const GenerationMark& m) {
    if (!same_head(g, m)) return false;
    const auto before = content_window(g, m.end, m.before_end.length);
    return before && fingerprint_of(*before) == m.before_end;
}

bool read_before(const Generation& g, std::span<const GenerationMark> marks) {
    std::optional<std::string> head;
    for (const GenerationMark& m : marks) {
        if (m.head.length == 0) continue;
        const bool same_inode = m.dev == g.st.st_dev && m.ino == g.st.st_ino;
        if (!g.compressed && !same_inode) continue;
        if (!head) head = content_prefix(g, kFingerprintBytes);
        if (head->size() < m.head.length ||
            fingerprint_of(std::string_view(*head).substr(0, m.head.length)) != m.head)
            continue;
        if (!g.compressed) return true;  // renamed: its first bytes tell a reused inode
        const auto before = content_window(g, m.end, m.before_end.length);
        if (!before || fingerprint_of(*before) == m.before_end) return true;
    }
    return false;
}

}  // namespace moe
