#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/routing_table.hpp"
#include "balancer/listener_set.hpp"
#include "balancer/node_admin.hpp"
#include "balancer/relay.hpp"
#include "balancer/session_placement.hpp"
#include "balancer/session_registry.hpp"
#include "balancer/writer_switch.hpp"

namespace galeratop {

/// The Galera-aware TCP balancer: the facade the agent calls. Every member runs on the one
/// io_context thread that owns it (DESIGN rule 2): no locks; monitors post observations in.
///
/// Its rooms, each in its own pair of files:
/// - listener_set: the client-facing listeners;
/// - session_placement: a new client from its accept to the hand-off to the relay (the hold
///   queue, admission, the attempts on one node after another, the dial);
/// - writer_switch: the node writer listeners send to, and a clean move from one to the next;
/// - node_admin: the nodes, their health and intents, and the close orders their changes give;
/// - session_registry: one record per session, from accept to end, and the counts derived from it;
/// - relay: the relay thread, which holds every established session's descriptors.
/// A session is accepted, routed and connected here (or accepted and dialed by the relay's front
/// door, io_uring, on the io thread's orders); once the node's greeting has been passed on, its two
/// sockets belong to the relay thread until it ends (session_registry.hpp says where they change hands).
class balancer {
 public:
  /// Called on the io thread, from a handler of its own (posted), when a node out of rotation
  /// (drain, maint) has just lost its last session.
  using drained_handler = std::function<void(node_id)>;

  balancer(asio::io_context& io, balancer_settings settings, drained_handler on_drained = {});
  ~balancer();
  balancer(const balancer&) = delete;
  balancer& operator=(const balancer&) = delete;

  /// Binds one more listener and starts accepting its clients; throws std::system_error when the
  /// address cannot be bound. `address` is how it is shown.
  void listen(std::string name, listener_role role, std::string address, const asio::ip::tcp::endpoint& at) {
    listeners_.listen(std::move(name), role, std::move(address), at);
  }
  /// The same on a socket that already listens at `at`, passed by systemd; the balancer owns it then.
  void adopt(std::string name, listener_role role, std::string address, int fd, const asio::ip::tcp::endpoint& at) {
    listeners_.adopt(std::move(name), role, std::move(address), fd, at);
  }
  /// Closes every listener; established sessions go on.
  void stop_accepting() { listeners_.stop_accepting(); }
  /// Whether a client accepted before the listeners closed may still arrive (relay::accepting()):
  /// a stop waits for this as for the sessions.
  bool accepting() const { return relay_->accepting(); }

  /// Sets the node writer listeners send new sessions to (nullopt: none; `why` says why). At a
  /// change, writer-listener sessions on any other node are closed at their next safe point and
  /// those left after writer_barrier are cut: new sessions reach the new writer only once none
  /// is left, so that no session writes on the old writer beside the new one.
  void set_writer(std::optional<node_id> writer, std::string why) { writer_.set(writer, std::move(why)); }
  /// The writer listeners' route.
  const writer_route& writer() const { return writer_.route(); }
  /// Whether some listener is a writer listener.
  bool has_writer_listener() const { return listeners_.any_writer(); }

  /// Adds a node under the operator's intent `i`, not eligible until the monitor has seen it healthy.
  node_id add_node(const backend& b, const intent& i, const health_rules& rules) { return admin_.add(b, i, rules); }
  /// Renames, re-weights or re-resolves a node in place; its health, intent and sessions are kept.
  void update_node(node_id id, const backend& b, const health_rules& rules) { admin_.update(id, b, rules); }
  /// Stops sending new clients to a node; its open sessions are closed at their next safe point.
  void remove_node(node_id id) { admin_.remove(id); }
  /// Sets the operator's intent for a node: drain and maint close its sessions at their next
  /// safe point (no statement in flight, no transaction open, idle a moment), maint also those
  /// left at the end of its grace; the weight overrides the configured one. Health is not touched.
  void set_intent(node_id id, const intent& i) { admin_.set_intent(id, i); }
  /// Holds every node out of rotation while the operators' intents are not known (a new agent
  /// has not read those other agents share yet), and lets them back in once they are.
  void set_intents_known(bool known) { admin_.set_intents_known(known); }
  /// Replaces the tunables (reload).
  void set_settings(const balancer_settings& s);

  /// Applies one monitor check (on the io thread), logging every change of state or eligibility;
  /// true when a node's state or eligibility changed.
  bool observe(node_id id, observation obs) { return admin_.observe(id, std::move(obs)); }
  /// Takes the nodes suspect for longer than hung_time for down (and closes their sessions);
  /// asked on the agent's tick, since a hung node's checks may not end for a whole timeout.
  bool expire_suspects(mono_clock::time_point now) { return admin_.expire_suspects(now); }

  /// Samples every node's query counters into its record's window of recent figures (the agent's tick).
  void sample_queries(mono_clock::time_point now) { table_.sample_queries(now); }
  /// Marks a node whose intent held here is being written to the shared table (or no longer is).
  void set_intent_in_flight(node_id id, bool in_flight) {
    if (node_record* r = table_.find(id)) r->intent_in_flight = in_flight;
  }

  /// Sessions currently open, connecting ones included.
  std::size_t session_count() const { return sessions_.size(); }
  /// Closes every session at its next safe point, as a drain does (the start of a shutdown).
  void close_all_when_safe(std::string_view why) { admin_.close_all_when_safe(why); }
  /// Closes every session at once (end of the shutdown grace).
  void close_all_sessions() { admin_.close_all_now(); }
  /// Every node's record and the routing decisions over them.
  const routing_table& table() const { return table_; }
  /// The listeners' figures, all together.
  const frontend_counters& frontend() const { return placement_.frontend(); }
  /// Clients held now ([balancer] hold): accepted, not greeted, no node for them yet.
  std::size_t held() const { return sessions_.held(); }
  /// Those of them that came in through a writer listener and wait for a settled writer.
  std::size_t held_for_writer() const { return writer_.held(); }
  /// Each listener's figures, in the order they were opened.
  std::vector<listener_figures> listeners() const { return listeners_.figures(sessions_); }
  /// The tunables in force.
  const balancer_settings& settings() const { return settings_; }
  /// "io_uring" or "epoll": what relays the bytes of established sessions.
  std::string_view io_backend() const { return relay_->backend(); }
  /// Why that one (chosen_relay::why); empty when io_uring runs as wanted.
  const std::string& io_backend_why() const { return relay_why_; }

 private:
  /// The relay's report that these sessions' node sides have ended (their descriptors are closed).
  void relay_ended(const std::vector<session_id>& ids);

  balancer_settings settings_;
  routing_table table_;
  session_registry sessions_{table_};
  drained_handler on_drained_;
  std::string relay_why_;  // why this relay backend (chosen_relay::why)
  // Its thread reports into the rooms below; ~balancer stops it before they go.
  std::unique_ptr<relay> relay_;
  listener_set listeners_;
  node_admin admin_;
  writer_switch writer_;
  session_placement placement_;
};

}  // namespace galeratop
