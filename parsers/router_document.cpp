#include "parsers/router_document.hpp"

#include <cmath>
#include <string>

#include "parsers/number_scan.hpp"

namespace moe {

RejectReason json_reject_reason(simdjson::error_code e, std::string_view text) {
    if (e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE)
        return RejectReason::malformed;
    // Python's json module writes NaN and Infinity, which are not JSON: report them as such.
    if (text.find("NaN") != std::string_view::npos ||
        text.find("Infinity") != std::string_view::npos)
        return RejectReason::non_finite;
    return RejectReason::invalid_json;
}

bool RouterDocumentParser::parse(std::string_view text, RecordSink& sink, std::string& compact) {
    simdjson::dom::element root;
    if (auto e = dom_.parse(text.data(), text.size(), true).get(root)) {
        sink.on_reject(json_reject_reason(e, text), text);
        return true;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) {
        sink.on_reject(RejectReason::invalid_json, text);
        return true;
    }
    simdjson::dom::array samples;
    if (obj["samples"].get_array().get(samples)) {
        compact = simdjson::minify(root);
        return false;
    }
    MetaRecord m;
    int64_t ne = 0, k = 0;
    std::string_view ds, model;
    // Optional fields: a missing or mistyped one just stays unset.
    auto found = [](auto&& res, auto& out) { return std::move(res).get(out) == simdjson::SUCCESS; };
    const bool has_ne = found(obj["num_experts"].get_int64(), ne);
    const bool has_k = found(obj["top_k"].get_int64(), k);
    found(obj["dataset"].get_string(), ds);
    simdjson::dom::element config;
    if (found(obj["config"], config) && !found(config.get_string(), model) &&
        !found(config["model"].get_string(), model))
        found(config["model_id"].get_string(), model);
    const std::string tag_copy(ds), model_copy(model);
    if ((has_ne && (ne <= 0 || ne > kMaxExpert + 1)) ||
        (has_k && (k <= 0 || k > int64_t(kMaxTopK)))) {
        sink.on_reject(RejectReason::invalid_meta, reject_sample(text));
        return true;
    }
    m.tag = tag_copy;
    m.model_id = model_copy;
    m.num_experts = static_cast<uint32_t>(ne);
    m.top_k = static_cast<uint32_t>(k);
    if (ne > 0 || !model_copy.empty()) sink.on_meta(m);

    for (simdjson::dom::element sample : samples) {
        // A string as it reads, a whole number as its digits; anything else names none.
        std::string_view request;
        int64_t number = 0;
        if (!found(sample["sample_id"].get_string(), request) &&
            found(sample["sample_id"].get_int64(), number))
            request = request_ = std::to_string(number);
        simdjson::dom::array layers;
        if (sample["layers"].get_array().get(layers)) {
            sink.on_reject(RejectReason::missing_field, reject_sample(text));
            continue;
        }
        for (simdjson::dom::element L : layers) {
            int64_t layer = -1;
            simdjson::dom::array sel, wts, lgs;
            if (L["layer"].get_int64().get(layer) || L["selected_experts"].get_array().get(sel)) {
                sink.on_reject(RejectReason::missing_field, reject_sample(text));
                continue;
            }
            const bool has_w = L["expert_weights"].get_array().get(wts) == simdjson::SUCCESS;
            const bool has_l = L["router_logits_sample"].get_array().get(lgs) == simdjson::SUCCESS;
            emit_layer(text, sink, tag_copy, request, layer, sel, has_w ? &wts : nullptr,
                       has_l ? &lgs : nullptr);
        }
    }
    return true;
}

void RouterDocumentParser::emit_layer(std::string_view text, RecordSink& sink,
                                      const std::string& tag_s, std::string_view request,
                                      int64_t layer, simdjson::dom::array sel,
                                      simdjson::dom::array* wts, simdjson::dom::array* lgs) {
    std::vector<int32_t>& ids = ids_;
    std::vector<float>& w = w_;
    std::vector<float>& lg = lg_;
    auto wit = wts ? wts->begin() : simdjson::dom::array::iterator{};
    auto lit = lgs ? lgs->begin() : simdjson::dom::array::iterator{};
    int64_t token = 0;
    for (simdjson::dom::element row : sel) {
        ids.clear();
        w.clear();
        lg.clear();
        bool ok = true, finite = true;
        simdjson::dom::array r;
        if (row.get_array().get(r))
            ok = false;
        else
            for (simdjson::dom::element x : r) {
                int64_t id = -1;
                if (x.get_int64().get(id)) ok = false;
                ids.push_back(id < INT32_MIN   ? INT32_MIN
                              : id > INT32_MAX ? INT32_MAX
                                               : static_cast<int32_t>(id));
            }
        auto read_floats = [&](simdjson::dom::element e, std::vector<float>& out) {
            simdjson::dom::array a;
            if (e.get_array().get(a)) return false;
            for (simdjson::dom::element x : a) {
                double d;
                if (x.get_double().get(d)) return false;
                const float f = scan::narrow_to_float(d);  // 2e125 is a finite double
                if (!std::isfinite(f)) finite = false;
                out.push_back(f);
            }
            return true;
        };
        if (wts && wit != wts->end()) ok = read_floats(*wit, w) && ok, ++wit;
        if (lgs && lit != lgs->end()) ok = read_floats(*lit, lg) && ok, ++lit;
        const std::string_view where = reject_sample(text);
        if (!ok || ids.empty() || ids.size() > kMaxTopK) {
            sink.on_reject(RejectReason::malformed, where);

        } else if (!finite) {
            sink.on_reject(RejectReason::non_finite, where);
        } else if (layer < 0 || layer > kMaxLayer) {
            sink.on_reject(RejectReason::layer_out_of_range, where);
        } else {
            RoutingRecord rec;
            rec.tag = tag_s;
            rec.layer = static_cast<int32_t>(layer);
            rec.token = token;
            rec.experts = ids;
            rec.weights = w;
            rec.logits = lg;
            rec.request = request;
            sink.on_routing(rec);
        }
        ++token;
    }
}

}  // namespace moe
