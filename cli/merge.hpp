// `moescope merge A.db B.db ... --out fleet.db`: one database from many nodes' databases.
// Every stored aggregate is additive (hits, co-occurrence, moments, histograms, timeline
// buckets); EMAs add (docs/FIGURES.md "EMA"). Databases whose model facts differ (analytics/
// model_facts.hpp), or that were already merged in, are refused with the reason.
#pragma once

#include <string>
#include <vector>

namespace moe {

struct MergeResult {
    std::string out;
    size_t inputs = 0;
    uint64_t records = 0;
};

// Throws std::invalid_argument (incompatible facts, a database counted twice, an existing
// output) or StorageError (unreadable input); nothing is written then.
MergeResult merge_databases(const std::vector<std::string>& inputs, const std::string& out,
                            bool force);

}  // namespace moe
