#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/cluster/snapshot.hpp"
#include "agent/config/config.hpp"
#include "agent/control/control_protocol.hpp"
#include "agent/publisher.hpp"
#include "agent/sync_thread.hpp"
#include "agent/writer/shared_writer.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

/// The writer of writer listeners: follows the cluster's galeratop.writer row, asks for a new
/// writer when the rule (plan_writer, shared_writer.hpp) says so, and moves the role at an
/// operator's request or before the writer is drained. The sync thread runs the SQL; everything
/// here runs on the io thread. The writer is one fact per group, where intents are per node.
class writer_steering {
 public:
  /// `changed`: the row this agent follows changed (the agent steers again and publishes).
  writer_steering(asio::io_context& io, balancer& b, const config& c, publisher& p, std::function<void()> changed);

  /// Follows the group's writer row through `sync` from now on; `agent_id` names this agent there.
  void start(sync_thread& sync, std::string agent_id);
  /// Takes what a read of galeratop.writer through `from` found (nullopt: it could not be read,
  /// `error` says why).
  void on_read(const std::optional<writer_read>& read, const std::string& error, const std::string& from);
  /// Applies the writer rule (plan_writer) to what is known now: routes writer listeners and, when
  /// the rule asks for another writer, proposes it to the cluster. On every change of a node's
  /// health or intent, and on the clock.
  void steer();
  /// `galeratop writer NODE`: moves the role by hand, if NODE can write. The answer.
  asio::awaitable<nlohmann::json> move(control_request r, node_id id);
  /// Before a drain or maint of the writer: moves the role to the node the rule prefers without it.
  /// The warning to give the operator when it could not (empty when it moved or had no need to).
  asio::awaitable<std::string> move_off(node_id id, admin_state next);
  /// What the snapshot shows of the writer; nullopt without a writer listener.
  std::optional<writer_snapshot> view() const;

 private:
  /// Proposes `node` as writer (one compare-and-set at a time); adopts the row that results.
  asio::awaitable<void> propose(node_id node, std::string why);
  /// Takes a row the cluster now has (read, or the outcome of a change), logging a change of writer.
  void adopt(const std::optional<writer_row>& row);

  asio::io_context& io_;
  balancer& balancer_;
  const config& config_;
  publisher& publisher_;
  std::function<void()> changed_;
  sync_thread* sync_ = nullptr;  // when [intents] shared
  std::string agent_id_;         // this agent's id in galeratop.writer_agents
  writer_facts facts_;           // the row as last read, and whether reads succeed
  std::vector<writer_follower> agents_;  // what the agents of the group follow, as last read
  std::string error_;                    // why the latest read of galeratop.writer failed
  bool proposing_ = false;               // a compare-and-set of the writer row is under way
  mono_clock::time_point retry_at_{};    // after a failed one, the next is not proposed before this
  std::optional<writer_follower> following_;  // what this agent last told the others it follows
};

}  // namespace galeratop
