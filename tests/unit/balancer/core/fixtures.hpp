#pragma once

#include <string>
#include <utility>
#include <vector>

#include "balancer/core/observation.hpp"
#include "balancer/core/routing_table.hpp"

namespace galeratop::test {

/// What a node's monitor would read; defaults are a healthy Synced member.
struct node_view {
  int local_state = 4;
  std::string comment = "Synced";
  std::string cluster_status = "Primary";
  bool ready = true;
  bool connected = true;
  std::string evs_state = "OPERATIONAL";
  std::uint64_t conf_id = 7;
  std::string uuid = "b1b1b1b1-0000-11ee-8000-000000000001";
};

inline observation seen(const node_view& v = {}) {
  std::vector<std::pair<std::string, std::string>> rows{
      {"wsrep_local_state", std::to_string(v.local_state)},
      {"wsrep_local_state_comment", v.comment},
      {"wsrep_cluster_status", v.cluster_status},
      {"wsrep_ready", v.ready ? "ON" : "OFF"},
      {"wsrep_connected", v.connected ? "ON" : "OFF"},
      {"wsrep_evs_state", v.evs_state},
      {"wsrep_cluster_conf_id", std::to_string(v.conf_id)},
      {"wsrep_cluster_state_uuid", v.uuid},
      {"wsrep_cluster_size", "3"},
  };
  observation o;
  o.status = parse_wsrep_status(rows);
  return o;
}

inline observation donor() { return seen({.local_state = 2, .comment = "Donor/Desynced"}); }
inline observation non_primary() {
  return seen({.local_state = 0, .comment = "Initialized", .cluster_status = "non-Primary", .ready = false});
}

inline observation unreachable(std::string why = "Can't connect to server on '127.0.0.1' (111)") {
  observation o;
  o.error = std::move(why);
  return o;
}

/// A check that got no answer within the monitor's timeout (a frozen or overloaded node), ended at `at`.
inline observation late(mono_clock::time_point at = {}, std::string why = "Lost connection to server during query") {
  observation o = unreachable(std::move(why));
  o.late = true;
  o.at = at;
  return o;
}

/// A table of `n` nodes named n1..nN, all seen healthy `rise` times (so up and eligible).
inline routing_table healthy_table(int n, int rise = 2, std::vector<std::uint32_t> weights = {}) {
  routing_table t;
  for (int i = 1; i <= n; ++i) {
    const auto w = weights.empty() ? 1u : weights[static_cast<std::size_t>(i - 1)];
    t.add(static_cast<node_id>(i), "n" + std::to_string(i), "127.0.0.1:" + std::to_string(3305 + i), w, {.rise = rise});
  }
  for (int k = 0; k < rise; ++k)
    for (int i = 1; i <= n; ++i) t.observe(static_cast<node_id>(i), seen());
  t.refresh(donor_policy::avoid);
  return t;
}

}  // namespace galeratop::test
