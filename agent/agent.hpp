#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "balancer.hpp"
#include "bootstrap_memory.hpp"
#include "cluster_model.hpp"
#include "config.hpp"
#include "control_protocol.hpp"
#include "intent_store.hpp"
#include "intent_sync.hpp"
#include "privilege_drop.hpp"
#include "snapshot_slot.hpp"
#include "state_file.hpp"
#include "wsrep_monitor.hpp"

namespace galeratop {

class control_server;
class metrics_server;

/// galeratopd at run time: the balancer, one monitor per node, and the
/// signals that stop and reload it. Owns the io_context thread (DESIGN rule 2).
class agent {
 public:
  /// Re-reads the configuration at SIGHUP (the file plus the command line).
  using config_loader = std::function<config_result()>;

  agent(config initial, config_loader reload);
  ~agent();

  /// Binds, starts the monitors and serves until SIGTERM/SIGINT and the end of
  /// the grace. Returns the process exit code; throws only at start-up.
  int run();

 private:
  struct managed_node {
    node_config config;
    node_id id = 0;
    std::string resolved;  // IP:PORT, to recognise the node in wsrep_incoming_addresses
    std::unique_ptr<wsrep_monitor> monitor;
  };
  /// What the monitor of one node has done, kept on the io thread.
  struct monitor_stats {
    poll_histogram poll;
    std::uint64_t errors = 0;
  };

  /// Makes the running state match `c`: adds, updates and removes nodes and monitors.
  void apply(const config& c, const std::string& password);
  std::unique_ptr<wsrep_monitor> start_monitor(node_id id, const monitor_target& t);
  monitor_target target_for(const node_config& n, const config& c, const std::string& password) const;
  /// Re-reads the configuration; the error when it is refused (the running one is kept).
  std::optional<std::string> reload();
  asio::awaitable<void> handle_signals();
  /// What systemd shows as the service's status while it serves.
  std::string serving_status() const;
  asio::awaitable<void> shut_down();
  /// Loads what an earlier run remembered and starts the metrics server.
  void open_state_and_exporter();
  /// Hands the state files and the control socket to `who`, then becomes it (agent.user).
  void become(const run_as& who);
  /// Builds a snapshot, runs the cluster model over it and publishes it (io thread).
  void publish();
  asio::awaitable<void> publish_loop();
  /// Tells systemd's watchdog, from the io thread, that the io thread runs (WatchdogSec=).
  asio::awaitable<void> watchdog_loop(std::chrono::microseconds every);
  std::vector<node_snapshot> node_snapshots() const;

  /// Starts the control endpoint (unix socket, and TCP when configured).
  void open_control();
  /// Answers one control request on the io thread.
  asio::awaitable<nlohmann::json> handle_control(control_request r);
  /// The node a control request names, by name, address or resolved address; nullptr with `error`.
  const managed_node* find_node(const std::string& ref, control_error& error) const;
  /// Changes one node's intent: guarded, shared through the cluster (else kept here, pending),
  /// persisted, then applied. The answer to send.
  asio::awaitable<nlohmann::json> change_intent(control_request r, std::string address);
  /// The configured node with this address; nullptr when a reload removed it.
  const managed_node* node_at(const std::string& address) const;
  /// Makes `i` the node's intent: the state file first (an intent acknowledged survives kill -9),
  /// then the balancer. When the file cannot be written: if `must_persist` (the file is its only
  /// durable copy) nothing changes and it returns false with `error`; else the cluster keeps it,
  /// so it is applied all the same, and the failure is logged.
  bool hold_intent(const managed_node& n, const intent& i, bool must_persist, std::string& error);
  /// Hands a change to the intent sync thread; resumes on the io thread with the outcome.
  asio::awaitable<intent_write> share(intent_change c);
  /// Starts sharing intents through the cluster ([intents] shared).
  void start_intent_sync();
  void open_routing();  // the first read of the shared intents is done (or failed): nodes may take clients
  /// Applies what the cluster's table says (io thread): adopts changed rows, pushes pending intents.
  void on_intent_read(intent_read r);
  /// Makes the node's intent what the cluster's row says (none: the default), and logs a change.
  void adopt_row(const managed_node& m, const std::optional<shared_intent>& row);
  /// Writes an intent held here (pending, or older than the table) if the row is still at `expected_version`.
  void push_intent(const std::string& address, const intent& local, std::uint64_t expected_version);
  asio::awaitable<void> push(intent_change c);
  /// Gives the intent sync thread the nodes it may read and write through (synced and up).
  void offer_sync_nodes(const std::vector<node_snapshot>& nodes);
  /// The weight a node is balanced with: the operator's override, else the configured one.
  std::uint32_t effective_weight(const node_config& n) const;

  asio::io_context io_;
  balancer balancer_;
  config config_;
  config_loader loader_;
  std::string password_;
  bool applied_ = false;                 // a configuration is in force (apply() after that is a reload)
  std::size_t descriptor_limit_ = 1024;  // RLIMIT_NOFILE once raised at start; sizes max_connections
  std::vector<managed_node> nodes_;
  std::vector<std::unique_ptr<wsrep_monitor>> retired_;  // stopping monitors of removed nodes, joined later
  std::map<node_id, monitor_stats> monitor_stats_;
  cluster_model model_;
  bootstrap_memory memory_;
  std::unique_ptr<state_file> memory_file_;
  mono_clock::time_point memory_written_{};
  intent_store intents_;
  std::string intents_path_;
  std::string agent_id_;  // changed_by in galeratop.intents: which agent made a change
  std::unique_ptr<intent_sync> sync_;  // when [intents] shared; posts into io_, so declared after it
  std::vector<mysql_login> sync_nodes_;  // what sync_ was last offered
  std::set<std::string> pushing_;        // addresses whose pending intent is being written
  intents_sync_snapshot sync_state_;
  std::optional<mono_clock::time_point> sync_warned_at_;  // when a failing read was last logged
  int sync_failures_ = 0;                                 // failed reads in a row
  bool read_once_ = false;                                // galeratop.intents was read at least once
  std::vector<unreadable_intent> unreadable_rows_;       // the ignored rows last logged
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  snapshot_slot published_;
  std::unique_ptr<metrics_server> metrics_;  // after published_: its threads read it until they stop
  std::unique_ptr<control_server> control_;  // after the state it serves
  asio::steady_timer publish_timer_;
  asio::steady_timer watchdog_timer_;  // pings go on through the shutdown grace, until the loop stops
  bool stopping_ = false;
};

}  // namespace galeratop
