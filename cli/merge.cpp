#include "cli/merge.hpp"

#include <cstdio>

#include <filesystem>
#include <stdexcept>

#include "cli/command.hpp"

#include "storage/store.hpp"

namespace moe {

MergeResult merge_databases(const std::vector<std::string>& inputs, const std::string& out,
                            bool force) {
    namespace fs = std::filesystem;
    if (inputs.empty()) throw std::invalid_argument("merge needs at least one database");
    for (const auto& in : inputs)
        if (fs::exists(out) && fs::equivalent(in, out))
            throw std::invalid_argument("--out " + out + " is also an input");
    if (fs::exists(out)) {
        if (!force) throw std::invalid_argument(out + " exists (use --force to replace it)");
        for (const char* suffix : {"", "-wal", "-shm"})
            fs::remove(out + suffix);
    }

    Aggregates merged;
    std::vector<SourceStats> sources;
    MergeResult result{out, inputs.size(), 0};
    for (const auto& path : inputs) {
        Store in = Store::open_read_only(path);
        Aggregates one;
        in.load(one);
        in.load_timeline(one);
        if (auto why = merged.merge(one))
            throw std::runtime_error("cannot merge " + path + ": " + *why);
        for (SourceStats s : in.load_sources()) {
            // Offsets belong to the node that read the file: kept for reference, never resumed.
            s.name = path + ": " + s.name;
            result.records += s.records;
            sources.push_back(std::move(s));
        }
    }
    Store store = Store::open_for_writing(out);
    std::vector<SourceStats*> ptrs;
    for (auto& s : sources)
        ptrs.push_back(&s);
    store.save(merged, ptrs, true);
    return result;
}

extern const CommandSpec kMergeCommand = {
    "merge",
    "Combine databases from several nodes into one",
    [](CLI::App& app, CommandArgs& a) {
        app.add_option("databases", a.merge_inputs, "Databases to combine")
            ->required()
            ->check(CLI::ExistingFile);
        app.add_option("--out", a.merge_out, "The combined database to write")->required();
        app.add_flag("--force", a.force, "Replace --out if it exists");
    },
    kNoLoad,
    nullptr,
    nullptr,
    nullptr,
    [](const Query& x) {
        const MergeResult r = merge_databases(x.args.merge_inputs, x.args.merge_out, x.args.force);
        std::printf("merged %zu databases (%llu records) into %s\n", r.inputs,
                    static_cast<unsigned long long>(r.records), r.out.c_str());
        return 0;
    },
};

}  // namespace moe
