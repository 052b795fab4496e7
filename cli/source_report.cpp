#include "cli/source_report.hpp"

#include "cli/command.hpp"
#include "cli/table.hpp"

namespace moe {

// One line for people when a log shows the llama-server patch's strided-view defect.
std::string strided_warning(const SourceStats& s) {
    if (s.batches_strided == 0 || s.batches_strided * 2 < s.batches_checked) return {};
    return "warning: " + std::to_string(s.batches_strided) + " of " +
           std::to_string(s.batches_checked) + " multi-token batches in " + s.name +
           " list every expert exactly once in their first E/k lines: the llama-server logging "
           "patch's "
           "strided-view defect. Routing of tokens > 0 in multi-token batches is not "
           "trustworthy.\n";
}

namespace {

Table sources_table(const std::vector<SourceStats>& sources) {
    Table t({"source", "tag", "bytes", "lines", "records", "gate_vectors", "skipped", "rejected",
             "offset", "lag_bytes"});
    for (const auto& s : sources)
        t.add({s.name, s.tag.empty() ? "-" : s.tag, fmt_num::integer(s.bytes),
               fmt_num::integer(s.lines), fmt_num::integer(s.records),
               fmt_num::integer(s.gate_records), fmt_num::integer(s.skipped_lines),
               fmt_num::integer(s.total_rejects()),
               s.kind == "file" ? fmt_num::integer(s.offset) : "-",
               s.kind == "file" ? fmt_num::integer(s.lag_bytes()) : "-"});
    return t;
}
}  // namespace

void write_sources_json(JsonWriter& w, const std::vector<SourceStats>& sources) {
    w.key("sources").begin_array();
    for (const auto& s : sources) {
        w.begin_object();
        w.field("source", std::string_view(s.name)).field("kind", std::string_view(s.kind));
        w.field("tag", std::string_view(s.tag)).field("bytes", s.bytes).field("lines", s.lines);
        w.field("records", s.records)
            .field("gate_records", s.gate_records)
            .field("meta_records", s.meta_records);
        w.field("skipped_lines", s.skipped_lines).field("rejected", s.total_rejects());
        w.field("batches_checked", s.batches_checked).field("batches_strided", s.batches_strided);
        if (s.kind == "tcp" || s.kind == "unix") {
            w.field("connections", s.connections)
                .field("connections_refused", s.connections_refused);
        }
        if (s.kind == "file") {
            w.field("offset", s.offset)
                .field("file_size", s.file_size)
                .field("lag_bytes", s.lag_bytes());
            w.field("restarts", s.restarts);
        }
        w.key("rejects").begin_object();
        for (int r = 0; r < kRejectReasonCount; ++r) {
            const auto i = static_cast<size_t>(r);
            if (!s.rejects[i]) continue;
            w.key(reject_reason_name(static_cast<RejectReason>(r))).begin_object();
            w.field("count", s.rejects[i]).key("samples").begin_array();
            for (const auto& x : s.reject_samples[i])
                w.value(std::string_view(x));
            w.end_array().end_object();
        }
        w.end_object();
        w.key("skipped_samples").begin_array();
        for (const auto& x : s.skipped_samples)
            w.value(std::string_view(x));
        w.end_array();
        w.end_object();
    }
    w.end_array();
}

std::string sources_text(const std::vector<SourceStats>& sources) {
    if (sources.empty()) return "No sources yet.\n";
    std::string s = sources_table(sources).render();
    for (const auto& src : sources) {
        if (auto w = strided_warning(src); !w.empty()) s += "\n" + w;
        bool header = false;
        for (int r = 0; r < kRejectReasonCount; ++r) {
            const auto i = static_cast<size_t>(r);
            if (!src.rejects[i]) continue;
            if (!header) s += "\nRejected lines of " + src.name + ":\n", header = true;
            s += "  " + std::string(reject_reason_name(static_cast<RejectReason>(r))) + ": " +
                 fmt_num::integer(src.rejects[i]) + "\n";
            for (const auto& x : src.reject_samples[i])
                s += "      e.g. " + x + "\n";
        }
        if (!src.skipped_samples.empty()) {
            s += "\nSkipped (not records) in " + src.name + ": " +
                 fmt_num::integer(src.skipped_lines) +
                 " lines (headers, blanks, other log output)\n";
            for (const auto& x : src.skipped_samples)
                s += "      e.g. " + x + "\n";
        }
    }
    return s;
}

std::string sources_csv(const std::vector<SourceStats>& sources) {
    return sources_table(sources).csv();
}

namespace {
Table tags_table(const Aggregates& agg) {
    Table t({"tag", "records", "layers", "selections", "gate_pairs"});
    for (TagId id = 0; id < agg.tag_count(); ++id) {
        const TagStats& ts = agg.tag(id);
        uint64_t pairs = 0;
        for (const auto& [k, g] : ts.gates)
            if (k.tokens == GateTokens::all) pairs += g.pairs;
        t.add({ts.name, fmt_num::integer(ts.global.tokens), std::to_string(ts.layer_ids().size()),
               fmt_num::integer(ts.global.selections()), fmt_num::integer(pairs)});
    }
    return t;
}
}  // namespace

void write_tags_json(JsonWriter& w, const Aggregates& agg) {
    w.key("tags").begin_array();
    for (TagId id = 0; id < agg.tag_count(); ++id) {
        const TagStats& ts = agg.tag(id);
        w.begin_object().field("tag", std::string_view(ts.name)).field("records", ts.global.tokens);
        w.field("layers", static_cast<uint64_t>(ts.layer_ids().size()))
            .field("selections", ts.global.selections())
            .end_object();
    }
    w.end_array();
}

std::string tags_text(const Aggregates& agg) {
    std::string s = tags_table(agg).render();
    if (agg.tag_cap_reached())
        s +=
            "note: more than " + std::to_string(agg.options().max_tags) +
            " distinct tags were seen; records of the others count under 'all' only (--max-tags)\n";
    return s;
}
std::string tags_csv(const Aggregates& agg) {
    return tags_table(agg).csv();
}

extern const CommandSpec kTagsCommand = {
    "tags",
    "Tags with their record counts",
    [](CLI::App& app, CommandArgs& a) { flag::query(app, a); },
    kNeedsNothing,
    [](JsonWriter& w, const Query& x) { write_tags_json(w, x.agg); },
    [](const Query& x) { return tags_csv(x.agg); },
    [](const Query& x) { return tags_text(x.agg); },
};

extern const CommandSpec kSourcesCommand = {
    "sources",
    "Ingest health per source: bytes, records, rejects, lag",
    [](CLI::App& app, CommandArgs& a) { flag::query(app, a); },
    kNeedsNothing,
    [](JsonWriter& w, const Query& x) { write_sources_json(w, x.sources); },
    [](const Query& x) { return sources_csv(x.sources); },
    [](const Query& x) { return sources_text(x.sources); },
};

}  // namespace moe
