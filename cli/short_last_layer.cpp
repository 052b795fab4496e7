#include "cli/short_last_layer.hpp"

#include <algorithm>
#include <vector>

#include "cli/table.hpp"

namespace moe {

std::optional<ShortLastLayer> short_last_layer(const TagStats& t) {
    const auto ids = t.layer_ids();
    if (ids.size() < 2) return std::nullopt;
    std::vector<uint64_t> others;
    for (size_t i = 0; i + 1 < ids.size(); ++i)
        others.push_back(t.layer(ids[i])->tokens);
    const auto mid = others.begin() + static_cast<ptrdiff_t>(others.size() / 2);
    std::nth_element(others.begin(), mid, others.end());
    const ShortLastLayer s{ids.back(), t.layer(ids.back())->tokens, *mid};
    if (s.tokens * 2 >= s.median) return std::nullopt;
    return s;
}

std::string short_last_layer_text(const ShortLastLayer& s) {
    return "layer " + std::to_string(s.layer) + " has " + fmt_num::integer(s.tokens) +
           " tokens, the median layer " + fmt_num::integer(s.median) +
           ", so its Gini is not comparable (llama-server logs the last MoE layer only for "
           "tokens whose logits are needed; an input cut short ends in its last layer)";
}

}  // namespace moe
