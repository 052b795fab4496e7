// All rolling statistics of one daemon or one `moescope analyze` run: per tag ("all" plus
// every tag seen), per layer, plus all layers combined and gate-input distances.
// This is the in-memory state that storage/ saves and loads and cli/ reports on.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analytics/agreement_sums.hpp"
#include "analytics/gate_pair_stats.hpp"
#include "analytics/layer_stats.hpp"
#include "analytics/model_facts.hpp"
#include "analytics/timeline.hpp"
#include "analytics/transition_table.hpp"
#include "parsers/record.hpp"

namespace moe {

using TagId = uint32_t;
inline constexpr TagId kAllTag = 0;
inline constexpr std::string_view kAllTagName = "all";

struct AnalyticsOptions {
    double ema_decay = 0.99999;
    uint32_t num_experts = 0;  // 0: learn from meta records, else largest id + 1
    bool ema = true;           // the analytics sets (parse_analytics_set) switch these off
    bool cooc = true;
    bool logits = true;
    bool gates = true;                               // gate-input distances
    bool timeline = true;                            // hits per time bucket
    int64_t bucket_seconds = kDefaultBucketSeconds;  // timeline bucket width
    size_t max_tags = 256;                           // further tags are counted under "all" only
    uint32_t top_k = 0;  // --top-k: 0 from meta records or the first records
    // --keep-suspect: count the records the data-quality checks prove wrong instead of
    // leaving them out (analytics/quality.hpp, docs/FIGURES.md "Data quality").
    bool keep_suspect = false;
    // The daemon: engine totals (CountRecord::snapshot) are refused, one engine_totals reject
    // each.
    // A recorder's dump holds totals since the engine started, rewritten in place: followed,
    // every rewrite would be added to the last (docs/INPUTS.md "Engine recorders": import it).
    bool refuse_engine_totals = false;
    uint64_t memory_budget = 2ull << 30;  // bytes of per-layer state before memory_budget rejects
    std::vector<CacheSpec> caches;  // live cache simulation per (tag, layer): --cache-capacity
};

// --analytics: "counts" (hits, tokens, weight mass), "standard" (counts + EMA +
// co-occurrence), "full" (everything: also logits, gate distances, timeline, diagnostics).
bool apply_analytics_set(std::string_view name, AnalyticsOptions& o);

struct TagStats {
    std::string name;
    std::vector<std::unique_ptr<LayerStats>> layers;  // indexed by layer id; null: never seen
    LayerStats global;                                // all layers combined
    std::map<GatePairKey, GatePairStats> gates;
    // Live layer-to-layer transitions (moescoped --affinity), keyed by the lower layer l of
    // the pair (l, l + 1); empty unless the daemon follows tokens.
    std::map<int32_t, TransitionTable> transitions;

    const LayerStats* layer(int32_t l) const {
        return l >= 0 && static_cast<size_t>(l) < layers.size()
                   ? layers[static_cast<size_t>(l)].get()
                   : nullptr;
    }
    LayerStats& layer_or_create(int32_t l) {  // inline: once or twice per record
        const auto i = static_cast<size_t>(l);
        return i < layers.size() && layers[i] ? *layers[i] : create_layer(l);
    }
    LayerStats& create_layer(int32_t l);     // layer_or_create for a layer not there yet
    std::vector<int32_t> layer_ids() const;  // ascending, only layers with records
};

// One engine count of selections: finite, whole, >= 0 and at most 2^53 (beyond it doubles
// skip whole numbers; no engine counts that many). Aggregates::check_counts applies it, and a
// reject names the first count that fails it.
inline bool is_selection_count(double x) {
    return std::isfinite(x) && x >= 0 && x == std::floor(x) && x <= 9007199254740992.0;
}

class Aggregates {
  public:
    explicit Aggregates(AnalyticsOptions opts = {});
    Aggregates(const Aggregates&) = delete;
    Aggregates& operator=(const Aggregates&) = delete;

    // The switches and limits of this run; the model facts (decay, bucket width, expert
    // count, ...) are in facts(), which a loaded database may have changed.
    const AnalyticsOptions& options() const { return opts_; }

    const ModelFacts& facts() const { return facts_; }
    // Takes a database's facts (see combine() in model_facts.hpp); callers check
    // find_conflict() first where a conflict must be refused.
    void adopt_facts(const ModelFacts& stored);
    // num_experts() is the stated count, else the largest id seen + 1.
    uint32_t num_experts() const { return facts_.num_experts; }
    bool num_experts_stated() const { return facts_.num_experts_stated; }
    const std::string& model_id() const { return facts_.model_id; }
    uint32_t gate_dim() const { return facts_.gate_dim; }
    // Applies a meta record's expert count. Returns a reason when it contradicts what was
    // already counted.
    std::optional<RejectReason> state_num_experts(uint32_t E);

    TagId tag_id(std::string_view name);  // creates the tag on first use
    // For records: like tag_id, but beyond options().max_tags new tags map to "all".
    TagId record_tag_id(std::string_view name);
    bool tag_cap_reached() const { return tag_cap_reached_; }
    // Approximate bytes of per-layer state (what the memory budget limits).
    uint64_t approx_bytes() const {
        return layer_count_ * layer_bytes(facts_.num_experts) + reserved_bytes_;
    }
    // Charges `bytes` of other state (the daemon's token windows) to the memory budget;
    // false, charging nothing, when they do not fit.
    bool reserve_bytes(uint64_t bytes);
    // Charges them whether or not they fit (state loaded from a database).
    void charge_bytes(uint64_t bytes) { reserved_bytes_ += bytes; }
    std::optional<TagId> find_tag(std::string_view name) const;
    size_t tag_count() const { return tags_.size(); }
    TagStats& tag(TagId id) { return *tags_[id]; }
    const TagStats& tag(TagId id) const { return *tags_[id]; }

    // Validates a record and, if it is good, counts it under "all" and under `tag`.
    // `arrival` (seconds since the epoch, NaN if unknown) times records without a timestamp.
    std::optional<RejectReason> add_routing(TagId tag, const RoutingRecord& r,
                                            double arrival = NAN);
    // add_routing in two steps, so a caller can look at a valid record before counting it
    // (and create its tag only then): check_routing, then add_checked with nothing applied
    // in between.
    std::optional<RejectReason> check_routing(const RoutingRecord& r, double arrival) const;
    std::optional<RejectReason> add_checked(TagId tag, const RoutingRecord& r, double arrival);
    // Sees every routing record counted by add_checked, with its tag and its time (its
    // timestamp, else `arrival`; NaN when neither is known): the daemon's live KDE test
    // (daemon/live_kde.hpp). Unset by default: one branch per record.
    using RoutingTap = std::function<void(TagId, const RoutingRecord&, double when)>;
    void set_routing_tap(RoutingTap tap) { tap_ = std::move(tap); }
    bool tapped() const { return static_cast<bool>(tap_); }
    // Engine totals (CountRecord): checked like routing records (layer, expert range, and
    // every count finite, whole and >= 0), then added under "all" and `tag`. A record whose
    // counts are all zero changes nothing: a dense layer of an engine's [layers][experts]
    // table is not shown as an MoE layer (docs/ARCHITECTURE.md "Count-only sources").
    std::optional<RejectReason> check_counts(const CountRecord& c) const;
    std::optional<RejectReason> add_counts(TagId tag, const CountRecord& c);
    // A token's experts at layer `from_layer` (`a`) and at the next layer (`b`), counted in
    // the tag's transition table of that layer pair and in "all"'s. A new table is charged
    // to the memory budget (TransitionTable::bytes at the expert count known then); false,
    // counting nothing, when it does not fit.
    bool add_transition(TagId tag, int32_t from_layer, std::span<const int32_t> a,
                        std::span<const int32_t> b);

    // Live diffs of two tags (moescoped --diff A:B), per layer; keyed by (A, B).
    using DiffKey = std::pair<std::string, std::string>;
    using LiveDiff = std::map<int32_t, DiffLayerCounts>;
    std::map<DiffKey, LiveDiff>& live_diffs() { return live_diffs_; }
    const std::map<DiffKey, LiveDiff>& live_diffs() const { return live_diffs_; }

    // Whether a layer's top-k is known: stated (meta record, --top-k) or counted.
    bool top_k_known(int32_t layer) const;
    // Whether some layer already counts records of `k` experts (the model's k, usually).
    bool top_k_in_use(size_t k) const;
    // Timestamps outside [kMinTimestamp, upper) are bad_timestamp rejects; upper is
    // arrival + kMaxTimestampAhead when the arrival time is known (the daemon), else
    // kMaxTimestamp (docs/GUARANTEES.md).
    static constexpr double kMinTimestamp = 946684800.0;   // 2000-01-01
    static constexpr double kMaxTimestamp = 4102444800.0;  // 2100-01-01
    static constexpr double kMaxTimestampAhead = 86400.0;  // a day ahead of the clock
    std::optional<RejectReason> apply_meta(const MetaRecord& m);
    // Checks a gate vector's length against the first one seen.
    std::optional<RejectReason> check_gate(const GateRecord& g);
    void add_gate_pair(TagId tag, const GatePairKey& key, const GateDistances& d);
    // A validated record that a data-quality check left out (analytics/quality.hpp): counted
    // in LayerStats::left_out of its layer and of all layers, under "all" and `tag`. Its ids
    // still tell the expert count (a strided row lists real experts).
    void leave_out(TagId tag, const RoutingRecord& r, Suspect why);

    // Adds all counts of another aggregate (used by `moescope merge`).
    std::optional<std::string> merge(const Aggregates& other);
    // Adds the next part of the same stream, counted from a fresh Aggregates with the same
    // options (ingest/parallel_ingest.hpp): as merge(), but EMAs continue (EmaVector::
    // continue_with). Refused, changing nothing, where the parts could not be told apart
    // from one sequential pass: conflicting facts or top-k, engine totals, the tag cap or
    // the memory budget.
    std::optional<std::string> append(const Aggregates& later);

    // Makes every layer's vectors num_experts() long, so reports see dead experts.
    void pad_to_num_experts();

    // For a background writer: a new Aggregates holding copies of what changed since the
    // last call (dirty layers and gate pairs, the timeline increments) and the model facts;
    // here those parts are marked clean and the pending cache accesses move over (whoever
    // writes the copy runs them: analytics/live_caches.hpp). Tag ids are the same in both.
    std::unique_ptr<Aggregates> take_changes();
    // Writing take_changes() failed: mark those parts dirty again and re-add the timeline.
    void restore_changes(const Aggregates& changes);

    // Hits per time bucket (see timeline.hpp). The daemon's store empties it at each flush.
    Timeline& timeline() { return timeline_; }
    const Timeline& timeline() const { return timeline_; }
    // Replaces the totals with the sum of the timeline buckets starting in [since, until):
    // the view behind --since/--until (hit counts only; EMA, co-occurrence, logits and gate
    // distances are not kept per bucket).
    void restrict_to_window(int64_t since, int64_t until);
    bool windowed() const { return windowed_; }

  private:
    std::optional<std::string> merge_conflict(const Aggregates& o) const;
    void absorb(const Aggregates& o, bool continues);
    std::optional<RejectReason> validate(const RoutingRecord& r, double arrival) const;
    void count(TagStats& t, const RoutingRecord& r);

    static uint64_t layer_bytes(size_t E);

    LayerOptions layer_options() const {
        return {facts_.ema_decay, opts_.ema, opts_.cooc, opts_.logits, &opts_.caches};
    }

    AnalyticsOptions opts_;
    ModelFacts facts_;
    std::vector<double> scratch_;  // softmax buffer, reused
    std::vector<std::unique_ptr<TagStats>> tags_;
    Timeline timeline_;
    bool windowed_ = false;
    bool tag_cap_reached_ = false;
    uint64_t layer_count_ = 0;     // LayerStats objects created by counting
    uint64_t reserved_bytes_ = 0;  // transition tables and token windows (reserve_bytes)
    std::map<DiffKey, LiveDiff> live_diffs_;
    std::unordered_map<std::string, TagId> tag_ids_;
    RoutingTap tap_;
};

}  // namespace moe
