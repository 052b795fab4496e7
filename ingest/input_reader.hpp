// Reads an input file for `analyze` and the FILE arguments of queries, and the compressed
// generations rotation leaves beside a followed file (daemon/rotated_generations.hpp): plain,
// gzip or zstd, told apart by their first bytes (not the name), so `analyze moe.log.*` reads
// a rotated, compressed history. docs/GUARANTEES.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "models/unique_fd.hpp"

namespace moe {

// Whether a file starting with `head` is gzip or zstd (what InputReader decompresses).
bool compressed_magic(std::string_view head);

class InputReader {
  public:
    static constexpr size_t kChunk = 4u << 20;
    // Opens `path` ("-": standard input). Throws std::runtime_error naming the file. `chunk`:
    // the bytes read and decompressed at a time (small for a peek at a file's first bytes).
    explicit InputReader(const std::string& path, size_t chunk = kChunk);
    ~InputReader();
    InputReader(const InputReader&) = delete;
    InputReader& operator=(const InputReader&) = delete;

    // The next decompressed bytes; empty at the end. Throws std::runtime_error on a read
    // error. Compressed data that ends early (a truncated .gz or .zst) ends the input and
    // sets truncated(): everything decompressed before it was returned.
    std::string_view read();
    bool truncated() const { return truncated_; }

    struct Codec;

  private:
    std::string path_;
    UniqueFd opened_;  // a named file; none for stdin
    int fd_ = 0;       // what is read: opened_ or stdin
    bool truncated_ = false;
    std::unique_ptr<Codec> codec_;
};

}  // namespace moe
