#include "agent/config/duration.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace galeratop {

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
