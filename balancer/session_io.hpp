#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/relay.hpp"
#include "balancer/session_registry.hpp"

namespace galeratop {

/// The io thread's I/O for one session while it is placed (session_phase placing and dialing):
/// its sockets, what its coroutine sleeps on, and a front-door dial's outcome. It lives in the
/// frame of the coroutine that places the session (session_placement.cpp); the session's record
/// points to it until the relay takes the session, so that a close order can reach it.
struct session_io {
  explicit session_io(asio::ip::tcp::socket c) : client(std::move(c)), server(client.get_executor()) {}

  asio::ip::tcp::socket client;  ///< released to the relay's front door while it dials, and for good once relayed
  asio::ip::tcp::socket server;  ///< dialing on the io thread (epoll); unused when the front door dials
  asio::ip::tcp::endpoint to;    ///< the node it dials
  /// That node's counters, held by the session: a reload may remove the node meanwhile.
  std::shared_ptr<session_counters> counters;
  asio::steady_timer* wake = nullptr;  ///< what its coroutine sleeps on (a hold, or a front-door dial); null: nothing
  relay* dialing_at = nullptr;  ///< the relay whose front door dials for it and holds the client's descriptor meanwhile
  std::optional<relay::dial_outcome> outcome;  ///< that dial's outcome, until its coroutine reads it
  std::optional<std::string> closed;  ///< why it was closed (its node lost, a writer switch, a stop, its client left)
  bool relayed = false;  ///< the relay holds it: its record is the relay's report's to end

  /// Ends the session `id` before it is relayed; `why` words its node's state ("down: ..."). Its
  /// coroutine wakes, sees `closed`, and unwinds; a dial at the front door is aborted, and the
  /// relay closes both of its sockets.
  void close(session_id id, std::string_view why = "closed");
};

}  // namespace galeratop
