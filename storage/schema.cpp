#include "storage/schema.hpp"

#include "storage/tables.hpp"

namespace moe {

std::string schema_sql() {
    using namespace rows;
    return meta_table().create_sql() + layer_table().create_sql() + gate_table().create_sql() +
           source_table().create_sql() + timeline_table().create_sql() +
           "CREATE INDEX IF NOT EXISTS timeline_by_bucket ON timeline(bucket);\n" +
           reject_table().create_sql() + cache_table().create_sql() + kde_table().create_sql() +
           stream_table().create_sql() + transition_table().create_sql() +
           diff_table().create_sql();
}

void add_missing_columns(sql::Database& db) {
    using namespace rows;
    meta_table().add_missing_columns(db);
    layer_table().add_missing_columns(db);
    gate_table().add_missing_columns(db);
    source_table().add_missing_columns(db);
    timeline_table().add_missing_columns(db);
    reject_table().add_missing_columns(db);
    cache_table().add_missing_columns(db);
    kde_table().add_missing_columns(db);
    stream_table().add_missing_columns(db);
    transition_table().add_missing_columns(db);
    diff_table().add_missing_columns(db);
}

}  // namespace moe
