// `moescope formats`: the input formats --format takes, each with what it reads, from the
// one format registry (parsers/format_registry.cpp). --help names them only, so that it
// fits the terminal (issue 31).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/table.hpp"
#include "parsers/format_registry.hpp"

namespace moe {

namespace {

Table formats_table() {
    Table t({"format", "reads"});
    t.add({"auto", "any of the below, detected per line (the default)"});
    for (const FormatEntry& e : FormatRegistry::builtin().entries())
        t.add({std::string(e.name), std::string(e.description)});
    return t;
}

int print_formats(const Query& x) {
    std::string out;
    if (x.args.json) {
        JsonWriter w(out);
        w.begin_object().key("formats").begin_array();
        for (const std::string& name : format_names()) {
            const FormatEntry* e = FormatRegistry::builtin().find(name);
            w.begin_object().field("format", std::string_view(name));
            w.field("reads", e ? e->description : std::string_view("detected per line"));
            w.end_object();
        }
        w.end_array().end_object();
        out += "\n";
    } else if (x.args.csv) {
        out = formats_table().csv();
    } else {
        // The descriptions wrap under themselves: the table stays within 100 columns.
        for (const FormatEntry& e : FormatRegistry::builtin().entries())
            out += wrap("  " + std::string(e.name) +
                            std::string(16 - std::min<size_t>(15, e.name.size()), ' '),
                        e.description, 100, std::string(18, ' '));
        out = "Input formats (--format NAME; auto detects them per line):\n" + out;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace

extern const CommandSpec kFormatsCommand = {
    "formats",
    "The input formats --format takes, each with what it reads",
    [](CLI::App& app, CommandArgs& a) { flag::output(app, a); },
    kNoLoad,
    nullptr,
    nullptr,
    nullptr,
    print_formats,
};

}  // namespace moe
