#include "cli/keep_list_file.hpp"

#include <simdjson.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cli/json_writer.hpp"

namespace moe {

namespace {
bool is_csv(const std::string& path) {
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
}

void set_kept(KeepList& out, int64_t layer, int64_t expert, size_t E, const std::string& path) {
    if (layer < 0 || layer > kMaxLayer)
        throw std::invalid_argument(path + ": bad layer " + std::to_string(layer));
    if (expert < 0 || static_cast<uint64_t>(expert) >= E)
        throw std::invalid_argument(path + ": expert " + std::to_string(expert) + " of layer " +
                                    std::to_string(layer) +
                                    " is not below E = " + std::to_string(E));
    auto& m = out[static_cast<int32_t>(layer)];
    m.resize(E, false);
    m[static_cast<size_t>(expert)] = true;
}

int64_t parse_int(const std::string& s, const std::string& path) {
    size_t used = 0;
    int64_t v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != s.size())
        throw std::invalid_argument(path + ": '" + s + "' is not an integer");
    return v;
}

KeepList read_csv(const std::string& path, const std::string& text, size_t E) {
    KeepList out;
    std::istringstream in(text);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (header) {
            header = false;
            if (line == "layer,expert") continue;
        }
        const auto comma = line.find(',');
        if (comma == std::string::npos)
            throw std::invalid_argument(path + ": expected 'layer,expert', got '" + line + "'");
        set_kept(out, parse_int(line.substr(0, comma), path),
                 parse_int(line.substr(comma + 1), path), E, path);
    }
    return out;
}

KeepList read_json(const std::string& path, const std::string& text, size_t E, std::string* model) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc)) throw std::invalid_argument(path + ": not valid JSON");
    std::string_view m;
    if (model && !doc["model"].get_string().get(m)) *model = m;
    simdjson::dom::object layers;
    if (doc["layers"].get_object().get(layers))
        throw std::invalid_argument(path + ": no \"layers\" object");
    KeepList out;
    for (auto [key, value] : layers) {
        const int64_t layer = parse_int(std::string(key), path);
        simdjson::dom::array ids;
        if (value.get_array().get(ids))
            throw std::invalid_argument(path + ": layer " + std::string(key) +
                                        " is not an array of expert ids");
        out[static_cast<int32_t>(layer)].resize(E, false);  // an empty list keeps nothing
        for (auto id : ids) {
            int64_t e = 0;
            if (id.get_int64().get(e))
                throw std::invalid_argument(path + ": layer " + std::string(key) +
                                            " holds a non-integer id");
            set_kept(out, layer, e, E, path);
        }
    }
    return out;
}
}  // namespace

std::string keep_list_json(const KeepList& keep, const std::string& model) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("model");
    if (model.empty())
        w.null();
    else
        w.value(std::string_view(model));
    w.key("layers").begin_object();
    for (const auto& [layer, mask] : keep) {
        w.key(std::to_string(layer)).begin_array();
        for (size_t e = 0; e < mask.size(); ++e)
            if (mask[e]) w.value(static_cast<uint64_t>(e));
        w.end_array();
    }
    w.end_object().end_object();
    return out + "\n";
}

std::string keep_list_csv(const KeepList& keep) {
    std::string out = "layer,expert\n";
    for (const auto& [layer, mask] : keep)
        for (size_t e = 0; e < mask.size(); ++e)
            if (mask[e]) out += std::to_string(layer) + "," + std::to_string(e) + "\n";
    return out;
}

void write_keep_list(const std::string& path, const KeepList& keep, const std::string& model) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + path);
    f << (is_csv(path) ? keep_list_csv(keep) : keep_list_json(keep, model));
    if (!f.flush()) throw std::runtime_error("cannot write " + path);
}

KeepList read_keep_list(const std::string& path, size_t E, std::string* model) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    if (model) model->clear();
    return is_csv(path) ? read_csv(path, ss.str(), E) : read_json(path, ss.str(), E, model);
}

}  // namespace moe
