#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "balancer/core/clock.hpp"
#include "balancer/core/wsrep_status.hpp"

namespace galeratop {

/// The result of one monitor check of one node.
struct observation {
  mono_clock::time_point at{};
  std::chrono::system_clock::time_point wall_at{};  ///< `at` on the wall clock, for the times operators read
  std::optional<wsrep_status> status;  ///< empty: the check failed, see `error`
  std::string error;                   ///< the client library's message when the check failed
  /// The check failed for want of an answer within the monitor's timeout: the node may only be
  /// slow. False for a failure the node's side answered (a close, a reset, a refusal, an error):
  /// that is proof it cannot serve.
  bool late = false;
  std::string node_name;               ///< @@wsrep_node_name, empty until read
  std::string cluster_name;            ///< @@wsrep_cluster_name, empty until read
  std::chrono::microseconds latency{0};  ///< how long the status query took
};

/// Whether a call that failed after `elapsed` ran into its `timeout` (the node may only be slow)
/// rather than being answered with a close, a reset or a refusal (the node is gone). Timeouts
/// fire late, never early; a tenth of the timeout is the margin for a call that started late.
constexpr bool ran_out_of_time(std::chrono::microseconds elapsed, std::chrono::microseconds timeout) {
  return elapsed >= timeout - timeout / 10;
}

}  // namespace galeratop
