// A regular file mapped read-only for parallel ingest (ingest/parallel_ingest.hpp): the
// owner of the mapping, unmapped when it goes out of scope.
#pragma once

#include <string>
#include <string_view>

namespace moe {

class MappedFile {
  public:
    // Maps `path`; bytes() stays empty when it is not a non-empty regular file or cannot
    // be mapped (the caller then reads it as a stream, which reports errors itself).
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::string_view bytes() const { return {data_, size_}; }

  private:
    const char* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace moe
