// Test helper: places bytes so that they end exactly where an unreadable page begins, so
// any read past their end faults (SIGSEGV) in every build, not only under ASan.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

namespace moe::test {

class GuardedBuffer {
  public:
    explicit GuardedBuffer(size_t capacity) {
        page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        data_pages_ = (capacity + page_ - 1) / page_ + 1;
        size_ = (data_pages_ + 1) * page_;
        void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
        base_ = static_cast<char*>(m);
        if (mprotect(base_ + data_pages_ * page_, page_, PROT_NONE) != 0)
            throw std::runtime_error("mprotect failed");
    }
    ~GuardedBuffer() { munmap(base_, size_); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;

    // A copy of s whose last byte is `gap` bytes before the guard page.
    std::string_view place(std::string_view s, size_t gap = 0) {
        if (s.size() + gap > data_pages_ * page_)
            throw std::length_error("GuardedBuffer: too long");
        char* at = base_ + data_pages_ * page_ - gap - s.size();
        if (!s.empty()) std::memcpy(at, s.data(), s.size());
        return {at, s.size()};
    }

  private:
    size_t page_ = 0, data_pages_ = 0, size_ = 0;
    char* base_ = nullptr;
};

}  // namespace moe::test
