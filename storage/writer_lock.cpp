#include "storage/writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "storage/sqlite.hpp"

namespace moe {

UniqueFd try_lock_writer(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) throw sql::StorageError("cannot open " + path + " to lock it");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return {};
    return fd;
}

}  // namespace moe
