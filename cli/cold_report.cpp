#include "cli/cold_report.hpp"

#include <cmath>

#include "cli/table.hpp"
#include "decisions/cold_experts.hpp"

namespace moe {

namespace {
ColdList list_of(const Query& x, double t) {
    if (!(t >= 0 && t <= 1))
        throw std::invalid_argument("--cold takes a share from 0 to 1 (e.g. 0.001 = 0.1 %)");
    return cold_experts(x.agg, x.tag(), t, x.q.layer);
}
}  // namespace

void cold_json(JsonWriter& w, const Query& x, double share) {
    const ColdList c = list_of(x, share);
    w.field("tag", std::string_view(x.q.tag)).field("cold_share", c.threshold);
    w.key("layers").begin_array();
    for (const ColdLayer& l : c.layers)
        w.begin_object()
            .field("layer", l.layer)
            .field("num_experts", l.experts)
            .field("selections", l.selections)
            .field("cold_experts", l.cold)
            .end_object();
    w.end_array().key("cold").begin_array();
    for (const ColdExpert& e : c.cold) {
        w.begin_object()
            .field("layer", e.layer)
            .field("expert", e.expert)
            .field("hits", e.hits)
            .field("share", e.share)
            .field("mass_share", e.mass_share);
        w.key("hottest_tag");
        if (e.hottest_tag.empty())
            w.null();
        else
            w.value(std::string_view(e.hottest_tag));
        w.key("hottest_tag_share");
        if (e.hottest_tag.empty())
            w.null();
        else
            w.value(e.hottest_share);
        w.field("specialist", e.specialist()).end_object();
    }
    w.end_array();
}

std::string cold_csv(const Query& x, double share) {
    Table t({"tag", "layer", "expert", "hits", "share", "mass_share", "hottest_tag",
             "hottest_tag_share", "specialist"});
    for (const ColdExpert& e : list_of(x, share).cold)
        t.add({x.q.tag, std::to_string(e.layer), std::to_string(e.expert), std::to_string(e.hits),
               fmt_num::csv(e.share), fmt_num::csv(e.mass_share), e.hottest_tag,
               e.hottest_tag.empty() ? "" : fmt_num::csv(e.hottest_share),
               e.specialist() ? "1" : "0"});
    return t.csv();
}

// Per layer a line with the cold ids, then the specialists: cold here, not in some tag.
std::string cold_text(const Query& x, double share) {
    const ColdList c = list_of(x, share);
    size_t total = 0, experts = 0;
    for (const ColdLayer& l : c.layers) {
        total += l.cold;
        experts += l.experts;
    }
    std::string s = "Cold experts: below " + fmt_num::percent(c.threshold, 3) +
                    " of their layer's selections (tag '" + x.q.tag +
                    "'): " + fmt_num::integer(total) + " of " + fmt_num::integer(experts) +
                    " (layer, expert) pairs\n";
    size_t i = 0;
    for (const ColdLayer& l : c.layers) {
        std::string ids;
        for (; i < c.cold.size() && c.cold[i].layer == l.layer; ++i)
            ids += (ids.empty() ? "" : " ") + std::to_string(c.cold[i].expert);
        s += wrap("  layer " + std::to_string(l.layer) + ": " + std::to_string(l.cold) + " cold" +
                      (ids.empty() ? "" : ": "),
                  ids, 100, "      ");
    }
    Table t({"layer", "expert", "share %", "hottest tag", "its share %"});
    for (const ColdExpert& e : c.cold)
        if (e.specialist())
            t.add({std::to_string(e.layer), std::to_string(e.expert),
                   fmt_num::fixed(e.share * 100, 3), e.hottest_tag,
                   fmt_num::fixed(e.hottest_share * 100, 3)});
    if (t.empty()) return s;
    return s + "Specialists: cold here but not in another tag (do not prune them blindly)\n" +
           t.render("  ");
}

}  // namespace moe
