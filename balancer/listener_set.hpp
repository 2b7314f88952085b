#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/listener.hpp"
#include "balancer/relay.hpp"
#include "balancer/session_registry.hpp"

namespace galeratop {

/// One client-facing listener and what it has done.
struct listener_figures {
  std::string name;  ///< unique among the agent's listeners
  listener_role role = listener_role::balance;
  std::string address;  ///< HOST:PORT it listens on, as configured
  std::map<node_id, std::uint32_t> connections;  ///< sessions it holds to each node now (connecting ones too)
  std::uint64_t accepted_total = 0;              ///< clients it accepted
};

/// The balancer's client-facing listeners, in the order they were opened; a listener's index is
/// its identity for the life of the process (sessions carry it). Each accepts its clients on the
/// io thread, or leaves that to the relay's front door (io_uring), which reports them to the
/// balancer instead: either way a client reaches `on_client` or the front door's handler.
class listener_set {
 public:
  /// A client accepted on the io thread, through the listener at this index.
  using client_handler = std::function<void(std::size_t listener, asio::ip::tcp::socket client)>;

  /// `r`: the relay, whose front door accepts where it serves one; `on_failure`: an accept failed.
  listener_set(asio::io_context& io, relay& r, client_handler on_client, listener::failure_handler on_failure);

  /// Binds one more listener and starts accepting; throws std::system_error when it cannot bind.
  void listen(std::string name, listener_role role, std::string address, const asio::ip::tcp::endpoint& at);
  /// The same on a socket systemd passed, already listening at `at`; owned here from now on.
  void adopt(std::string name, listener_role role, std::string address, int fd, const asio::ip::tcp::endpoint& at);
  /// Closes every listener; established sessions go on.
  void stop_accepting();

  /// Whether listener `i` is a writer listener.
  bool is_writer(std::size_t i) const { return slots_[i]->figures.role == listener_role::writer; }
  /// Whether some listener is a writer listener.
  bool any_writer() const;
  /// IPv4 or IPv6: what the client sockets of listener `i` are.
  asio::ip::tcp protocol(std::size_t i) const { return slots_[i]->socket.protocol(); }
  /// Counts a client listener `i` accepted and placed (not one refused at max_connections).
  void count_accepted(std::size_t i) { ++slots_[i]->figures.accepted_total; }
  /// Each listener's figures, its sessions per node taken from `sessions`.
  std::vector<listener_figures> figures(const session_registry& sessions) const;

 private:
  struct slot {
    slot(asio::io_context& io, listener::client_handler on_client, listener::failure_handler on_failure)
        : socket(io, std::move(on_client), std::move(on_failure)) {}
    listener socket;
    listener_figures figures;  // but connections, which the session registry counts
  };
  void add(std::string name, listener_role role, std::string address,
           const std::function<void(listener&, listener::accepts)>& open);

  asio::io_context& io_;
  relay& relay_;
  client_handler on_client_;
  listener::failure_handler on_failure_;
  std::vector<std::unique_ptr<slot>> slots_;  // in the order opened; never shrinks
};

}  // namespace galeratop
