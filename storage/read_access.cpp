#include "storage/read_access.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace moe {

namespace {
std::string group_name(gid_t gid) {
    const group* g = ::getgrgid(gid);
    return g ? g->gr_name : std::to_string(gid);
}
std::string user_name(uid_t uid) {
    const passwd* p = ::getpwuid(uid);
    return p ? p->pw_name : std::to_string(uid);
}
}  // namespace

std::string unreadable_companion(const std::string& db) {
    for (const char* suffix : {"-shm", "-wal"}) {
        const std::string f = db + suffix;
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0 || ::faccessat(AT_FDCWD, f.c_str(), R_OK, AT_EACCESS) == 0)
            continue;
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        const std::string group = group_name(st.st_gid);
        const std::string what = "cannot read " + f + " (owner " + user_name(st.st_uid) +
                                 ", group " + group + ", mode " + mode +
                                 "), which the database's writer keeps beside it: ";
        if (st.st_mode & S_IRGRP) return what + "queries need membership of group " + group;
        return what +
               "only its owner may read it (give the database group read permission, "
               "chmod g+r, and restart moescoped; readers then need group " +
               group + ")";
    }
    return "";
}

bool immutable_read_safe(const std::string& db) {
    if (::access(db.c_str(), W_OK) != 0 && errno == EROFS) return true;  // nobody can write it
    const std::string dir = std::filesystem::path(db).parent_path().string();
    if (::faccessat(AT_FDCWD, dir.empty() ? "." : dir.c_str(), W_OK, AT_EACCESS) == 0)
        return false;  // SQLite could create what it needs: the failure was something else
    struct stat wal {};
    return ::stat((db + "-wal").c_str(), &wal) != 0 || wal.st_size == 0;
}

}  // namespace moe
