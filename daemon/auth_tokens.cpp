#include "daemon/auth_tokens.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace moe {

namespace {
std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> d{};
    unsigned int n = 0;
    if (EVP_Digest(text.data(), text.size(), d.data(), &n, EVP_sha256(), nullptr) != 1 ||
        n != d.size())
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return d;
}

std::string_view trim(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && blank(s.back()))
        s.remove_suffix(1);
    return s;
}
}  // namespace

AuthTokens::AuthTokens(const std::vector<std::string>& tokens) {
    for (const auto& t : tokens)
        digests_.push_back(sha256(t));
}

AuthTokens AuthTokens::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read --auth-token-file " + path + ": " +
                                 std::strerror(errno));
    std::vector<std::string> tokens;
    std::string line;
    while (std::getline(in, line))
        if (auto t = trim(line); !t.empty()) tokens.emplace_back(t);
    if (in.bad())
        throw std::runtime_error("cannot read --auth-token-file " + path + ": " +
                                 std::strerror(errno));
    if (tokens.empty())
        throw std::runtime_error("--auth-token-file " + path + " holds no token (one a line)");
    AuthTokens out(tokens);
    for (auto& t : tokens)  // the plain text is not kept (only digests are)
        OPENSSL_cleanse(t.data(), t.size());
    return out;
}

bool AuthTokens::accepts(std::string_view candidate) const {
    const auto d = sha256(candidate);
    int match = 0;  // every digest is compared: no early exit
    for (const auto& known : digests_)
        match |= CRYPTO_memcmp(d.data(), known.data(), d.size()) == 0;
    return match != 0;
}

std::string token_file_warning(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0) return "";
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return "--auth-token-file " + path + " is readable by its group or others (mode " + mode +
           "): chmod 600 it";
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return std::nullopt;
    for (size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
            return std::nullopt;
    const auto t = trim(authorization.substr(scheme.size()));
    if (t.empty()) return std::nullopt;
    return t;
}

}  // namespace moe
