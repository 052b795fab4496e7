#include "storage/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <stdexcept>

#include "storage/sqlite.hpp"

namespace moe {

UniqueFd try_lock_writer(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw sql::StorageError("cannot open " + path + " to lock it");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return {};
    return fd;
}

UniqueFd lock_writer_or_refuse(const std::string& path, const std::string& advice) {
    UniqueFd fd = try_lock_writer(path);
    if (!fd.valid())
        throw std::invalid_argument(path + " is being written by a running moescoped; " + advice);
    return fd;
}

}  // namespace moe
