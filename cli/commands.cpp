#include "cli/commands.hpp"

#include <stdexcept>

#include "cli/deep_report.hpp"
#include "cli/gate_report.hpp"
#include "cli/json_writer.hpp"
#include "cli/layer_report.hpp"
#include "cli/source_report.hpp"
#include "cli/table.hpp"

namespace moe {

namespace {

const TagStats& find_tag(const Aggregates& agg, const std::string& name) {
    if (auto id = agg.find_tag(name)) return agg.tag(*id);
    std::string known;
    for (TagId i = 0; i < agg.tag_count(); ++i)
        known += (i ? ", " : "") + agg.tag(i).name;
    throw std::invalid_argument("unknown tag '" + name + "' (known: " + known + ")");
}

TagId tag_id(const Aggregates& agg, const std::string& name) {
    find_tag(agg, name);  // throws for an unknown tag
    return *agg.find_tag(name);
}

std::string input_summary(const std::vector<SourceStats>& sources) {
    std::string s;
    for (const auto& src : sources) {
        s += "Input " + src.name + (src.tag.empty() ? "" : " [tag " + src.tag + "]") + ": " +
             fmt_num::integer(src.lines) + " lines, " + fmt_num::integer(src.records) +
             " routing records, " + fmt_num::integer(src.gate_records) + " gate vectors, " +
             fmt_num::integer(src.skipped_lines) + " skipped, " +
             fmt_num::integer(src.total_rejects()) + " rejected\n";
        for (int r = 0; r < kRejectReasonCount; ++r) {
            const auto i = static_cast<size_t>(r);
            if (!src.rejects[i]) continue;
            s += "  rejected " + std::string(reject_reason_name(static_cast<RejectReason>(r))) +
                 ": " + fmt_num::integer(src.rejects[i]);
            if (!src.reject_samples[i].empty())
                s += "  (e.g. " + src.reject_samples[i].front() + ")";
            s += "\n";
        }
        s += strided_warning(src);
    }
    return s;
}

std::string render_json(Command cmd, const Aggregates& agg, const std::vector<SourceStats>& sources,
                        const QueryOptions& q) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    switch (cmd) {
        case Command::analyze: {
            const TagStats& t = find_tag(agg, q.tag);
            write_sources_json(w, sources);
            write_layers_json(w, agg, t, q);
            write_gates_json(w, t, q);
            if (!q.windowed) {
                write_cooc_json(w, agg, t, q);
                write_logits_json(w, t, q);
            }
            write_corr_json(w, agg, t, q);
            if (!agg.timeline().empty()) write_timeline_json(w, agg, tag_id(agg, q.tag), q);
            if (q.vs != t.name && agg.find_tag(q.vs))
                write_compare_json(w, agg, t, find_tag(agg, q.vs), q);
            break;
        }
        case Command::cooc:
            write_cooc_json(w, agg, find_tag(agg, q.tag), q);
            break;
        case Command::corr:
            write_corr_json(w, agg, find_tag(agg, q.tag), q);
            break;
        case Command::compare:
            write_compare_json(w, agg, find_tag(agg, q.tag), find_tag(agg, q.vs), q);
            break;
        case Command::logits:
            write_logits_json(w, find_tag(agg, q.tag), q);
            break;
        case Command::timeline:
            write_timeline_json(w, agg, tag_id(agg, q.tag), q);
            break;
        case Command::layers:
            write_layers_json(w, agg, find_tag(agg, q.tag), q);
            break;
        case Command::experts:
            write_experts_json(w, agg, find_tag(agg, q.tag), q);
            break;
        case Command::gates:
            write_gates_json(w, find_tag(agg, q.tag), q);
            break;
        case Command::tags:
            write_tags_json(w, agg);
            break;
        case Command::sources:
            write_sources_json(w, sources);
            break;
    }
    w.end_object();
    return out + "\n";
}

std::string render_csv(Command cmd, const Aggregates& agg, const std::vector<SourceStats>& sources,
                       const QueryOptions& q) {
    switch (cmd) {
        case Command::analyze:
        case Command::layers:
            return layers_csv(agg, find_tag(agg, q.tag));
        case Command::experts:
            return experts_csv(agg, find_tag(agg, q.tag), q);
        case Command::gates:
            return gates_csv(find_tag(agg, q.tag), q);
        case Command::tags:
            return tags_csv(agg);
        case Command::sources:
            return sources_csv(sources);
        case Command::cooc:
            return cooc_csv(agg, find_tag(agg, q.tag), q);
        case Command::corr:
            return corr_csv(agg, find_tag(agg, q.tag), q);
        case Command::compare:
            return compare_csv(agg, find_tag(agg, q.tag), find_tag(agg, q.vs), q);
        case Command::logits:
            return logits_csv(find_tag(agg, q.tag), q);
        case Command::timeline:
            return timeline_csv(agg, tag_id(agg, q.tag), q);
    }
    return {};
}

std::string render_table(Command cmd, const Aggregates& agg,
                         const std::vector<SourceStats>& sources, const QueryOptions& q) {
    switch (cmd) {
        case Command::analyze: {
            const TagStats& t = find_tag(agg, q.tag);
            std::string s = input_summary(sources) + "\n" + layers_text(agg, t, q);
            if (!t.gates.empty()) {
                s += "\n" + std::string(80, '=') +
                     "\nGate-input distances between consecutive logged layers\n\n";
                s += gates_text(t, q);
            }
            s += "\n" + std::string(80, '=') + "\n" + corr_text(agg, t, q);
            if (!agg.timeline().empty())
                s += "\n" + std::string(80, '=') + "\n" + timeline_text(agg, tag_id(agg, q.tag), q);
            if (q.vs != t.name && agg.find_tag(q.vs))
                s += "\n" + std::string(80, '=') + "\n" +
                     compare_text(agg, t, find_tag(agg, q.vs), q);
            return s;
        }
        case Command::cooc:
            return cooc_text(agg, find_tag(agg, q.tag), q);
        case Command::corr:
            return corr_text(agg, find_tag(agg, q.tag), q);
        case Command::compare:
            return compare_text(agg, find_tag(agg, q.tag), find_tag(agg, q.vs), q);
        case Command::logits:
            return logits_text(find_tag(agg, q.tag), q);
        case Command::timeline:
            return timeline_text(agg, tag_id(agg, q.tag), q);
        case Command::layers:
            return layers_text(agg, find_tag(agg, q.tag), q);
        case Command::experts:
            return experts_text(agg, find_tag(agg, q.tag), q);
        case Command::gates:
            return gates_text(find_tag(agg, q.tag), q);
        case Command::tags:
            return tags_text(agg);
        case Command::sources:
            return sources_text(sources);
    }
    return {};
}

}  // namespace

std::string render(Command cmd, const Aggregates& agg, const std::vector<SourceStats>& sources,
                   const QueryOptions& q) {
    // A layer that was never seen is a mistake worth saying, not an empty table.
    if (q.layer && (cmd == Command::analyze || cmd == Command::layers || cmd == Command::corr)) {
        const TagStats& t = find_tag(agg, q.tag);
        if (const LayerStats* l = t.layer(*q.layer); !l || l->tokens == 0) {
            const auto ids = t.layer_ids();
            throw std::invalid_argument(
                "no records for layer " + std::to_string(*q.layer) + " in tag '" + t.name + "'" +
                (ids.empty() ? std::string()
                             : " (layers " + std::to_string(ids.front()) + " to " +
                                   std::to_string(ids.back()) + ")"));
        }
    }
    switch (q.format) {
        case OutputFormat::json:
            return render_json(cmd, agg, sources, q);
        case OutputFormat::csv:
            return render_csv(cmd, agg, sources, q);
        case OutputFormat::table:
            break;
    }
    return render_table(cmd, agg, sources, q);
}

}  // namespace moe
