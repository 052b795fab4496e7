// Engine totals as CSV rows after a header line: "layer,expert,count" (SGLang's older
// recorder) or "layer,expert" with one row per routed selection (llama.cpp moe-trace). A
// row is a CountRecord of one expert. Rows count only after the header, so "12,5" is
// otherwise left to llama-csv (a top-1 selection line).
#pragma once

#include <array>
#include <string_view>

#include "parsers/format_parser.hpp"

namespace moe {

class CountCsvParser : public FormatParser {
  public:
    // `header`: the exact first line; `with_count`: rows carry a third column.
    CountCsvParser(std::string_view header, bool with_count)
        : header_(header), with_count_(with_count) {}

    bool claims(std::string_view line) const override;
    bool may_claim(unsigned char c) const override {
        return (c >= '0' && c <= '9') || c == '-' ||
               (!header_.empty() && c == static_cast<unsigned char>(header_.front()));
    }
    void parse(std::string_view line, RecordSink& sink) override;

    void reset() override { active_ = false; }
    void save(StateWriter& w) const override;
    bool restore(StateReader& r) override;

  private:
    std::string_view header_;
    bool with_count_;
    bool active_ = false;  // the header was seen
    std::array<double, 1> count_{};
};

}  // namespace moe
