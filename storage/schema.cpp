#include "storage/schema.hpp"

#include "storage/tables.hpp"

namespace moe {

std::string schema_sql() {
    using namespace rows;
    return meta_table().create_sql() + layer_table().create_sql() + gate_table().create_sql() +
           source_table().create_sql() + timeline_table().create_sql() +
           "CREATE INDEX IF NOT EXISTS timeline_by_bucket ON timeline(bucket);\n" +
           reject_table().create_sql() + cache_table().create_sql() + kde_table().create_sql();
}

}  // namespace moe
