// Reading a database one may not write: moescoped running as another user, its directory writable
// only by it (docs/OPERATIONS.md "Storage"). SQLite reads a WAL database read-only through the -wal
// and -shm files the daemon keeps beside it; these two functions decide what to do when that is not
// possible.
#pragma once

#include <string>

namespace moe {

// "" when the -wal and -shm files beside `db`, if any, are readable; else one line naming the
// first that is not, its owner, group and mode, and the group a reader needs.
std::string unreadable_companion(const std::string& db);

// Whether `db` may be read as immutable (no locks, no -shm) after a read-only open failed:
// on a read-only file system, or when its directory is not writable (so SQLite cannot create
// the -wal and -shm) and no -wal holds commits: moescoped is not running, since it keeps
// its -wal while it runs and removes it at a clean stop.
bool immutable_read_safe(const std::string& db);

}  // namespace moe
