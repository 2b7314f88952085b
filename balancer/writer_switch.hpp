#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/routing_table.hpp"
#include "balancer/relay.hpp"
#include "balancer/session_registry.hpp"
#include "balancer/writer_route.hpp"

namespace galeratop {

/// The writer switch: which node writer listeners send new sessions to (writer_route.hpp), and a
/// clean move from one writer to the next. At a change, every writer-listener session on another
/// node is closed: one still dialing at once (it has sent nothing), a relayed one at its next
/// safe point, and those left after writer_barrier are cut. New sessions wait in the hold queue
/// until none is left, so that no session writes on the old writer beside the new one. Runs on
/// the io thread.
class writer_switch {
 public:
  /// `settled`: a switch has ended; the clients held for the writer may go on.
  writer_switch(asio::io_context& io, const balancer_settings& settings, const routing_table& table,
                session_registry& sessions, relay& r, std::function<void()> settled);
  ~writer_switch() { stopping_ = true; }
  writer_switch(const writer_switch&) = delete;
  writer_switch& operator=(const writer_switch&) = delete;

  /// Sets the node writer listeners send new sessions to (nullopt: none; `why` says why).
  void set(std::optional<node_id> writer, std::string why);
  /// The writer listeners' route.
  const writer_route& route() const { return route_; }
  /// The writer a writer listener's new session may go to now; nullopt: it waits.
  std::optional<node_id> ready() const { return route_.ready(table_); }
  /// A session has left its node (ended, or its dial failed): the switch may be over.
  void session_left();
  /// The clients held now that came in through a writer listener (they wait for a settled writer).
  std::size_t held() const;

 private:
  /// Writer-listener sessions dialing or relayed on another node than the writer.
  std::size_t strays() const;
  asio::awaitable<void> end_barrier(std::uint64_t generation);

  asio::io_context& io_;
  const balancer_settings& settings_;
  const routing_table& table_;
  session_registry& sessions_;
  relay& relay_;
  std::function<void()> settled_;
  writer_route route_;
  bool stopping_ = false;
};

}  // namespace galeratop
