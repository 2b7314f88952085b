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
  if (!obs.status && obs.late && (health_.up || health_.suspect))
    late_check(obs);
  else
    answered(classify(obs, peers));
  return moved_from(before);
}

bool health_tracker::moved_from(const health& before) const {
  return health_.state != before.state || health_.up != before.up || health_.suspect != before.suspect;
}

void health_tracker::answered(check_verdict v) {
  late_streak_ = 0;
  if (health_.suspect && v.serviceable) {
    health_.state = v.state;
    if (v.admissible) {
      // It answered, with a settled and current view: it was only slow. Back at once, as it was.
      health_.suspect = false;
      health_.up = true;
      health_.reason = fmt::format("{}, answered again: no longer suspect", v.reason);
    } else {
      health_.reason = fmt::format("{}, still suspect: its view is not current yet", v.reason);
    }
    return;
  }
  // A definite answer: a failure the node's side answered, or a state it cannot serve in.
  health_.suspect = false;
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
    health_.up = good_streak_ >= rules_.rise;
    if (!health_.up && v.admissible)
      health_.reason += fmt::format(", rising: {} of {} good checks", good_streak_, rules_.rise);
  }
}

void health_tracker::late_check(const observation& obs) {
  ++late_streak_;
  suspect_from(obs.at);
  if (late_streak_ >= rules_.fall) {
    take_for_down(fmt::format("{} checks in a row got no answer within the monitor's timeout: {}", late_streak_,
                              obs.error));
    return;
  }
  health_.reason = fmt::format("suspect: no answer within the monitor's timeout, {} of {} checks before it is taken "
                               "for down (or {} ms suspect): {}",
                               late_streak_, rules_.fall, rules_.hung_time.count(), obs.error);
}

bool health_tracker::expire(mono_clock::time_point now) {
  if (!health_.suspect || now - health_.suspect_since < rules_.hung_time) return false;
  const auto hung = std::chrono::duration_cast<std::chrono::milliseconds>(now - health_.suspect_since);
  take_for_down(fmt::format("hung: no answer within the monitor's timeout for {} ms (hung_time {} ms)", hung.count(),
                            rules_.hung_time.count()));
  return true;
}

void health_tracker::take_for_down(std::string why) {
  health_.state = galera_state::down;
  health_.up = false;
  health_.suspect = false;
  health_.reason = std::move(why);
  late_streak_ = 0;
  good_streak_ = 0;
}

void health_tracker::suspect_from(mono_clock::time_point since) {
  good_streak_ = 0;
  if (health_.suspect) return;
  health_.suspect = true;
  health_.suspect_since = since;
  health_.up = false;
  ++suspicions_;
}

bool health_tracker::connect_failed(const std::string& why, bool late, mono_clock::time_point now) {
  const health before = health_;
  if (late && (health_.up || health_.suspect)) {
    suspect_from(now);
    health_.reason = fmt::format("suspect: {}", why);
  } else {
    good_streak_ = 0;
    health_.up = false;
    health_.reason = why;
  }
  return moved_from(before);
}

}  // namespace galeratop
