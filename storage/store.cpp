#include "storage/store.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <random>
#include <sstream>

#include <sqlite3.h>

#include "storage/count_functions.hpp"
#include "storage/read_access.hpp"
#include "storage/schema.hpp"
#include "storage/tables.hpp"

namespace moe {

namespace {
// SQLite would report a directory as "disk I/O error": say what is wrong instead.
void require_database_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw StorageError("database " + path + " is " +
                           (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file") +
                           "; give the path of a database file");
}
}  // namespace

Store Store::open_for_writing(const std::string& path) {
    require_database_file(path);
    const bool existed = ::access(path.c_str(), F_OK) == 0;
    Store s(sql::Database(path, sql::Database::Mode::read_write_create));
    if (!existed)
        ::chmod(path.c_str(), 0640);  // aggregates may reveal workload: not world-readable
    register_count_functions(s.db_.handle());
    s.db_.exec("PRAGMA journal_mode=WAL");
    s.db_.exec("PRAGMA synchronous=NORMAL");
    s.migrate();
    s.ensure_database_id();
    return s;
}

void Store::ensure_database_id() {
    if (get_meta("database_id")) return;
    std::random_device rd;
    char id[33];
    std::snprintf(id, sizeof id, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
    put_meta("database_id", id);
}

void Store::reset() {
    sql::Transaction tx(db_);
    for (const std::string& table :
         {rows::meta_table().name, rows::layer_table().name, rows::gate_table().name,
          rows::source_table().name, rows::reject_table().name, rows::timeline_table().name,
          rows::stream_table().name, rows::transition_table().name, rows::diff_table().name})
        db_.exec("DELETE FROM " + table);
    tx.commit();
    ensure_database_id();
}

std::vector<std::string> Store::merged_ids() const {
    std::vector<std::string> ids;
    std::istringstream in(get_meta("merged_ids").value_or(""));
    for (std::string id; in >> id;)
        ids.push_back(id);
    return ids;
}

void Store::set_merged_ids(const std::vector<std::string>& ids) {
    std::string s;
    for (const auto& id : ids)
        s += (s.empty() ? "" : " ") + id;
    put_meta("merged_ids", s);
}

// Queries over a long timeline read hundreds of MB of pages: mapped, SQLite reads them in
// place instead of one pread() and copy per 4 KiB page (a third of a year-long query's
// time). Readers only: the daemon's writes keep SQLite's default. Address space, not memory.
void Store::map_for_reading() {
    db_.exec("PRAGMA mmap_size=" + std::to_string(kReadMapBytes));
}

Store Store::open_read_only(const std::string& path) {
    if (::access(path.c_str(), F_OK) != 0)
        throw StorageError("database " + path + " does not exist (start moescoped with --db " +
                           path + ", or use `moescope analyze FILE`)");
    require_database_file(path);
    const auto open = [&](sql::Database::Mode mode) {
        Store s(sql::Database(path, mode));
        s.check_version();
        s.map_for_reading();
        return s;
    };
    if (std::string why = unreadable_companion(path); !why.empty()) throw StorageError(why);
    try {
        return open(sql::Database::Mode::read_only);
    } catch (const StorageError&) {
        // SQLite could not get the -wal and -shm files of a WAL database (read-only media, a
        // directory the reader may not write): with no commits in a -wal, the file alone is
        // the whole database. Other errors are reported as they are.
        if (!immutable_read_safe(path)) throw;
        return open(sql::Database::Mode::immutable);
    }
}

void Store::check_version() const {
    const int64_t v = db_.query_int("PRAGMA user_version");
    if (v == 0) throw StorageError(db_.path() + " is not a moescope database (no schema)");
    if (v > kSchemaVersion)
        throw StorageError(db_.path() + " has schema version " + std::to_string(v) +
                           ", newer than this moescope (" + std::to_string(kSchemaVersion) + ")");
    if (v < kSchemaVersion)
        throw StorageError(db_.path() + " has schema version " + std::to_string(v) +
                           ", older than this moescope (" + std::to_string(kSchemaVersion) +
                           "): open it once for writing (moescoped --db, or moescope import "
                           "--db) to upgrade it");
}

void Store::migrate() {
    const int64_t v = db_.query_int("PRAGMA user_version");
    if (v > kSchemaVersion) check_version();
    if (v == kSchemaVersion) {
        // Tables and columns added within this schema version (existing ones stay).
        sql::Transaction tx(db_);
        db_.exec(schema_sql());
        add_missing_columns(db_);
        tx.commit();
        return;
    }
    if (v == 0 && db_.query_int("SELECT count(*) FROM sqlite_master") > 0)
        throw StorageError(db_.path() +
                           " is an SQLite database but not a moescope one; refusing to write");
    sql::Transaction tx(db_);
    // Version 2 added layer_stats.top1 (empty for rows written before) and
    // layer_stats.counted (engine totals); schema_sql() below adds the live_cache table.
    if (v == 1) {
        db_.exec("ALTER TABLE layer_stats ADD COLUMN top1 BLOB NOT NULL DEFAULT x''");
        db_.exec("ALTER TABLE layer_stats ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;");
    }
    // Version 3 stores timeline.hits as sparse varints (docs/SCHEMA.md "Encodings"): every
    // existing row is re-encoded, counts unchanged.
    if (v >= 1 && v < 3 && db_.has_table(rows::timeline_table().name))
        db_.exec("UPDATE timeline SET hits = moe_sparse_of_fixed(hits)");
    db_.exec(schema_sql());
    add_missing_columns(db_);
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
}

}  // namespace moe
