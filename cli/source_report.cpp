#include "cli/source_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/deep_report.hpp"
#include "cli/table.hpp"
#include "cli/time_spec.hpp"
#include "storage/store.hpp"
#include "storage/writer_lock.hpp"

namespace moe {

// A warning for people when a log shows the llama-server patch's strided-view defect,
// wrapped at 100 columns.
std::string strided_warning(const SourceStats& s) {
    if (s.batches_strided == 0 || s.batches_strided * 2 < s.batches_checked) return {};
    return wrap(
        "warning: ",
        std::to_string(s.batches_strided) + " of " + std::to_string(s.batches_checked) +
            " multi-token batches in " + s.name +
            " list every expert exactly once in their first E/k lines: the llama-server logging "
            "patch's strided-view defect. " +
            (s.strided_excluded ? std::to_string(s.strided_excluded) +
                                      " rows after a batch's first were left out (docs/FIGURES.md "
                                      "\"Data quality\")."
                                : std::string("Rows after a batch's first are still counted "
                                              "(--keep-suspect): not trustworthy.")),
        100, "  ");
}

namespace {

// Active: the daemon saved a change of the source (bytes, records, rejects, a restart)
// within the last kActiveSeconds (docs/FIGURES.md "Ingest health").
constexpr double kActiveSeconds = 300;
bool is_active(const SourceStats& s, double now) {
    return s.kind != "import" && s.last_seen > 0 && now - s.last_seen <= kActiveSeconds;
}

// For CSV (the text shows sources as blocks): "does not apply" is an empty cell.
Table sources_table(const std::vector<SourceStats>& sources) {
    Table t({"source", "tag", "bytes", "lines", "records", "gate_vectors", "skipped", "rejected",
             "offset", "lag_bytes", "restarts", "last_seen", "active"});
    const auto now = static_cast<double>(now_seconds());  // the CLI's one clock
    const std::string none;
    for (const auto& s : sources) {
        const bool file = s.kind == "file", stored = s.last_seen > 0;
        t.add({s.name, s.tag, fmt_num::integer(s.bytes), fmt_num::integer(s.lines),
               fmt_num::integer(s.records), fmt_num::integer(s.gate_records),
               fmt_num::integer(s.skipped_lines), fmt_num::integer(s.total_rejects()),
               file ? fmt_num::integer(s.offset) : none,
               file ? fmt_num::integer(s.lag_bytes()) : none,
               file ? fmt_num::integer(s.restarts) : none,
               stored ? iso_utc(static_cast<int64_t>(s.last_seen)) : none,
               s.kind == "import" ? "imported"
               : stored           ? (is_active(s, now) ? "yes" : "no")
                                  : none});
    }
    return t;
}
}  // namespace

void write_sources_json(JsonWriter& w, const std::vector<SourceStats>& sources) {
    w.key("sources").begin_array();
    const auto now = static_cast<double>(now_seconds());  // the CLI's one clock
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
            w.field("file_id", std::string_view(s.file_id)).field("restarts", s.restarts);
        }
        if (s.last_seen > 0)  // a database's source (FILE arguments have no history)
            w.field("last_seen", s.last_seen)
                .field("last_seen_utc",
                       std::string_view(iso_utc(static_cast<int64_t>(s.last_seen))))
                .field("active", is_active(s, now));
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

namespace {
// "      e.g. SAMPLE" within 100 columns: a sample (up to kRejectSampleBytes of the line) is
// cut, at a character's start, to what fits once escaped; JSON keeps it whole.
std::string sample_line(const std::string& x) {
    constexpr size_t kRoom = 100 - 11;
    size_t n = x.size();
    if (printable(x).size() > kRoom) {
        n = std::min(n, kRoom - 3);
        while (n > 0 && (printable(x.substr(0, n)).size() > kRoom - 3 ||
                         (static_cast<unsigned char>(x[n]) & 0xC0) == 0x80))
            --n;
    }
    return "      e.g. " + x.substr(0, n) + (n < x.size() ? "..." : "") + "\n";
}

// One source for people: a block of short lines, so that it fits 100 columns however many
// counters there are (as one table row it took 152 to 247; issue 31). CSV keeps the table.
std::string source_block(const SourceStats& s, double now) {
    using fmt_num::integer;
    std::string out = s.name + " (" + (s.tag.empty() ? "untagged" : "tag '" + s.tag + "'") + ", " +
                      s.kind + ")\n";
    const auto n = [](uint64_t v, const char* one, const char* many) {
        return integer(v) + " " + (v == 1 ? one : many);
    };
    out += "  read      " + n(s.bytes, "byte", "bytes") + ", " + n(s.lines, "line", "lines") +
           ": " + n(s.records, "record", "records") + ", " +
           n(s.gate_records, "gate vector", "gate vectors") + ", " + integer(s.skipped_lines) +
           " skipped, " + integer(s.total_rejects()) + " rejected\n";
    std::string left;  // records read but proven wrong: lines = records + skipped + ...
    for (const QualityCheck& c : quality_checks())
        if (c.suspect && s.excluded(*c.suspect))
            left += (left.empty() ? "" : ", ") + integer(s.excluded(*c.suspect)) + " records (" +
                    std::string(c.label) + ")";
    if (!left.empty()) out += "  left out  " + left + " (docs/FIGURES.md \"Data quality\")\n";
    if (s.kind == "import") {
        out += "  imported  read once, to its end (not a followed file)\n";
    } else if (s.kind == "file") {
        out += "  position  offset " + integer(s.offset) + ", lag " + integer(s.lag_bytes()) +
               " bytes, " + integer(s.restarts) + " restarts (truncations, rotations)\n";
    }
    if (s.last_seen > 0 && s.kind != "import")
        out += "  seen      " + iso_utc(static_cast<int64_t>(s.last_seen)) +
               (is_active(s, now) ? ", active" : ", not active (nothing for 300 s)") + "\n";
    return out;
}
}  // namespace

std::string sources_text(const std::vector<SourceStats>& sources) {
    if (sources.empty()) return "No sources yet.\n";
    std::string s;
    const auto now = static_cast<double>(now_seconds());  // the CLI's one clock
    for (const auto& src : sources)
        s += source_block(src, now);
    for (const auto& src : sources) {
        if (auto w = strided_warning(src); !w.empty()) s += "\n" + w;
        bool header = false;
        for (int r = 0; r < kRejectReasonCount; ++r) {
            const auto i = static_cast<size_t>(r);
            if (!src.rejects[i]) continue;
            if (!header)
                s += "\n" + wrap("", "Rejected lines of " + src.name + ":", 100, ""), header = true;
            s += "  " + std::string(reject_reason_name(static_cast<RejectReason>(r))) + ": " +
                 fmt_num::integer(src.rejects[i]) + "\n";
            for (const auto& x : src.reject_samples[i])
                s += sample_line(x);
        }
        if (!src.skipped_samples.empty()) {
            s += "\n" + wrap("",
                             "Skipped (not records) in " + src.name + ": " +
                                 fmt_num::integer(src.skipped_lines) +
                                 " lines (headers, blanks, other log output)",
                             100, "  ");
            for (const auto& x : src.skipped_samples)
                s += sample_line(x);
        }
    }
    return s;
}

std::string sources_csv(const std::vector<SourceStats>& sources) {
    return sources_table(sources).csv();
}

namespace {
// What the tag's data supports (docs/FIGURES.md "Count-only data"), from the stored
// layer_stats.counted: engine totals only, per-token records only, or both.
std::string_view data_kind(const LayerStats& g) {
    if (g.count_only()) return "count-only";
    return g.counted > 0 ? "mixed" : "per-token";
}

// A tag named but never given a record (a FILE=TAG or --tag-from-name whose records carry
// their own tag field) is not listed: it would read as a workload of 0 records.
bool listed(const Aggregates& agg, TagId id) {
    const TagStats& ts = agg.tag(id);
    return id == kAllTag || !ts.layer_ids().empty() || !ts.gates.empty();
}

Table tags_table(const Aggregates& agg) {
    Table t({"tag", "records", "layers", "selections", "gate_pairs", "data"});
    for (TagId id = 0; id < agg.tag_count(); ++id) {
        if (!listed(agg, id)) continue;
        const TagStats& ts = agg.tag(id);
        uint64_t pairs = 0;
        for (const auto& [k, g] : ts.gates)
            if (k.tokens == GateTokens::all) pairs += g.pairs;
        t.add({ts.name,
               ts.global.tokens_known() ? fmt_num::integer(ts.global.tokens) : std::string("-"),
               std::to_string(ts.layer_ids().size()), fmt_num::integer(ts.global.selections()),
               fmt_num::integer(pairs), std::string(data_kind(ts.global))});
    }
    return t;
}
}  // namespace

void write_tags_json(JsonWriter& w, const Aggregates& agg) {
    w.key("tags").begin_array();
    for (TagId id = 0; id < agg.tag_count(); ++id) {
        if (!listed(agg, id)) continue;
        const TagStats& ts = agg.tag(id);
        w.begin_object().field("tag", std::string_view(ts.name));
        w.field("records", ts.global.tokens_known() ? static_cast<double>(ts.global.tokens) : NAN);
        w.field("layers", static_cast<uint64_t>(ts.layer_ids().size()))
            .field("selections", ts.global.selections())
            .field("data", data_kind(ts.global))
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

namespace {
// The sources command's own option: --forget NAME.
struct SourcesArgs final : CommandOptions {
    std::string forget;
};

// `sources --forget NAME`: the one write of the CLI, under the daemon's writer lock so that
// it never races a running moescoped (storage/writer_lock.hpp).
int forget_source(const Query& x) {
    const std::string& name = x.own<SourcesArgs>().forget;
    if (x.db.empty())
        throw std::invalid_argument(
            "--forget removes a source from a database (--db), not from "
            "FILE arguments");
    bool known = false;
    std::string names;
    for (const auto& s : x.sources) {
        known = known || s.name == name;
        names += (names.empty() ? "" : ", ") + s.name;
    }
    if (!known)
        throw std::invalid_argument("no source named '" + name + "' in " + x.db +
                                    "; known: " + (names.empty() ? "none" : names));
    const UniqueFd lock = lock_writer_or_refuse(x.db, "stop it before forgetting a source");
    if (!Store::open_for_writing(x.db).forget_source(name))
        throw std::invalid_argument("no source named '" + name + "' in " + x.db);
    std::printf("forgot source %s (its records stay counted)\n", name.c_str());
    return 0;
}
}  // namespace

extern const CommandSpec kSourcesCommand;
const CommandSpec kSourcesCommand = {
    "sources",
    "Ingest health per source: bytes, records, rejects, lag, restarts, last seen, active",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<SourcesArgs>();
        flag::query(app, a);
        app.add_option("--forget", own.forget,
                       "Remove this stale source's row and rejects from the database (not while "
                       "moescoped runs on it)");
    },
    kNeedsNothing,
    [](JsonWriter& w, const Query& x) { write_sources_json(w, x.sources); },
    [](const Query& x) { return sources_csv(x.sources); },
    [](const Query& x) { return sources_text(x.sources); },
    [](const Query& x) {
        if (!x.own<SourcesArgs>().forget.empty()) return forget_source(x);
        return print(kSourcesCommand, x);
    },
};

}  // namespace moe
