#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace galeratop {

/// Parses "250ms", "2s", "1.5s", "5m", "8h" or "0"; nullopt when malformed or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Formats a duration the way parse_duration reads it ("250ms", "2s", "8h").
std::string format_duration(std::chrono::milliseconds d);

}  // namespace galeratop
