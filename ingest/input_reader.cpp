#include "ingest/input_reader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace moe {

namespace {
constexpr unsigned char kGzip[] = {0x1f, 0x8b};
constexpr unsigned char kZstd[] = {0x28, 0xb5, 0x2f, 0xfd};
}  // namespace

// The compressed input buffer and the decoder state of one file.
struct InputReader::Codec {
    // Here, not in the anonymous namespace: a member of internal-linkage type warns in a unity
    // build (-Wsubobject-linkage).
    enum class Kind { plain, gzip, zstd };
    explicit Codec(size_t chunk) : in(chunk), out(chunk) {}
    Kind kind = Kind::plain;
    bool detected = false;
    std::vector<char> in;
    size_t in_pos = 0, in_len = 0;
    bool eof = false;  // no more raw bytes
    std::vector<char> out;
    z_stream z{};
    bool z_open = false, z_ended = true;  // a gzip member ended (another may follow)
    ZSTD_DCtx* zs = nullptr;
    size_t zs_hint = 0;  // non-zero: a zstd frame is unfinished

    ~Codec() {
        if (z_open) inflateEnd(&z);
        if (zs) ZSTD_freeDCtx(zs);
    }
};

InputReader::InputReader(const std::string& path, size_t chunk)
    : path_(path), codec_(new Codec(std::max<size_t>(chunk, 64))) {
    if (path == "-") return;  // stdin: read, never closed
    opened_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened_.valid())
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    fd_ = opened_.get();
}

InputReader::~InputReader() = default;

namespace {
// Reads more raw bytes after the unread ones; false at the end of the file.
bool fill(int fd, InputReader::Codec& c, const std::string& path) {
    if (c.eof) return false;
    if (c.in_pos > 0) {
        std::memmove(c.in.data(), c.in.data() + c.in_pos, c.in_len - c.in_pos);
        c.in_len -= c.in_pos;
        c.in_pos = 0;
    }
    for (;;) {
        const ssize_t n = ::read(fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
        if (n == 0) c.eof = true;
        c.in_len += static_cast<size_t>(n);
        return n > 0;
    }
}

bool starts_with(std::string_view head, const unsigned char* magic, size_t n) {
    return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
}
bool starts_with(const InputReader::Codec& c, const unsigned char* magic, size_t n) {
    return starts_with(std::string_view(c.in.data(), c.in_len), magic, n);
}
}  // namespace

bool compressed_magic(std::string_view head) {
    return starts_with(head, kGzip, 2) || starts_with(head, kZstd, 4);
}

std::string_view InputReader::read() {
    Codec& c = *codec_;
    if (!c.detected) {  // the first call: the magic bytes tell the format
        c.detected = true;
        while (c.in_len < 4 && fill(fd_, c, path_)) {
        }
        if (starts_with(c, kGzip, 2)) {
            c.kind = Codec::Kind::gzip;
        } else if (starts_with(c, kZstd, 4)) {
            c.kind = Codec::Kind::zstd;
            c.zs = ZSTD_createDCtx();
            if (!c.zs) throw std::runtime_error("cannot read " + path_ + ": out of memory");
        }
        if (c.kind == Codec::Kind::plain) {
            const size_t n = c.in_len;
            c.in_len = c.in_pos = 0;
            if (n > 0) return {c.in.data(), n};
        }
    }
    if (c.kind == Codec::Kind::plain) {
        c.in_len = c.in_pos = 0;
        if (!fill(fd_, c, path_)) return {};
        const size_t n = c.in_len;
        c.in_len = 0;
        return {c.in.data(), n};
    }
    for (;;) {
        if (c.in_pos == c.in_len && !fill(fd_, c, path_)) {
            // The end of the file: complete unless a gzip member or zstd frame is open.
            truncated_ = c.kind == Codec::Kind::gzip ? !c.z_ended : c.zs_hint != 0;
            return {};
        }
        if (c.kind == Codec::Kind::gzip) {
            if (c.z_ended) {
                if (c.z_open) inflateEnd(&c.z);
                c.z = z_stream{};
                if (inflateInit2(&c.z, 16 + MAX_WBITS) != Z_OK)
                    throw std::runtime_error("cannot read " + path_ + ": zlib init failed");
                c.z_open = true;
                c.z_ended = false;
            }
            c.z.next_in = reinterpret_cast<Bytef*>(c.in.data() + c.in_pos);
            c.z.avail_in = static_cast<uInt>(c.in_len - c.in_pos);
            c.z.next_out = reinterpret_cast<Bytef*>(c.out.data());
            c.z.avail_out = static_cast<uInt>(c.out.size());
            const int rc = inflate(&c.z, Z_NO_FLUSH);
            c.in_pos = c.in_len - c.z.avail_in;
            const size_t produced = c.out.size() - c.z.avail_out;
            if (rc == Z_STREAM_END) {
                c.z_ended = true;  // concatenated members (cat a.gz b.gz) go on
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                throw std::runtime_error("cannot read " + path_ + ": corrupt gzip data (" +
                                         (c.z.msg ? c.z.msg : "zlib error") + ")");
            }
            if (produced > 0) return {c.out.data(), produced};
        } else {
            ZSTD_inBuffer in{c.in.data() + c.in_pos, c.in_len - c.in_pos, 0};
            ZSTD_outBuffer out{c.out.data(), c.out.size(), 0};
            c.zs_hint = ZSTD_decompressStream(c.zs, &out, &in);
            if (ZSTD_isError(c.zs_hint))
                throw std::runtime_error("cannot read " + path_ + ": corrupt zstd data (" +
                                         ZSTD_getErrorName(c.zs_hint) + ")");
            c.in_pos += in.pos;
            if (out.pos > 0) return {c.out.data(), out.pos};
        }
    }
}

}  // namespace moe
