#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/connect_failure.hpp"
#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/routing_table.hpp"
#include "balancer/relay.hpp"
#include "balancer/session_registry.hpp"

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

/// The nodes the balancer routes to and what their changes do to their sessions: adding,
/// updating and removing nodes, the operators' intents, the monitor's checks and the data path's
/// failed connects, each change of a node's state or eligibility logged, and the close orders
/// that follow (close_rules.hpp decides them): a lost node's sessions at once; a drained,
/// maintained or removed node's at their next safe point, and maint's cut at the end of its
/// grace; every session at a stop. Runs on the io thread.
class node_admin {
 public:
  /// `changed`: some node's state or eligibility changed (held clients may have a node now).
  /// `drained`: a node out of rotation (drain, maint) has no session left; posted to the io thread.
  node_admin(asio::io_context& io, const balancer_settings& settings, routing_table& table,
             session_registry& sessions, relay& r, std::function<void()> changed,
             std::function<void(node_id)> drained);
  ~node_admin() { stopping_ = true; }
  node_admin(const node_admin&) = delete;
  node_admin& operator=(const node_admin&) = delete;

  /// Adds a node under the operator's intent `i`, not eligible until the monitor has seen it healthy.
  node_id add(const backend& b, const intent& i, const health_rules& rules);
  /// Renames, re-weights or re-resolves a node in place; its health, intent and sessions are kept.
  void update(node_id id, const backend& b, const health_rules& rules);
  /// Stops sending new clients to a node; its open sessions are closed at their next safe point.
  void remove(node_id id);
  /// Sets the operator's intent (balancer::set_intent says what it does to the sessions).
  void set_intent(node_id id, const intent& i);
  /// Whether the operators' intents are known; until they are, no node takes new clients.
  void set_intents_known(bool known);
  /// Runs `change` (new settings: the donor policy) and judges every node again after it.
  void rejudge(const std::function<void()>& change);
  /// Applies one monitor check; true when a node's state or eligibility changed.
  bool observe(node_id id, observation obs);
  /// Takes the nodes suspect for longer than hung_time for down; true when one was.
  bool expire_suspects(mono_clock::time_point now);
  /// The data path could not reach the node for a client: counted, and judged by its health tracker.
  void connect_failed(node_id id, const connect_failure& failure);

  /// The relay has just taken over `s`: it closes at its first safe point when its node was
  /// drained or removed while it connected, or every session is closing.
  void arrived(const session_record& s);
  /// A session counted on `node` has ended or left it: when that was the last of a node out of
  /// rotation, `drained` is told, after the current handler (posted).
  void session_left(node_id node);
  /// Closes every session at its next safe point, from now on those that arrive too (a stop).
  void close_all_when_safe(std::string_view why);
  /// Closes every session at once, placed or relayed (the end of a stop's grace).
  void close_all_now();

 private:
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
  void close_now(node_id id, std::string_view why);          // the node is lost, or a deadline passed
  void close_when_safe(node_id id, std::string_view why);    // at each session's next safe point
  std::vector<session_id> relayed_on(node_id id) const;
  asio::awaitable<void> end_maint_grace(node_id id, std::uint64_t generation);

  asio::io_context& io_;
  const balancer_settings& settings_;
  routing_table& table_;
  session_registry& sessions_;
  relay& relay_;
  std::function<void()> changed_;
  std::function<void(node_id)> drained_;
  node_id next_id_ = 1;
  std::optional<std::string> closing_all_;  // why every session closes at its safe point (a stop); nullopt: not so
  bool stopping_ = false;
};

}  // namespace galeratop
