// SQL functions over sparse count blobs (storage/varint.hpp, docs/SCHEMA.md "Encodings"), so
// that timeline increments and roll-ups are added inside SQLite without a round trip.
#pragma once

struct sqlite3;

namespace moe {

// moe_add_counts(a, b): the element-wise sum of two sparse count blobs (the longer length);
// moe_sum_counts(x): the same as an aggregate (GROUP BY roll-ups);
// moe_sparse_of_fixed(x): a little-endian uint64 vector re-encoded (the version 3 migration).
// A malformed blob is an SQL error, never a silently wrong count.
void register_count_functions(sqlite3* db);

}  // namespace moe
