#include "agent/config/endpoint.hpp"

#include <charconv>
#include <fmt/format.h>

namespace galeratop {

std::string endpoint::to_string() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // bare IPv6 needs brackets
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535)
    return std::nullopt;
  if (host.find_first_of(" \t/") != std::string_view::npos) return std::nullopt;
  return endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

std::optional<named_endpoint> parse_named_endpoint(std::string_view text) {
  std::string name;
  if (const auto eq = text.find('='); eq != std::string_view::npos) {
    name = text.substr(0, eq);
    text.remove_prefix(eq + 1);
    if (name.empty()) return std::nullopt;
  }
  auto address = parse_endpoint(text);
  if (!address) return std::nullopt;
  return named_endpoint{std::move(name), std::move(*address)};
}

}  // namespace galeratop
