// One writer per database: an exclusive flock on the database file, held by moescoped for
// its lifetime and by `moescope sources --forget` for its one change (docs/ARCHITECTURE.md).
#pragma once

#include <string>

#include "models/unique_fd.hpp"

namespace moe {

// The locked file, or an invalid UniqueFd if another process holds the lock; throws
// StorageError if the file cannot be opened.
UniqueFd try_lock_writer(const std::string& path);

// For a CLI command that writes: the lock, or std::invalid_argument "PATH is being written
// by a running moescoped; <advice>" (a usage error: exit 2).
UniqueFd lock_writer_or_refuse(const std::string& path, const std::string& advice);

}  // namespace moe
