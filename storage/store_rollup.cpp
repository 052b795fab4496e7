// Store::rollup: old timeline buckets added into hour, then day buckets, as time-series
// stores do, so that a year of history stays small (docs/SCHEMA.md "Roll-ups").
#include <string>

#include "storage/store.hpp"

namespace moe {

namespace {

// Adds every bucket narrower than `width` that starts before `cutoff` (a multiple of
// `width`) into the bucket of that width it starts in; returns the rows folded. The sums
// are made before the fine rows are deleted; an existing wide row (an earlier roll-up, a
// late record's bucket since) is added to, never replaced.
int64_t roll_into(sql::Database& db, int64_t width, int64_t cutoff) {
    const std::string w = std::to_string(width), where = " WHERE bucket < ?1 AND seconds < " + w;
    db.exec(
        "CREATE TEMP TABLE IF NOT EXISTS rollup_sums(tag TEXT, layer INTEGER, "
        "bucket INTEGER, tokens INTEGER, hits BLOB)");
    db.exec("DELETE FROM rollup_sums");
    db.prepare("INSERT INTO rollup_sums SELECT tag, layer, bucket - ((bucket % " + w + ") + " + w +
               ") % " + w + ", sum(tokens), moe_sum_counts(hits) FROM timeline" + where +
               " GROUP BY 1, 2, 3")
        .bind(1, cutoff)
        .run();
    auto del = db.prepare("DELETE FROM timeline" + where);
    del.bind(1, cutoff).run();
    const int64_t folded = db.query_int("SELECT changes()");
    db.exec(
        "INSERT INTO timeline(tag, layer, bucket, seconds, tokens, hits) SELECT tag, layer, "
        "bucket, " +
        w +
        ", tokens, hits FROM rollup_sums WHERE true ON CONFLICT(tag, layer, bucket) DO "
        "UPDATE SET seconds = max(seconds, excluded.seconds), tokens = tokens + "
        "excluded.tokens, hits = moe_add_counts(hits, excluded.hits)");
    return folded;
}

int64_t floor_to(int64_t t, int64_t width) {
    return t - ((t % width) + width) % width;
}

}  // namespace

int64_t Store::rollup(int64_t now) {
    const Rollup r = rollup_.value_or(Rollup{});
    int64_t folded = 0;
    if (r.hour_after > 0) folded += roll_into(db_, 3600, floor_to(now - r.hour_after, 3600));
    if (r.day_after > 0) folded += roll_into(db_, 86400, floor_to(now - r.day_after, 86400));
    return folded;
}

}  // namespace moe
