// Minimal RAII over the SQLite C API: a connection and prepared statements. Every value
// goes through bind_* (SQL is always parameterised); errors throw StorageError with the
// database path and SQLite's message.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace moe::sql {

class StorageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, int64_t v);
    Statement& bind(int i, double v);
    Statement& bind(int i, std::string_view v);
    Statement& bind_blob(int i, std::span<const std::byte> v);
    Statement& bind_null(int i);

    bool step();  // true while a row is available
    void run();   // step to completion, then reset
    void reset();

    int64_t int64(int col) const;
    double real(int col) const;  // NULL reads as NaN
    bool is_null(int col) const;
    std::string text(int col) const;
    std::span<const std::byte> blob(int col) const;

  private:
    [[noreturn]] void fail(int rc) const;
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class Database {
  public:
    // immutable: read-only media (no locking, no -shm); only when nobody can write the file.
    enum class Mode { read_only, read_write_create, immutable };
    Database(const std::string& path, Mode mode);
    ~Database();
    Database(Database&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql) const { return Statement(db_, sql); }
    int64_t query_int(std::string_view sql) const;
    // Whether the schema has this table (tables added after a database was created).
    bool has_table(std::string_view name) const;
    bool has_column(std::string_view table, std::string_view column) const;
    const std::string& path() const { return path_; }
    sqlite3* handle() const { return db_; }

  private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

// RAII transaction: commits on commit(), rolls back if destroyed before.
class Transaction {
  public:
    explicit Transaction(Database& db);
    ~Transaction();
    void commit();

  private:
    Database& db_;
    bool open_ = true;
};

}  // namespace moe::sql
