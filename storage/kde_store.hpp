// Stored reference fits (the kde_fit table, docs/SCHEMA.md): `moescope kde --fit` writes
// them, `moescope kde --test --reference DB` reads them.
#pragma once

#include <string>
#include <vector>

#include "storage/sqlite.hpp"
#include "storage/tables.hpp"

namespace moe {

// Replaces every stored fit of (rows' tag, rows' value) by `fits`, in one transaction, so a
// layer that no longer has a fit does not keep an old one. `fits` must share tag and value.
void save_kde_fits(sql::Database& db, const std::vector<rows::KdeRow>& fits);
// The fits of (tag, value) by layer; empty when none are stored or the database predates
// the table.
std::vector<rows::KdeRow> load_kde_fits(const sql::Database& db, const std::string& tag,
                                        const std::string& value);
// The tags that have a stored fit of `value`, sorted.
std::vector<std::string> kde_fit_tags(const sql::Database& db, const std::string& value);
// Every stored (tag, value), sorted: what a request for a missing fit can be told.
std::vector<std::pair<std::string, std::string>> kde_fit_keys(const sql::Database& db);
// "it holds top1_weight of tag 'ref', ...", or "no fits": for the message about a fit
// that is not there.
std::string describe_kde_fits(const sql::Database& db);

}  // namespace moe
