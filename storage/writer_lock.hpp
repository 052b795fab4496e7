// One writer per database: an exclusive flock on the database file, held by moescoped for
// its lifetime and by `moescope sources --forget` for its one change (docs/ARCHITECTURE.md).
#pragma once

#include <string>

#include "ingest/unique_fd.hpp"

namespace moe {

// The locked file, or an invalid UniqueFd if another process holds the lock; throws
// StorageError if the file cannot be opened.
UniqueFd try_lock_writer(const std::string& path);

}  // namespace moe
