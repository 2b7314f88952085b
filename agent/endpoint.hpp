#pragma once

#include <chrono>
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

/// Parses "250ms", "2s", "1.5s", "5m", "8h" or "0"; nullopt when malformed or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Formats a duration the way parse_duration reads it ("250ms", "2s", "8h").
std::string format_duration(std::chrono::milliseconds d);

}  // namespace galeratop
