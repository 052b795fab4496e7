#include "cli/input_warnings.hpp"

#include "cli/source_report.hpp"
#include "ingest/identical_runs.hpp"

namespace moe {

namespace {

struct Warning {
    std::string_view code;
    const SourceStats* source;
    uint64_t count, records, excluded;
    std::string message;
};

std::vector<Warning> warnings_of(const std::vector<SourceStats>& sources) {
    std::vector<Warning> out;
    for (const SourceStats& s : sources) {
        if (s.identical_runs)
            out.push_back(
                {"identical_routing_run", &s, s.identical_runs, s.identical_records,
                 s.identical_excluded,
                 std::to_string(s.identical_runs) +
                     " run(s) of >= " + std::to_string(IdenticalRuns::kMinRun) +
                     " identical routings of one layer (warm-up batches?) in " + s.name + ": " +
                     std::to_string(s.identical_records) + " records, " +
                     (s.identical_excluded
                          ? std::to_string(s.identical_excluded) +
                                " left out (each run's first counts; --keep-suspect keeps them)"
                          : "counted (--keep-suspect)")});
        if (s.truncated)
            out.push_back({"truncated_input", &s, 1, 0, 0,
                           s.name + " ends inside compressed data (truncated): the records "
                                    "before the cut are counted"});
        if (!strided_warning(s).empty() || s.strided_streams)
            out.push_back({"strided_view", &s, s.batches_strided, 0, s.strided_excluded,
                           "multi-token batches show the llama-server strided-view defect"});
    }
    return out;
}

}  // namespace

void write_warnings_json(JsonWriter& w, const std::vector<SourceStats>& sources) {
    w.key("warnings").begin_array();
    for (const Warning& x : warnings_of(sources)) {
        w.begin_object().field("code", x.code).field("source", std::string_view(x.source->name));
        w.field("count", x.count).field("records", x.records).field("excluded", x.excluded);
        w.field("message", std::string_view(x.message)).end_object();
    }
    w.end_array();
}

std::string warnings_text(const std::vector<SourceStats>& sources) {
    std::string s;
    for (const Warning& x : warnings_of(sources))
        if (x.code != "strided_view") s += wrap("warning: ", x.message, 100, "  ");
    return s;
}

}  // namespace moe
