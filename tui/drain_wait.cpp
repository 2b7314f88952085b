#include "tui/drain_wait.hpp"

#include <fmt/format.h>

#include "agent/config/duration.hpp"

namespace galeratop {

drain_progress drain_wait_progress(const nlohmann::json& status, const std::string& name, const std::string& address,
                                   std::chrono::milliseconds elapsed, std::chrono::milliseconds timeout) {
  const nlohmann::json* node = nullptr;
  if (const auto nodes = status.find("nodes"); nodes != status.end() && nodes->is_array())
    for (const nlohmann::json& n : *nodes)
      if (n.value("address", "") == address) node = &n;
  if (!node) return {drain_wait::removed, 0, fmt::format("{} is no longer configured", name)};
  if (node->value("admin", "") == "ready")
    return {drain_wait::readied, 0, fmt::format("{} was put back to ready while draining", name)};
  const auto left = node->value("connections", std::int64_t{0});
  const double seconds = std::chrono::duration<double>(elapsed).count();
  if (left == 0)
    return {drain_wait::drained, 0, fmt::format("{} drained: no connection left after {:.1f} s", name, seconds)};
  if (elapsed >= timeout)
    return {drain_wait::timed_out, left,
            fmt::format("{} still has {} connection(s) after {}; it stays drained", name, left,
                        format_duration(timeout))};
  return {drain_wait::draining, left, fmt::format("{}: {} connection(s) left ({:.0f} s)", name, left, seconds)};
}

}  // namespace galeratop
