// The table of input formats. The built-in one lists every format moescope reads (one
// line each in parsers/format_registry.cpp); --format, its help text, auto-detection and
// checkpoints all read it, so there is no second list to keep in step.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parsers/format.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

class FormatRegistry {
  public:
    // Throws std::invalid_argument on a duplicate name, "auto", or an entry without factory.
    explicit FormatRegistry(std::vector<FormatEntry> entries);

    // The formats moescope reads (immutable, built on first use).
    static const FormatRegistry& builtin();
    // A copy with one more format (tests, embedders).
    FormatRegistry with(FormatEntry entry) const;

    // Highest priority first; equal priorities keep table order.
    std::span<const FormatEntry> entries() const { return entries_; }
    const FormatEntry* find(std::string_view name) const;
    // "auto" or a registered name; the Format's name points into this registry's entries.
    std::optional<Format> parse(std::string_view name) const;
    // "auto" first, then every entry (highest priority first).
    std::vector<std::string> names() const;
    std::string help() const;

    // The whole-file format that reads an input starting with `head` (FormatEntry::read_file):
    // under auto the first one that claims those bytes, under a named format that format if
    // it reads whole files; nullptr for a text input.
    const FormatEntry* whole_file_format(Format format, std::string_view path,
                                         std::string_view head) const;
    // The same for the regular file `path`, whose first bytes it reads; nullptr for anything
    // else (a pipe or FIFO is read once, as a stream: its caller sniffs that stream) and for a
    // file that cannot be opened (the text reader reports that).
    const FormatEntry* file_reader(Format format, const std::string& path) const;

    // The recorders' file layouts (FormatEntry::directory_files, input_files): which of
    // `paths` are read, one flag each; a path is read when every format's layout keeps it.
    std::vector<bool> directory_files(std::span<const std::string> paths) const;
    std::vector<bool> input_files(std::span<const std::string> paths) const;

  private:
    std::vector<FormatEntry> entries_;
};

}  // namespace moe
