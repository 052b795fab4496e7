#include "decisions/placement_map.hpp"

#include <stdexcept>

#include <simdjson.h>

namespace moe {

namespace {
std::vector<int32_t> int_row(simdjson::dom::array a) {
    std::vector<int32_t> row;
    for (simdjson::dom::element v : a) {
        int64_t e = 0;
        if (v.get_int64().get(e) || e < 0 || e > INT32_MAX)
            throw std::invalid_argument("expert ids must be non-negative integers");
        row.push_back(static_cast<int32_t>(e));
    }
    return row;
}
}  // namespace

PlacementMap PlacementMap::parse(std::string_view json) {
    PlacementMap m;
    simdjson::dom::parser parser;
    const simdjson::padded_string text(json);
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc)) throw std::invalid_argument("not valid JSON");
    simdjson::dom::element map = doc;
    simdjson::dom::array layers;
    if (doc.is_object() && !doc["layers"].get_array().get(layers)) {
        for (simdjson::dom::element l : layers) {
            int64_t id = 0;
            simdjson::dom::array row;
            if (l["layer"].get_int64().get(id) || l["phy2log"].get_array().get(row) || id < 0 ||
                id > INT32_MAX)
                throw std::invalid_argument("layers[] entries need layer and phy2log");
            m.rows_[static_cast<int32_t>(id)] = int_row(row);
        }
        int64_t g = 0;
        if (!doc["gpus"].get_int64().get(g) && g > 0) m.gpus_ = static_cast<size_t>(g);
        return m;
    }
    if (doc.is_object() && doc["physical_to_logical_map"].get(map))
        throw std::invalid_argument("expected physical_to_logical_map, layers[] or an array");
    simdjson::dom::array outer;
    if (map.get_array().get(outer)) throw std::invalid_argument("the map is not an array");
    if (outer.size() > 0 && outer.at(0).is_array()) {
        int32_t id = 0;
        for (simdjson::dom::element r : outer) {
            simdjson::dom::array row;
            if (r.get_array().get(row)) throw std::invalid_argument("every row must be an array");
            m.rows_[id++] = int_row(row);
        }
    } else {
        m.every_ = int_row(outer);
    }
    return m;
}

const std::vector<int32_t>* PlacementMap::row(int32_t layer) const {
    if (every_) return &*every_;
    const auto it = rows_.find(layer);
    return it == rows_.end() ? nullptr : &it->second;
}

}  // namespace moe
