// The database schema (version Store::kSchemaVersion), generated from the column lists in
// tables.cpp; docs/SCHEMA.md describes it.
#pragma once

#include <string>

#include "storage/sqlite.hpp"

namespace moe {

// Every statement is idempotent (IF NOT EXISTS): migrate() runs it inside one transaction.
std::string schema_sql();
// Adds the columns added within this version (rows::Column::added_default) that existing
// tables lack.
void add_missing_columns(sql::Database& db);

}  // namespace moe
