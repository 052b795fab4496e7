#include "storage/count_functions.hpp"

#include <span>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "storage/row_codec.hpp"
#include "storage/varint.hpp"

namespace moe {

namespace {

std::span<const std::byte> blob_of(sqlite3_value* v) {
    return {static_cast<const std::byte*>(sqlite3_value_blob(v)),
            static_cast<size_t>(sqlite3_value_bytes(v))};
}

// Adds the sparse blob `v` into `sum`; false if it is malformed.
bool add_into(std::vector<uint64_t>& sum, sqlite3_value* v) {
    const auto x = decode_sparse_counts(blob_of(v));
    if (!x) return false;
    if (sum.size() < x->size()) sum.resize(x->size(), 0);
    for (size_t i = 0; i < x->size(); ++i)
        sum[i] += (*x)[i];
    return true;
}

void result_sparse(sqlite3_context* ctx, const std::vector<uint64_t>& v) {
    const std::string s = encode_sparse_counts(v);
    sqlite3_result_blob64(ctx, s.data(), s.size(), SQLITE_TRANSIENT);
}

constexpr const char* kMalformed = "malformed sparse count blob";

void add_counts_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
    std::vector<uint64_t> sum;
    if (!add_into(sum, argv[0]) || !add_into(sum, argv[1]))
        return sqlite3_result_error(ctx, kMalformed, -1);
    result_sparse(ctx, sum);
}

// The aggregate's state lives in SQLite's aggregate context: a pointer to a heap vector,
// freed by the final step (also when the statement is reset before it).
using SumState = std::vector<uint64_t>*;

void sum_step(sqlite3_context* ctx, int, sqlite3_value** argv) {
    auto* state = static_cast<SumState*>(sqlite3_aggregate_context(ctx, sizeof(SumState)));
    if (!state) return sqlite3_result_error_nomem(ctx);
    if (!*state) *state = new std::vector<uint64_t>();
    if (!add_into(**state, argv[0])) sqlite3_result_error(ctx, kMalformed, -1);
}

void sum_final(sqlite3_context* ctx) {
    auto* state = static_cast<SumState*>(sqlite3_aggregate_context(ctx, 0));
    std::vector<uint64_t> empty;
    result_sparse(ctx, state && *state ? **state : empty);
    if (state) delete *state;
}

void sparse_of_fixed_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto b = blob_of(argv[0]);
    if (b.size() % sizeof(uint64_t))
        return sqlite3_result_error(ctx, "uint64 blob length not a multiple of 8", -1);
    result_sparse(ctx, rows::from_blob<uint64_t>(b));
}

}  // namespace

void register_count_functions(sqlite3* db) {
    constexpr int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    sqlite3_create_function_v2(db, "moe_add_counts", 2, flags, nullptr, add_counts_fn, nullptr,
                               nullptr, nullptr);
    sqlite3_create_function_v2(db, "moe_sum_counts", 1, flags, nullptr, nullptr, sum_step,
                               sum_final, nullptr);
    sqlite3_create_function_v2(db, "moe_sparse_of_fixed", 1, flags, nullptr, sparse_of_fixed_fn,
                               nullptr, nullptr, nullptr);
}

}  // namespace moe
