// The filesystem side of a Unix socket listener: clears a stale socket file left by a
// crash (refusing to steal one that is alive), restricts the mode to 0660 once bound, and
// removes the file on exit.
#pragma once

#include <sys/types.h>
#include <string>

namespace moe {

class UnixSocketFile {
  public:
    explicit UnixSocketFile(std::string path);  // throws std::runtime_error
    ~UnixSocketFile();
    UnixSocketFile(const UnixSocketFile&) = delete;
    UnixSocketFile& operator=(const UnixSocketFile&) = delete;

    // Call after bind(): restricts the mode and remembers which file is ours, so that exit
    // never removes a socket another process has put at the path since.
    void restrict_mode();

  private:
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    bool bound_ = false;
};

}  // namespace moe
