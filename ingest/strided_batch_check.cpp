#include "ingest/strided_batch_check.hpp"

#include <algorithm>

namespace moe {

// A chunk's fresh state, recording its opening (ingest/chunk_chain.hpp).
void StridedBatchCheck::record_opening() {
    *this = {};
    opening_.emplace();
}

int StridedBatchCheck::add(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts) {
    if (opening_) [[unlikely]]
        opening_->add(layer, experts, num_experts);
    return check(layer, experts, num_experts);
}

int StridedBatchCheck::check(int32_t layer, std::span<const int32_t> experts,
                             uint32_t num_experts) {
    if (layer != layer_) {
        // A new batch. Most are one token long (generation), so only its first record is
        // remembered; the per-expert marks are set up when a second record arrives.
        layer_ = layer;
        run_ = 1;
        const size_t k = experts.size();
        limit_ = k > 0 && num_experts / k >= 2 ? num_experts / k : 0;
        need_ = num_experts % std::max<size_t>(k, 1) == 0 ? limit_ : 0;
        first_.assign(experts.begin(), experts.end());
        experts_ = num_experts;
        duplicate_ = false;
        return -1;
    }
    ++run_;
    if (limit_ == 0 || run_ > limit_) return -1;
    if (run_ == 2) {
        seen_.assign(experts_, 0);
        out_of_range_ = false;
        covered_ = 0;
        mark(first_);
    }
    mark(experts);
    if (need_ == 0 || run_ < need_) return -1;
    return (!duplicate_ && !out_of_range_ && covered_ == experts_) ? 1 : 0;
}

void StridedBatchCheck::mark(std::span<const int32_t> experts) {
    for (int32_t e : experts) {
        const auto i = static_cast<size_t>(e);  // validated: 0 <= e <= kMaxExpert
        if (i >= seen_.size()) {  // E grew within the batch: not a cover of E, no repeat
            seen_.resize(i + 1, 0);
            out_of_range_ = true;
        }
        if (seen_[i]) {
            duplicate_ = true;
        } else {
            seen_[i] = 1;
            ++covered_;
        }
    }
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
    w.put_string(std::string_view(reinterpret_cast<const char*>(seen_.data()), seen_.size()));
    w.put<uint32_t>(experts_);
    w.put<uint32_t>(static_cast<uint32_t>(first_.size()));
    for (int32_t e : first_)
        w.put<int32_t>(e);
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
    seen_.assign(seen.begin(), seen.end());
    experts_ = r.get<uint32_t>();
    const auto n = r.get<uint32_t>();
    first_.clear();
    for (uint32_t i = 0; i < n && r.ok() && i <= 256; ++i)
        first_.push_back(r.get<int32_t>());
    if (!r.ok()) layer_ = -1;
    return r.ok();
}

}  // namespace moe
