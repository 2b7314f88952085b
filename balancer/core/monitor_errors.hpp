#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace galeratop {

/// A node's last few distinct monitor failures, newest last: what an operator reads during an
/// incident (a reset three times, then "Can't connect" since). A failure that repeats the newest
/// one counts again in place, so that a node down for an hour keeps the failure that began it.
class monitor_errors {
 public:
  static constexpr std::size_t kept = 5;

  /// One failure, or a run of the same failure one after the other.
  struct entry {
    std::string error;
    std::chrono::system_clock::time_point first{};  ///< the run's first check
    std::chrono::system_clock::time_point last{};   ///< its latest
    std::uint64_t count = 0;                        ///< checks in the run
  };

  /// A failed check that ended at `at`.
  void add(std::string_view error, std::chrono::system_clock::time_point at);
  /// Oldest first; at most `kept`.
  const std::deque<entry>& entries() const { return entries_; }

 private:
  std::deque<entry> entries_;
};

}  // namespace galeratop
