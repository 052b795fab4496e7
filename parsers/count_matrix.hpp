// Engine totals as JSON: a [layers][experts] table, or [steps][layers][experts] summed over
// steps (SGLang's logical_count, lmdeploy's experts_counts files). Shared by the JSON
// recorder formats; it knows nothing of which engine wrote the numbers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/record_sink.hpp"

namespace moe {

class CountMatrix {
  public:
    CountMatrix();
    ~CountMatrix();
    CountMatrix(const CountMatrix&) = delete;
    CountMatrix& operator=(const CountMatrix&) = delete;

    // Parses `json` (a whole document) and delivers each layer row as a CountRecord (row i is
    // layer i; in an object {"LAYER": [experts], ...} the keys are the layer ids). `key`
    // empty: the document is the table; else the table is that field of the top-level
    // object. Anything else (not JSON, ragged rows, a non-number) is one reject: the
    // document is one record of its format. `tokens_key`: a top-level field holding the
    // token count; when every layer's selections are the same whole multiple k of it, a
    // MetaRecord with top-k k comes before the counts, else one invalid_meta reject says why.
    void parse(std::string_view json, std::string_view key, RecordSink& sink,
               std::string_view tokens_key = {});

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;  // keeps simdjson.h out of every includer
};

// The first non-space bytes: whether `text` opens a JSON array of arrays ("[[", spaces and
// newlines allowed between) or an object with `key` among its first bytes.
bool opens_array_of_arrays(std::string_view text);
bool opens_object_with(std::string_view text, std::string_view key);

}  // namespace moe
