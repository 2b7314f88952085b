#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace galeratop {

/// The user and password of an Authorization header's value "Basic BASE64(USER:PASSWORD)"; nullopt
/// when it is another scheme or not valid base64 (pure).
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view authorization);

/// The users /metrics lets in (agent.metrics_basic_auth_users): USER:BCRYPT-HASH lines, as
/// `htpasswd -nbB` writes them and as Prometheus's exporters keep them in basic_auth_users.
class basic_auth {
 public:
  /// Parses the file's text (pure); nullopt with `error` ("line N: ...") when a line is not
  /// USER:HASH with a bcrypt hash ($2y$, $2b$ or $2a$), or a user is given twice. Blank lines and
  /// lines starting with # are skipped.
  static std::optional<basic_auth> parse(std::string_view text, std::string& error);

  /// Whether the Authorization header's value names a user and its password (bcrypt, through
  /// libcrypt). A user that does not exist costs one bcrypt all the same, so the time it takes does
  /// not tell which users exist; the hashes are compared in constant time.
  bool allows(std::string_view authorization) const;

  /// How many users there are.
  std::size_t size() const { return users_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> users_;  // user -> bcrypt hash; never empty
};

}  // namespace galeratop
