// The database schema (version Store::kSchemaVersion), generated from the column lists in
// tables.cpp; docs/SCHEMA.md describes it.
#pragma once

#include <string>

namespace moe {

// Every statement is idempotent (IF NOT EXISTS): migrate() runs it inside one transaction.
std::string schema_sql();

}  // namespace moe
