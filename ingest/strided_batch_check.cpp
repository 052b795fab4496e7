#include "ingest/strided_batch_check.hpp"

#include <algorithm>

namespace moe {

// A chunk's fresh state, recording its opening (ingest/chunk_chain.hpp).
void StridedBatchCheck::record_opening() {
    *this = {};
    opening_.emplace();
}

void StridedBatchCheck::set_limits(size_t k, uint32_t num_experts) {
    limit_k_ = k;
    limit_e_ = num_experts;
    limit_ = k > 0 && num_experts / k >= 2 ? num_experts / k : 0;
    need_ = num_experts % std::max<size_t>(k, 1) == 0 ? limit_ : 0;
}

int StridedBatchCheck::continue_batch(std::span<const int32_t> experts) {
    ++run_;
    if (limit_ == 0 || run_ > limit_) return -1;
    if (run_ == 2) {
        std::fill_n(seen_.begin(), seen_words_, 0);
        seen_words_ = 0;
        out_of_range_ = false;
        covered_ = 0;
        mark({first_.data(), first_k_});
    }
    // A repeat or an id beyond E already decides the batch (not the defect): honest batches
    // show one within a few rows, so the rest are not marked.
    if (!duplicate_ && !out_of_range_) mark(experts);
    if (need_ == 0 || run_ < need_) return -1;
    return (!duplicate_ && !out_of_range_ && covered_ == experts_) ? 1 : 0;
}

void StridedBatchCheck::mark(std::span<const int32_t> experts) {
    // In locals: the members are stored once (covered_ is a uint64_t, like the words, so the
    // compiler would store it after every word).
    bool out_of_range = false, duplicate = false;
    size_t covered = 0, words = seen_words_;
    const uint32_t e_max = experts_;
    for (int32_t e : experts) {
        const auto i = static_cast<uint32_t>(e);  // validated: 0 <= e <= kMaxExpert
        const uint64_t bit = uint64_t{1} << (i & 63);
        const uint64_t word = seen_[i >> 6];
        out_of_range |= i >= e_max;  // E grew within the batch: not a cover of E
        duplicate |= (word & bit) != 0;
        covered += (word & bit) == 0;
        seen_[i >> 6] = word | bit;
        words = std::max<size_t>(words, (i >> 6) + 1);
    }
    out_of_range_ = out_of_range_ || out_of_range;
    duplicate_ = duplicate_ || duplicate;
    covered_ += covered;
    seen_words_ = words;
}

void StridedBatchCheck::Opening::add(int32_t layer, std::span<const int32_t> experts,
                                     uint32_t num_experts) {
    if (!complete) return;
    if (events.size() == kOpeningEvents) {
        complete = false;
        return;
    }
    events.push_back({layer, num_experts, static_cast<uint32_t>(ids.size()),
                      static_cast<uint32_t>(experts.size())});
    ids.insert(ids.end(), experts.begin(), experts.end());
}

bool StridedBatchCheck::continued_by(const StridedBatchCheck& chunk) const {
    const Opening& o = *chunk.opening_;
    return layer_ >= 0 && !o.events.empty() && o.events.front().layer == layer_;
}

std::optional<StridedBatchCheck::Followed> StridedBatchCheck::followed_by(
    const StridedBatchCheck& chunk, uint32_t experts_before) const {
    const Opening& o = *chunk.opening_;
    Followed f{*this};       // one pass
    StridedBatchCheck mine;  // the chunk again: it started fresh, as this does
    const auto verdicts = [&](int one_pass, int chunk_alone) {
        f.checked += (one_pass >= 0) - (chunk_alone >= 0);
        f.strided += (one_pass == 1) - (chunk_alone == 1);
    };
    for (size_t i = 0; i < o.events.size(); ++i) {
        const Opening::Event& e = o.events[i];
        if (e.layer < 0) {
            f.state.new_stream();
            mine.new_stream();
            continue;
        }
        // A batch that starts in both with the E one pass has: from here on they agree.
        if (i > 0 && e.layer != mine.layer_ && e.experts >= experts_before) {
            f.state = chunk;
            f.state.opening_.reset();
            return f;
        }
        const std::span<const int32_t> ids(o.ids.data() + e.begin, e.count);
        verdicts(f.state.check(e.layer, ids, std::max(experts_before, e.experts)),
                 mine.check(e.layer, ids, e.experts));
    }
    if (!o.complete) return std::nullopt;
    return f;
}

}  // namespace moe

namespace moe {

void StridedBatchCheck::save(StateWriter& w) const {
    w.put<int32_t>(layer_);
    w.put<uint64_t>(run_);
    w.put<uint64_t>(need_);
    w.put<uint64_t>(limit_);
    w.put<uint8_t>(out_of_range_);
    w.put<uint8_t>(duplicate_);
    w.put<uint64_t>(covered_);
    // One byte per id, as the checkpoint has always held them: up to the highest id marked,
    // at least E while the batch is being marked.
    size_t n = run_ >= 2 ? experts_ : 0;
    for (size_t i = 0; i < seen_words_ * 64; ++i)
        if (seen_[i >> 6] >> (i & 63) & 1) n = std::max(n, i + 1);
    std::string bytes(n, '\0');
    for (size_t i = 0; i < std::min(n, seen_words_ * 64); ++i)
        bytes[i] = static_cast<char>(seen_[i >> 6] >> (i & 63) & 1);
    w.put_string(bytes);
    w.put<uint32_t>(experts_);
    w.put<uint32_t>(static_cast<uint32_t>(first_k_));
    for (size_t i = 0; i < first_k_; ++i)
        w.put<int32_t>(first_[i]);
}

bool StridedBatchCheck::restore(StateReader& r, bool with_limit) {
    layer_ = r.get<int32_t>();
    run_ = r.get<uint64_t>();
    need_ = r.get<uint64_t>();
    limit_ = with_limit ? r.get<uint64_t>() : need_;
    out_of_range_ = with_limit && r.get<uint8_t>() != 0;
    duplicate_ = r.get<uint8_t>() != 0;
    covered_ = r.get<uint64_t>();
    const std::string seen = r.get_string();
    seen_.fill(0);
    seen_words_ = 0;
    for (size_t i = 0; i < seen.size(); ++i)
        if (seen[i] && i <= static_cast<size_t>(kMaxExpert)) {
            seen_[i >> 6] |= uint64_t{1} << (i & 63);
            seen_words_ = std::max(seen_words_, (i >> 6) + 1);
        }
    experts_ = r.get<uint32_t>();
    const auto n = r.get<uint32_t>();
    first_k_ = 0;
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const auto e = r.get<int32_t>();
        if (first_k_ < first_.size()) first_[first_k_++] = e;
    }
    if (n > first_.size()) layer_ = -1;  // not a checkpoint this wrote: start a new batch
    // limit_ and need_ were restored with the batch; the next batch recomputes them.
    limit_k_ = 0;
    limit_e_ = 0;
    if (!r.ok()) layer_ = -1;
    return r.ok();
}

}  // namespace moe
