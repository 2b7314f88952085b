#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cluster/event.hpp"
#include "agent/cluster/snapshot.hpp"

namespace galeratop {

/// The recent events, oldest first, bounded: the oldest go when it is full. Io thread only.
class event_log {
 public:
  explicit event_log(std::size_t capacity = 1000) : capacity_(capacity) {}

  /// Adds one, numbering it; `e.seq` is ignored.
  void add(event e);
  /// Those numbered after `seq`, oldest first (all of them for 0).
  std::vector<event> since(std::uint64_t seq) const;
  /// The last `n`, oldest first.
  std::vector<event> last(std::size_t n) const;
  /// The newest of this kind about this node, if the log still holds one.
  std::optional<event> newest_of(event_kind kind, std::string_view node) const;
  /// The number of the newest; 0 before the first.
  std::uint64_t newest() const { return next_seq_ - 1; }

 private:
  std::size_t capacity_;
  std::deque<event> events_;
  std::uint64_t next_seq_ = 1;
};

/// What changed between two snapshots one after the other, as events at `after.taken_at`: node
/// states and eligibility (by address: a name may change once wsrep_node_name is read), drains
/// that ended (the last session of a drained or maint node closed) and the writer. Advisories,
/// operator actions, reloads and refused clients are added where they happen. Pure.
std::vector<event> changes_between(const snapshot& before, const snapshot& after);

/// An advisory raised (with its severity and message) or cleared, as an event at `at`.
event advisory_event(const advisory& a, bool raised, std::chrono::system_clock::time_point at);

/// Refused clients as events, a burst at a time: the first refusal after a quiet spell is told at
/// once, and those that follow in one event per `pace`, so that a storm of refusals does not push
/// every other event out of the log. Pure: the time is given.
class rejection_bursts {
 public:
  explicit rejection_bursts(std::chrono::seconds pace = std::chrono::seconds(5)) : pace_(pace) {}
  /// The listeners' counters as published at `now`; an event when one is due.
  std::optional<event> note(const frontend_snapshot& f, std::chrono::system_clock::time_point now);

 private:
  std::chrono::seconds pace_;
  bool started_ = false;
  std::uint64_t no_node_ = 0;  // the totals told so far
  std::uint64_t limit_ = 0;
  std::chrono::system_clock::time_point told_at_{};  // the last event
};

}  // namespace galeratop
