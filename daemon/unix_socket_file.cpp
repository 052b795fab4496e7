#include "daemon/unix_socket_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "models/unique_fd.hpp"

namespace moe {

namespace {
bool someone_listens(const std::string& path) {
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}
}  // namespace

UnixSocketFile::UnixSocketFile(std::string path) : path_(std::move(path)) {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) return;
    if (!S_ISSOCK(st.st_mode))
        throw std::runtime_error(path_ + " exists and is not a socket; not touching it");
    if (someone_listens(path_)) throw std::runtime_error(path_ + " is in use by another process");
    ::unlink(path_.c_str());  // stale, left by a process that died
}

UnixSocketFile::~UnixSocketFile() {
    struct stat st {};
    if (bound_ && ::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
}

void UnixSocketFile::restrict_mode() {
    struct stat st {};
    if (::chmod(path_.c_str(), 0660) != 0 || ::lstat(path_.c_str(), &st) != 0)
        throw std::runtime_error("cannot chmod " + path_ + ": " + std::strerror(errno));
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    bound_ = true;
}

}  // namespace moe
