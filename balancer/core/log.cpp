#include "balancer/core/log.hpp"

#include <atomic>
#include <chrono>
#include <unistd.h>

namespace galeratop {
namespace {
std::atomic<log_level> lowest_level{log_level::info};

std::string_view level_name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "info";
}
}  // namespace

void set_log_level(log_level lowest) { lowest_level = lowest; }

void log_line(log_level level, std::string_view message) {
  if (level < lowest_level.load(std::memory_order_relaxed)) return;
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  // One write(2) per line so that lines from the monitor threads never interleave.
  const std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {}: {}\n", utc.tm_year + 1900,
                                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms,
                                       level_name(level), message);
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace galeratop
