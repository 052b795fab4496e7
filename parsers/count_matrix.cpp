#include "parsers/count_matrix.hpp"

#include <simdjson.h>

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

}  // namespace

void CountMatrix::parse(std::string_view json, std::string_view key, RecordSink& sink) {
    Impl& m = *impl_;
    const std::string_view sample = reject_sample(json);
    element doc;
    if (auto e = m.parser.parse(json.data(), json.size()).get(doc))
        return sink.on_reject(json_reject_reason(e, json), sample);
    element table = doc;
    if (!key.empty() && doc.at_key(key).get(table))
        return sink.on_reject(RejectReason::missing_field, sample);
    array top;
    if (table.get_array().get(top) || top.size() == 0)
        return sink.on_reject(RejectReason::malformed, sample);
    m.rows.clear();
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
        if (l > static_cast<size_t>(kMaxLayer))
            return sink.on_reject(RejectReason::layer_out_of_range, sample);
        if (m.rows[l].empty()) continue;  // rejected above
        CountRecord c;
        c.layer = static_cast<int32_t>(l);
        c.counts = m.rows[l];
        sink.on_counts(c);
    }
}

}  // namespace moe
