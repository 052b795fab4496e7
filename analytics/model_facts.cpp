#include "analytics/model_facts.hpp"

#include <algorithm>
#include <charconv>
#include <type_traits>

#include "analytics/aggregates.hpp"

namespace moe {

using F = ModelFacts;

namespace {
const FactField kFields[] = {
    {"num_experts", "--num-experts", FactRule::expert_count, &F::num_experts,
     "experts per layer: stated (option or meta record), else the largest id seen + 1"},
    {"num_experts_stated", "", FactRule::qualifier, &F::num_experts_stated,
     "1 if num_experts was stated, 0 if inferred from the ids seen"},
    {"top_k", "--top-k", FactRule::once_known, &F::top_k,
     "experts per record stated by --top-k or a meta record; 0: not stated"},
    {"ema_decay", "--ema-decay", FactRule::must_match, &F::ema_decay,
     "EMA decay d per record (layer_stats.ema)"},
    {"bucket_seconds", "--bucket-s", FactRule::must_match, &F::bucket_seconds,
     "timeline bucket width, seconds"},
    {"logits_len", "", FactRule::once_known, &F::logits_len,
     "length of the router-logit vectors; 0: none seen"},
    {"gate_dim", "", FactRule::once_known, &F::gate_dim,
     "length of the gate-input vectors; 0: none seen"},
    {"model_id", "", FactRule::once_known, &F::model_id,
     "model named by a meta record; empty: unknown"},
    {"max_tags", "--max-tags", FactRule::local, &F::max_tags,
     "distinct tags kept by the last writer (a limit, not compared)"},
};
}  // namespace

std::span<const FactField> fact_fields() {
    return kFields;
}

ModelFacts ModelFacts::configured(const AnalyticsOptions& o) {
    ModelFacts f;
    f.num_experts = o.num_experts;
    f.num_experts_stated = o.num_experts != 0;
    f.top_k = o.top_k;
    f.ema_decay = o.ema_decay;
    f.bucket_seconds = o.bucket_seconds;
    f.max_tags = o.max_tags;
    return f;
}

namespace {

template <class T>
std::string text_of(const T& v) {
    if constexpr (std::is_same_v<T, std::string>) {
        return v;
    } else if constexpr (std::is_same_v<T, bool>) {
        return v ? "1" : "0";
    } else {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
        return std::string(buf, r.ptr);
    }
}

template <class T>
bool parse(std::string_view s, T& out) {
    if constexpr (std::is_same_v<T, std::string>) {
        out = s;
        return true;
    } else if constexpr (std::is_same_v<T, bool>) {
        if (s != "0" && s != "1") return false;
        out = s == "1";
        return true;
    } else {
        T v{};
        const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return false;
        out = v;
        return true;
    }
}

bool expert_counts_conflict(const F& a, const F& b) {
    if (a.num_experts_stated && b.num_experts_stated) return a.num_experts != b.num_experts;
    if (a.num_experts_stated) return b.num_experts > a.num_experts;  // ids seen >= E
    if (b.num_experts_stated) return a.num_experts > b.num_experts;
    return false;  // both learned: the larger holds
}

}  // namespace

std::string fact_text(const ModelFacts& f, const FactField& field) {
    return std::visit([&](auto m) { return text_of(f.*m); }, field.member);
}

bool set_fact(ModelFacts& f, const FactField& field, std::string_view text) {
    return std::visit([&](auto m) { return parse(text, f.*m); }, field.member);
}

std::string fact_display(const ModelFacts& f, const FactField& field) {
    std::string s = fact_text(f, field);
    if (field.rule == FactRule::expert_count && !f.num_experts_stated) s += " (largest id + 1)";
    return s;
}

std::optional<FactConflict> find_conflict(const ModelFacts& ours, const ModelFacts& theirs) {
    for (const FactField& field : fact_fields()) {
        bool conflict = false;
        switch (field.rule) {
            case FactRule::must_match:
                conflict = fact_text(ours, field) != fact_text(theirs, field);
                break;
            case FactRule::once_known:
                conflict = std::visit(
                    [&](auto m) {
                        using T = std::remove_cvref_t<decltype(ours.*m)>;
                        return ours.*m != T{} && theirs.*m != T{} && ours.*m != theirs.*m;
                    },
                    field.member);
                break;
            case FactRule::expert_count:
                conflict = expert_counts_conflict(ours, theirs);
                break;
            case FactRule::qualifier:
            case FactRule::local:
                break;
        }
        if (conflict)
            return FactConflict{&field, fact_display(ours, field), fact_display(theirs, field)};
    }
    return std::nullopt;
}

void combine(ModelFacts& into, const ModelFacts& from) {
    for (const FactField& field : fact_fields()) {
        std::visit(
            [&](auto m) {
                using T = std::remove_cvref_t<decltype(into.*m)>;
                if (field.rule == FactRule::must_match ||
                    (field.rule == FactRule::once_known && into.*m == T{}))
                    into.*m = from.*m;
            },
            field.member);
        if (field.rule != FactRule::expert_count || into.num_experts_stated) continue;
        if (from.num_experts_stated)
            into.num_experts = from.num_experts, into.num_experts_stated = true;
        else
            into.num_experts = std::max(into.num_experts, from.num_experts);
    }
}

}  // namespace moe
