#include "wsrep_status.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

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

}  // namespace

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
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) return std::nullopt;
  return d;
}

}  // namespace galeratop
