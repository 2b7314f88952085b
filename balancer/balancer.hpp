#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <array>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "balancer/net/connection_limit.hpp"
#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/routing_table.hpp"
#include "balancer/listener.hpp"
#include "balancer/node_connect.hpp"
#include "balancer/relay.hpp"
#include "balancer/relay_backend.hpp"
#include "balancer/resource_shortage.hpp"

namespace galeratop {

/// A node to balance to, as configured and resolved.
struct backend {
  std::string configured_name;  ///< empty: use wsrep_node_name
  std::string address;          ///< HOST:PORT, the node's identity across reloads
  resolved_address resolved;    ///< where the data path connects
  std::uint32_t configured_weight = 1;
  std::uint32_t writer_priority = 1;  ///< writer listeners prefer the highest; 0 = never the writer
  bool proxy_protocol = false;        ///< sessions start with a PROXY v2 header naming the client
};

/// One client-facing listener and what it has done.
struct listener_figures {
  std::string name;  ///< unique among the agent's listeners
  listener_role role = listener_role::balance;
  std::string address;  ///< HOST:PORT it listens on, as configured
  std::map<node_id, std::uint32_t> connections;  ///< sessions it holds to each node now (connecting ones too)
  std::uint64_t accepted_total = 0;              ///< clients it accepted
};

/// Where writer listeners send new sessions, and how far a switch has gone.
struct writer_route {
  std::optional<node_id> node;  ///< the writer; nullopt: none now (new sessions wait, then are refused)
  std::string why;              ///< why there is none, or why it changed last
  bool settled = true;          ///< no writer-listener session is left on another node
  std::uint64_t switches = 0;   ///< times writer listeners moved from one node to another (failovers too)
};

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

/// The Galera-aware TCP balancer. Every member runs on the one io_context
/// thread that owns it (DESIGN rule 2): no locks; monitors post observations in.
/// A session is routed here, and accepted and connected here too unless the relay serves the
/// front door (io_uring, relay.hpp), which then does both for it; once the node's greeting has
/// been passed on, its two sockets belong to the relay thread until it ends.
class balancer {
 public:
  balancer(asio::io_context& io, balancer_settings settings);
  ~balancer();
  balancer(const balancer&) = delete;
  balancer& operator=(const balancer&) = delete;

  /// Binds one more listener and starts accepting its clients; throws std::system_error when the
  /// address cannot be bound. `address` is how it is shown.
  void listen(std::string name, listener_role role, std::string address, const asio::ip::tcp::endpoint& at);
  /// The same on a socket that already listens at `at`, passed by systemd; the balancer owns it then.
  void adopt(std::string name, listener_role role, std::string address, int fd, const asio::ip::tcp::endpoint& at);
  /// Closes every listener; established sessions go on.
  void stop_accepting();

  /// Sets the node writer listeners send new sessions to (nullopt: none; `why` says why). At a
  /// change, writer-listener sessions on any other node are closed at their next safe point and
  /// those left after writer_barrier are cut: new sessions reach the new writer only once none
  /// is left, so that no session writes on the old writer beside the new one.
  void set_writer(std::optional<node_id> writer, std::string why);
  /// The writer listeners' route.
  const writer_route& writer() const { return writer_; }
  /// Whether some listener is a writer listener.
  bool has_writer_listener() const;

  /// Adds a node under the operator's intent `i`, not eligible until the monitor has seen it healthy.
  node_id add_node(const backend& b, const intent& i, const health_rules& rules);
  /// Renames, re-weights or re-resolves a node in place; its health, intent and sessions are kept.
  void update_node(node_id id, const backend& b, const health_rules& rules);
  /// Stops sending new clients to a node; its open sessions are closed at their next safe point.
  void remove_node(node_id id);
  /// Sets the operator's intent for a node: drain and maint close its sessions at their next
  /// safe point (no statement in flight, no transaction open, idle a moment), maint also those
  /// left at the end of its grace; the weight overrides the configured one. Health is not touched.
  void set_intent(node_id id, const intent& i);
  /// Holds every node out of rotation while the operators' intents are not known (a new agent
  /// has not read those other agents share yet), and lets them back in once they are.
  void set_intents_known(bool known);
  /// Replaces the tunables (reload).
  void set_settings(const balancer_settings& s);

  /// Applies one monitor check (on the io thread), logging every change of state or eligibility;
  /// true when a node's state or eligibility changed.
  bool observe(node_id id, observation obs);
  /// Takes the nodes suspect for longer than hung_time for down (and closes their sessions);
  /// asked on the agent's tick, since a hung node's checks may not end for a whole timeout.
  bool expire_suspects(mono_clock::time_point now);

  /// Sessions currently open, connecting ones included.
  std::size_t session_count() const { return session_count_; }
  /// Closes every session at its next safe point, as a drain does (the start of a shutdown).
  void close_all_when_safe(std::string_view why);
  /// Closes every session at once (end of the shutdown grace).
  void close_all_sessions();
  /// Every node's record and the routing decisions over them.
  const routing_table& table() const { return table_; }
  /// The listeners' figures, all together.
  const frontend_counters& frontend() const { return frontend_; }
  /// Clients held now ([balancer] hold): accepted, not greeted, no node for them yet.
  std::size_t held() const { return held_.size(); }
  /// Those of them that came in through a writer listener and wait for a settled writer.
  std::size_t held_for_writer() const;
  /// Each listener's figures, in the order they were opened.
  std::vector<listener_figures> listeners() const;
  /// The tunables in force.
  const balancer_settings& settings() const { return settings_; }
  /// "io_uring" or "epoll": what relays the bytes of established sessions.
  std::string_view io_backend() const { return relay_->backend(); }
  /// Why that one (chosen_relay::why); empty when io_uring runs as wanted.
  const std::string& io_backend_why() const { return relay_why_; }

 private:
  struct session;

  struct listener_slot;
  /// A session the relay holds: its node, and the listener it came in through.
  struct relayed_session {
    node_id node = 0;
    std::size_t listener = 0;
  };

  void add_listener(std::string name, listener_role role, std::string address,
                    const std::function<void(listener&, listener::accepts)>& open);
  void on_client(std::size_t listener, asio::ip::tcp::socket client);
  /// Why a client is sent an error instead of a greeting.
  enum class rejection { no_node, over_limit };
  asio::awaitable<void> reject(asio::ip::tcp::socket& client, rejection why, std::string_view message);
  asio::awaitable<void> refuse_over_limit(asio::ip::tcp::socket client);
  void refuse_at_once(int client_fd);  // a front-door client beyond max_connections
  std::string count_rejection(rejection why, std::string_view message);  // the ERR packet to send
  bool at_connection_limit() const {
    return settings_.max_connections != 0 && session_count_ >= settings_.max_connections;
  }
  void note_shortage(std::string_view where, const std::error_code& ec);
  void note_no_shortage();
  asio::awaitable<void> run_session(std::size_t listener, asio::ip::tcp::socket client);
  /// Connects `s` to a node its listener may send it to (any eligible one, or the writer);
  /// the failures it met, for the client's error.
  /// A MySQL greeting is ~100 bytes; only its first bytes matter.
  using greeting_buffer = std::array<char, 1024>;
  asio::awaitable<bool> connect_session(session& s, greeting_buffer& greeting, std::size_t& got,
                                        std::string& failures, bool& short_of_descriptors);
  /// One attempt to connect `s` to the node it is attached to: on the io thread, or through the
  /// relay's front door where it serves one (a success there is a session the relay holds).
  asio::awaitable<connect_result> connect_once(session& s, const node_record& r, greeting_buffer& greeting);
  asio::awaitable<connect_result> dial_through_relay(session& s, std::string proxy_header);
  /// The front door's reports (relay::front_door_handlers).
  void on_accepted(std::size_t listener, int fd);
  void on_dialed(relay::dial_outcome outcome);
  /// How a client's hold ended.
  enum class hold_end {
    placed,     ///< its listener has a node for it (at once, or after waiting)
    refused,    ///< none within `hold` (or hold is 0)
    full,       ///< none now, and hold_limit clients are held already
    abandoned,  ///< the client closed its side meanwhile
  };
  /// Holds the client while its listener has no node to offer, for at most `hold`; held clients
  /// are woken in arrival order.
  asio::awaitable<hold_end> hold(session& s);
  /// Whether a client of this listener would get a node now: a settled writer, or an eligible node.
  bool can_place(std::size_t listener) const;
  /// The PROXY v2 header naming the session's client, when the node wants one; empty otherwise.
  std::string proxy_header_for(const session& s, const node_record& r) const;
  std::optional<node_id> ready_writer() const;
  /// Writer-listener sessions (connecting or relayed) on another node than the writer.
  std::size_t stray_writer_sessions() const;
  /// Wakes every held client, oldest first: each looks again whether it has a node.
  void wake_held();
  /// Ends a switch once the old writer's sessions are gone: the waiting clients go on.
  void settle_writer_if_done();
  void release_listener_count(std::size_t listener, node_id node);
  asio::awaitable<void> end_writer_barrier(std::uint64_t generation);
  bool is_writer_listener(std::size_t listener) const;
  asio::awaitable<void> end_maint_grace(node_id id, std::uint64_t generation);

  void attach(session& s, node_record& r);
  void detach(session& s);
  void hand_over(session& s);
  /// The relay holds the session under `token` from now on (hand_over, or a dial's success).
  void took_over(session& s, std::uint64_t token);
  void relay_ended(const std::vector<std::uint64_t>& tokens);
  void note_connect_failure(node_id id, const connect_failure& failure);
  /// What a change is judged against: each node's state before it.
  struct node_mark {
    node_id id;
    galera_state state;
    bool up;
    bool suspect;
    bool eligible;
  };
  std::vector<node_mark> marks() const;
  bool apply_change(const std::vector<node_mark>& before);  // true: something changed
  void close_sessions_of(node_id id, std::string_view why);  // now: the node is lost, or a deadline passed
  void close_when_safe(node_id id, std::string_view why);    // at each session's next safe point
  std::vector<std::uint64_t> relayed_tokens_of(node_id id) const;
  /// The relayed writer-listener sessions on another node than the writer, by node.
  std::map<node_id, std::vector<std::uint64_t>> stray_writer_tokens() const;

  asio::io_context& io_;
  balancer_settings settings_;
  routing_table table_;
  frontend_counters frontend_;
  std::vector<std::unique_ptr<listener_slot>> listeners_;  // in the order opened; never shrinks
  std::unordered_set<session*> connecting_;             // sessions not handed to the relay yet
  std::unordered_map<std::uint64_t, session*> dialing_;  // those the relay's front door dials for, by token
  std::unordered_map<std::uint64_t, relayed_session> relayed_;  // every session the relay holds, by token
  writer_route writer_;
  std::optional<node_id> last_writer_;  // the last node writer listeners were sent to
  std::uint64_t writer_generation_ = 0;  // +1 at every change of writer: a barrier ends only the switch it began
  /// A client held for want of a node: its session and the timer it sleeps on.
  struct held_client {
    session* s;
    asio::steady_timer* wake;
  };
  std::list<held_client> held_;  // in arrival order: woken oldest first; closed by close_all_sessions
  node_id next_id_ = 1;
  std::uint64_t next_token_ = 1;
  std::size_t session_count_ = 0;  // connecting plus relayed
  resource_shortage shortage_;     // accepts and node connects that failed for want of descriptors
  bool stopping_ = false;
  std::optional<std::string> closing_all_;  // why every session closes at its safe point (shutdown); nullopt: not so
  std::string relay_why_;  // why this relay backend (chosen_relay::why)
  std::unique_ptr<relay> relay_;  // last: its thread reports ended sessions into the members above, so it stops first
};

}  // namespace galeratop
