#include "analytics/strided_batch_check.hpp"

namespace moe {

int StridedBatchCheck::add(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts) {
    if (layer != layer_) {
        layer_ = layer;
        run_ = 0;
        const size_t k = experts.size();
        need_ = (k > 0 && num_experts % k == 0 && num_experts / k >= 2) ? num_experts / k : 0;
        duplicate_ = false;
        covered_ = 0;
        seen_.assign(need_ ? num_experts : 0, 0);
    }
    ++run_;
    if (need_ == 0 || run_ > need_) return -1;
    for (int32_t e : experts) {
        if (e < 0 || static_cast<size_t>(e) >= seen_.size() || seen_[static_cast<size_t>(e)]) {
            duplicate_ = true;
        } else {
            seen_[static_cast<size_t>(e)] = 1;
            ++covered_;
        }
    }
    if (run_ < need_) return -1;
    return (!duplicate_ && covered_ == seen_.size()) ? 1 : 0;
}

}  // namespace moe

namespace moe {

void StridedBatchCheck::save(StateWriter& w) const {
    w.put<int32_t>(layer_);
    w.put<uint64_t>(run_);
    w.put<uint64_t>(need_);
    w.put<uint8_t>(duplicate_);
    w.put<uint64_t>(covered_);
    w.put_string(std::string_view(reinterpret_cast<const char*>(seen_.data()), seen_.size()));
}

bool StridedBatchCheck::restore(StateReader& r) {
    layer_ = r.get<int32_t>();
    run_ = r.get<uint64_t>();
    need_ = r.get<uint64_t>();
    duplicate_ = r.get<uint8_t>() != 0;
    covered_ = r.get<uint64_t>();
    const std::string seen = r.get_string();
    seen_.assign(seen.begin(), seen.end());
    if (!r.ok()) layer_ = -1;
    return r.ok();
}

}  // namespace moe
