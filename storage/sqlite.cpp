#include "storage/sqlite.hpp"

#include <cctype>
#include <cmath>

#include <sqlite3.h>

namespace moe::sql {

namespace {
std::string uri_escape(const std::string& path) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : path) {
        if (std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string message(sqlite3* db, int rc) {
    std::string m = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const std::string generic = sqlite3_errstr(rc);
    if (m != generic &&
        (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_FULL ||
         rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || rc == SQLITE_BUSY || rc == SQLITE_IOERR))
        m += " (" + generic + ")";
    return m;
}
}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK)
        throw StorageError("SQL error: " + message(db, rc) + " in: " + std::string(sql));
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

void Statement::fail(int rc) const {
    throw StorageError(message(db_, rc));
}

Statement& Statement::bind(int i, int64_t v) {
    if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) fail(rc);
    return *this;
}
Statement& Statement::bind(int i, double v) {
    if (std::isnan(v)) return bind_null(i);
    if (int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK) fail(rc);
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    if (int rc =
            sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        rc != SQLITE_OK)
        fail(rc);
    return *this;
}
Statement& Statement::bind_blob(int i, std::span<const std::byte> v) {
    if (v.empty()) {  // a null pointer would bind SQL NULL, not an empty blob
        if (int rc = sqlite3_bind_zeroblob(stmt_, i, 0); rc != SQLITE_OK) fail(rc);
        return *this;
    }
    if (int rc = sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
        rc != SQLITE_OK)
        fail(rc);
    return *this;
}
Statement& Statement::bind_null(int i) {
    if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) fail(rc);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    sqlite3_reset(stmt_);
    fail(rc);
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int64(int col) const {
    return sqlite3_column_int64(stmt_, col);
}
double Statement::real(int col) const {
    return is_null(col) ? NAN : sqlite3_column_double(stmt_, col);
}
bool Statement::is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
std::string Statement::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
}
std::span<const std::byte> Statement::blob(int col) const {
    const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, col));
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}

Database::Database(const std::string& path, Mode mode) : path_(path) {
    int flags = SQLITE_OPEN_NOMUTEX;
    std::string name = path;
    switch (mode) {
        case Mode::read_only:
            flags |= SQLITE_OPEN_READONLY;
            break;
        case Mode::read_write_create:
            flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
            break;
        case Mode::immutable:
            // A file on read-only media: no locks, no -shm (nobody can be writing it).
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
            name = "file:" + uri_escape(path) + "?immutable=1";
            break;
    }
    const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string m = message(db_, rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw StorageError("cannot open database " + path + ": " + m);
    }
    // Readers never fail with "database is locked" while the daemon commits; the writer
    // gives up sooner and retries at its next flush rather than stall its sources.
    sqlite3_busy_timeout(db_, mode == Mode::read_write_create ? 2000 : 10000);
    sqlite3_extended_result_codes(db_, 0);
    if (mode == Mode::read_write_create && sqlite3_db_readonly(db_, "main") == 1) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StorageError("cannot write database " + path +
                           ": read-only file system or no write permission");
    }
}

Database::~Database() {
    sqlite3_close(db_);
}

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string m = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        if (rc != SQLITE_ERROR && m != sqlite3_errstr(rc))
            m += std::string(" (") + sqlite3_errstr(rc) + ")";
        throw StorageError(path_ + ": " + m);
    }
}

int64_t Database::query_int(std::string_view sql) const {
    Statement s(db_, sql);
    return s.step() ? s.int64(0) : 0;
}

bool Database::has_table(std::string_view name) const {
    Statement s(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    s.bind(1, name);
    return s.step();
}

bool Database::has_column(std::string_view table, std::string_view column) const {
    Statement s(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    s.bind(1, table).bind(2, column);
    return s.step();
}

Transaction::Transaction(Database& db) : db_(db) {
    db_.exec("BEGIN IMMEDIATE");
}
Transaction::~Transaction() {
    if (open_) {
        try {
            db_.exec("ROLLBACK");
        } catch (...) {
        }
    }
}
void Transaction::commit() {
    db_.exec("COMMIT");
    open_ = false;
}

}  // namespace moe::sql
