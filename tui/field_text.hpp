#pragma once

#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

namespace galeratop {

// How the client shows the agent's figures to people, shared by `galeratop status` and the screen.

/// A field of a status object as a person reads it: "-" when absent or null, strings as
/// they are, whole numbers without a decimal point (wsrep counters arrive as doubles).
inline std::string field_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_number_float() && std::trunc(it->get<double>()) == it->get<double>())
    return fmt::format("{:.0f}", it->get<double>());
  return it->is_string() ? it->get<std::string>() : it->dump();
}

/// A node's state as galeratop shows it: "suspect" while its checks get no answer in time (the
/// status object keeps the last Galera state it reported, and says `suspect` apart), else the state.
inline std::string shown_state(const nlohmann::json& node) {
  return node.value("suspect", false) ? std::string("suspect") : field_text(node, "state");
}

/// A node's share of all the connections, 0 to 1; 0 when there are none at all.
inline double share_of(std::uint64_t connections, std::uint64_t total) {
  return total == 0 ? 0 : static_cast<double>(connections) / static_cast<double>(total);
}

/// A node's share of the connections as the SHARE column shows it, "40%"; "-" when there are none at all.
inline std::string share_text(std::uint64_t connections, std::uint64_t total) {
  return total == 0 ? "-" : fmt::format("{:.0f}%", 100.0 * share_of(connections, total));
}

/// A node's queries per second over the agent's last ~5 s, in at most 5 columns; "-" from an
/// agent that does not count queries.
inline std::string qps_text(const nlohmann::json& node) {
  auto it = node.find("queries_per_second");
  if (it == node.end() || !it->is_number()) return "-";
  const double v = it->get<double>();
  if (v < 10) return fmt::format("{:.1f}", v);
  if (v < 99'999.5) return fmt::format("{:.0f}", v);
  return fmt::format("{:.0f}k", v / 1000);
}

/// A node's p99 query latency over the agent's last ~5 s, in milliseconds and at most 5 columns
/// (the agent caps it at the highest bucket, 5000); "-" when no query ended in that time.
inline std::string p99_text(const nlohmann::json& node) {
  auto it = node.find("query_p99_ms");
  if (it == node.end() || !it->is_number()) return "-";
  const double v = it->get<double>();
  return v < 10 ? fmt::format("{:.1f}", v) : fmt::format("{:.0f}", v);
}

/// A span of seconds the way top and htop show one: "42s", "3m07s", "5h02m", "4d03h".
inline std::string elapsed_text(double seconds) {
  const auto s = static_cast<long>(seconds);
  if (s < 120) return fmt::format("{}s", s);
  if (s < 7200) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 172800) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  return fmt::format("{}d{:02}h", s / 86400, (s / 3600) % 24);
}

}  // namespace galeratop
