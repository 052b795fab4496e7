// A minimal binary encoding for checkpoints of stream state (little-endian, length-prefixed),
// stored next to a source's offset so a restart resumes mid-stream exactly.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class StateWriter {
  public:
    template <class T>
    void put(T v) {
        static_assert(std::is_trivially_copyable_v<T>);
        out_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void put_string(std::string_view s) {
        put<uint32_t>(static_cast<uint32_t>(s.size()));
        out_.append(s);
    }
    void put_floats(std::span<const float> v) {
        put<uint32_t>(static_cast<uint32_t>(v.size()));
        out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// Reads what StateWriter wrote; any inconsistency makes ok() false (and reads return zeros).
class StateReader {
  public:
    explicit StateReader(std::string_view in) : in_(in) {}
    template <class T>
    T get() {
        T v{};
        if (!need(sizeof v)) return v;
        std::memcpy(&v, in_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }
    std::string get_string() {
        const auto n = get<uint32_t>();
        if (!need(n)) return {};
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    void get_floats(std::vector<float>& out) {
        const auto n = get<uint32_t>();
        if (!need(static_cast<size_t>(n) * sizeof(float))) return;
        out.resize(n);
        // memcpy with a null pointer is undefined even for 0 bytes (an empty vector's data()).
        if (n) std::memcpy(out.data(), in_.data() + pos_, n * sizeof(float));
        pos_ += n * sizeof(float);
    }
    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == in_.size(); }
    // The layout revision the whole state was written in, for parts that grew fields since
    // (a stream checkpoint's held records: ingest/stream_checkpoint.cpp); 0: the first.
    void set_revision(uint32_t r) { revision_ = r; }
    uint32_t revision() const { return revision_; }

  private:
    bool need(size_t n) {
        if (!ok_ || in_.size() - pos_ < n) ok_ = false;
        return ok_;
    }
    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
    uint32_t revision_ = 0;
};

}  // namespace moe
