#pragma once

#include <chrono>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "agent/cluster/snapshot.hpp"
#include "balancer/core/observation.hpp"

namespace galeratop {

/// Hysteresis over advisories, so that a condition seen for one check does not
/// page anyone and one that clears for one check does not flap. Pure.
class advisory_tracker {
 public:
  /// How long a condition must hold before its advisory is raised, per id (0 = at once).
  using raise_delay = std::chrono::milliseconds (*)(std::string_view id);

  /// `clear_after`: how long a condition must be gone before its advisory clears.
  advisory_tracker(raise_delay raise_after, std::chrono::milliseconds clear_after)
      : raise_after_(raise_after), clear_after_(clear_after) {}

  /// What changed at one update.
  struct changes {
    std::vector<advisory> raised;
    std::vector<advisory> cleared;
  };

  /// Feeds the conditions that hold now; returns the advisories raised and cleared by it.
  changes update(std::span<const advisory> holding, mono_clock::time_point now);

  /// The advisories in force, most severe first, each with its latest message.
  std::vector<advisory> active() const;

 private:
  struct entry {
    advisory latest;
    mono_clock::time_point first_seen;  // start of the current run of holding updates
    mono_clock::time_point last_seen;   // the last update it held
    bool active = false;
  };

  raise_delay raise_after_;
  std::chrono::milliseconds clear_after_;
  std::map<std::string, entry> entries_;  // by id and nodes: a condition on other nodes is another advisory
};

}  // namespace galeratop
