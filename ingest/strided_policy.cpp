#include "ingest/strided_policy.hpp"

#include <cmath>
#include <string>

namespace moe {

// E! / ((k!)^n C(E,k)^n) with n = E/k: sequences of n disjoint k-sets covering E experts,
// over all sequences of n k-sets (uniform routing; skewed routing covers even less often).
double StridedPolicy::chance(uint32_t num_experts, size_t k) {
    if (k == 0 || num_experts % k != 0 || num_experts / k < 2) return 1.0;
    const double E = num_experts, K = static_cast<double>(k), n = E / K;
    const double log_choose = std::lgamma(E + 1) - std::lgamma(K + 1) - std::lgamma(E - K + 1);
    return std::exp(std::lgamma(E + 1) - n * std::lgamma(K + 1) - n * log_choose);
}

bool StridedPolicy::checked(bool strided, uint32_t num_experts, size_t k) {
    if (verdict_ != Verdict::undecided) return false;
    if (!strided) {
        verdict_ = Verdict::clean;
        return true;
    }
    ++strided_;
    log_chance_ += std::log(chance(num_experts, k));
    if (log_chance_ >= std::log(kMaxChance)) return false;
    verdict_ = Verdict::defective;
    return true;
}

bool StridedPolicy::decide_now() {
    if (verdict_ != Verdict::undecided) return false;
    verdict_ = strided_ > 0 ? Verdict::defective : Verdict::clean;
    return true;
}

void StridedPolicy::save(StateWriter& w) const {
    w.put<uint8_t>(static_cast<uint8_t>(verdict_));
    w.put<uint32_t>(strided_);
    w.put<double>(log_chance_);
    std::vector<HeldRecord> records;
    std::string later;  // one byte per held record
    for (const Held& h : held_) {
        records.push_back(h.record);
        later.push_back(static_cast<char>(h.later_row));
    }
    w.put_string(later);
    save_held(w, records);
}

bool StridedPolicy::restore(StateReader& r) {
    *this = {};
    const auto v = r.get<uint8_t>();
    if (v > static_cast<uint8_t>(Verdict::defective)) return false;
    verdict_ = static_cast<Verdict>(v);
    strided_ = r.get<uint32_t>();
    log_chance_ = r.get<double>();
    const std::string later = r.get_string();
    std::vector<HeldRecord> records;
    if (!restore_held(r, records) || records.size() != later.size()) return false;
    for (size_t i = 0; i < records.size(); ++i)
        held_.push_back({std::move(records[i]), later[i] != 0});
    return r.ok();
}

}  // namespace moe
