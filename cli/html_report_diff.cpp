// The report's "Routing diff" section data: the figures of `moescope diff A B` for the two
// FILE arguments of `moescope report --html OUT A B`, under diff --json's keys, so that the
// report and the command agree (tests/integration/test_report_diff.py).
#include <cmath>

#include "cli/diff_json.hpp"
#include "cli/html_report.hpp"
#include "tracing/routing_diff.hpp"

namespace moe {

void write_report_diff(JsonWriter& w, const HtmlReportOptions& o) {
    if (!o.diff) return;
    const RoutingDiff& d = *o.diff;
    w.key("routing_diff").begin_object();
    w.field("a", std::string_view(o.diff_a)).field("b", std::string_view(o.diff_b));
    w.field("records_a", d.records(DiffSide::a)).field("records_b", d.records(DiffSide::b));
    LowestOverlap lowest;
    w.key("layers").begin_array();
    for (const auto& [layer, l] : d.layers()) {
        w.begin_object().field("layer", layer);
        write_agreement_json(w, l.agreement);
        const double chance = chance_overlap(l);
        w.field("chance_overlap", chance)
            .field("kappa", overlap_kappa(l.agreement.mean_overlap(), chance));
        w.field("only_a", l.only_a_total()).field("only_b", l.only_b_total()).end_object();
        lowest.consider(layer, l.agreement);
    }
    w.end_array().key("all").begin_object();
    const LayerDiff all = d.all_layers();
    write_agreement_json(w, all.agreement);
    const double chance = d.chance_overlap_all(),
                 kappa = overlap_kappa(all.agreement.mean_overlap(), chance);
    w.field("chance_overlap", chance).field("kappa", kappa);
    w.field("only_a", all.only_a_total()).field("only_b", all.only_b_total()).end_object();
    const TokenDiffTally& t = d.tokens();
    w.key("tokens").begin_object().field("aligned", t.tokens);
    w.field("differ_in_any_layer", t.differ_any).end_object();
    w.field("min_overlap", all.agreement.aligned ? lowest.overlap : NAN)
        .field("min_overlap_layer", lowest.layer);
    w.field("near_chance", kappa < kNearChanceKappa);  // NaN: false
    w.end_object();
}

}  // namespace moe
