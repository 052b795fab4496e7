#include "parsers/line_parser.hpp"

#include <stdexcept>
#include <string>

#include "parsers/number_scan.hpp"

namespace moe {

LineParser::LineParser(Format format, const FormatRegistry& formats) : format_(format) {
    for (const FormatEntry& e : formats.entries())
        if (format.is_auto() || e.name == format.name()) {
            active_.push_back({e.name, e.make(format.settings()), e.strided_rows});
            if (active_.back().parser->reads_documents())
                document_readers_.push_back(active_.back().parser.get());
        }
    if (active_.empty() && !format.is_auto())
        throw std::invalid_argument("unknown input format '" + std::string(format.name()) + "'");
    for (size_t c = 0; c < by_first_.size(); ++c)
        for (const Active& a : active_)
            if (a.parser->may_claim(static_cast<unsigned char>(c))) by_first_[c].push_back(&a);
}

void LineParser::parse(std::string_view line, RecordSink& sink) {
    const std::string_view trimmed = scan::trim(line);
    if (trimmed.empty()) return sink.on_skip(SkipKind::blank, line);
    if (!format_.is_auto()) {
        strided_rows_ = active_.front().strided_rows;
        return active_.front().parser->parse(line, sink);
    }
    for (const Active* a : candidates(trimmed))
        if (a->parser->claims(line)) {
            strided_rows_ = a->strided_rows;
            return a->parser->parse(line, sink);
        }
    skip_unrecognized(line, sink);
}

void LineParser::parse_document(std::string_view doc, RecordSink& sink) {
    if (document_readers_.empty())
        return sink.on_reject(RejectReason::malformed, reject_sample(doc));
    for (FormatParser* p : document_readers_)
        if (p->claims(doc)) return p->parse_document(doc, sink);
    document_readers_.front()->parse_document(doc, sink);
}

bool LineParser::whole_without_newline(std::string_view line) const {
    if (!format_.is_auto()) return active_.front().parser->whole_without_newline();
    const std::string_view trimmed = scan::trim(line);
    if (trimmed.empty()) return false;
    for (const Active* a : candidates(trimmed))
        if (a->parser->claims(line)) return a->parser->whole_without_newline();
    return false;
}

void LineParser::reset() {
    for (Active& a : active_)
        a.parser->reset();
}

void LineParser::save(StateWriter& w) const {
    std::vector<std::pair<std::string_view, std::string>> states;
    for (const Active& a : active_) {
        StateWriter one;
        a.parser->save(one);
        if (std::string s = one.take(); !s.empty()) states.emplace_back(a.name, std::move(s));
    }
    w.put<uint32_t>(static_cast<uint32_t>(states.size()));
    for (const auto& [name, state] : states) {
        w.put_string(name);
        w.put_string(state);
    }
}

bool LineParser::restore(StateReader& r) {
    reset();
    const auto n = r.get<uint32_t>();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const std::string name = r.get_string();
        const std::string state = r.get_string();
        if (r.ok() && !restore_format(name, state)) return false;
    }
    return r.ok();
}

bool LineParser::restore_format(std::string_view name, std::string_view state) {
    for (Active& a : active_)
        if (a.name == name) {
            StateReader r(state);
            if (a.parser->restore(r) && r.at_end()) return true;
            a.parser->reset();
            return false;
        }
    return true;  // a format this stream does not use (--format changed): nothing to restore
}

}  // namespace moe
