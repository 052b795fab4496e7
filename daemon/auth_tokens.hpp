// Shared-secret tokens (--auth-token-file): one or more, one a line. Only their SHA-256
// digests are kept, and a candidate is compared with every one of them in constant time
// (CRYPTO_memcmp over equal-length digests), so timing tells nothing about a token.
// docs/ARCHITECTURE.md "Remote access".
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class AuthTokens {
  public:
    explicit AuthTokens(const std::vector<std::string>& tokens);
    // Reads FILE: one token a line, surrounding blanks and empty lines ignored. Throws
    // std::runtime_error with one line naming the file (unreadable, or no token in it).
    static AuthTokens load(const std::string& path);

    bool accepts(std::string_view candidate) const;
    size_t size() const { return digests_.size(); }

  private:
    std::vector<std::array<unsigned char, 32>> digests_;
};

// "" when only its owner may read the token file, else the warning moescoped logs at start
// (as ssh does for private keys): the file's path and mode, and the fix.
std::string token_file_warning(const std::string& path);

// The token of an HTTP `Authorization: Bearer TOKEN` header value, if it is one.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace moe
