#include "cli/input_files.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

#include "cli/table.hpp"

namespace moe {

namespace {

// Why a directory entry is not read: "" for a regular file or a subdirectory (the expansion
// is not recursive), else what it is. Links are followed; a loop must not stop the others.
std::string unread_entry(const std::filesystem::directory_entry& e) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = e.status(ec);
    switch (st.type()) {
        case fs::file_type::regular:
        case fs::file_type::directory:
            return "";
        case fs::file_type::not_found:
            return "a dangling symbolic link";
        case fs::file_type::fifo:
            return "a FIFO";
        case fs::file_type::socket:
            return "a socket";
        case fs::file_type::block:
        case fs::file_type::character:
            return "a device";
        default:
            if (ec == std::errc::too_many_symbolic_link_levels) return "a symbolic link loop";
            return ec ? ec.message() : "not a regular file";
    }
}

// One warning line for what a directory argument left out, counted, the first few named.
void warn_unread(const std::string& dir, const std::vector<std::string>& unread) {
    if (unread.empty()) return;
    constexpr size_t kNamed = 8;
    std::string names;
    for (size_t i = 0; i < unread.size() && i < kNamed; ++i)
        names += (i ? ", " : "") + unread[i];
    if (unread.size() > kNamed) names += ", ...";
    const bool one = unread.size() == 1;
    std::fprintf(stderr, "moescope: warning: %s\n",
                 printable(dir + ": skipped " + std::to_string(unread.size()) +
                           (one ? " entry that is not a regular file: "
                                : " entries that are not regular files: ") +
                           names)
                     .c_str());
}

// `items` whose flag in `keep` is true, in order.
template <class T>
std::vector<T> keep_flagged(std::vector<T> items, const std::vector<bool>& keep) {
    std::vector<T> out;
    for (size_t i = 0; i < items.size(); ++i)
        if (keep[i]) out.push_back(std::move(items[i]));
    return out;
}

}  // namespace

std::vector<AnalyzeInput> expand_inputs(const std::vector<AnalyzeInput>& inputs,
                                        const FormatRegistry& formats) {
    namespace fs = std::filesystem;
    std::vector<AnalyzeInput> out;
    for (const AnalyzeInput& in : inputs) {
        std::error_code ec;
        if (in.path == "-" || !fs::is_directory(in.path, ec)) {
            out.push_back(in);
            continue;
        }
        std::vector<std::string> names, unread;
        for (fs::directory_iterator it(in.path, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string base = it->path().filename().string();
            if (base.starts_with(".")) continue;
            if (std::string why = unread_entry(*it); !why.empty())
                unread.push_back(base + " (" + why + ")");
            else if (std::error_code e; it->is_regular_file(e))
                names.push_back(it->path().string());
        }
        if (ec) throw std::runtime_error("cannot list " + in.path + ": " + ec.message());
        std::sort(unread.begin(), unread.end());
        warn_unread(in.path, unread);
        std::sort(names.begin(), names.end());
        const std::vector<bool> data = formats.directory_files(names);  // a recorder's own
        for (auto& n : keep_flagged(std::move(names), data))
            out.push_back({std::move(n), in.tag, in.path});
    }
    std::vector<std::string> paths;
    for (const AnalyzeInput& in : out)
        paths.push_back(in.path);
    const std::vector<bool> current = formats.input_files(paths);  // superseded ones left out
    return keep_flagged(std::move(out), current);
}

std::string tag_of_file_name(const std::string& path) {
    std::filesystem::path name = std::filesystem::path(path).filename();
    for (const char* packed : {".gz", ".zst"})  // what InputReader decompresses
        if (name.extension() == packed) name = name.stem();
    const std::string stem = name.stem().string();
    return stem.empty() ? name.string() : stem;
}

std::vector<AnalyzeInput> expand_inputs(const std::vector<AnalyzeInput>& inputs,
                                        bool tag_from_name) {
    if (!tag_from_name) return expand_inputs(inputs);
    for (const AnalyzeInput& in : inputs) {
        if (in.path == "-")
            throw std::invalid_argument(
                "--tag-from-name: standard input has no file name (tag it as -=TAG)");
        if (!in.tag.empty())
            throw std::invalid_argument("--tag-from-name: " + in.path + "=" + in.tag +
                                        " names its tag already (give one or the other)");
    }
    std::vector<AnalyzeInput> read = expand_inputs(inputs);
    for (AnalyzeInput& in : read)
        in.tag = tag_of_file_name(in.path);
    return read;
}

std::string content_id(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                      EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 unavailable");
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) throw std::runtime_error("cannot read " + path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    std::string out(kContentIdPrefix);
    static const char* hex = "0123456789abcdef";
    for (unsigned i = 0; i < len; ++i)
        out.append({hex[md[i] >> 4], hex[md[i] & 15]});
    return out;
}

}  // namespace moe
