// The moescope database: aggregates, model facts and source offsets, saved in one SQLite
// transaction so that a crash can never separate counts from the offsets that produced them.
// Schema (versioned with PRAGMA user_version): docs/SCHEMA.md.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "storage/sqlite.hpp"

namespace moe {

using sql::StorageError;

// Where an acknowledged stream stands (daemon/acked_streams.hpp): the number of its last line
// counted, committed with the counts it produced, and the parser state as of that line.
struct StreamPosition {
    std::string stream;  // the client's stream id
    std::string source;  // the listener it last came through (sources.name)
    uint64_t seq = 0;    // lines counted, numbered from 1
    std::string state;   // StreamIngest::checkpoint() as of that line
};

class Store {
  public:
    // 2: layer_stats.top1 (issue 16), layer_stats.counted (engine totals, issue 15) and the
    // live_cache table (issue 13); 3: timeline.hits as sparse varints (issue 18). An older
    // database is upgraded when opened for writing.
    static constexpr int kSchemaVersion = 3;

    // Opens (creating if needed) a database for the daemon: WAL mode, schema migrated.
    static Store open_for_writing(const std::string& path);
    // Opens an existing database for queries; never writes, never creates.
    static Store open_read_only(const std::string& path);
    static constexpr int64_t kReadMapBytes = int64_t{4} << 30;  // SQLite caps it at its own max

    // Loads every stored aggregate into `agg` (which should be empty) and adopts the stored
    // model facts (check them first with read_facts() where a conflict must be refused).
    // The daemon's live transition tables (E x E per layer pair and tag: about 500 MB for 256
    // experts, 60 layers and 16 tags) and diffs are skipped by a query that reads neither.
    enum class Tracing { load, skip };
    void load(Aggregates& agg, Tracing tracing = Tracing::load) const;
    // Overwrites the facts stored in the meta table; false if none are stored (a new database).
    bool read_facts(ModelFacts& facts) const;
    // Deletes every aggregate, source offset and fact (moescoped --reset); the database gets
    // a new id, since what it holds from now on is new.
    void reset();

    // A random id made once per database (meta "database_id"), and the ids of the
    // databases merged into this one (meta "merged_ids"), so that a merge can refuse to
    // count one database twice.
    std::string database_id() const { return get_meta("database_id").value_or(""); }
    std::vector<std::string> merged_ids() const;
    void set_merged_ids(const std::vector<std::string>& ids);
    // Loads the timeline buckets (hits over time) into agg.timeline().
    void load_timeline(Aggregates& agg) const;
    // Only the buckets starting in [since, until), read through the bucket index (a year of
    // history is not loaded for an hour's window), plus the first and the last bucket of the
    // whole timeline, so a caller can still say what span the timed records cover.
    // `summed`: the window's buckets of each (tag, layer) are added into one bucket at the
    // window's first bucket start, as wide as the buckets it holds, for commands that need
    // window totals, not the timeline: a year of buckets is not held in memory.
    enum class Window { per_bucket, summed };
    void load_timeline_window(Aggregates& agg, int64_t since, int64_t until,
                              Window how = Window::per_bucket) const;
    // Timeline buckets older than this are deleted at each save (0: kept forever).
    void set_retention_seconds(int64_t s) { retention_seconds_ = s; }
    // Roll-ups (docs/SCHEMA.md "Roll-ups"): timeline buckets older than hour_after seconds
    // are added into hour buckets, older than day_after into (UTC) day buckets; 0 disables.
    struct Rollup {
        int64_t hour_after = 24 * 3600;
        int64_t day_after = 30 * 24 * 3600;
    };
    // Done by the first save() of every hour; off until set (the CLI's merge and import
    // copy what they are given).
    void set_rollup(Rollup r) { rollup_ = r; }
    // Rolls up what is old at `now` (seconds since the epoch); returns the rows folded.
    int64_t rollup(int64_t now);
    std::vector<SourceStats> load_sources() const;
    std::vector<StreamPosition> load_streams() const;
    // Deletes a source's row and its rejects (`moescope sources --forget`); false if no
    // source has that name. The aggregates keep the records it delivered.
    bool forget_source(const std::string& name);

    // Writes every dirty aggregate, the timeline increments, every source (offsets
    // included) and the acknowledged streams' positions in one transaction, then marks them
    // clean and empties agg.timeline(). `force` writes everything (used by merge).
    void save(Aggregates& agg, std::span<SourceStats* const> sources, bool force = false,
              std::span<const StreamPosition> streams = {});

    sql::Database& db() { return db_; }

  private:
    explicit Store(sql::Database db) : db_(std::move(db)) {}
    std::optional<std::string> get_meta(std::string_view key) const;
    void put_meta(std::string_view key, const std::string& value);
    void ensure_database_id();
    void migrate();
    void check_version() const;
    void map_for_reading();
    void load_tracing(Aggregates& agg) const;

    sql::Database db_;
    int64_t retention_seconds_ = 0;
    std::optional<Rollup> rollup_;
    int64_t rolled_up_hour_ = INT64_MIN;  // now / 3600 of the last committed roll-up
};

}  // namespace moe
