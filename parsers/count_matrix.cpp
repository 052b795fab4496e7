#include "parsers/count_matrix.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "parsers/number_scan.hpp"
#include "parsers/router_document.hpp"

namespace moe {

namespace {

size_t skip_ws(std::string_view t, size_t i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        ++i;
    return i;
}

// How far into a line the key may be looked for: SGLang writes it first or after "rank".
constexpr size_t kKeyWindow = 256;

}  // namespace

bool opens_array_of_arrays(std::string_view t) {
    size_t i = skip_ws(t, 0);
    if (i >= t.size() || t[i] != '[') return false;
    i = skip_ws(t, i + 1);
    return i < t.size() && t[i] == '[';
}

bool opens_object_with(std::string_view t, std::string_view key) {
    const size_t i = skip_ws(t, 0);
    if (i >= t.size() || t[i] != '{') return false;
    const std::string quoted = "\"" + std::string(key) + "\"";
    return t.substr(i, kKeyWindow).find(quoted) != std::string_view::npos;
}

struct CountMatrix::Impl {
    simdjson::dom::parser parser;
    std::vector<std::vector<double>> rows;  // summed over steps
    std::vector<int32_t> layers;            // each row's layer id
    std::vector<double> row;
};

CountMatrix::CountMatrix() : impl_(std::make_unique<Impl>()) {}
CountMatrix::~CountMatrix() = default;

namespace {

using simdjson::dom::array;
using simdjson::dom::element;

// One [experts] row read into `out`; false if not a non-empty list of numbers.
bool read_row(element e, std::vector<double>& out) {
    array a;
    if (e.get_array().get(a)) return false;
    out.clear();
    for (element x : a) {
        double v;
        if (x.get_double().get(v)) return false;  // integers convert too
        out.push_back(v);
    }
    return !out.empty();
}

// A layer id as an object key: digits only.
bool layer_id(std::string_view text, int64_t& out) {
    const char* p = text.data();
    return !text.empty() && scan::is_digit(text.front()) &&
           scan::parse_int(p, text.data() + text.size(), out) && p == text.data() + text.size();
}

// {"LAYER": [experts], ...}: rows by layer id. A row whose id is not a layer number, or whose
// length differs from the first good row's, is rejected alone.
void read_layer_object(simdjson::dom::object obj, std::vector<std::vector<double>>& rows,
                       std::vector<int32_t>& layers, RecordSink& sink, std::string_view sample) {
    size_t width = 0;
    for (auto [id, value] : obj) {
        int64_t layer = -1;
        if (!layer_id(id, layer) || layer > kMaxLayer) {
            sink.on_reject(RejectReason::layer_out_of_range, sample);
            continue;
        }
        std::vector<double> row;
        if (!read_row(value, row) || (width != 0 && row.size() != width)) {
            sink.on_reject(RejectReason::malformed, sample);
            continue;
        }
        width = row.size();
        rows.push_back(std::move(row));
        layers.push_back(static_cast<int32_t>(layer));
    }
}

// The top-k a stated token count gives: every layer's selections are the same whole multiple
// k of it. Else one invalid_meta reject says why (the counts are delivered anyway).
std::optional<uint32_t> top_k_from_tokens(element doc, std::string_view tokens_key,
                                          const std::vector<std::vector<double>>& rows,
                                          const std::vector<int32_t>& layers, RecordSink& sink) {
    char why[kRejectSampleBytes];
    const int key_len = static_cast<int>(std::min<size_t>(tokens_key.size(), 40));
    double tokens = 0;
    if (doc.at_key(tokens_key).get_double().get(tokens) || !(tokens >= 1) ||
        tokens != std::floor(tokens)) {
        std::snprintf(why, sizeof why, "no whole token count >= 1 at \"%.*s\": no top-k taken",
                      key_len, tokens_key.data());
        sink.on_reject(RejectReason::invalid_meta, why);
        return std::nullopt;
    }
    double k = 0;
    for (size_t l = 0; l < rows.size(); ++l) {
        double selections = 0;
        for (double x : rows[l])
            selections += x;
        if (selections == 0) continue;  // a dense layer
        const double per_token = selections / tokens;
        if (k == 0 && per_token == std::floor(per_token) && per_token >= 1 &&
            per_token <= static_cast<double>(kMaxTopK))
            k = per_token;
        if (per_token == k) continue;
        std::snprintf(why, sizeof why,
                      "%.*s %.17g: layer %d has %.17g selections, %.4g per token, not a whole k "
                      "the same for every layer: no top-k taken",
                      key_len, tokens_key.data(), tokens, layers[l], selections, per_token);
        sink.on_reject(RejectReason::invalid_meta, why);
        return std::nullopt;
    }
    if (k == 0) return std::nullopt;
    return static_cast<uint32_t>(k);
}

// The rows as CountRecords, after the top-k their token count gives.
void deliver(element doc, std::string_view tokens_key, const std::vector<std::vector<double>>& rows,
             const std::vector<int32_t>& layers, RecordSink& sink) {
    // The top-k first: tokens are counted / k as the counts arrive.
    if (!tokens_key.empty() && !rows.empty())
        if (const auto k = top_k_from_tokens(doc, tokens_key, rows, layers, sink)) {
            MetaRecord meta;
            meta.top_k = *k;
            sink.on_meta(meta);
        }
    for (size_t i = 0; i < rows.size(); ++i) {
        CountRecord c;
        c.layer = layers[i];
        c.counts = rows[i];
        c.snapshot = true;
        sink.on_counts(c);
    }
}

}  // namespace

void CountMatrix::parse(std::string_view json, std::string_view key, RecordSink& sink,
                        std::string_view tokens_key) {
    Impl& m = *impl_;
    const std::string_view sample = reject_sample(json);
    element doc;
    if (auto e = m.parser.parse(json.data(), json.size()).get(doc))
        return sink.on_reject(json_reject_reason(e, json), sample);
    element table = doc;
    if (!key.empty() && doc.at_key(key).get(table))
        return sink.on_reject(RejectReason::missing_field, sample);
    m.rows.clear();
    m.layers.clear();
    simdjson::dom::object by_layer;
    array top;
    if (!key.empty() && !table.get_object().get(by_layer)) {
        read_layer_object(by_layer, m.rows, m.layers, sink, sample);
        return deliver(doc, tokens_key, m.rows, m.layers, sink);
    }
    if (table.get_array().get(top) || top.size() == 0)
        return sink.on_reject(RejectReason::malformed, sample);
    // [steps][layers][experts] when the first element's first element is a list.
    array first_arr;
    const bool three_d =
        !top.at(0).get_array().get(first_arr) && first_arr.size() > 0 && first_arr.at(0).is_array();
    // A record is one layer row ([layers][experts]) or one step ([steps][...]): a bad one
    // (not numbers, another length than the first good one) is rejected alone.
    size_t width = 0;
    if (!three_d) {
        for (element l : top) {
            m.rows.emplace_back();
            if (read_row(l, m.rows.back()) && (width == 0 || m.rows.back().size() == width)) {
                width = m.rows.back().size();
                continue;
            }
            sink.on_reject(RejectReason::malformed, sample);
            m.rows.back().clear();  // delivers nothing
        }
    } else {
        std::vector<std::vector<double>> step_rows;
        for (element step : top) {
            array layers;
            bool ok =
                !step.get_array().get(layers) && (m.rows.empty() || layers.size() == m.rows.size());
            step_rows.clear();
            // Not an array: `layers` was never read and must not be iterated.
            if (ok)
                for (element l : layers) {
                    if (!ok) break;
                    step_rows.emplace_back();
                    ok = read_row(l, step_rows.back()) &&
                         (width == 0 ? true : step_rows.back().size() == width);
                    if (ok && width == 0) width = step_rows.back().size();
                }
            if (!ok || step_rows.empty()) {
                sink.on_reject(RejectReason::malformed, sample);
                continue;
            }
            if (m.rows.empty()) m.rows.assign(step_rows.size(), std::vector<double>(width, 0.0));
            for (size_t l = 0; l < step_rows.size(); ++l)
                for (size_t e = 0; e < width; ++e)
                    m.rows[l][e] += step_rows[l][e];
        }
    }
    for (size_t l = 0; l < m.rows.size(); ++l) {
        if (l > static_cast<size_t>(kMaxLayer)) {
            sink.on_reject(RejectReason::layer_out_of_range, sample);
            m.rows.resize(l);
            break;
        }
        m.layers.push_back(static_cast<int32_t>(l));
    }
    std::erase_if(m.layers, [&m](int32_t l) { return m.rows[static_cast<size_t>(l)].empty(); });
    std::erase_if(m.rows, [](const std::vector<double>& r) { return r.empty(); });  // rejected
    deliver(doc, tokens_key, m.rows, m.layers, sink);
}

}  // namespace moe
