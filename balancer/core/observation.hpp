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
  std::optional<wsrep_status> status;  ///< empty: the check failed, see `error`
  std::string error;                   ///< the client library's message when the check failed
  std::string node_name;               ///< @@wsrep_node_name, empty until read
  std::string cluster_name;            ///< @@wsrep_cluster_name, empty until read
  std::chrono::microseconds latency{0};  ///< how long the status query took
};

}  // namespace galeratop
