#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/connect_failure.hpp"
#include "balancer/core/node_record.hpp"

namespace galeratop {

// The decisions of placing a new client on a node (session_placement.hpp does the I/O): whether
// it waits in the hold queue, how many nodes it may be tried on, and the words of its error when
// none takes it. Pure.

/// What happens to a client when it arrives, or when its hold ends.
enum class admission {
  place,   ///< its listener has a node for it now
  hold,    ///< none now: it waits, accepted but not greeted, for at most [balancer] hold
  refuse,  ///< none now, and hold is 0: ERR 1047 at once
  full,    ///< none now, and hold_limit clients are held already: ERR 1047 at once
};

/// `can_place`: its listener would give it a node now (a settled writer, or an eligible node).
admission admit(bool can_place, std::chrono::milliseconds hold, std::size_t held, std::size_t hold_limit);

/// What comes after an attempt to connect a client to a node failed.
enum class after_failure {
  next_node,          ///< try another node, if attempts are left
  client_closed,      ///< the session was closed meanwhile (its node lost, a writer switch, a stop): nobody to connect for
  out_of_descriptors, ///< this process is short of descriptors: another node would fail the same way (ERR 1040)
};

/// The attempts to connect one client, and the words of its error when none succeeds.
class placement_attempts {
 public:
  /// A writer listener has one node to offer: another would be a second writer.
  placement_attempts(bool writer_listener, int connect_attempts)
      : writer_(writer_listener), left_(writer_listener ? 1 : connect_attempts) {}

  /// Whether another node may be tried.
  bool more() const { return left_ > 0; }
  /// Counts an attempt on a node.
  void start() { --left_; }
  /// The nodes that failed so far: not picked again for this client.
  std::span<const node_id> tried() const { return tried_; }
  /// Node `id`, called `name`, failed as `f` says; `closed`: the session was closed meanwhile.
  /// A failure that is the node's is recorded for the client's error.
  after_failure failed(node_id id, std::string_view name, const connect_failure& f, bool closed);
  /// The client's error when no attempt succeeded; `unavailable` is the routing table's reason
  /// ("no Galera node is available (...)"), used when no node could even be tried.
  std::string error(std::string_view unavailable) const;

 private:
  bool writer_;
  int left_;
  std::vector<node_id> tried_;
  std::string failures_;  // "node1: WHY; node2: WHY"
};

/// The client's error when its hold ended without a node: why its listener has none (the
/// routing table's reason, or the writer's), and that the hold queue was full when it was.
std::string hold_refusal(bool writer_listener, std::string_view unavailable, std::string_view writer_why, bool full,
                         std::size_t hold_limit);

}  // namespace galeratop
