#pragma once

#include <chrono>

namespace galeratop {

/// The one clock of the core; the core never reads it, callers pass `now`.
using mono_clock = std::chrono::steady_clock;

/// The first instant after `now` on the grid of `interval` steps counted from the clock's epoch.
/// The agent's periodic tasks (every node's check, the publish) wake on this one grid, so an
/// idle machine wakes once per tick for all of them rather than once per task: on a small VM
/// the wake-ups, not the work, are most of what an idle agent costs.
inline mono_clock::time_point next_tick(mono_clock::time_point now, std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return now;
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  return mono_clock::time_point{(since_epoch / interval + 1) * interval};
}

}  // namespace galeratop
