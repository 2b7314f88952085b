#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace galeratop {

/// What kind of thing happened (galeratopd(8), EVENTS).
enum class event_kind {
  state,            ///< a node's Galera state changed
  eligibility,      ///< a node started or stopped taking new clients, its state unchanged
  advisory,         ///< an advisory was raised or cleared
  operator_action,  ///< an operator changed an intent or the writer (who says who)
  drained,          ///< a drained or maint node's last session closed
  writer,           ///< writer listeners moved to another node, or lost theirs
  reload,           ///< the configuration was reloaded, or a reload refused
  rejected,         ///< clients were refused (ERR 1047 or 1040), a burst at a time
};

/// The wire name: "state", "eligibility", "advisory", "operator", "drained", "writer", "reload", "rejected".
std::string_view to_string(event_kind k);

/// One thing that happened, with its time and cause.
struct event {
  std::uint64_t seq = 0;  ///< 1, 2, 3...: a follower asks for those after the last it has
  std::chrono::system_clock::time_point at{};
  event_kind kind = event_kind::state;
  std::string node;     ///< the node's name; empty when cluster-wide
  std::string message;  ///< one line, the cause included
  std::string who;      ///< for operator actions: "uid 1000 (pid 4242)", "tcp 10.0.0.5:51234"; else empty

  friend bool operator==(const event&, const event&) = default;
};

}  // namespace galeratop
