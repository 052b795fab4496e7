#include "options/capacity_list.hpp"

#include <algorithm>
#include <stdexcept>

namespace moe {

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::vector<uint32_t> parse_capacity_list(const std::string& s, const std::string& option) {
    std::vector<uint32_t> out;
    for (const auto& c : split_commas(s)) {
        size_t used = 0;
        unsigned long v = 0;
        try {
            v = std::stoul(c, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != c.size() || v == 0 || v > kMaxCacheCapacity)
            throw std::invalid_argument("bad " + option + " '" + c +
                                        "' (use slot counts from 1, e.g. 4,8,16)");
        if (std::find(out.begin(), out.end(), v) == out.end())
            out.push_back(static_cast<uint32_t>(v));
    }
    return out;
}

}  // namespace moe
