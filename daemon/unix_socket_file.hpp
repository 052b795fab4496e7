// The filesystem side of a Unix socket listener: clears a stale socket file left by a
// crash (refusing to steal one that is alive), restricts the mode to 0660 once bound, and
// removes the file on exit.
#pragma once

#include <string>

namespace moe {

class UnixSocketFile {
  public:
    explicit UnixSocketFile(std::string path);  // throws std::runtime_error
    ~UnixSocketFile();
    UnixSocketFile(const UnixSocketFile&) = delete;
    UnixSocketFile& operator=(const UnixSocketFile&) = delete;

    void restrict_mode() const;  // call after bind()

  private:
    std::string path_;
};

}  // namespace moe
