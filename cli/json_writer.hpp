// A small streaming JSON writer: correct escaping (bytes that are not UTF-8 become U+FFFD),
// shortest round-trip numbers, and NaN/Inf written as null (JSON has no spelling for them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class JsonWriter {
  public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(double d);
    JsonWriter& value(int64_t i);
    JsonWriter& value(uint64_t u);
    JsonWriter& value(int32_t i) { return value(static_cast<int64_t>(i)); }
    JsonWriter& value(uint32_t u) { return value(static_cast<uint64_t>(u)); }
    JsonWriter& value(bool b);
    JsonWriter& null();

    // An absent value is null.
    template <class T>
    JsonWriter& value(const std::optional<T>& v) {
        return v ? value(*v) : null();
    }

    template <class T>
    JsonWriter& field(std::string_view k, T v) {
        key(k);
        return value(v);
    }

    static void escape(std::string& out, std::string_view s);

  private:
    void separate();
    std::string& out_;
    std::vector<bool> first_{};  // per open container: no element written yet
    bool after_key_ = false;
};

}  // namespace moe
