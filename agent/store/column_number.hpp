#pragma once

#include <charconv>
#include <optional>
#include <string>

namespace galeratop {

/// A whole number read from a result column (Connector/C gives text); nullopt for NULL, empty,
/// anything but digits, or out of range: a row written by hand is checked, never guessed at.
template <class Int>
std::optional<Int> column_number(const std::optional<std::string>& text) {
  Int v{};
  if (!text || text->empty()) return std::nullopt;
  const char* end = text->data() + text->size();
  auto [p, ec] = std::from_chars(text->data(), end, v);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return v;
}

}  // namespace galeratop
