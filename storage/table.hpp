// One column list per table: name, SQL type, meaning, and how a row object gives and takes
// the value. The CREATE TABLE, the INSERT, the SELECT and the docs/SCHEMA.md column tables
// are all generated from it, so they cannot disagree.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "storage/sqlite.hpp"

namespace moe::rows {

template <class Row>
struct Column {
    std::string name;
    std::string type;  // SQL type and constraint
    std::string doc;   // unit and meaning (docs/SCHEMA.md)
    std::function<void(sql::Statement&, int, const Row&)> put;
    std::function<void(const sql::Statement&, int, Row&)> get;
    // Non-empty for a column added within a schema version: the SQL literal that rows
    // written before it read as. Writers add it (add_missing_columns); readers of a
    // database that lacks it select the literal instead, so no version bump is needed.
    std::string added_default = {};

    std::string sql_type() const {
        return added_default.empty() ? type : type + " DEFAULT " + added_default;
    }
};

template <class Row>
struct Table {
    std::string name;
    std::vector<Column<Row>> columns;
    size_t key_columns = 0;  // the first ones: PRIMARY KEY, read before the row is resolved
    std::string without_rowid = " WITHOUT ROWID";

    // With `db`, an added column that db's table lacks is selected as its default.
    std::string column_list(const sql::Database* db = nullptr) const {
        std::string s;
        for (const auto& c : columns) {
            s += s.empty() ? "" : ", ";
            s += db && !c.added_default.empty() && !db->has_column(name, c.name)
                     ? c.added_default + " AS " + c.name
                     : c.name;
        }
        return s;
    }
    // ALTER TABLE for the added columns an existing table lacks (Store::migrate).
    void add_missing_columns(sql::Database& db) const {
        if (!db.has_table(name)) return;
        for (const auto& c : columns)
            if (!c.added_default.empty() && !db.has_column(name, c.name))
                db.exec("ALTER TABLE " + name + " ADD COLUMN " + c.name + " " + c.sql_type());
    }
    std::string create_sql() const {
        std::string s = "CREATE TABLE IF NOT EXISTS " + name + "(\n";
        for (const auto& c : columns)
            s += "    " + c.name + " " + c.sql_type() + ",\n";
        std::string key;
        for (size_t i = 0; i < key_columns; ++i)
            key += (i ? ", " : "") + columns[i].name;
        return s + "    PRIMARY KEY(" + key + "))" + without_rowid + ";\n";
    }
    // `verb`: "INSERT OR REPLACE" or "INSERT"; `tail`: an ON CONFLICT clause.
    std::string insert_sql(std::string_view verb = "INSERT OR REPLACE",
                           std::string_view tail = "") const {
        std::string marks;
        for (size_t i = 0; i < columns.size(); ++i)
            marks += i ? ",?" : "?";
        return std::string(verb) + " INTO " + name + "(" + column_list() + ") VALUES(" + marks +
               ")" + (tail.empty() ? "" : " ") + std::string(tail);
    }
    std::string select_sql(std::string_view order = "", std::string_view where = "",
                           const sql::Database* db = nullptr) const {
        return "SELECT " + column_list(db) + " FROM " + name +
               (where.empty() ? "" : " WHERE " + std::string(where)) +
               (order.empty() ? "" : " ORDER BY " + std::string(order));
    }

    // Binds every column of `row` and runs the statement (from insert_sql()).
    void put(sql::Statement& q, const Row& row) const {
        for (size_t i = 0; i < columns.size(); ++i)
            columns[i].put(q, static_cast<int>(i + 1), row);
        q.run();
    }
    // Every row of select_sql(order): the key columns are read into a fresh Row, then
    // `resolve(row)` points it at its object (false: skip the row), then the other columns
    // are read and `each(row)` finishes it.
    template <class Resolve, class Each>
    void read(const sql::Database& db, std::string_view order, Resolve resolve, Each each,
              std::string_view where = "") const {
        auto q = db.prepare(select_sql(order, where, &db));
        while (q.step()) {
            Row row{};
            size_t i = 0;
            try {
                for (; i < key_columns; ++i)
                    columns[i].get(q, static_cast<int>(i), row);
                if (!resolve(row)) continue;
                for (; i < columns.size(); ++i)
                    columns[i].get(q, static_cast<int>(i), row);
                each(row);
            } catch (const sql::StorageError& e) {
                throw sql::StorageError(db.path() + ": corrupt " + name + " row" +
                                        (i < columns.size() ? " (" + columns[i].name + ")" : "") +
                                        ": " + e.what());
            }
        }
    }
};

// Columns over a field reached by `field(row)` (a generic lambda returning a reference, so
// it serves the const Row of put and the Row of get alike).
template <class Row, class Field>
Column<Row> integer(std::string name, std::string doc, Field field) {
    return {std::move(name), "INTEGER NOT NULL", std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) {
                q.bind(i, static_cast<int64_t>(field(r)));
            },
            [field](const sql::Statement& q, int i, Row& r) {
                auto& v = field(r);
                v = static_cast<std::remove_reference_t<decltype(v)>>(q.int64(i));
            }};
}

template <class Row, class Field>
Column<Row> text(std::string name, std::string doc, Field field) {
    return {std::move(name), "TEXT NOT NULL", std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) { q.bind(i, field(r)); },
            [field](const sql::Statement& q, int i, Row& r) { field(r) = q.text(i); }};
}

// `c`, added within a schema version; rows written before it read as `default_sql`.
template <class Row>
Column<Row> added(Column<Row> c, std::string default_sql) {
    c.added_default = std::move(default_sql);
    return c;
}

// NULL stands for NaN.
template <class Row, class Field>
Column<Row> real(std::string name, std::string type, std::string doc, Field field) {
    return {std::move(name), std::move(type), std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) { q.bind(i, double(field(r))); },
            [field](const sql::Statement& q, int i, Row& r) { field(r) = q.real(i); }};
}

}  // namespace moe::rows
