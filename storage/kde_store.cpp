#include "storage/kde_store.hpp"

#include <cmath>
#include <set>

namespace moe {

using namespace rows;

void save_kde_fits(sql::Database& db, const std::vector<KdeRow>& fits) {
    if (fits.empty()) return;
    sql::Transaction tx(db);
    auto del = db.prepare("DELETE FROM " + kde_table().name + " WHERE tag = ? AND value = ?");
    del.bind(1, fits.front().tag).bind(2, fits.front().value).run();
    auto ins = db.prepare(kde_table().insert_sql());
    for (const KdeRow& r : fits)
        kde_table().put(ins, r);
    tx.commit();
}

namespace {
template <class Each>
void each_fit(const sql::Database& db, Each each) {
    if (!db.has_table(kde_table().name)) return;  // written before kde_fit existed
    kde_table().read(
        db, "tag, value, layer", [](KdeRow&) { return true; },
        [&](KdeRow& r) {
            if (r.cdf.size() < 2 || !(r.hi > r.lo) || !(r.bandwidth > 0) || r.layer < 0)
                throw sql::StorageError(db.path() + ": corrupt kde_fit row");
            each(r);
        });
}
}  // namespace

std::vector<KdeRow> load_kde_fits(const sql::Database& db, const std::string& tag,
                                  const std::string& value) {
    std::vector<KdeRow> out;
    each_fit(db, [&](KdeRow& r) {
        if (r.tag == tag && r.value == value) out.push_back(std::move(r));
    });
    return out;
}

std::vector<std::pair<std::string, std::string>> kde_fit_keys(const sql::Database& db) {
    std::set<std::pair<std::string, std::string>> keys;
    each_fit(db, [&](KdeRow& r) { keys.insert({r.tag, r.value}); });
    return {keys.begin(), keys.end()};
}

std::string describe_kde_fits(const sql::Database& db) {
    std::string held;
    for (const auto& [tag, value] : kde_fit_keys(db))
        held += (held.empty() ? "" : ", ") + value + " of tag '" + tag + "'";
    return held.empty() ? "no fits" : "it holds " + held;
}

std::vector<std::string> kde_fit_tags(const sql::Database& db, const std::string& value) {
    std::vector<std::string> tags;
    for (auto& [tag, v] : kde_fit_keys(db))
        if (v == value) tags.push_back(tag);
    return tags;
}

}  // namespace moe
