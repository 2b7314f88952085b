#pragma once

#include <cstdint>
#include <string>

#include "balancer/core/galera_state.hpp"
#include "balancer/core/observation.hpp"

namespace galeratop {

/// The freshest view among a node's reachable, Primary peers of the same
/// cluster; used to recognise a node that reports a stale Synced view (a node
/// thawed after SIGSTOP does so for ~5 s, DESIGN section 5).
struct peer_view {
  bool any = false;              ///< false: no peer to compare with
  std::string cluster_state_uuid;
  std::uint64_t max_conf_id = 0;
};

/// What one check says, before hysteresis.
struct check_verdict {
  galera_state state = galera_state::unknown;
  bool serviceable = false;  ///< may keep serving: reachable, Primary, connected, ready, Synced or Donor
  bool admissible = false;   ///< may count towards rise: serviceable and its view is settled and current
  std::string reason;        ///< the values that decided, for the one log line per change
};

/// Classifies one observation against the peers' view. Pure.
check_verdict classify(const observation& obs, const peer_view& peers);

/// A node's health: its Galera state and whether it may take connections.
struct health {
  galera_state state = galera_state::unknown;
  bool up = false;  ///< false until `rise` admissible checks in a row; false at once on any failure
  std::string reason;

  friend bool operator==(const health&, const health&) = default;
};

/// Applies hysteresis to verdicts: one failed check excludes at once, recovery
/// needs `rise` consecutive admissible checks. Every node starts not up.
class health_tracker {
 public:
  /// `rise` >= 1: admissible checks in a row needed to come back.
  explicit health_tracker(int rise = 2) : rise_(rise) {}

  /// Feeds one check; returns true when `current().state` or `.up` changed.
  bool observe(const observation& obs, const peer_view& peers);

  /// A data-path connect to the node failed: not up until the monitor sees it good `rise` times again.
  bool connect_failed(const std::string& why);

  /// The health after the last check.
  const health& current() const { return health_; }

  /// Changes the hysteresis for the next checks (at reload).
  void set_rise(int rise) { rise_ = rise; }

 private:
  int rise_;
  int good_streak_ = 0;  // admissible checks since the last failure
  health health_;
};

}  // namespace galeratop
