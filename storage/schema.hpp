// The database schema (version Store::kSchemaVersion); README "Storage" describes it.
#pragma once

namespace moe {

extern const char* const kSchemaSql;

}  // namespace moe
