#pragma once

#include <array>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/routing_table.hpp"
#include "balancer/listener_set.hpp"
#include "balancer/node_admin.hpp"
#include "balancer/node_connect.hpp"
#include "balancer/relay.hpp"
#include "balancer/resource_shortage.hpp"
#include "balancer/session_registry.hpp"
#include "balancer/writer_switch.hpp"

namespace galeratop {

struct session_io;

/// What the listeners have done, for metrics and status.
struct frontend_counters {
  std::uint64_t accepted_total = 0;  ///< clients accepted
  std::uint64_t rejected_total = 0;  ///< clients sent a galeratop error instead of a greeting (sum of the two below)
  std::uint64_t rejected_no_node = 0;  ///< ERR 1047: no node could take them
  std::uint64_t rejected_limit = 0;    ///< ERR 1040: max_connections reached, or no descriptor left
  std::uint64_t waits_served = 0;      ///< holds that ended with a node
  std::uint64_t waits_refused = 0;     ///< holds that ended in ERR 1047 at their end, or at once past hold_limit
  std::uint64_t waits_abandoned = 0;   ///< holds the client gave up on (closed its side)
  std::chrono::milliseconds longest_wait{0};  ///< the longest hold that has ended, since start
};

/// Placing a new client on a node, from its accept to the hand-off to the relay thread: the
/// connection limit, the hold queue (a client no node can take now waits, accepted but not
/// greeted), the attempts on one node after another (a failed connect marks that node and picks
/// another), the dial (on the io thread, or ordered from the relay's front door), and the
/// client's error when none takes it. Its decisions are placement_rules.hpp's. Runs on the io
/// thread; each client is one coroutine, whose exception ends that client only.
class session_placement {
 public:
  /// The rooms it works with: the other rooms of the balancer, which outlive it.
  session_placement(asio::io_context& io, const balancer_settings& settings, routing_table& table,
                    session_registry& sessions, listener_set& listeners, relay& r, node_admin& admin,
                    writer_switch& writer);

  /// A client the io thread accepted through listener `listener`.
  void on_client(std::size_t listener, asio::ip::tcp::socket client);
  /// A client the front door accepted; its descriptor is the io thread's now.
  void on_accepted(std::size_t listener, int fd);
  /// What a dial the front door made came to.
  void on_dialed(relay::dial_outcome outcome);
  /// An accept failed (mostly for want of descriptors): told once per shortage.
  void accept_failed(const std::error_code& ec);
  /// Wakes every held client, oldest first: each looks again whether it has a node.
  void wake_held();
  /// The listeners' figures, all together.
  const frontend_counters& frontend() const { return frontend_; }

 private:
  /// How a client's placing ended.
  enum class placing_end {
    greeted,             ///< connected on the io thread: the greeting is in the buffer, for the client
    relayed,             ///< the relay holds the session (its front door passed the greeting on)
    refused,             ///< no node took it: ERR 1047 with the reason
    out_of_descriptors,  ///< ERR 1040: no descriptor for the node's side
    closed,              ///< closed meanwhile (its client left, its node lost, a stop): nobody to tell
  };
  /// How a client's hold ended.
  enum class hold_end {
    placed,     ///< its listener has a node for it (at once, or after waiting)
    refused,    ///< none within `hold` (or hold is 0)
    full,       ///< none now, and hold_limit clients are held already
    abandoned,  ///< the client closed its side meanwhile
  };
  /// A MySQL greeting is ~100 bytes; only its first bytes matter.
  using greeting_buffer = std::array<char, 1024>;
  /// Why a client is sent an error instead of a greeting.
  enum class rejection { no_node, over_limit };

  asio::awaitable<void> run_session(std::size_t listener, asio::ip::tcp::socket client);
  asio::awaitable<placing_end> place(session_record& s, session_io& io, greeting_buffer& greeting, std::size_t& got,
                                 std::string& error);
  asio::awaitable<hold_end> hold(session_record& s, session_io& io);
  /// One attempt on the node `s` is attached to: on the io thread, or through the front door.
  asio::awaitable<connect_result> connect_once(session_record& s, session_io& io, const node_record& r,
                                               greeting_buffer& greeting);
  asio::awaitable<connect_result> dial_through_relay(session_record& s, session_io& io, std::string proxy_header);
  /// Whether a client of this session's listener would get a node now: a settled writer, or an eligible node.
  bool can_place(const session_record& s) const;
  void attach(session_record& s, session_io& io, node_record& r);
  void detach(session_record& s);
  /// The relay holds the session from now on: the io thread's descriptors are its.
  void hand_over(session_record& s, session_io& io);
  void took_over(session_record& s);
  /// The PROXY v2 header naming the session's client, when the node wants one; empty otherwise.
  std::string proxy_header_for(const session_io& io, const node_record& r) const;

  bool at_connection_limit() const {
    return settings_.max_connections != 0 && sessions_.size() >= settings_.max_connections;
  }
  asio::awaitable<void> reject(asio::ip::tcp::socket& client, rejection why, std::string_view message);
  asio::awaitable<void> refuse_over_limit(asio::ip::tcp::socket client);
  void refuse_at_once(int client_fd);  // a front-door client beyond max_connections
  std::string count_rejection(rejection why, std::string_view message);  // the ERR packet to send
  void note_shortage(std::string_view where, const std::error_code& ec);
  void note_no_shortage();

  asio::io_context& io_;
  const balancer_settings& settings_;
  routing_table& table_;
  session_registry& sessions_;
  listener_set& listeners_;
  relay& relay_;
  node_admin& admin_;
  writer_switch& writer_;
  frontend_counters frontend_;
  resource_shortage shortage_;  // accepts and node connects that failed for want of descriptors
};

}  // namespace galeratop
