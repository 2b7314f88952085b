#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "balancer_settings.hpp"
#include "connection_limit.hpp"
#include "relay.hpp"
#include "routing_table.hpp"

namespace galeratop {

/// A node to balance to, as configured.
struct backend {
  std::string configured_name;  ///< empty: use wsrep_node_name
  std::string address;          ///< HOST:PORT, the node's identity across reloads
  asio::ip::tcp::endpoint endpoint;
  std::uint32_t weight = 1;
};

/// What the data path has done with one node, for metrics and status.
struct node_counters {
  std::uint64_t connections_total = 0;  ///< sessions established (greeting relayed)
  std::uint64_t connect_errors = 0;     ///< connects that failed or timed out
  std::uint64_t bytes_in = 0;           ///< client to node
  std::uint64_t bytes_out = 0;          ///< node to client
};

/// What the listener has done, for metrics and status.
struct frontend_counters {
  std::uint64_t accepted_total = 0;  ///< clients accepted
  std::uint64_t rejected_total = 0;  ///< clients sent a galeratop error instead of a greeting (sum of the two below)
  std::uint64_t rejected_no_node = 0;  ///< ERR 1047: no node could take them
  std::uint64_t rejected_limit = 0;    ///< ERR 1040: max_connections reached, or no descriptor left
};

/// The Galera-aware TCP balancer. Every member runs on the one io_context
/// thread that owns it (DESIGN rule 2): no locks; monitors post observations in.
/// A session is accepted, routed and connected here; once the node's greeting has been
/// passed on, its two sockets belong to the relay thread (relay.hpp) until it ends.
class balancer {
 public:
  balancer(asio::io_context& io, balancer_settings settings);
  ~balancer();
  balancer(const balancer&) = delete;
  balancer& operator=(const balancer&) = delete;

  /// Binds and starts accepting clients; throws std::system_error when the address cannot be bound.
  void listen(const asio::ip::tcp::endpoint& at);
  /// The bound address (useful with port 0).
  asio::ip::tcp::endpoint local_endpoint() const;
  /// Closes the listener; established sessions go on.
  void stop_accepting();

  /// Adds a node, not eligible until the monitor has seen it healthy.
  node_id add_node(const backend& b, int rise);
  /// Re-weights or renames a node in place; its health and sessions are kept.
  void update_node(node_id id, const backend& b, int rise);
  /// Stops sending new clients to a node; its open sessions run to their end.
  void remove_node(node_id id);
  /// Sets the operator's intent for a node: drain keeps its sessions, maint closes them
  /// after the maint grace. Health is not touched.
  void set_admin(node_id id, admin_state admin);
  /// Sets the weight a node is balanced with (0 = no new connections).
  void set_weight(node_id id, std::uint32_t weight);
  /// Holds every node out of rotation while the operators' intents are not known (a new agent
  /// has not read those other agents share yet), and lets them back in once they are.
  void set_intents_known(bool known);
  /// Replaces the tunables (reload).
  void set_settings(const balancer_settings& s);

  /// Applies one monitor check (on the io thread), logging every change of state or eligibility;
  /// true when a node's state or eligibility changed.
  bool observe(node_id id, observation obs);

  /// Sessions currently open, connecting ones included.
  std::size_t session_count() const { return session_count_; }
  /// Closes every session at once (end of the shutdown grace).
  void close_all_sessions();
  /// The routing state, for status and tests.
  const routing_table& table() const { return table_; }
  /// A node's traffic so far; nothing for an unknown id.
  std::optional<node_counters> counters(node_id id) const;
  /// The listener's figures.
  const frontend_counters& frontend() const { return frontend_; }
  /// The tunables in force.
  const balancer_settings& settings() const { return settings_; }

 private:
  struct session;
  /// Traffic per node; outlives the node's route while sessions still use it.
  struct node_traffic {
    asio::ip::tcp::endpoint endpoint;
    std::unordered_set<session*> sessions;  // connecting, on the io thread
    std::size_t relayed = 0;                // its sessions the relay holds (their tokens are in relayed_)
    std::uint64_t connections_total = 0;
    std::uint64_t connect_errors = 0;
    relay_bytes bytes;  // counted by the relay thread
    bool removed = false;
    /// Sessions still point at it (the relay thread at `bytes`): it must not be erased yet.
    bool in_use() const { return !sessions.empty() || relayed > 0; }
    std::uint64_t maint_generation = 0;  // a maint grace ends only if no admin change came after it began
  };

  /// Why a node could not be reached for a client. `ours` = this process ran out of
  /// descriptors or memory: the node is not to blame and is not marked.
  struct connect_failure {
    std::string why;
    bool ours = false;
  };
  asio::awaitable<void> accept_loop();
  /// Why a client is sent an error instead of a greeting.
  enum class rejection { no_node, over_limit };
  asio::awaitable<void> reject(asio::ip::tcp::socket& client, rejection why, std::string_view message);
  asio::awaitable<void> refuse_over_limit(asio::ip::tcp::socket client);
  void shortage_began(std::string_view where, const std::error_code& ec);
  void shortage_ended();
  asio::awaitable<void> run_session(asio::ip::tcp::socket client);
  asio::awaitable<std::optional<connect_failure>> connect_backend(session& s, std::span<char> greeting,
                                                              std::size_t& got);
  asio::awaitable<std::error_code> dial(session& s, std::span<char> greeting, std::size_t& got, bool& connected);
  asio::awaitable<void> end_maint_grace(node_id id, std::uint64_t generation);

  void attach(session& s, node_id id);
  void detach(session& s);
  void hand_over(session& s);
  void erase_if_done(node_id id);  // a removed node's traffic goes once nothing uses it
  void relay_ended(const std::vector<std::uint64_t>& tokens);
  void note_connect_failure(node_id id, const std::string& why);
  /// What a change is judged against: each route's state before it.
  struct route_mark {
    node_id id;
    galera_state state;
    bool up;
    bool eligible;
  };
  std::vector<route_mark> marks() const;
  bool apply_change(const std::vector<route_mark>& before);  // true: something changed
  void close_sessions_of(node_id id, std::string_view why);

  asio::io_context& io_;
  balancer_settings settings_;
  routing_table table_;
  std::map<node_id, node_traffic> traffic_;
  frontend_counters frontend_;
  std::unordered_map<std::uint64_t, node_id> relayed_;  // every session the relay holds, by token
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  node_id next_id_ = 1;
  std::uint64_t next_token_ = 1;
  std::size_t session_count_ = 0;  // connecting plus relayed
  /// Since when accept() or a node connect has failed for want of descriptors; logged once
  /// when it begins and once when it ends, however many clients it hits in between.
  std::optional<std::chrono::steady_clock::time_point> shortage_since_;
  std::chrono::steady_clock::time_point shortage_last_hit_{};
  std::uint64_t shortage_hits_ = 0;
  bool stopping_ = false;
  relay relay_;  // last: its thread counts into traffic_, so it stops before traffic_ goes
};

}  // namespace galeratop
