#include "ingest/held_record.hpp"

namespace moe {

namespace {
constexpr uint32_t kMaxHeld = 1u << 20;  // a corrupt checkpoint cannot ask for more
}  // namespace

HeldRecord HeldRecord::of(const RoutingRecord& r, double arrival, std::string_view line) {
    HeldRecord h;
    h.layer = r.layer;
    h.token = r.token;
    h.experts.assign(r.experts.begin(), r.experts.end());
    h.weights.assign(r.weights.begin(), r.weights.end());
    h.logits.assign(r.logits.begin(), r.logits.end());
    h.timestamp = r.timestamp;
    h.arrival = arrival;
    h.tag = r.tag;
    h.sample = reject_sample(line);
    h.request = r.request;
    h.phase = r.phase;
    h.pass = r.pass;
    h.row = r.row;
    return h;
}

RoutingRecord HeldRecord::view() const {
    RoutingRecord r;
    r.tag = tag;
    r.layer = layer;
    r.token = token;
    r.experts = experts;
    r.weights = weights;
    r.logits = logits;
    r.timestamp = timestamp;
    r.request = request;
    r.phase = phase;
    r.pass = pass;
    r.row = row;
    return r;
}

void HeldRecord::save(StateWriter& w) const {
    w.put<int32_t>(layer);
    w.put<int64_t>(token);
    w.put<uint32_t>(static_cast<uint32_t>(experts.size()));
    for (int32_t e : experts)
        w.put<int32_t>(e);
    w.put_floats(weights);
    w.put_floats(logits);
    w.put<double>(timestamp);
    w.put<double>(arrival);
    w.put_string(tag);
    w.put_string(sample);
    w.put_string(request);
    w.put_string(phase);
    w.put<int64_t>(pass);
    w.put<int32_t>(row);
}

bool HeldRecord::restore(StateReader& r) {
    layer = r.get<int32_t>();
    token = r.get<int64_t>();
    const auto n = r.get<uint32_t>();
    if (n > kMaxTopK) return false;
    experts.clear();
    for (uint32_t i = 0; i < n && r.ok(); ++i)
        experts.push_back(r.get<int32_t>());
    r.get_floats(weights);
    r.get_floats(logits);
    timestamp = r.get<double>();
    arrival = r.get<double>();
    tag = r.get_string();
    sample = r.get_string();
    if (r.revision() >= kRevisionWithPositions) {
        request = r.get_string();
        phase = r.get_string();
        pass = r.get<int64_t>();
        row = r.get<int32_t>();
    }
    return r.ok();
}

void save_held(StateWriter& w, const std::vector<HeldRecord>& v) {
    w.put<uint32_t>(static_cast<uint32_t>(v.size()));
    for (const HeldRecord& h : v)
        h.save(w);
}

bool restore_held(StateReader& r, std::vector<HeldRecord>& v) {
    v.clear();
    const auto n = r.get<uint32_t>();
    if (n > kMaxHeld) return false;
    for (uint32_t i = 0; i < n && r.ok(); ++i)
        if (!v.emplace_back().restore(r)) return false;
    return r.ok();
}

}  // namespace moe
