#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "agent/cluster/bootstrap_memory.hpp"
#include "agent/cluster/cluster_model.hpp"
#include "agent/cluster/event_log.hpp"
#include "agent/cluster/query_window.hpp"
#include "agent/cluster/snapshot_slot.hpp"
#include "agent/config/config.hpp"
#include "agent/control/control_protocol.hpp"
#include "agent/intents/intent_decisions.hpp"
#include "agent/intents/intent_store.hpp"
#include "agent/monitor/mysql_session.hpp"
#include "agent/monitor/wsrep_monitor.hpp"
#include "agent/privilege_drop.hpp"
#include "agent/state_file.hpp"
#include "agent/writer/intent_sync.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

class control_server;
class metrics_server;

/// galeratopd at run time: the balancer, one monitor per node, and the
/// signals that stop and reload it. Owns the io_context thread (DESIGN rule 2).
/// Every node's facts are in its record in the balancer's routing table; the agent holds
/// the threads that observe nodes and does the I/O its decisions (intent_decisions.hpp,
/// reload_plan.hpp) ask for.
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
  /// How one node is checked, and the thread that checks it.
  struct node_monitor {
    monitor_target target;
    std::unique_ptr<wsrep_monitor> thread;
  };

  /// Makes the running state match `c`: adds, updates and removes nodes and monitors.
  void apply(const config& c, const std::string& password);
  std::unique_ptr<wsrep_monitor> start_monitor(node_id id, const monitor_target& t);
  /// Lets a monitor finish its check on its own thread; it is joined at the next reload or at the end.
  void retire(std::unique_ptr<wsrep_monitor> monitor);
  monitor_target target_for(const node_config& n, const config& c, const std::string& password) const;
  /// Re-reads the configuration; the error when it is refused (the running one is kept).
  std::optional<std::string> reload();
  asio::awaitable<void> handle_signals();
  /// What systemd shows as the service's status while it serves.
  std::string serving_status() const;
  /// The listeners in a few words, for the log and the status: "127.0.0.1:3306 (app balance), ...".
  std::string listeners_text() const;
  asio::awaitable<void> shut_down();
  /// Loads what an earlier run remembered and starts the metrics server.
  void open_listeners();
  void open_state_and_exporter();
  /// Hands the state files and the control socket to `who`, then becomes it (agent.user).
  void become(const run_as& who);
  /// Builds a snapshot, runs the cluster model over it and publishes it (io thread); the changes
  /// since the last one go to the events log.
  void publish();
  /// Adds an event now (io thread): an operator's request (`who` asked), a reload.
  void tell(event_kind kind, std::string node, std::string message, std::string who = {});
  /// reload(), with its outcome in the events log; `who` asked for it ("SIGHUP", or a control client).
  std::optional<std::string> reload_for(const std::string& who);
  asio::awaitable<void> publish_loop();
  /// A node out of rotation has lost its last session: published and pushed at once.
  void on_drained();
  /// Tells systemd's watchdog, from the io thread, that the io thread runs (WatchdogSec=).
  asio::awaitable<void> watchdog_loop(std::chrono::microseconds every);
  /// The status object of the last publish (the control endpoint's `status` and `subscribe`); null before it.
  nlohmann::json status_json() const;

  /// Starts the control endpoint (unix socket, and TCP when configured).
  void open_control();
  /// Answers one control request on the io thread.
  asio::awaitable<nlohmann::json> handle_control(control_request r);
  /// Changes one node's intent: guarded, shared through the cluster (else kept here, pending),
  /// persisted, then applied. The answer to send.
  asio::awaitable<nlohmann::json> change_intent(control_request r, std::string address);
  /// Makes `i` the node's intent: the state file first (an intent acknowledged survives kill -9),
  /// then the balancer. When the file cannot be written: if `must_persist` (the file is its only
  /// durable copy) nothing changes and it returns false with `error`; else the cluster keeps it,
  /// so it is applied all the same, and the failure is logged.
  bool hold_intent(const node_record& n, const intent& i, bool must_persist, std::string& error);
  /// Hands a change to the intent sync thread; resumes on the io thread with the outcome.
  asio::awaitable<intent_write> share(intent_change c);
  /// Starts sharing intents through the cluster ([intents] shared).
  void start_intent_sync();
  void open_routing();  // the first read of the shared intents is done (or failed): nodes may take clients
  /// Applies what the cluster's table says (io thread): adopts changed rows, pushes pending intents;
  /// `writer` is the writer's read of the same round (intent_sync::read_sink).
  void on_intent_read(intent_read r, std::optional<writer_read> writer);
  /// Makes the node's intent what the cluster's row says (none: the default), and logs a change.
  void adopt_row(const node_record& n, const std::optional<shared_intent>& row);
  /// Writes an intent held here (pending, or older than the table) if the row is still at `expected_version`.
  void push_intent(const std::string& address, const intent& local, std::uint64_t expected_version);
  asio::awaitable<void> push(intent_change c);
  /// Gives the intent sync thread the nodes it may read and write through (intent_sync_nodes).
  void offer_sync_nodes();

  // The writer of writer listeners (agent_writer.cpp).
  /// Takes what a read of galeratop.writer found (nullopt: it could not be read, `error` says why).
  void on_writer_read(const std::optional<writer_read>& read, const std::string& error);
  /// Applies the writer rule (plan_writer) to what is known now: routes writer listeners and, when
  /// the rule asks for another writer, proposes it to the cluster. Called at every publish.
  void steer_writer();
  /// Runs a compare-and-set of the writer row on the sync thread; resumes on the io thread.
  /// Give it a named change, never a temporary built in the co_await expression: GCC 12 relocates
  /// such a temporary bitwise, and a short string in it then points into the caller's frame.
  asio::awaitable<writer_write> share(writer_change c);
  /// Proposes `node` as writer (one compare-and-set at a time); adopts the row that results.
  asio::awaitable<void> propose_writer(node_id node, std::string why);
  /// Takes a row the cluster now has (read, or the outcome of a change), logging a change of writer.
  void adopt_writer_row(const std::optional<writer_row>& row);
  /// `galeratop writer NODE`: moves the role by hand, if NODE can write.
  asio::awaitable<nlohmann::json> move_writer(control_request r, node_id node);
  /// Before a drain or maint of the writer: moves the role to the node the rule prefers without it.
  /// The warning to give the operator when it could not (empty when it moved or had no need to).
  asio::awaitable<std::string> move_writer_off(node_id node, admin_state next);
  /// What publish() shows of the writer.
  writer_snapshot writer_view() const;

  // First, so that it goes last: Connector/C outlives every thread that uses it (the monitors, the intent sync).
  mysql_session::library connector_;
  asio::io_context io_;
  balancer balancer_;  // owns the node records (its routing table)
  config config_;
  config_loader loader_;
  std::string password_;
  bool applied_ = false;                 // a configuration is in force (apply() after that is a reload)
  std::size_t descriptor_limit_ = 1024;  // RLIMIT_NOFILE once raised at start; sizes max_connections
  std::map<node_id, node_monitor> monitors_;              // post into io_, so declared after it
  std::vector<std::unique_ptr<wsrep_monitor>> retired_;  // stopping monitors, joined later
  cluster_model model_;
  bootstrap_memory memory_;
  std::unique_ptr<state_file> memory_file_;
  mono_clock::time_point memory_written_{};
  intent_store intents_;  // the intents file's content: every node's intent, also of nodes a reload removed
  std::string intents_path_;
  std::string agent_id_;  // changed_by in galeratop.intents: which agent made a change
  std::unique_ptr<intent_sync> sync_;  // when [intents] shared; posts into io_, so declared after it
  std::vector<mysql_login> sync_nodes_;  // what sync_ was last offered
  std::set<std::string, std::less<>> pushing_;  // addresses whose pending intent is being written
  intents_sync_snapshot sync_state_;
  intent_read_watch read_watch_;
  std::vector<unreadable_intent> unreadable_rows_;  // the ignored rows last logged
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  writer_facts writer_facts_;  // the row as last read, and whether reads succeed; failback from config_
  std::vector<writer_follower> writer_agents_;  // what the agents of the group follow, as last read
  std::string writer_error_;    // why the latest read of galeratop.writer failed
  bool proposing_writer_ = false;  // a compare-and-set of the writer row is under way
  mono_clock::time_point writer_retry_at_{};  // after a failed one, the next is not proposed before this
  std::optional<writer_follower> following_;  // what this agent last told the others it follows
  std::map<node_id, query_window> query_windows_;  // the recent query figures of each node, fed by publish()
  event_log events_;             // what happened, fed by publish() and by the operators' requests
  rejection_bursts rejections_;  // refused clients, told a burst at a time
  snapshot_slot published_;
  std::unique_ptr<metrics_server> metrics_;  // after published_: its threads read it until they stop
  std::unique_ptr<control_server> control_;  // after the state it serves
  asio::steady_timer publish_timer_;
  asio::steady_timer watchdog_timer_;  // pings go on through the shutdown grace, until the loop stops
  bool stopping_ = false;
};

}  // namespace galeratop
