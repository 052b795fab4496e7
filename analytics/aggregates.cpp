#include "analytics/aggregates.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace moe {

namespace {
// Whether every id is in [0, limit) and none repeats, for up to 8 ids (every common top-k)
// at once: no branch per id, no false alarm. False also when it cannot tell; the caller's
// loop then finds the first bad id in rank order, so the reason is the one it always was.
bool ids_clean(std::span<const int32_t> ids, int32_t limit) {
#if defined(__SSE4_1__)
    const size_t k = ids.size();
    if (k > 8) return false;
    __m128i a, b;
    if (k == 8) {
        a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data()));
        b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data() + 4));
    } else {
        // Unused lanes hold distinct values beyond any limit: they repeat nothing, and a
        // real id equal to one is out of range anyway.
        alignas(16) int32_t v[8] = {0x7fffff00, 0x7fffff01, 0x7fffff02, 0x7fffff03,
                                    0x7fffff04, 0x7fffff05, 0x7fffff06, 0x7fffff07};
        std::memcpy(v, ids.data(), k * sizeof(int32_t));
        a = _mm_load_si128(reinterpret_cast<const __m128i*>(v));
        b = _mm_load_si128(reinterpret_cast<const __m128i*>(v + 4));
    }
    // Out of range: id >= limit as unsigned (a negative id is huge), in the first k lanes.
    const __m128i lim = _mm_set1_epi32(limit);
    const int high = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_max_epu32(a, lim), a))) |
                     _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_max_epu32(b, lim), b)))
                         << 4;
    // Repeats: each register against itself rotated by 1 and 2 (its 6 pairs), and a against
    // b in all 4 rotations (the 16 cross pairs).
    const __m128i a1 = _mm_shuffle_epi32(a, _MM_SHUFFLE(0, 3, 2, 1));
    const __m128i a2 = _mm_shuffle_epi32(a, _MM_SHUFFLE(1, 0, 3, 2));
    const __m128i b1 = _mm_shuffle_epi32(b, _MM_SHUFFLE(0, 3, 2, 1));
    const __m128i b2 = _mm_shuffle_epi32(b, _MM_SHUFFLE(1, 0, 3, 2));
    const __m128i b3 = _mm_shuffle_epi32(b, _MM_SHUFFLE(2, 1, 0, 3));
    __m128i eq = _mm_or_si128(_mm_cmpeq_epi32(a, a1), _mm_cmpeq_epi32(a, a2));
    eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi32(b, b1), _mm_cmpeq_epi32(b, b2)));
    eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi32(a, b), _mm_cmpeq_epi32(a, b1)));
    eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi32(a, b2), _mm_cmpeq_epi32(a, b3)));
    return (high & ((1 << k) - 1)) == 0 && _mm_testz_si128(eq, eq);
#else
    (void)ids, (void)limit;
    return false;
#endif
}

// The largest of validated ids (>= 0, at least one); a top-8 record in three max steps.
uint32_t largest_id(std::span<const int32_t> ids) {
#if defined(__SSE4_1__)
    if (ids.size() == 8) {
        __m128i m =
            _mm_max_epu32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data())),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data() + 4)));
        m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
        m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
        return static_cast<uint32_t>(_mm_cvtsi128_si32(m));
    }
#endif
    int32_t top = 0;
    for (int32_t e : ids)
        top = std::max(top, e);
    return static_cast<uint32_t>(top);
}

// The reference check, id by id in rank order: the first bad id names the reason.
[[gnu::noinline]] std::optional<RejectReason> first_bad_id(std::span<const int32_t> ids,
                                                           int32_t limit) {
    // Duplicates: a 64-bit filter on the low bits finds most top-k clean in k steps; only a
    // filter hit pays the pairwise comparison.
    uint64_t seen = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        const int32_t e = ids[i];
        if (e < 0 || e >= limit) return RejectReason::expert_out_of_range;
        const uint64_t bit = uint64_t{1} << (static_cast<uint32_t>(e) & 63);
        if (seen & bit)
            for (size_t j = 0; j < i; ++j)
                if (ids[j] == e) return RejectReason::duplicate_expert;
        seen |= bit;
    }
    return std::nullopt;
}
}  // namespace

bool apply_analytics_set(std::string_view name, AnalyticsOptions& o) {
    const bool standard = name == "standard" || name == "full";
    const bool full = name == "full";
    if (!standard && name != "counts") return false;
    o.ema = o.cooc = standard;
    o.logits = o.gates = o.timeline = full;
    return true;
}

LayerStats& TagStats::create_layer(int32_t l) {
    const auto i = static_cast<size_t>(l);
    if (i >= layers.size()) layers.resize(i + 1);
    if (!layers[i]) layers[i] = std::make_unique<LayerStats>();
    return *layers[i];
}

std::vector<int32_t> TagStats::layer_ids() const {
    std::vector<int32_t> ids;
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i] && layers[i]->tokens > 0) ids.push_back(static_cast<int32_t>(i));
    return ids;
}

Aggregates::Aggregates(AnalyticsOptions opts)
    : opts_(opts), facts_(ModelFacts::configured(opts)), timeline_(opts.bucket_seconds) {
    tag_id(kAllTagName);
}

void Aggregates::adopt_facts(const ModelFacts& stored) {
    combine(facts_, stored);
    timeline_.set_bucket_seconds(facts_.bucket_seconds);
}

TagId Aggregates::tag_id(std::string_view name) {
    if (name.empty()) return kAllTag;
    if (auto it = tag_ids_.find(std::string(name)); it != tag_ids_.end()) return it->second;
    const auto id = static_cast<TagId>(tags_.size());
    tags_.push_back(std::make_unique<TagStats>());
    tags_.back()->name = name;
    tag_ids_.emplace(std::string(name), id);
    return id;
}

TagId Aggregates::record_tag_id(std::string_view name) {
    if (auto id = find_tag(name)) return *id;
    if (name.empty() || tags_.size() < opts_.max_tags) return tag_id(name);
    tag_cap_reached_ = true;
    return kAllTag;
}

uint64_t Aggregates::layer_bytes(size_t E) {
    // hits, ema, weight mass, logit moments per expert; the histograms; co-occurrence.
    const uint64_t per_expert = 8 + 8 + 8 + sizeof(RunningStats);
    const uint64_t cooc = E <= kMaxCoocExperts ? E * (E - (E ? 1 : 0)) / 2 * 8 : 0;
    return E * per_expert + cooc + 2048;
}

std::optional<TagId> Aggregates::find_tag(std::string_view name) const {
    if (auto it = tag_ids_.find(std::string(name)); it != tag_ids_.end()) return it->second;
    return std::nullopt;
}

std::optional<RejectReason> Aggregates::state_num_experts(uint32_t E) {
    if (E == 0 || E > static_cast<uint32_t>(kMaxExpert) + 1) return RejectReason::invalid_meta;
    ModelFacts stated = facts_;  // differing in the expert count only
    stated.num_experts = E;
    stated.num_experts_stated = true;
    if (find_conflict(facts_, stated)) return RejectReason::expert_out_of_range;
    facts_.num_experts = E;
    facts_.num_experts_stated = true;
    return std::nullopt;
}

std::optional<RejectReason> Aggregates::apply_meta(const MetaRecord& m) {
    if (m.top_k > kMaxTopK) return RejectReason::invalid_meta;
    if (!m.model_id.empty()) facts_.model_id = m.model_id;
    if (m.top_k) {
        if (facts_.top_k && facts_.top_k != m.top_k) return RejectReason::topk_changed;
        facts_.top_k = m.top_k;
    }
    if (m.num_experts) return state_num_experts(m.num_experts);
    return std::nullopt;
}

bool Aggregates::top_k_known(int32_t layer) const {
    const LayerStats* l = tags_[kAllTag]->layer(layer);
    return facts_.top_k || (l && l->top_k);
}

bool Aggregates::top_k_in_use(size_t k) const {
    for (const auto& l : tags_[kAllTag]->layers)
        if (l && l->top_k == k) return true;
    return false;
}

std::optional<RejectReason> Aggregates::validate(const RoutingRecord& r, double arrival) const {
    if (r.experts.empty() || r.experts.size() > kMaxTopK) return RejectReason::malformed;
    if (r.layer < 0 || r.layer > kMaxLayer) return RejectReason::layer_out_of_range;
    if (!std::isnan(r.timestamp)) {  // NaN: no timestamp
        const double upper = std::isfinite(arrival) ? arrival + kMaxTimestampAhead : kMaxTimestamp;
        if (!(r.timestamp >= kMinTimestamp && r.timestamp < upper))
            return RejectReason::bad_timestamp;
    }
    const int32_t limit =
        facts_.num_experts_stated ? static_cast<int32_t>(facts_.num_experts) : kMaxExpert + 1;
    if (!ids_clean(r.experts, limit))
        if (auto why = first_bad_id(r.experts, limit)) return why;
    if (facts_.top_k && r.experts.size() != facts_.top_k) return RejectReason::topk_changed;
    if (const LayerStats* l = tags_[kAllTag]->layer(r.layer);
        l && l->top_k && l->top_k != r.experts.size())
        return RejectReason::topk_changed;
    if (!r.weights.empty() && r.weights.size() != r.experts.size())
        return RejectReason::wrong_vector_length;
    for (float w : r.weights)
        if (!std::isfinite(w)) return RejectReason::non_finite;
    if (!r.logits.empty()) {
        // One logit per expert: the vector's length is the expert count.
        if (facts_.num_experts_stated && r.logits.size() != facts_.num_experts)
            return RejectReason::wrong_vector_length;
        if (facts_.logits_len && r.logits.size() != facts_.logits_len)
            return RejectReason::wrong_vector_length;
        for (int32_t e : r.experts)
            if (static_cast<size_t>(e) >= r.logits.size()) return RejectReason::wrong_vector_length;
        for (float x : r.logits)
            if (!std::isfinite(x)) return RejectReason::non_finite;
    }
    return std::nullopt;
}

void Aggregates::count(TagStats& t, const RoutingRecord& r) {
    const LayerOptions o = layer_options();
    LayerStats& l = t.layer_or_create(r.layer);
    l.resize(facts_.num_experts, o.cooc);
    t.global.resize(facts_.num_experts, false);
    LayerStats::add(l, t.global, r, o, scratch_);
}

std::optional<RejectReason> Aggregates::check_routing(const RoutingRecord& r,
                                                      double arrival) const {
    return validate(r, arrival);
}

std::optional<RejectReason> Aggregates::add_routing(TagId tag, const RoutingRecord& r,
                                                    double arrival) {
    if (auto why = validate(r, arrival)) return why;
    return add_checked(tag, r, arrival);
}

// flatten: count() and its inline checks in the per-record path (as StreamIngest::on_routing).
[[gnu::flatten]] std::optional<RejectReason> Aggregates::add_checked(TagId tag,
                                                                     const RoutingRecord& r,
                                                                     double arrival) {
    uint32_t E = facts_.num_experts;
    if (!facts_.num_experts_stated) {
        E = std::max(E, largest_id(r.experts) + 1);
        if (!r.logits.empty()) E = std::max(E, static_cast<uint32_t>(r.logits.size()));
    }
    // The memory budget: new per-layer state, or every layer growing to more experts.
    const uint64_t new_layers =
        !tags_[kAllTag]->layer(r.layer) + (tag != kAllTag && !tags_[tag]->layer(r.layer));
    if ((layer_count_ + new_layers) * layer_bytes(E) + reserved_bytes_ > opts_.memory_budget)
        return RejectReason::memory_budget;
    layer_count_ += new_layers;
    facts_.num_experts = E;
    if (!r.logits.empty()) facts_.logits_len = static_cast<uint32_t>(r.logits.size());
    count(*tags_[kAllTag], r);
    if (tag != kAllTag) count(*tags_[tag], r);
    const double when = std::isfinite(r.timestamp) ? r.timestamp : arrival;
    if (opts_.timeline && std::isfinite(when)) {
        for (TagId t : {kAllTag, tag}) {
            timeline_.add(when, t, r.layer, r.experts, facts_.num_experts);
            timeline_.add(when, t, -1, r.experts, facts_.num_experts);
            if (tag == kAllTag) break;
        }
    }
    if (tap_) tap_(tag, r, when);
    return std::nullopt;
}

bool Aggregates::reserve_bytes(uint64_t bytes) {
    if (approx_bytes() + bytes > opts_.memory_budget) return false;
    reserved_bytes_ += bytes;
    return true;
}

bool Aggregates::add_transition(TagId tag, int32_t from_layer, std::span<const int32_t> a,
                                std::span<const int32_t> b) {
    // Both tables first: a pair is counted in "all" and its tag, or in neither.
    auto& of_all = tags_[kAllTag]->transitions;
    auto& of_tag = tags_[tag]->transitions;
    const uint64_t fresh =
        !of_all.count(from_layer) + (tag != kAllTag && !of_tag.count(from_layer));
    if (fresh) {
        uint32_t E = facts_.num_experts;
        for (auto ids : {a, b})
            for (int32_t e : ids)
                E = std::max(E, static_cast<uint32_t>(e) + 1);
        if (!reserve_bytes(fresh * TransitionTable::bytes(E))) return false;
    }
    for (auto* tables : {&of_all, &of_tag}) {
        TransitionTable& t = (*tables)[from_layer];
        t.add(a, b);
        t.dirty = true;
        if (tag == kAllTag) break;
    }
    return true;
}

std::optional<RejectReason> Aggregates::check_counts(const CountRecord& c) const {
    if (c.counts.empty()) return RejectReason::malformed;
    if (c.layer < 0 || c.layer > kMaxLayer) return RejectReason::layer_out_of_range;
    const int64_t limit = facts_.num_experts_stated ? facts_.num_experts : kMaxExpert + 1;
    if (c.first_expert < 0 || c.first_expert + static_cast<int64_t>(c.counts.size()) > limit)
        return RejectReason::expert_out_of_range;
    for (double x : c.counts) {
        if (!std::isfinite(x)) return RejectReason::non_finite;
        if (!is_selection_count(x)) return RejectReason::malformed;
    }
    return std::nullopt;
}

std::optional<RejectReason> Aggregates::add_counts(TagId tag, const CountRecord& c) {
    if (auto why = check_counts(c)) return why;
    if (std::all_of(c.counts.begin(), c.counts.end(), [](double x) { return x == 0; }))
        return std::nullopt;
    uint32_t E = facts_.num_experts;
    if (!facts_.num_experts_stated)
        E = std::max(
            E, static_cast<uint32_t>(c.first_expert) + static_cast<uint32_t>(c.counts.size()));
    const uint64_t new_layers =
        !tags_[kAllTag]->layer(c.layer) + (tag != kAllTag && !tags_[tag]->layer(c.layer));
    if ((layer_count_ + new_layers) * layer_bytes(E) + reserved_bytes_ > opts_.memory_budget)
        return RejectReason::memory_budget;
    layer_count_ += new_layers;
    facts_.num_experts = E;
    const LayerOptions o = layer_options();
    for (TagId t : {kAllTag, tag}) {
        LayerStats& l = tags_[t]->layer_or_create(c.layer);
        l.resize(E, o.cooc);
        l.add_counts(c.first_expert, c.counts, facts_.top_k);
        tags_[t]->global.resize(E, false);
        tags_[t]->global.add_counts(c.first_expert, c.counts, facts_.top_k);
        if (tag == kAllTag) break;
    }
    return std::nullopt;
}

std::optional<RejectReason> Aggregates::check_gate(const GateRecord& g) {
    if (g.values.empty()) return RejectReason::malformed;
    if (facts_.gate_dim == 0) facts_.gate_dim = static_cast<uint32_t>(g.values.size());
    if (g.values.size() != facts_.gate_dim) return RejectReason::wrong_vector_length;
    return std::nullopt;
}

void Aggregates::leave_out(TagId tag, const RoutingRecord& r, Suspect why) {
    if (!facts_.num_experts_stated)
        facts_.num_experts = std::max(facts_.num_experts, largest_id(r.experts) + 1);
    const auto i = static_cast<size_t>(why);
    for (TagId t : {kAllTag, tag}) {
        TagStats& ts = *tags_[t];
        ++ts.global.left_out[i];
        ts.global.dirty = true;
        if (!ts.layer(r.layer)) {  // a layer of left-out records only: within the budget
            if ((layer_count_ + 1) * layer_bytes(facts_.num_experts) + reserved_bytes_ >
                opts_.memory_budget)
                continue;
            ++layer_count_;
        }
        LayerStats& l = ts.layer_or_create(r.layer);
        l.resize(facts_.num_experts, opts_.cooc);
        ++l.left_out[i];
        l.dirty = true;
        if (tag == kAllTag) break;
    }
}

void Aggregates::add_gate_pair(TagId tag, const GatePairKey& key, const GateDistances& d) {
    tags_[kAllTag]->gates[key].add(d);
    if (tag != kAllTag) tags_[tag]->gates[key].add(d);
}

void Aggregates::pad_to_num_experts() {
    layer_count_ = 0;  // also re-counts the layers restored from a database
    for (auto& t : tags_) {
        t->global.resize(facts_.num_experts, false);
        for (auto& l : t->layers)
            if (l) l->resize(facts_.num_experts, opts_.cooc), ++layer_count_;
    }
}

std::optional<std::string> Aggregates::merge_conflict(const Aggregates& o) const {
    if (auto c = find_conflict(facts_, o.facts_))
        return std::string(c->field->key) + " " + c->ours + " vs " + c->theirs;
    const TagStats& mine = *tags_[kAllTag];
    for (int32_t l : o.tags_[kAllTag]->layer_ids())
        if (const LayerStats* m = mine.layer(l);
            m && m->top_k && o.tags_[kAllTag]->layer(l)->top_k != m->top_k)
            return "layer " + std::to_string(l) + " has top-" + std::to_string(m->top_k) +
                   " in one and top-" + std::to_string(o.tags_[kAllTag]->layer(l)->top_k) +
                   " in the other";
    return std::nullopt;
}

std::optional<std::string> Aggregates::merge(const Aggregates& o) {
    // Everything is checked before anything changes: a refused merge leaves *this intact.
    if (auto why = merge_conflict(o)) return why;
    absorb(o, false);
    return std::nullopt;
}

std::optional<std::string> Aggregates::append(const Aggregates& o) {
    if (auto why = merge_conflict(o)) return why;
    if (o.tags_[kAllTag]->global.counted > 0) return std::string("engine totals");
    if (o.tag_cap_reached_ || tags_.size() + o.tags_.size() > opts_.max_tags)
        return std::string("tag cap");
    // Layers created by counting only grow: within the budget at the end, within it all
    // along, so neither part met a memory_budget reject that one pass would not have.
    const uint64_t E = std::max(facts_.num_experts, o.facts_.num_experts);
    if ((layer_count_ + o.layer_count_) * layer_bytes(E) + reserved_bytes_ + o.reserved_bytes_ >
        opts_.memory_budget)
        return std::string("memory budget");
    absorb(o, true);
    return std::nullopt;
}

void Aggregates::absorb(const Aggregates& o, bool continues) {
    combine(facts_, o.facts_);
    const auto add = [&](LayerStats& into, const LayerStats& from) {
        if (continues)
            into.append(from, facts_.ema_decay);
        else
            into.merge(from);
    };
    for (const auto& ot : o.tags_) {
        TagStats& t = tag(tag_id(ot->name));
        add(t.global, ot->global);
        for (size_t l = 0; l < ot->layers.size(); ++l)
            if (ot->layers[l]) add(t.layer_or_create(static_cast<int32_t>(l)), *ot->layers[l]);
        for (const auto& [key, g] : ot->gates)
            t.gates[key].merge(g);
        for (const auto& [from, table] : ot->transitions)
            t.transitions[from].add(table);
    }
    for (const auto& [key, layers] : o.live_diffs_)
        for (const auto& [layer, d] : layers)
            live_diffs_[key][layer].add(d);
    for (const auto& [key, b] : o.timeline_.buckets()) {
        BucketKey k = key;
        k.tag = tag_id(o.tags_[key.tag]->name);
        timeline_.add_counts(k, b);
    }
    pad_to_num_experts();
}

}  // namespace moe

namespace moe {

void Aggregates::restrict_to_window(int64_t since, int64_t until) {
    // What the quality checks left out is kept as totals, not per bucket: it stays.
    std::vector<std::vector<std::pair<int32_t, LeftOut>>> left_out(tags_.size());
    for (size_t t = 0; t < tags_.size(); ++t) {
        left_out[t].emplace_back(-1, tags_[t]->global.left_out);
        for (int32_t l = 0; l < static_cast<int32_t>(tags_[t]->layers.size()); ++l)
            if (const LayerStats* s = tags_[t]->layer(l); s && total(s->left_out))
                left_out[t].emplace_back(l, s->left_out);
        tags_[t]->layers.clear();
        tags_[t]->global = LayerStats{};
        tags_[t]->gates.clear();
    }
    for (size_t t = 0; t < tags_.size(); ++t)
        for (const auto& [l, v] : left_out[t])
            (l < 0 ? tags_[t]->global : tags_[t]->layer_or_create(l)).left_out = v;
    for (const auto& [key, b] : timeline_.buckets()) {
        if (key.start < since || key.start >= until || key.tag >= tags_.size()) continue;
        TagStats& t = *tags_[key.tag];
        LayerStats& l = key.layer < 0 ? t.global : t.layer_or_create(key.layer);
        l.resize(std::max<size_t>(facts_.num_experts, b.hits.size()), false);
        l.tokens += b.tokens;
        for (size_t e = 0; e < b.hits.size(); ++e)
            l.hits[e] += b.hits[e];
    }
    // S / T over the window (docs/FIGURES.md "Time windows"): the same whether the buckets
    // were loaded one by one or summed while reading (Store::Window::summed).
    const auto set_top_k = [](LayerStats& l) {
        l.top_k = l.tokens ? static_cast<uint32_t>(l.selections() / l.tokens) : 0;
    };
    for (auto& t : tags_) {
        set_top_k(t->global);
        for (auto& l : t->layers)
            if (l) set_top_k(*l);
    }
    windowed_ = true;
    pad_to_num_experts();
}

}  // namespace moe

namespace moe {

std::unique_ptr<Aggregates> Aggregates::take_changes() {
    auto c = std::make_unique<Aggregates>(opts_);
    c->facts_ = facts_;
    for (TagId t = 0; t < tags_.size(); ++t) {
        TagStats& mine = *tags_[t];
        TagStats& theirs = c->tag(c->tag_id(mine.name));
        if (mine.global.dirty) {
            theirs.global = mine.global;
            mine.global.dirty = false;
        }
        for (size_t l = 0; l < mine.layers.size(); ++l) {
            if (!mine.layers[l] || !mine.layers[l]->dirty) continue;
            theirs.layer_or_create(static_cast<int32_t>(l)) = *mine.layers[l];
            mine.layers[l]->dirty = false;
            mine.layers[l]->caches.pending.clear();  // handed over (keeps its capacity)
        }
        for (auto& [key, g] : mine.gates) {
            if (!g.dirty) continue;
            theirs.gates[key] = g;
            g.dirty = false;
        }
        for (auto& [from, table] : mine.transitions) {
            if (!table.dirty) continue;
            theirs.transitions[from] = table;
            table.dirty = false;
        }
    }
    for (auto& [key, layers] : live_diffs_)
        for (auto& [layer, d] : layers) {
            if (!d.dirty) continue;
            c->live_diffs_[key][layer] = d;
            d.dirty = false;
        }
    for (auto& [key, b] : timeline_.take())
        c->timeline_.add_counts(key, b);
    return c;
}

void Aggregates::restore_changes(const Aggregates& c) {
    for (TagId t = 0; t < c.tags_.size(); ++t) {
        const TagStats& theirs = *c.tags_[t];
        TagStats& mine = tag(tag_id(theirs.name));
        if (theirs.global.dirty) mine.global.dirty = true;
        for (size_t l = 0; l < theirs.layers.size(); ++l)
            if (theirs.layers[l]) mine.layer_or_create(static_cast<int32_t>(l)).dirty = true;
        for (const auto& [key, g] : theirs.gates)
            mine.gates[key].dirty = true;
        for (const auto& [from, table] : theirs.transitions)
            mine.transitions[from].dirty = true;
    }
    for (const auto& [key, layers] : c.live_diffs_)
        for (const auto& [layer, d] : layers)
            live_diffs_[key][layer].dirty = true;
    for (const auto& [key, b] : c.timeline_.buckets())
        timeline_.add_counts(key, b);
}

}  // namespace moe
