#include "cli/merge.hpp"

#include <filesystem>
#include <stdexcept>

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

}  // namespace moe
