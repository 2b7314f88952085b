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
#include "agent/intents/intent_decisions.hpp"
#include "agent/intents/intent_store.hpp"
#include "agent/publisher.hpp"
#include "agent/sync_thread.hpp"
#include "agent/writer_steering.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

/// The operators' intents (drain, maint, ready, weight): the control commands that change them,
/// their durable copy in the state file, and their sharing through the cluster's
/// galeratop.intents table (the sync thread runs the SQL; intent_decisions.hpp decides). Kept
/// apart from health, in each node's record, so that a health change never undoes a drain.
/// Runs on the io thread.
class operator_intents {
 public:
  /// `changed`: an intent was applied (the agent steers the writer and publishes).
  operator_intents(asio::io_context& io, balancer& b, const config& c, publisher& p, writer_steering& writer,
                   std::function<void()> changed);

  /// Loads the intents file of the state directory (an earlier run's drains hold from the first
  /// moment); throws std::runtime_error when it cannot be read or is not valid.
  void restore(const std::string& state_dir);
  /// Every node's intent as the state file keeps it, also of nodes a reload removed.
  const intent_store& store() const { return store_; }
  /// Shares intents through the cluster from now on ([intents] shared): no node takes clients
  /// until the first read of the table has told what other agents hold.
  void start_sharing(sync_thread& sync);
  /// Changes node `id`'s intent as `r` asks: guarded (the last node), the writer moved off it
  /// first, shared through the cluster (else held here, pending), persisted, then applied. The answer.
  asio::awaitable<nlohmann::json> change(control_request r, node_id id);
  /// Applies what a read of galeratop.intents found: adopts changed rows, pushes pending intents.
  void on_read(const intent_read& r);
  /// What the snapshot shows of the sharing.
  intents_sync_snapshot view() const;

 private:
  /// Makes `i` the node's intent: the state file first (an intent acknowledged survives kill -9),
  /// then the balancer. When the file cannot be written: if `must_persist` (the file is its only
  /// durable copy) nothing changes and it returns false with `error`; else the cluster keeps it,
  /// so it is applied all the same, and the failure is logged.
  bool hold(const node_record& n, const intent& i, bool must_persist, std::string& error);
  /// Makes the node's intent what the cluster's row says (none: the default), and tells a change.
  void adopt_row(const node_record& n, const std::optional<shared_intent>& row);
  /// Writes an intent held here (pending, or older than the table) if the row is still at `expected_version`.
  asio::awaitable<void> push(node_id id, intent_change c);
  /// The first read of the shared intents is done (or failed): nodes may take clients.
  void open_routing();

  asio::io_context& io_;
  balancer& balancer_;
  const config& config_;
  publisher& publisher_;
  writer_steering& writer_;
  std::function<void()> changed_;
  intent_store store_;  // the intents file's content: every node's intent, also of nodes a reload removed
  std::string path_;    // the intents file
  sync_thread* sync_ = nullptr;  // when [intents] shared
  intents_sync_snapshot sharing_;
  intent_read_watch read_watch_;
  std::vector<unreadable_intent> unreadable_rows_;  // the ignored rows last logged
};

}  // namespace galeratop
