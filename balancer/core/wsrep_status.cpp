#include "balancer/core/wsrep_status.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <cctype>
#include <charconv>
#include <cmath>

namespace galeratop {
namespace {

template <class Int>
Int to_int(std::string_view s, Int fallback) {
  Int v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && end == s.data() + s.size() ? v : fallback;
}

bool to_bool(std::string_view s) { return s == "ON" || s == "1"; }

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

constexpr std::array<std::string_view, 35> monitored{
    // health and the cluster model
    "wsrep_cluster_conf_id", "wsrep_cluster_size", "wsrep_cluster_state_uuid", "wsrep_cluster_status",
    "wsrep_connected", "wsrep_evs_state", "wsrep_incoming_addresses", "wsrep_last_committed", "wsrep_local_state",
    "wsrep_local_state_comment", "wsrep_ready", "wsrep_flow_control_paused_ns", "wsrep_flow_control_sent",
    // the screen and the exporter
    "wsrep_local_recv_queue", "wsrep_local_send_queue", "wsrep_flow_control_paused", "wsrep_local_state_uuid",
    "wsrep_provider_version", "wsrep_apply_window", "wsrep_cert_deps_distance", "wsrep_cluster_weight",
    "wsrep_commit_window", "wsrep_desync_count", "wsrep_flow_control_recv", "wsrep_local_bf_aborts",
    "wsrep_local_cert_failures", "wsrep_local_commits", "wsrep_local_recv_queue_avg", "wsrep_local_replays",
    "wsrep_local_send_queue_avg", "wsrep_open_transactions", "wsrep_received", "wsrep_received_bytes",
    "wsrep_replicated", "wsrep_replicated_bytes"};

}  // namespace

std::span<const std::string_view> monitored_wsrep_variables() { return monitored; }

const std::string& wsrep_status_query() {
  static const std::string query = [] {
    std::string q = "SHOW GLOBAL STATUS WHERE Variable_name IN (";
    for (std::string_view name : monitored) {
      if (name != monitored.front()) q += ", ";
      q += fmt::format("'{}'", name);
    }
    return q + ")";
  }();
  return query;
}

wsrep_status parse_wsrep_status(std::span<const std::pair<std::string, std::string>> rows) {
  wsrep_status st;
  for (const auto& [name, value] : rows) st.raw.insert_or_assign(lower(name), value);
  auto get = [&](std::string_view key) -> std::string_view {
    auto it = st.raw.find(key);
    return it == st.raw.end() ? std::string_view{} : std::string_view{it->second};
  };
  st.cluster_status = get("wsrep_cluster_status");
  st.cluster_state_uuid = get("wsrep_cluster_state_uuid");
  st.cluster_conf_id = to_int<std::uint64_t>(get("wsrep_cluster_conf_id"), 0);
  st.cluster_size = to_int<std::uint32_t>(get("wsrep_cluster_size"), 0);
  st.local_state = to_int<int>(get("wsrep_local_state"), 0);
  st.local_state_comment = get("wsrep_local_state_comment");
  st.ready = to_bool(get("wsrep_ready"));
  st.connected = to_bool(get("wsrep_connected"));
  st.evs_state = get("wsrep_evs_state");
  st.last_committed = to_int<std::int64_t>(get("wsrep_last_committed"), -1);
  st.incoming_addresses = get("wsrep_incoming_addresses");
  return st;
}

std::optional<double> parse_status_value(std::string_view v) {
  if (v == "ON" || v == "YES" || v == "Yes" || v == "Primary") return 1.0;
  if (v == "OFF" || v == "NO" || v == "No" || v == "non-Primary" || v == "Non-Primary" || v == "Disconnected")
    return 0.0;
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  // from_chars also takes "nan" and "inf": text, not a measurement, whatever a node sends.
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty() || !std::isfinite(d)) return std::nullopt;
  return d;
}

}  // namespace galeratop
