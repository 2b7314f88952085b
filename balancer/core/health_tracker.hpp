#pragma once

#include <chrono>
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

/// How checks turn into health (the [monitor] keys rise, fall and hung_time).
struct health_rules {
  int rise = 2;  ///< admissible checks in a row before a node that was down is readmitted
  int fall = 3;  ///< checks in a row without an answer before a suspect node is taken for down
  std::chrono::milliseconds hung_time{5000};  ///< how long a node may stay suspect before it is taken for down

  friend bool operator==(const health_rules&, const health_rules&) = default;
};

/// A node's health: its Galera state and whether it may take connections.
struct health {
  galera_state state = galera_state::unknown;  ///< the last state it reported while suspect; down once taken for down
  bool up = false;  ///< may take new connections: false until `rise` admissible checks in a row, false at once on a failure
  /// Checks stopped getting an answer in time while it was up: no new connections, its open ones
  /// untouched, until it answers (up again at once) or is taken for down (fall, hung_time).
  bool suspect = false;
  mono_clock::time_point suspect_since{};  ///< when the first check without an answer ended
  std::string reason;

  friend bool operator==(const health&, const health&) = default;
};

/// Applies hysteresis to verdicts. Evidence decides: a failed check the node's side answered (a
/// close, a reset, a refusal) takes the node down at once; a check that got no answer in time
/// makes an up node only suspect, and it is taken for down after `fall` such checks in a row or
/// `hung_time`, whichever comes first. One admissible check clears a suspicion; a node that was
/// down needs `rise` in a row. Every node starts not up.
class health_tracker {
 public:
  explicit health_tracker(health_rules rules = {}) : rules_(rules) {}

  /// Feeds one check; returns true when `current()`'s state, up or suspect changed.
  bool observe(const observation& obs, const peer_view& peers);

  /// Takes a suspect node for down once it has been suspect for `hung_time` at `now` (checks may
  /// be blocked for a whole timeout each, so this is asked on a clock, not only per check);
  /// returns true when it did.
  bool expire(mono_clock::time_point now);

  /// A data-path connect to the node failed at `now`. Answered (refused, reset, an error packet):
  /// not up until the monitor sees it good `rise` times again. `late` (no TCP connection or no
  /// greeting within the connect timeout): an up node is only suspect, as after a late check,
  /// but only the monitor's checks count towards `fall`. True when up or suspect changed.
  bool connect_failed(const std::string& why, bool late, mono_clock::time_point now);

  /// The health after the last check.
  const health& current() const { return health_; }

  /// How many times the node became suspect.
  std::uint64_t suspicions() const { return suspicions_; }

  /// Changes the rules for the next checks (at reload).
  void set_rules(const health_rules& rules) { rules_ = rules; }

 private:
  void answered(check_verdict v);
  void late_check(const observation& obs);
  void suspect_from(mono_clock::time_point since);
  void take_for_down(std::string why);
  bool moved_from(const health& before) const;  // state, up or suspect differ

  health_rules rules_;
  int good_streak_ = 0;  // admissible checks since the last failure
  int late_streak_ = 0;  // checks without an answer since the last one that had one
  std::uint64_t suspicions_ = 0;
  health health_;
};

}  // namespace galeratop
