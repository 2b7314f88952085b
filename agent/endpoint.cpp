#include "endpoint.hpp"

#include <array>
#include <charconv>
#include <cmath>
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

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds{0};
  struct unit {
    std::string_view suffix;
    double ms;
  };
  // "ms" before "m" and "s": the first suffix that matches wins.
  constexpr std::array<unit, 4> units{{{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}};
  for (const auto& u : units) {
    if (!text.ends_with(u.suffix)) continue;
    const auto number = text.substr(0, text.size() - u.suffix.size());
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || value < 0 ||
        !std::isfinite(value) || value * u.ms > 1e12)
      return std::nullopt;
    return std::chrono::milliseconds{std::llround(value * u.ms)};
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms == 0) return "0";
  if (ms % 3600000 == 0) return fmt::format("{}h", ms / 3600000);
  if (ms % 60000 == 0) return fmt::format("{}m", ms / 60000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace galeratop
