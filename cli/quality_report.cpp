#include "cli/quality_report.hpp"

#include "cli/short_last_layer.hpp"
#include "cli/source_report.hpp"
#include "cli/table.hpp"
#include "ingest/identical_runs.hpp"

namespace moe {

namespace {

using fmt_num::integer;

// Records left out by `s` per tag and layer (all layers combined as layer -1).
void left_out_layers(const Aggregates& agg, Suspect s, QualityFinding& f) {
    const auto i = static_cast<size_t>(s);
    for (TagId id = 0; id < agg.tag_count(); ++id) {
        const TagStats& t = agg.tag(id);
        for (size_t l = 0; l < t.layers.size(); ++l)
            if (t.layers[l] && t.layers[l]->left_out[i])
                f.layers.push_back({t.name, static_cast<int32_t>(l), t.layers[l]->left_out[i]});
        if (t.global.left_out[i]) f.layers.push_back({t.name, -1, t.global.left_out[i]});
    }
}

void identical_runs(const std::vector<SourceStats>& sources, QualityFinding& f) {
    uint64_t records = 0;
    for (const SourceStats& s : sources) {
        f.count += s.identical_runs;
        records += s.identical_records;
        f.left_out += s.identical_excluded;
        if (s.identical_excluded) f.sources.emplace_back(s.name, s.identical_excluded);
    }
    f.found = f.count > 0;
    // Each run's first record counts like any record; the others are proven replays.
    f.remains = records > f.left_out + f.count;
    if (!f.found) return;
    f.text = integer(f.count) + " run(s) of >= " + std::to_string(IdenticalRuns::kMinRun) +
             " identical routings of one layer (warm-up passes?), " + integer(records) +
             " records in them";
}

void strided_view(const std::vector<SourceStats>& sources, QualityFinding& f) {
    uint64_t showing = 0, checked = 0, strided = 0;
    for (const SourceStats& s : sources) {
        const bool shows = s.strided_streams > 0 || !strided_warning(s).empty();
        showing += shows;
        f.count += s.strided_streams;
        f.left_out += s.strided_excluded;
        if (s.strided_excluded) f.sources.emplace_back(s.name, s.strided_excluded);
        f.remains |= shows && s.strided_excluded == 0;
        if (shows) checked += s.batches_checked, strided += s.batches_strided;
    }
    f.found = showing > 0;
    if (!f.found) return;
    f.text =
        "rows after the first of multi-token batches, which the patched llama-server "
        "wrote from a strided view (" +
        integer(strided) + " of " + integer(checked) + " checked batches in " + integer(showing) +
        " source(s)" +
        (strided < checked ? "; rows are left out only until a batch shows no defect" : "") + ")";
}

}  // namespace

std::vector<QualityFinding> quality_findings(const Aggregates& agg,
                                             const std::vector<SourceStats>& sources,
                                             const TagStats& tag) {
    std::vector<QualityFinding> out;
    for (const QualityCheck& c : quality_checks()) {
        QualityFinding& f = out.emplace_back();
        f.check = &c;
        if (c.suspect == Suspect::identical_run) {
            identical_runs(sources, f);
        } else if (c.suspect == Suspect::strided_view) {
            strided_view(sources, f);
        } else if (c.code == "short_last_layer") {
            if (const auto s = short_last_layer(tag)) {
                f.found = true;
                f.count = 1;
                f.text = short_last_layer_text(*s);
            }
        } else if (c.code == "count_only") {
            f.found = tag.global.has_counts();
            if (f.found)
                f.text = std::string(tag.global.count_only()
                                         ? "engine totals"
                                         : "engine totals mixed with per-token records (" +
                                               integer(tag.global.counted) + " of " +
                                               integer(tag.global.selections()) + " selections)") +
                         ": per-token figures do not exist, and selections are not independent "
                         "draws (docs/FIGURES.md \"Count-only data\")";
        } else if (c.code == "truncated_input") {
            for (const SourceStats& s : sources)
                if (s.truncated) {
                    ++f.count;
                    f.text = s.name + " ends inside compressed data (truncated)";
                }
            f.found = f.count > 0;
        } else if (c.code == "rejects") {
            std::string refused;  // whole inputs of another model: named, not just counted
            for (const SourceStats& s : sources) {
                f.count += s.total_rejects();
                if (s.rejects[static_cast<size_t>(RejectReason::other_model)])
                    refused += (refused.empty() ? "; not counted, another model: " : ", ") + s.name;
            }
            f.found = f.count > 0;
            if (f.found)
                f.text = integer(f.count) + (f.count == 1 ? " line" : " lines") +
                         " rejected (moescope sources)" + refused;
        }
        if (c.suspect) left_out_layers(agg, *c.suspect, f);
    }
    return out;
}

void write_quality_json(JsonWriter& w, const std::vector<QualityFinding>& findings,
                        std::optional<bool> keep) {
    w.key("quality").begin_object();
    if (keep)
        w.field("policy", std::string_view(*keep ? "keep" : "leave_out"));
    else
        w.field("policy", std::string_view("as stored"));
    uint64_t total = 0;
    for (const QualityFinding& f : findings)
        total += f.left_out;
    w.field("left_out", total);
    w.key("remaining").begin_array();
    for (const QualityFinding& f : findings)
        if (f.remains) w.value(f.check->code);
    w.end_array();
    w.key("checks").begin_array();
    for (const QualityFinding& f : findings) {
        w.begin_object().field("code", f.check->code).field("found", f.found);
        w.field("count", f.count);
        if (f.check->suspect)
            w.field("left_out", f.left_out).field("remains", f.remains);
        else
            w.key("left_out").null();
        w.field("proves", f.check->proves);
        if (!f.text.empty()) w.field("text", std::string_view(f.text));
        w.key("sources").begin_array();
        for (const auto& [name, n] : f.sources)
            w.begin_object()
                .field("source", std::string_view(name))
                .field("records", n)
                .end_object();
        w.end_array();
        w.key("layers").begin_array();
        for (const auto& l : f.layers) {
            w.begin_object().field("tag", std::string_view(l.tag));
            if (l.layer < 0)
                w.key("layer").null();
            else
                w.field("layer", l.layer);
            w.field("records", l.records).end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
}

std::string quality_line(const std::vector<QualityFinding>& findings) {
    std::string s;
    for (const QualityFinding& f : findings) {
        if (!f.check->suspect || !f.found) continue;
        s += (s.empty() ? "" : "; ") +
             (f.remains ? std::string(f.check->label) + " still counted (--keep-suspect)"
                        : integer(f.left_out) + " records left out: " + f.text);
    }
    return s.empty() ? "nothing left out: no warm-up runs, no strided-view defect" : s;
}

std::string remaining_text(const QualityFinding& f) {
    return std::string(f.check->label) + " still counted: " + f.text +
           " (docs/FIGURES.md \"Data quality\")";
}

std::string remaining_defects_text(const std::vector<QualityFinding>& findings) {
    std::string s;
    for (const QualityFinding& f : findings)
        if (f.remains) s += "warning: " + remaining_text(f) + "\n";
    return s;
}

}  // namespace moe
