// The deeper analyses of docs/FIGURES.md as tables, JSON and CSV: co-occurrence (`cooc`), layer
// correlation and periodicity (`corr`), tag comparison (`compare`), router logits
// (`logits`) and hits over time (`timeline`).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/tag_compare.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"
#include "cli/table.hpp"
#include "cli/verdict.hpp"
#include "decisions/significance.hpp"

namespace moe {

// cooc: top pairs of one layer (or every layer with q.layer unset) by q.by; --matrix: E x E.
void write_cooc_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q);
std::string cooc_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string cooc_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

void write_corr_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q);
std::string corr_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string corr_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

// What `compare` compares: --tag with --vs; without --vs, --tag with the rest (the records
// of `all` not tagged --tag; `rest` owns them); for --tag all, the two tags that differ most.
struct Query;
inline constexpr std::string_view kRestName = "rest";
struct ComparePair {
    const TagStats* a = nullptr;
    const TagStats* b = nullptr;
    std::unique_ptr<TagStats> rest;  // b when comparing with the rest
    // For --tag all: tags with fewer than kMinTokensToJudge tokens, left out of the pick (a
    // one-token tag's JS is large and means nothing).
    std::vector<const TagStats*> too_small;
    explicit operator bool() const { return a && b; }
    bool b_is_rest() const { return rest != nullptr; }
};
// Throws NoDataError when there is nothing to compare; when !required returns an empty pair
// instead (analyze adds the section only when there is one) unless --vs was given.
ComparePair compare_pair(const Query& x, bool required);

// A tag with the records not tagged so; empty when there are none (one tag only).
ComparePair compare_with_rest(const Aggregates& agg, const TagStats& a);

// One layer of a comparison, judged (docs/FIGURES.md "Tag comparison"): the sampling
// figures when both sides are records (engine totals are not independent draws: none), and
// whether the shares differ in a way that matters. `compare` and the HTML report show these.
struct Judged {
    LayerComparison c;
    std::optional<CountsSignificance> sig;
    bool differs = false;
    bool too_few = false;  // sampled, with fewer than kMinTokensToJudge tokens on a side
    bool tokens_known_a = true, tokens_known_b = true;
};
inline std::string_view verdict_name(const Judged& j) {
    return j.differs ? "differs" : j.too_few ? "too_few_tokens" : "same";
}
// The expert the layer leans on: the first listed (largest |diff|) whose share is higher in a
// than in b; null when none is. `compare`'s table and the report's name the same one.
const ExpertShareDiff* leans_on(const LayerComparison& c);
// The line `compare` opens with (and the report's tag comparison): layers that differ, route
// the same or have too few tokens, and all layers combined.
VerdictLine compare_verdict(const ComparePair& p, const std::vector<Judged>& judged);
// The layers of p (--layer only, if given), experts cut to --top.
std::vector<Judged> judged_layers(const Aggregates& agg, const ComparePair& p,
                                  const QueryOptions& q);

void write_compare_json(JsonWriter& w, const Aggregates& agg, const ComparePair& p,
                        const QueryOptions& q);
// The same with the layers judged already (the noise floor resamples: judge once).
void write_compare_json(JsonWriter& w, const ComparePair& p, const std::vector<Judged>& judged);
std::string compare_text(const Aggregates& agg, const ComparePair& p, const QueryOptions& q);
std::string compare_csv(const Aggregates& agg, const ComparePair& p, const QueryOptions& q);

void write_logits_json(JsonWriter& w, const TagStats& tag, const QueryOptions& q);
std::string logits_text(const TagStats& tag, const QueryOptions& q);
std::string logits_csv(const TagStats& tag, const QueryOptions& q);

void write_timeline_json(JsonWriter& w, const Aggregates& agg, TagId tag, const QueryOptions& q);
std::string timeline_text(const Aggregates& agg, TagId tag, const QueryOptions& q);
std::string timeline_csv(const Aggregates& agg, TagId tag, const QueryOptions& q);

std::string iso_utc(int64_t seconds);

}  // namespace moe
