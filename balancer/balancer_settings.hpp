#pragma once

#include <chrono>
#include <cstddef>

#include "routing_table.hpp"

namespace galeratop {

/// Data-path tunables; all can change at reload.
struct balancer_settings {
  balance_policy policy = balance_policy::leastconn;
  donor_policy donors = donor_policy::avoid;
  std::chrono::milliseconds connect_timeout{1000};  ///< TCP connect plus the server's greeting
  int connect_attempts = 3;                          ///< nodes tried for one client before it gets an error
  bool close_on_failure = true;  ///< close the sessions of a node that goes down or non-Primary
  std::chrono::seconds idle_timeout{8 * 3600};  ///< 0 = never; a session silent both ways this long is closed
  std::chrono::milliseconds maint_grace{10000};  ///< how long a node's sessions live on once it is put in maint
  /// Sessions held at once; a client beyond it gets ERR 1040 and is closed. 0 = automatic: what the
  /// descriptor limit allows (two descriptors a session), decided at start by effective_max_connections().
  std::size_t max_connections = 0;
};

}  // namespace galeratop
