// Hand-made binary files for the model-file and recorder tests: a little-endian byte builder
// (GGUF, safetensors headers) and a writer.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace moe::test {

struct Bytes {
    std::string b;
    template <class T>
    Bytes& put(T v) {
        b.append(reinterpret_cast<const char*>(&v), sizeof v);
        return *this;
    }
    Bytes& str(const std::string& s) {  // GGUF string: uint64 length, then the bytes
        put<uint64_t>(s.size());
        b += s;
        return *this;
    }
    void pad(size_t a) { b.append((a - b.size() % a) % a, '\0'); }
};

inline void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace moe::test
