#include "ingest/chunk_chain.hpp"

#include <algorithm>

namespace moe {

namespace {
SourceStats tagged(const std::string& tag) {
    SourceStats s;
    s.tag = tag;
    return s;
}

// Whether `c`, read from a fresh state, counted what one pass would have given what came
// before it (appended to `agg`), apart from the state carried across its start, which
// ChunkChain::append reconciles: the strided-batch check, gate pairs, identical runs.
bool counts_alike(const Chunk& c, const Aggregates& agg) {
    const AnalyticsOptions& o = agg.options();
    const ModelFacts configured = ModelFacts::configured(o);
    // Its layers' first records were counted at once: one pass would have held them on
    // probation unless their k was known or in use before the chunk.
    const TagStats& all = c.agg.tag(kAllTag);
    for (int32_t l : all.layer_ids())
        if (!agg.top_k_known(l) && !agg.top_k_in_use(all.layer(l)->top_k)) return false;
    return c.ingest.probation_holds() == 0 && c.stats.meta_records == 0 &&
           c.stats.rejects[static_cast<size_t>(RejectReason::invalid_meta)] == 0 &&
           agg.facts().top_k == configured.top_k &&  // no meta record stated what it lacks
           agg.num_experts_stated() == configured.num_experts_stated;
}

// Whether the strided-view policy treated c's rows as one pass would: c assumed a verdict
// at its start; if a row after a batch's first came before c's first stream restart, that
// verdict must be one pass's, and (unless every row counts) c's first record must start a
// batch for one pass too, or its rows are numbered differently.
bool policy_alike(const StreamIngest::Carry& carry, const Chunk& c) {
    const StridedPolicy& p = c.ingest.strided_policy();
    if (p.flipped()) return false;
    if (carry.policy.holding() || (p.restarted() && carry.policy.leaning_defective())) return false;
    if (!p.depended()) return true;
    using V = StridedPolicy::Verdict;
    const V assumed = p.assumed().value_or(V::undecided);
    return assumed != V::undecided && carry.policy.verdict() == assumed &&
           (assumed == V::clean || !carry.strided.continued_by(c.ingest.strided()));
}

}  // namespace

Chunk::Chunk(uint64_t b, uint64_t e, const AnalyticsOptions& o, const std::string& tag,
             Format format, size_t max_line, StridedPolicy::Verdict assumed)
    : begin(b), end(e), agg(o), stats(tagged(tag)), ingest(agg, stats, format, max_line) {
    ingest.reset(begin);  // offsets count from the stream's start (no BOM strip mid-file)
    ingest.begin_chunk(assumed);
}

bool ChunkChain::append(const Chunk& c, Aggregates& agg, SourceStats& s, bool ends_stream) {
    if (!(ends_stream || c.ingest.at_clean_boundary()) || !counts_alike(c, agg) ||
        carry_.identical.continued_by(c.ingest.identical_runs()) ||
        !carry_.gates.can_follow(c.ingest.gates()) || !policy_alike(carry_, c))
        return false;
    // One pass checks each batch with the E it knows: what it counted or saw before too.
    const uint32_t experts_before =
        std::max(static_cast<uint32_t>(agg.num_experts()), carry_.seen_experts);
    auto strided = carry_.strided.followed_by(c.ingest.strided(), experts_before);
    if (!strided || agg.append(c.agg)) return false;  // append refused: nothing changed
    s.append(c.stats);
    s.batches_checked =
        static_cast<uint64_t>(static_cast<int64_t>(s.batches_checked) + strided->checked);
    s.batches_strided =
        static_cast<uint64_t>(static_cast<int64_t>(s.batches_strided) + strided->strided);
    carry_.strided = std::move(strided->state);
    carry_.gates.follow(c.ingest.gates(), c.agg, agg);
    carry_.identical.advance(c.ingest.identical_runs());
    // After a restart in c, or rows that followed the assumed verdict, c's policy is one
    // pass's; otherwise c never used it and one pass's carries on.
    if (c.ingest.strided_policy().restarted() || c.ingest.strided_policy().depended())
        carry_.policy = c.ingest.strided_policy();
    carry_.seen_experts = std::max(carry_.seen_experts, c.ingest.seen_experts());
    return true;
}

}  // namespace moe
