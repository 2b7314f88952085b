#include "exporters/basic_auth.hpp"

#include <crypt.h>
#include <fmt/format.h>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <vector>

namespace galeratop {
namespace {

bool bcrypt_hash(std::string_view hash) {
  return hash.size() == 60 && (hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$"));
}

/// Whether bcrypt of `password` with the salt and cost of `hash` gives `hash`.
bool bcrypt_matches(const std::string& password, const std::string& hash) {
  // crypt_data is 32 kB: on the heap, not on the metrics thread's coroutine stack.
  auto data = std::make_unique<crypt_data>();
  const char* computed = ::crypt_r(password.c_str(), hash.c_str(), data.get());
  if (computed == nullptr) return false;
  const std::string_view out(computed);
  return out.size() == hash.size() && ::CRYPTO_memcmp(out.data(), hash.data(), hash.size()) == 0;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view authorization) {
  constexpr std::string_view scheme = "basic ";
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
    if ((authorization[i] | 0x20) != scheme[i]) return std::nullopt;
  std::string_view encoded = authorization.substr(scheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > 4096) return std::nullopt;
  std::vector<unsigned char> decoded(encoded.size() / 4 * 3 + 1);
  const int n = ::EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(encoded.data()),
                                  static_cast<int>(encoded.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as bytes of zeros: they are not part of the text.
  std::size_t size = static_cast<std::size_t>(n);
  for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '='; ++it) --size;
  const std::string text(reinterpret_cast<const char*>(decoded.data()), size);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

std::optional<basic_auth> basic_auth::parse(std::string_view text, std::string& error) {
  basic_auth out;
  int number = 0;
  while (!text.empty()) {
    ++number;
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      error = fmt::format("line {}: expected USER:BCRYPT-HASH (htpasswd -nbB USER PASSWORD writes one)", number);
      return std::nullopt;
    }
    const std::string_view hash = line.substr(colon + 1);
    if (!bcrypt_hash(hash)) {
      error = fmt::format("line {}: the hash of {} is not bcrypt ($2y$, $2b$ or $2a$ and 60 characters: "
                          "htpasswd -nbB USER PASSWORD writes one)", number, line.substr(0, colon));
      return std::nullopt;
    }
    if (!out.users_.emplace(line.substr(0, colon), hash).second) {
      error = fmt::format("line {}: user {} is given twice", number, line.substr(0, colon));
      return std::nullopt;
    }
  }
  if (out.users_.empty()) {
    error = "no user: add a USER:BCRYPT-HASH line";
    return std::nullopt;
  }
  return out;
}

bool basic_auth::allows(std::string_view authorization) const {
  const auto credentials = basic_credentials(authorization);
  if (!credentials) return false;
  const auto user = users_.find(credentials->first);
  // An unknown user is checked against a real hash, and refused after the same work.
  const bool known = user != users_.end();
  const bool matches = bcrypt_matches(credentials->second, known ? user->second : users_.begin()->second);
  return known && matches;
}

}  // namespace galeratop
