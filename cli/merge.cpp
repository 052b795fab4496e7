#include "cli/merge.hpp"

#include <cstdio>

#include <filesystem>
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/input_files.hpp"

#include "storage/store.hpp"

namespace moe {

namespace {

// Which input brought each database id: its own id, or one merged into it earlier.
struct IdOrigin {
    std::string path;
    bool own = false;
};

// Refuses an input whose database (or one merged into it) is already counted.
void check_not_counted(const std::map<std::string, IdOrigin>& seen, const std::string& path,
                       const std::string& id, const std::vector<std::string>& merged) {
    auto refuse = [&](const std::string& why) {
        throw std::invalid_argument("cannot merge " + path + ": " + why +
                                    "; merging it would count those records twice");
    };
    for (const std::string& x : merged) {
        const auto it = seen.find(x);
        if (it == seen.end()) continue;
        if (it->second.own) refuse(path + " already contains " + it->second.path);
        refuse(path + " and " + it->second.path + " both contain database " + x);
    }
    if (const auto it = seen.find(id); !id.empty() && it != seen.end()) {
        if (it->second.own)
            refuse("it is the same database as " + it->second.path + " (id " + id + ")");
        refuse(it->second.path + " already contains it (id " + id + ")");
    }
}

}  // namespace

MergeResult merge_databases(const std::vector<std::string>& inputs, const std::string& out,
                            bool force) {
    namespace fs = std::filesystem;
    if (inputs.empty()) throw std::invalid_argument("merge needs at least one database");
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (fs::exists(out) && fs::equivalent(inputs[i], out))
            throw std::invalid_argument("--out " + out + " is also an input");
        for (size_t j = 0; j < i; ++j)
            if (fs::exists(inputs[i]) && fs::equivalent(inputs[i], inputs[j]))
                throw std::invalid_argument("cannot merge " + inputs[i] + ": given twice (as " +
                                            inputs[j] +
                                            "); merging it would count those records twice");
    }
    if (fs::exists(out) && !force)
        throw std::invalid_argument(out + " exists (use --force to replace it)");

    Aggregates merged;
    std::map<std::string_view, std::string> fact_from;  // fact key -> the input that set it
    std::map<std::string, IdOrigin> ids;
    // Imported files by content (cli/input_files.hpp): the input and source that hold each.
    std::map<std::string, std::pair<std::string, std::string>> imported;
    std::vector<SourceStats> sources;
    MergeResult result{out, inputs.size(), 0};
    for (size_t i = 0; i < inputs.size(); ++i) {
        const std::string& path = inputs[i];
        Store in = Store::open_read_only(path);
        const std::string id = in.database_id();
        const std::vector<std::string> contained = in.merged_ids();
        check_not_counted(ids, path, id, contained);
        for (const auto& x : contained)
            ids[x] = {path, false};
        if (!id.empty()) ids[id] = {path, true};

        std::vector<SourceStats> sources_of_input = in.load_sources();
        for (const SourceStats& s : sources_of_input) {
            if (s.file_id.starts_with(kContentIdPrefix)) {
                const auto [it, fresh] = imported.emplace(s.file_id, std::pair{path, s.name});
                if (!fresh && it->second.first != path)
                    throw std::invalid_argument(
                        "cannot merge " + path + ": it and " + it->second.first +
                        " both imported the same file (" + s.name + ", " + it->second.second +
                        "); merging them would count those records twice");
            }
        }

        Aggregates one;
        in.load(one);
        in.load_timeline(one);
        if (i == 0) merged.adopt_facts(one.facts());
        if (auto c = find_conflict(one.facts(), merged.facts()))
            throw IncompatibleFacts("cannot merge " + path + ": " + std::string(c->field->key) +
                                    " " + c->ours + " in " + path + " differs from " + c->theirs +
                                    " in " + fact_from[c->field->key]);
        const ModelFacts before = merged.facts();
        if (auto why = merged.merge(one))
            throw std::invalid_argument("cannot merge " + path + ": " + *why);
        for (const FactField& f : fact_fields())
            if (i == 0 || fact_text(before, f) != fact_text(merged.facts(), f))
                fact_from[f.key] = path;
        for (SourceStats s : sources_of_input) {
            // Offsets belong to the node that read the file: kept for reference, never resumed.
            s.name = path + ": " + s.name;
            result.records += s.records;
            sources.push_back(std::move(s));
        }
    }
    if (fs::exists(out))
        for (const char* suffix : {"", "-wal", "-shm"})
            fs::remove(out + suffix);
    Store store = Store::open_for_writing(out);
    std::vector<SourceStats*> ptrs;
    for (auto& s : sources)
        ptrs.push_back(&s);
    store.save(merged, ptrs, true);
    std::vector<std::string> all;
    for (const auto& [x, origin] : ids)
        all.push_back(x);
    store.set_merged_ids(all);
    return result;
}

namespace {
// The merge command's own options.
struct MergeArgs final : CommandOptions {
    std::vector<std::string> inputs;
    std::string out;
    bool force = false;
};
}  // namespace

extern const CommandSpec kMergeCommand = {
    "merge",
    "Combine databases from several nodes into one",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<MergeArgs>();
        app.add_option("databases", own.inputs, "Databases to combine")
            ->required()
            ->check(CLI::ExistingFile);
        app.add_option("--out", own.out, "The combined database to write")->required();
        app.add_flag("--force", own.force, "Replace --out if it exists");
    },
    kNoLoad,
    nullptr,
    nullptr,
    nullptr,
    [](const Query& x) {
        const auto& own = x.own<MergeArgs>();
        const MergeResult r = merge_databases(own.inputs, own.out, own.force);
        std::printf("merged %zu databases (%llu records) into %s\n", r.inputs,
                    static_cast<unsigned long long>(r.records), r.out.c_str());
        return 0;
    },
};

}  // namespace moe
