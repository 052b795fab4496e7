// Routing diff between two runs of one workload (docs/FIGURES.md "Routing diff"): records of
// run A and run B are aligned by (token, layer) (tracing/token_key.hpp: request and token
// position, or forward pass and row), and each aligned pair is compared (top-1, overlap,
// exact set, Jaccard, weight mass, which experts were gained and lost). Records are fed as
// they are read, in any interleaving of the two runs; a record waits for its partner in a
// window of at most `window` records, and one that leaves it unmatched is counted with the
// reason, never dropped silently. Memory: the window, a tally per token (also at most
// `window` tokens) and per layer E counters and the flip pairs seen.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "parsers/record.hpp"
#include "tracing/bounded_fifo_map.hpp"
#include "tracing/position_bucket.hpp"
#include "tracing/token_key.hpp"
#include "tracing/topk_match.hpp"

namespace moe {

enum class DiffSide : uint8_t { a = 0, b = 1 };

// Why a record has no partner in the other run.
enum class Unmatched : uint8_t {
    missing_request,   // the other run never showed its request (or forward pass)
    different_length,  // the other run has the request, but not this token at this layer
    evicted,           // pushed out of the window before its partner came, or its partner was
    duplicate,         // its run already had a record of this token at this layer
    count_
};
inline constexpr size_t kUnmatchedReasons = static_cast<size_t>(Unmatched::count_);
std::string_view unmatched_name(Unmatched u);

// Whether a record counted under tag `name` (TAG or TAG@PHASE) belongs to the run of tag
// `run`: `moescope diff --tag A --vs B` and moescoped --diff A:B take a run's phases with it.
inline bool in_run(std::string_view name, std::string_view run) {
    return name == run ||
           (name.size() > run.size() && name.starts_with(run) && name[run.size()] == '@');
}

struct ExpertFlip {
    int32_t from = 0, to = 0;  // lost by B (A's), gained by B
    uint64_t count = 0;
};

struct LayerDiff {
    AgreementSums agreement;
    std::array<uint64_t, kUnmatchedReasons> only_a{}, only_b{};
    // Per expert, over aligned tokens: selected in B but not in A, and in A but not in B.
    std::vector<uint64_t> gained, lost;
    // Per expert, over aligned tokens: selected in A, selected in B; and the sum of k
    // (max(|A|, |B|)) over them: what the chance baseline needs.
    std::vector<uint64_t> selected_a, selected_b;
    uint64_t k_sum = 0;
    // Flip pairs: a token's experts lost (in A's rank order) paired with those gained (in
    // B's rank order), first with first; key from << 32 | to.
    std::unordered_map<uint64_t, uint64_t> flips;

    uint64_t only_a_total() const;
    uint64_t only_b_total() const;
    void add(const LayerDiff& o);
    // The `n` most frequent flip pairs (count descending, then from, then to).
    std::vector<ExpertFlip> top_flips(size_t n) const;
};

// The mean overlap the layer's aligned tokens would show if A's and B's were paired at random
// (docs/FIGURES.md "Routing diff"): sum_e a_e b_e / (n^2 mean k), with a_e, b_e the
// selections of expert e in A and B over the n aligned tokens. Of one layer only: experts
// of different layers are different experts. NaN without aligned tokens.
double chance_overlap(const LayerDiff& layer);
// How far above chance the mean overlap is, as Cohen's kappa: (overlap - chance) /
// (1 - chance); 1 = same routing, 0 = no better than tokens paired at random. NaN when
// chance is 1 or unknown.
double overlap_kappa(double overlap, double chance);
// Below this kappa two runs agree little more than tokens paired at random: most likely not
// runs of the same requests; the verdict of `diff` and of the report then says so.
inline constexpr double kNearChanceKappa = 0.2;

// The layer whose aligned tokens overlap least: what the verdict of `diff` and the report's
// Routing diff section name. Layers without aligned tokens are skipped; ties keep the first.
struct LowestOverlap {
    int32_t layer = -1;  // -1: no layer had aligned tokens
    double overlap = std::numeric_limits<double>::infinity();
    void consider(int32_t l, const AgreementSums& a) {
        if (a.aligned > 0 && a.mean_overlap() < overlap) overlap = a.mean_overlap(), layer = l;
    }
};

// Across layers: for each token aligned in at least one layer, in how many of its aligned
// layers the two selections differ (not the same set).
struct TokenDiffTally {
    uint64_t tokens = 0;
    uint64_t differ_any = 0;
    std::vector<uint64_t> differing_layers;  // [n]: tokens differing in exactly n layers
    uint64_t closed_early = 0;               // tallies the window closed before the stream ended
};

class RoutingDiff {
  public:
    static constexpr size_t kDefaultWindow = size_t{1} << 20;
    static constexpr size_t kMaxPhases = 64;  // more distinct phases go to "(other)"

    explicit RoutingDiff(size_t window = kDefaultWindow);

    void add(DiffSide side, const RoutingRecord& r);
    // Run `side` has no more records (its file was read to the end): a record of the other
    // run that finds no partner waiting is unmatched at once, instead of waiting and
    // pushing out records that still may meet theirs.
    void end_of(DiffSide side) { ended_[static_cast<size_t>(side)] = true; }
    // Both runs ended: every waiting record is unmatched, every token tallied.
    void finish();

    const std::map<int32_t, LayerDiff>& layers() const { return layers_; }
    LayerDiff all_layers() const;
    // The layers' chance_overlap, weighted by their aligned tokens.
    double chance_overlap_all() const;
    const std::array<AgreementSums, kPositionBuckets>& by_position() const { return buckets_; }
    // By phase name, in order of first appearance; records without a phase are not here.
    const std::vector<std::pair<std::string, AgreementSums>>& by_phase() const { return phases_; }
    const TokenDiffTally& tokens() const { return tally_; }
    // Records without a position (neither request and token nor forward pass): not aligned.
    uint64_t unplaced(DiffSide s) const { return unplaced_[static_cast<size_t>(s)]; }
    // Records of each run taken (placed or not).
    uint64_t records(DiffSide s) const { return records_[static_cast<size_t>(s)]; }
    // Records of each run with a request id.
    uint64_t with_request(DiffSide s) const { return with_request_[static_cast<size_t>(s)]; }
    size_t waiting() const { return pending_.size(); }

  private:
    struct Pending {
        DiffSide side;
        int16_t phase;  // index into phases_, -1: none
        std::vector<int32_t> experts;
        std::vector<float> weights;
    };
    struct Tally {
        uint32_t aligned = 0, differing = 0;
    };
    int16_t phase_index(std::string_view phase);
    void unmatched(const TokenKey& k, DiffSide side, Unmatched why);
    void unmatched_at_end(const TokenKey& k, DiffSide side);
    void aligned(const TokenKey& k, std::span<const int32_t> a, std::span<const float> wa,
                 std::span<const int32_t> b, std::span<const float> wb, int16_t phase);
    void close(const Tally& t, bool early);
    LayerDiff& layer(int32_t l) { return layers_[l]; }

    BoundedFifoMap<TokenKey, Pending, TokenKeyHash> pending_;
    // Keys aligned lately (the last `window`): a record of one comes again, a replay, is a
    // duplicate of its run (it found no partner waiting and would pass for a longer run).
    BoundedFifoMap<TokenKey, char, TokenKeyHash> aligned_keys_;
    BoundedFifoMap<TokenId, Tally, TokenIdHash> token_tallies_;
    // The streams (requests, passes) each run showed: the position 0 TokenId of each, and
    // whether a record of it was pushed out of the window.
    using Seen = BoundedFifoMap<TokenId, char, TokenIdHash>;
    std::array<Seen, 2> seen_;
    std::map<int32_t, LayerDiff> layers_;
    std::array<AgreementSums, kPositionBuckets> buckets_{};
    std::vector<std::pair<std::string, AgreementSums>> phases_;
    TokenDiffTally tally_;
    std::array<uint64_t, 2> unplaced_{}, records_{}, with_request_{};
    std::array<bool, 2> ended_{};
};

}  // namespace moe
