#include "balancer/core/health_tracker.hpp"

#include <fmt/format.h>

namespace galeratop {
namespace {

galera_state state_of(const wsrep_status& st) {
  if (st.cluster_status != "Primary" || !st.connected) return galera_state::non_primary;
  switch (st.local_state) {
    case 1: return galera_state::joining;
    case 2: return galera_state::donor;
    case 3: return galera_state::joined;
    case 4: return galera_state::synced;
    default: return galera_state::initialized;
  }
}

std::string describe(const wsrep_status& st) {
  return fmt::format("wsrep_local_state={} ({}), wsrep_cluster_status={}, wsrep_ready={}, wsrep_connected={}",
                     st.local_state, st.local_state_comment, st.cluster_status, st.ready ? "ON" : "OFF",
                     st.connected ? "ON" : "OFF");
}

}  // namespace

check_verdict classify(const observation& obs, const peer_view& peers) {
  check_verdict v;
  if (!obs.status) {
    v.state = galera_state::down;
    v.reason = obs.error.empty() ? std::string("monitor check failed") : obs.error;
    return v;
  }
  const wsrep_status& st = *obs.status;
  v.state = state_of(st);
  v.reason = describe(st);
  v.serviceable = st.ready && (v.state == galera_state::synced || v.state == galera_state::donor);
  if (!v.serviceable) return v;

  // A node back from a freeze still believes in the membership it last saw;
  // its peers have moved on to a newer configuration.
  if (peers.any && peers.cluster_state_uuid == st.cluster_state_uuid && st.cluster_conf_id < peers.max_conf_id) {
    v.reason += fmt::format(", stale view: wsrep_cluster_conf_id={} behind the peers' {}", st.cluster_conf_id,
                            peers.max_conf_id);
    return v;
  }
  if (!st.evs_state.empty() && st.evs_state != "OPERATIONAL") {
    v.reason += fmt::format(", membership not settled: wsrep_evs_state={}", st.evs_state);
    return v;
  }
  v.admissible = true;
  return v;
}

bool health_tracker::observe(const observation& obs, const peer_view& peers) {
  const health before = health_;
  check_verdict v = classify(obs, peers);
  health_.state = v.state;
  health_.reason = std::move(v.reason);
  if (!v.serviceable) {
    good_streak_ = 0;
    health_.up = false;
  } else if (!health_.up) {
    // Once up, a check that is serviceable but not admissible (a conf_id that
    // lags a peer's by one poll during a membership change) keeps it up:
    // only readmission is strict, so normal membership changes never flap.
    good_streak_ = v.admissible ? good_streak_ + 1 : 0;
    health_.up = good_streak_ >= rise_;
    if (!health_.up && v.admissible)
      health_.reason += fmt::format(", rising: {} of {} good checks", good_streak_, rise_);
  }
  return health_.state != before.state || health_.up != before.up;
}

bool health_tracker::connect_failed(const std::string& why) {
  good_streak_ = 0;
  const bool was_up = health_.up;
  health_.up = false;
  health_.reason = why;
  return was_up;
}

}  // namespace galeratop
