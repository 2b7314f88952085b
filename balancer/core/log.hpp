#pragma once

#include <fmt/format.h>
#include <string_view>

namespace galeratop {

/// Severity of a log line.
enum class log_level { debug, info, warning, error };

/// Writes one line to stderr: UTC timestamp, level, message. Thread-safe
/// (one write(2) per line). Not for the per-packet path.
void log_line(log_level level, std::string_view message);

/// Sets the lowest level written; debug lines are dropped by default.
void set_log_level(log_level lowest);

template <class... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_line(log_level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... args) {
  log_line(log_level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line(log_level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  log_line(log_level::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace galeratop
