// JSON records: one object per line (NDJSON, the socket protocol and what Python hooks in
// vLLM/transformers write) with every field alias of docs/INPUTS.md "Log formats", meta and
// gate_input records, batches (lists of lists), and router-pipeline documents ({"samples": [...]}),
// whether on one line or pretty-printed over many (parse_document).
#pragma once

#include <memory>
#include <string_view>

#include "parsers/format_parser.hpp"

namespace moe {

class NdjsonParser final : public FormatParser {
  public:
    NdjsonParser();
    ~NdjsonParser() override;
    NdjsonParser(const NdjsonParser&) = delete;
    NdjsonParser& operator=(const NdjsonParser&) = delete;

    // A line starting with "{" (spaces aside).
    bool claims(std::string_view line) const override;
    bool may_claim(unsigned char first) const override { return first == '{'; }
    // One line holding one JSON object (simdjson on-demand; buffers are reused, so the
    // hot path does not allocate once warmed up).
    void parse(std::string_view line, RecordSink& sink) override;
    // One complete JSON document, possibly spanning many lines.
    bool reads_documents() const override { return true; }
    void parse_document(std::string_view doc, RecordSink& sink) override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;  // keeps simdjson.h out of every includer
};

}  // namespace moe
