// Cuts a byte stream into complete lines, whatever the chunk boundaries.
// Complete lines inside a chunk are handed out as views into that chunk (no copy); only a
// partial last line is kept, and never more than max_line bytes of it: a longer line is
// reported once and its remaining bytes are dropped up to the next newline.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "parsers/record.hpp"

namespace moe {

class LineSplitter {
  public:
    static constexpr size_t kDefaultMaxLine = 1u << 20;  // a 7,168-float gate line is ~110 KB

    explicit LineSplitter(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

    // Calls on_line(view) for every complete line (without "\n" or a trailing "\r") and
    // on_too_long(first bytes) once for every line longer than max_line.
    template <class OnLine, class OnTooLong>
    void feed(std::string_view chunk, OnLine&& on_line, OnTooLong&& on_too_long) {
        const char* p = chunk.data();
        const char* end = p + chunk.size();
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
            if (nl == nullptr) {
                keep_partial(p, end, on_too_long);
                return;
            }
            std::string_view piece(p, nl - p);
            const uint64_t line_bytes = piece.size() + 1;
            if (discarding_) {
                discarding_ = false;
            } else if (!partial_.empty()) {
                if (partial_.size() + piece.size() > max_line_) {
                    on_too_long(std::string_view(partial_));
                } else {
                    partial_.append(piece);
                    on_line(strip_cr(partial_));
                }
            } else if (piece.size() > max_line_) {
                on_too_long(piece.substr(0, kSampleBytes));
            } else {
                on_line(strip_cr(piece));
            }
            consumed_ += partial_bytes_ + line_bytes;
            partial_.clear();
            partial_bytes_ = 0;
            p = nl + 1;
        }
    }

    // Offset (from the last reset) just past the last complete line handed out.
    uint64_t consumed() const { return consumed_; }
    // Bytes seen after that offset (the partial line, including any dropped bytes).
    uint64_t pending_bytes() const { return partial_bytes_; }
    // The kept start of the partial line (at most max_line bytes).
    std::string_view pending() const { return partial_; }
    // True while dropping the rest of a line already reported as too long.
    bool discarding() const { return discarding_; }

    // Treats the partial line as consumed (its bytes are accounted for by the caller).
    void take_pending() {
        consumed_ += partial_bytes_;
        partial_.clear();
        partial_bytes_ = 0;
        discarding_ = false;
    }

    // Forget any partial line; subsequent offsets count from `offset`.
    void reset(uint64_t offset = 0) {
        consumed_ = offset;
        partial_.clear();
        partial_bytes_ = 0;
        discarding_ = false;
    }

    static std::string_view strip_cr(std::string_view s) {
        if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
        return s;
    }

  private:
    static constexpr size_t kSampleBytes = kRejectSampleBytes;  // kept of a too-long line

    template <class OnTooLong>
    void keep_partial(const char* p, const char* end, OnTooLong& on_too_long) {
        const size_t n = end - p;
        partial_bytes_ += n;
        if (discarding_) return;
        if (partial_.size() + n > max_line_) {
            // Report as soon as the limit is crossed, so memory stays bounded and the
            // reject is visible even if the newline never comes.
            partial_.append(p, std::min(n, kSampleBytes));
            on_too_long(std::string_view(partial_).substr(0, kSampleBytes));
            partial_.clear();
            partial_.shrink_to_fit();
            discarding_ = true;
            return;
        }
        partial_.append(p, n);
    }

    size_t max_line_;
    uint64_t consumed_ = 0;
    uint64_t partial_bytes_ = 0;
    bool discarding_ = false;
    std::string partial_;
};

}  // namespace moe
