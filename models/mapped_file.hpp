// A read-only memory mapping of a whole file (RAII). Model readers hand out views into it, so
// a tensor is never copied as a whole; release() lets a pass drop pages it is done with, which
// keeps the resident memory near one layer's tensors (docs/ARCHITECTURE.md "models/").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace moe::models {

class MappedFile {
  public:
    // Throws std::runtime_error naming the file when it cannot be opened or mapped.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&& o) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

    // Tells the kernel the pages of [offset, offset + len) are not needed any more.
    void release(size_t offset, size_t len) const;

  private:
    std::string path_;
    const std::byte* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace moe::models
