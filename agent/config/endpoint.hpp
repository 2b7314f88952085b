#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace galeratop {

/// HOST:PORT as written by a user; IPv6 hosts are bracketed: [::1]:3306.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// Back to HOST:PORT, brackets restored for IPv6.
  std::string to_string() const;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// Parses HOST:PORT or [V6]:PORT; nullopt when malformed or the port is not 1..65535.
std::optional<endpoint> parse_endpoint(std::string_view text);

/// A `--node` argument: [NAME=]HOST:PORT.
struct named_endpoint {
  std::string name;  ///< empty when not given
  endpoint address;
};

/// Parses [NAME=]HOST:PORT; nullopt when malformed.
std::optional<named_endpoint> parse_named_endpoint(std::string_view text);

}  // namespace galeratop
