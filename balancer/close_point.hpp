#pragma once

#include <cstdint>

#include "balancer/session_tracker.hpp"

namespace galeratop {

/// How long a session has been quiet and waited, and what the close settings allow, in nanoseconds.
struct close_timing {
  std::int64_t quiet = 0;     ///< since it last became idle (opaque: since its last bytes either way)
  std::int64_t waited = 0;    ///< since its close was ordered
  std::int64_t idle = 0;      ///< [balancer] close_idle
  std::int64_t patience = 0;  ///< [balancer] close_patience
};

/// Whether a session ordered to close at its next safe point (drain, maint, removal, a stop) may be
/// closed now. A followed session: no statement in flight, no transaction open, and either idle
/// for close_idle (a pool's connection waiting in its pool) or, past close_patience, any safe point
/// but right after a ping (a pool's ping says it is about to use the connection: the safe point is
/// after that use). An opaque session (TLS, compression), request/response with no protocol to go
/// by: the server spoke last and nobody since, for close_idle. The relay adds that nothing waits
/// to be written either way.
bool at_close_point(const session_tracker& t, bool server_spoke_last, const close_timing& timing);

}  // namespace galeratop
