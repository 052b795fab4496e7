#include "parsers/ndjson_parser.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <simdjson.h>

#include "parsers/json_fields.hpp"
#include "parsers/number_scan.hpp"
#include "parsers/router_document.hpp"

namespace moe {

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace {

// Standard base64 (padding optional) of little-endian int32s, as SGLang returns routed
// experts; false on a character outside the alphabet or a length not a multiple of 4 bytes.
bool decode_int32_base64(std::string_view text, std::vector<int32_t>& out) {
    std::vector<uint8_t> bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=')
            break;
        else
            return false;
        acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFFu;  // at most 14 bits pending
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<uint8_t>(acc >> bits));
        }
    }
    if (bytes.size() % 4) return false;
    out.clear();
    for (size_t i = 0; i < bytes.size(); i += 4)
        out.push_back(static_cast<int32_t>(uint32_t{bytes[i]} | uint32_t{bytes[i + 1]} << 8 |
                                           uint32_t{bytes[i + 2]} << 16 |
                                           uint32_t{bytes[i + 3]} << 24));
    return true;
}

}  // namespace

// Values of one field: a flat list (one record) or a list of lists (a batch). Not in the
// anonymous namespace: NdjsonParser::Impl holds Rows, and in a unity build, where this file is
// included, GCC warns about a member of internal-linkage type (-Wsubobject-linkage).
namespace ndjson {
template <class T>
struct Rows {
    std::vector<T> v;
    std::vector<uint32_t> start;  // row starts when nested
    bool nested = false;
    bool present = false;

    void clear() {
        v.clear();
        start.clear();
        nested = present = false;
    }
    size_t count() const { return nested ? start.size() : (present ? 1 : 0); }
    std::span<const T> row(size_t i) const {
        if (!nested) return v;
        const size_t b = start[i], e = i + 1 < start.size() ? start[i + 1] : v.size();
        return {v.data() + b, e - b};
    }
};
}  // namespace ndjson

namespace {
using ndjson::Rows;

template <class T>
error_code read_scalar(od::value x, T& out);

template <>
error_code read_scalar<int32_t>(od::value x, int32_t& out) {
    int64_t i;
    if (auto e = x.get_int64().get(i)) return e;
    // Out-of-range ids are kept (clamped) so validation reports them as such.
    out = i < INT32_MIN ? INT32_MIN : i > INT32_MAX ? INT32_MAX : static_cast<int32_t>(i);
    return simdjson::SUCCESS;
}

template <>
error_code read_scalar<float>(od::value x, float& out) {
    double d;
    if (auto e = x.get_double().get(d)) return e;
    out = scan::narrow_to_float(d);
    return simdjson::SUCCESS;
}

template <class T>
error_code read_rows(od::value val, Rows<T>& out) {
    out.present = true;
    od::array arr;
    if (auto e = val.get_array().get(arr)) return e;
    for (auto el_res : arr) {
        od::value el;
        if (auto e = el_res.get(el)) return e;
        od::json_type t;
        if (auto e = el.type().get(t)) return e;
        if (t == od::json_type::array) {
            if (!out.v.empty() && !out.nested) return simdjson::INCORRECT_TYPE;
            out.nested = true;
            out.start.push_back(static_cast<uint32_t>(out.v.size()));
            od::array inner;
            if (auto e = el.get_array().get(inner)) return e;
            for (auto x_res : inner) {
                od::value x;
                T v;
                if (auto e = x_res.get(x)) return e;
                if (auto e = read_scalar<T>(x, v)) return e;
                out.v.push_back(v);
            }
        } else {
            if (out.nested) return simdjson::INCORRECT_TYPE;
            T v;
            if (auto e = read_scalar<T>(el, v)) return e;
            out.v.push_back(v);
        }
    }
    return simdjson::SUCCESS;
}

// An empty list, or an empty row of a batch: no record can be made of it.
template <class T>
bool has_empty_row(const Rows<T>& r) {
    if (r.count() == 0) return true;
    for (size_t i = 0; i < r.count(); ++i)
        if (r.row(i).empty()) return true;
    return false;
}

bool all_finite(std::span<const float> v) {
    for (float x : v)
        if (!std::isfinite(x)) return false;
    return true;
}

}  // namespace

struct NdjsonParser::Impl {
    od::parser parser;
    RouterDocumentParser router;
    std::string padded;

    // One record's fields, reused from line to line.
    std::string type, tag, model_id;
    bool has_layer = false, has_token = false;
    int64_t layer = -1, token = -1, num_experts = 0, top_k = 0;
    double timestamp = NAN;
    bool bad_timestamp = false;
    bool has_num_experts = false, has_top_k = false;
    Rows<int32_t> experts;
    Rows<float> weights, logits, values;
    bool saw_samples = false;
    // routed_experts: flat ids of [tokens][layers][k], or the base64 text; the phase.
    std::vector<int32_t> routed;
    std::string routed_b64, phase, full_tag;
    // A view into the line (a number's digits) or into the parser's unescaped strings:
    // valid while the line is parsed, as the records are.
    std::string_view request;
    size_t routed_layers = 0, routed_k = 0;
    bool has_routed = false, routed_ragged = false;
    int64_t num_layers = 0;

    void reset_fields() {
        routed.clear();
        routed_b64.clear();
        phase.clear();
        request = {};
        routed_layers = routed_k = 0;
        has_routed = routed_ragged = false;
        num_layers = 0;
        type.clear();
        tag.clear();
        model_id.clear();
        has_layer = has_token = saw_samples = false;
        layer = token = -1;
        num_experts = top_k = 0;
        timestamp = NAN;
        bad_timestamp = has_num_experts = has_top_k = false;
        experts.clear();
        weights.clear();
        logits.clear();
        values.clear();
    }

    error_code read_field(JsonField f, od::value val) {
        switch (f) {
            case JsonField::type: {
                std::string_view s;
                if (auto e = val.get_string().get(s)) return e;
                type = s;
                return simdjson::SUCCESS;
            }
            case JsonField::tag: {
                std::string_view s;
                if (auto e = val.get_string().get(s)) return e;
                tag = s;
                return simdjson::SUCCESS;
            }
            case JsonField::model_id: {
                std::string_view s;
                if (val.get_string().get(s) == simdjson::SUCCESS) model_id = s;
                return simdjson::SUCCESS;  // a non-string model field is ignored
            }
            case JsonField::layer:
                has_layer = true;
                return val.get_int64().get(layer);
            case JsonField::token:
                has_token = true;
                return val.get_int64().get(token);
            case JsonField::num_experts:
                has_num_experts = true;
                return val.get_int64().get(num_experts);
            case JsonField::top_k:
                has_top_k = true;
                return val.get_int64().get(top_k);
            case JsonField::timestamp: {
                od::json_type t = od::json_type::null;
                if (val.type().get(t) == simdjson::SUCCESS && t == od::json_type::string)
                    return simdjson::SUCCESS;  // an ISO string is ignored
                double d;
                if (val.get_double().get(d) != simdjson::SUCCESS)
                    bad_timestamp = true;  // null, true, NaN, ...: not a time
                else
                    timestamp = d > kMillisecondTimestampAbove ? d / 1000.0 : d;
                return simdjson::SUCCESS;
            }
            case JsonField::experts:
                return read_rows(val, experts);
            case JsonField::weights:
                return read_rows(val, weights);
            case JsonField::logits:
                return read_rows(val, logits);
            case JsonField::values:
                return read_rows(val, values);
            case JsonField::samples: {
                od::json_type t;
                if (auto e = val.type().get(t)) return e;
                saw_samples = t == od::json_type::array;
                return simdjson::SUCCESS;
            }
            case JsonField::routed:
                return read_routed(val);
            case JsonField::phase: {
                std::string_view ph;
                if (auto e = val.get_string().get(ph)) return e;
                phase = ph;
                return simdjson::SUCCESS;
            }
            case JsonField::num_layers:
                return val.get_int64().get(num_layers);
            case JsonField::request:
                return read_request(val);
            case JsonField::unknown:
                return simdjson::SUCCESS;  // skipped by the iterator
        }
        return simdjson::SUCCESS;
    }

    // A string as it reads, a number as its digits ("problem_id": 0 is request "0"); any
    // other value (null, a list) names no request.
    error_code read_request(od::value val) {
        od::json_type t;
        if (auto e = val.type().get(t)) return e;
        if (t == od::json_type::string) return val.get_string().get(request);
        if (t != od::json_type::number) return simdjson::SUCCESS;
        request = val.raw_json_token();  // with the JSON whitespace after it
        while (!request.empty() && static_cast<unsigned char>(request.back()) <= ' ')
            request.remove_suffix(1);
        return simdjson::SUCCESS;
    }

    // [tokens][layers][k] into `routed`, noting a shape that is not a box (routed_ragged).
    error_code read_routed(od::value val) {
        has_routed = true;
        od::json_type t;
        if (auto e = val.type().get(t)) return e;
        if (t == od::json_type::string) {
            std::string_view b;
            if (auto e = val.get_string().get(b)) return e;
            routed_b64 = b;
            return simdjson::SUCCESS;
        }
        od::array tokens;
        if (auto e = val.get_array().get(tokens)) return e;
        for (auto tok_res : tokens) {
            od::array layers;
            if (auto e = tok_res.get_array().get(layers)) return e;
            size_t n_layers = 0;
            for (auto layer_res : layers) {
                od::array ids;
                if (auto e = layer_res.get_array().get(ids)) return e;
                size_t k = 0;
                for (auto id_res : ids) {
                    od::value x;
                    int32_t id;
                    if (auto e = id_res.get(x)) return e;
                    if (auto e = read_scalar<int32_t>(x, id)) return e;
                    routed.push_back(id);
                    ++k;
                }
                if (routed_k == 0) routed_k = k;
                routed_ragged |= k != routed_k;
                ++n_layers;
            }
            if (routed_layers == 0) routed_layers = n_layers;
            routed_ragged |= n_layers != routed_layers;
        }
        return simdjson::SUCCESS;
    }

    // The record's tag with its phase: "code@decode", or "decode" without a tag.
    std::string_view tag_with_phase() {
        if (phase.empty()) return tag;
        full_tag = tag.empty() ? phase : tag + "@" + phase;
        return full_tag;
    }

    // A forwarded engine response: one routing record per (token, layer).
    void emit_routed(std::string_view line, RecordSink& sink) {
        if (!routed_b64.empty()) {
            if (top_k <= 0 || num_layers <= 0 || top_k > int64_t(kMaxTopK) ||
                num_layers > kMaxLayer + 1)
                return sink.on_reject(RejectReason::missing_field, line);
            if (!decode_int32_base64(routed_b64, routed))
                return sink.on_reject(RejectReason::malformed, line);
            routed_k = static_cast<size_t>(top_k);
            routed_layers = static_cast<size_t>(num_layers);
            routed_ragged = routed.size() % (routed_k * routed_layers) != 0;
        }
        if (routed.empty() || routed_ragged || routed_k == 0 || routed_k > kMaxTopK)
            return sink.on_reject(RejectReason::malformed, line);
        if (routed_layers > static_cast<size_t>(kMaxLayer) + 1)
            return sink.on_reject(RejectReason::layer_out_of_range, line);
        const size_t per_token = routed_k * routed_layers;
        const std::string_view record_tag = tag_with_phase();
        for (size_t t = 0; t < routed.size() / per_token; ++t)
            for (size_t l = 0; l < routed_layers; ++l) {
                RoutingRecord r;
                r.tag = record_tag;
                r.layer = static_cast<int32_t>(l);
                r.token = static_cast<int64_t>(t);
                r.experts = std::span<const int32_t>(routed.data() + t * per_token + l * routed_k,
                                                     routed_k);
                r.timestamp = timestamp;
                r.request = request;
                r.phase = phase;
                sink.on_routing(r);
            }
    }

    void emit(std::string_view line, RecordSink& sink) {
        if (has_routed) return emit_routed(line, sink);
        if (type == "meta" ||
            (!experts.present && !values.present && (num_experts || !model_id.empty()))) {
            // A stated count must be usable: 1..4,096 experts, top-k 1..256.
            if ((has_num_experts && (num_experts <= 0 || num_experts > kMaxExpert + 1)) ||
                (has_top_k && (top_k <= 0 || top_k > int64_t(kMaxTopK))))
                return sink.on_reject(RejectReason::invalid_meta, line);
            MetaRecord m;
            m.tag = tag;
            m.model_id = model_id;
            m.num_experts = static_cast<uint32_t>(num_experts);
            m.top_k = static_cast<uint32_t>(top_k);
            return sink.on_meta(m);
        }
        if (!has_layer) return sink.on_reject(RejectReason::missing_field, line);
        if (bad_timestamp) return sink.on_reject(RejectReason::bad_timestamp, line);
        if (layer < 0 || layer > kMaxLayer)
            return sink.on_reject(RejectReason::layer_out_of_range, line);
        if (type == "gate_input" || type == "gate" || (values.present && !experts.present))
            return emit_gates(line, sink);
        if (!experts.present) return sink.on_reject(RejectReason::missing_field, line);
        if (!type.empty() && type != "routing" && type != "route" && type != "selection")
            return sink.on_skip(SkipKind::other, line);
        if (num_experts > 0 && num_experts <= kMaxExpert + 1) {
            MetaRecord m;
            m.num_experts = static_cast<uint32_t>(num_experts);
            m.model_id = model_id;
            sink.on_meta(m);
        }
        const size_t n = experts.count();
        if ((weights.present && weights.count() != n) || (logits.present && logits.count() != n))
            return sink.on_reject(RejectReason::wrong_vector_length, line);
        if (!all_finite(weights.v) || !all_finite(logits.v))
            return sink.on_reject(RejectReason::non_finite, line);
        if (has_empty_row(experts)) return sink.on_reject(RejectReason::malformed, line);
        for (size_t i = 0; i < experts.count(); ++i)
            if (experts.row(i).size() > kMaxTopK)
                return sink.on_reject(RejectReason::malformed, line);

        const int64_t t0 = has_token ? token : (experts.nested ? 0 : -1);

        const std::string_view record_tag = tag_with_phase();
        for (size_t i = 0; i < n; ++i) {
            RoutingRecord r;
            r.tag = record_tag;
            r.layer = static_cast<int32_t>(layer);
            r.token = t0 < 0 ? -1 : t0 + static_cast<int64_t>(i);
            r.experts = experts.row(i);
            if (weights.present) r.weights = weights.row(i);
            if (logits.present) r.logits = logits.row(i);
            r.timestamp = timestamp;
            r.request = request;
            r.phase = phase;
            sink.on_routing(r);
        }
    }

    void emit_gates(std::string_view line, RecordSink& sink) {
        if (has_empty_row(values)) return sink.on_reject(RejectReason::malformed, line);
        if (!all_finite(values.v)) return sink.on_reject(RejectReason::non_finite, line);

        const int64_t t0 = has_token ? token : 0;
        for (size_t i = 0; i < values.count(); ++i) {
            GateRecord g;
            g.tag = tag;
            g.layer = static_cast<int32_t>(layer);
            g.token = t0 + static_cast<int64_t>(i);
            g.values = values.row(i);
            sink.on_gate(g);
        }
    }

    void reject(error_code e, std::string_view line, RecordSink& sink) {
        sink.on_reject(json_reject_reason(e, line), line);
    }

    void parse_line(std::string_view line, RecordSink& sink) {
        padded.assign(line);
        padded.append(simdjson::SIMDJSON_PADDING, '\0');
        reset_fields();
        od::document doc;
        if (auto e = parser.iterate(padded.data(), line.size(), padded.size()).get(doc))
            return reject(e, line, sink);
        od::object obj;
        if (doc.get_object().get(obj))
            return reject(simdjson::TAPE_ERROR, line, sink) /* not one object */;
        for (auto field_res : obj) {
            od::field field;
            if (auto e = std::move(field_res).get(field)) return reject(e, line, sink);
            std::string_view key;
            if (auto e = field.unescaped_key().get(key)) return reject(e, line, sink);
            const JsonField f = json_field(key);
            if (auto e = read_field(f, field.value())) return reject(e, line, sink);
            if (saw_samples)
                return parse_doc(line, sink, true);  // a router-pipeline document on one line
        }
        // On-demand parsing stops at the object's end: anything after it is not NDJSON.
        const char* end = nullptr;
        if (doc.current_location().get(end) == simdjson::SUCCESS)
            return reject(simdjson::TAPE_ERROR, line, sink) /* not one object */;
        emit(line, sink);
    }

    // A whole document: router-pipeline layout, or one record spread over several lines.
    // `from_line`: called by parse_line for a line with a "samples" array; if that turns out
    // not to be a router document (duplicate keys), it is malformed, never handed back to
    // parse_line (which would recurse).
    void parse_doc(std::string_view text, RecordSink& sink, bool from_line = false) {
        std::string compact;
        if (router.parse(text, sink, compact)) return;
        if (from_line) return sink.on_reject(RejectReason::malformed, text);
        parse_line(compact, sink);
    }
};

FormatEntry ndjson_format() {
    return {"ndjson", "JSON records, one per line, or router-pipeline documents", 300,
            make_parser<NdjsonParser>};
}

NdjsonParser::NdjsonParser() : impl_(std::make_unique<Impl>()) {}
NdjsonParser::~NdjsonParser() = default;

bool NdjsonParser::claims(std::string_view line) const {
    const std::string_view t = scan::trim(line);
    return !t.empty() && t.front() == '{';
}

void NdjsonParser::parse(std::string_view line, RecordSink& sink) {
    impl_->parse_line(scan::trim(line), sink);
}

void NdjsonParser::parse_document(std::string_view doc, RecordSink& sink) {
    impl_->parse_doc(doc, sink);
}

}  // namespace moe
