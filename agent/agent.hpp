#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/control/control_protocol.hpp"
#include "agent/monitor/mysql_session.hpp"
#include "agent/operator_intents.hpp"
#include "agent/privilege_drop.hpp"
#include "agent/publisher.hpp"
#include "agent/reloader.hpp"
#include "agent/state_file.hpp"
#include "agent/sync_thread.hpp"
#include "agent/writer_steering.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

class control_server;
class metrics_server;

/// galeratopd at run time. Owns the io_context thread (DESIGN rule 2) and the balancer, whose
/// node records hold every node's facts, and hands the rest to collaborators with one job each:
/// the reloader (the configuration and the monitors), the publisher (the snapshot, its events),
/// the operators' intents, and the writer's steering. It starts and stops, answers the control
/// endpoint, and after every change steers the writer, publishes, and saves what must survive.
class agent {
 public:
  /// Re-reads the configuration at SIGHUP (the file plus the command line).
  using config_loader = reloader::config_loader;

  agent(config initial, config_loader reload);
  ~agent();

  /// Binds, starts the monitors and serves until SIGTERM/SIGINT and the end of
  /// the grace. Returns the process exit code; throws only at start-up.
  int run();

 private:
  /// After any change of a node's health or intent, of the writer's row, and on the clock: steers
  /// the writer, publishes, saves the bootstrap memory when due, and offers the sync thread its nodes.
  void refresh();
  /// A node out of rotation has lost its last session: published and pushed at once.
  void on_drained();
  /// Writes the bootstrap memory's file when the publish said it moved, or a second after it aged.
  void save_memory(bool moved);
  /// Gives the sync thread the nodes it may read and write through (intent_sync_nodes).
  void offer_sync_nodes();

  /// Re-reads the configuration and applies it with its certificates; the error when it is refused
  /// (the running one is kept).
  std::optional<std::string> reload();
  /// reload(), with its outcome in the events log; `who` asked for it ("SIGHUP", or a control client).
  std::optional<std::string> reload_for(const std::string& who);
  asio::awaitable<void> handle_signals();
  asio::awaitable<void> shut_down();
  asio::awaitable<void> publish_loop();
  /// Tells systemd's watchdog, from the io thread, that the io thread runs (WatchdogSec=).
  asio::awaitable<void> watchdog_loop(std::chrono::microseconds every);
  /// What systemd shows as the service's status while it serves.
  std::string serving_status() const;
  /// The listeners in a few words, for the log and the status: "127.0.0.1:3306 (app balance), ...".
  std::string listeners_text() const;

  void open_listeners();
  /// Loads what an earlier run remembered (bootstrap memory, intents) and starts the metrics server.
  void open_state_and_exporter();
  /// Starts sharing intents and the writer through the cluster ([intents] shared).
  void start_sync();
  /// Starts the control endpoint (unix socket, and TCP when configured).
  void open_control();
  /// Hands the state files and the control socket to `who`, then becomes it (agent.user).
  void become(const run_as& who);
  /// The status object of the last publish (the control endpoint's `status` and `subscribe`); null before it.
  nlohmann::json status_json() const;
  /// Answers one control request on the io thread.
  asio::awaitable<nlohmann::json> handle_control(control_request r);

  // First, so that it goes last: Connector/C outlives every thread that uses it (the monitors, the sync thread).
  mysql_session::library connector_;
  asio::io_context io_;
  balancer balancer_;  // owns the node records (its routing table)
  reloader reloader_;  // its monitors post into io_, so it is declared after it
  publisher publisher_;
  writer_steering writer_;
  operator_intents intents_;
  std::unique_ptr<sync_thread> sync_;  // when [intents] shared; posts into io_
  std::vector<mysql_login> sync_nodes_;  // what sync_ was last offered
  std::unique_ptr<state_file> memory_file_;
  mono_clock::time_point memory_written_{};
  std::unique_ptr<metrics_server> metrics_;  // after publisher_: its threads read the slot until they stop
  std::unique_ptr<control_server> control_;  // after the state it serves
  asio::steady_timer publish_timer_;
  asio::steady_timer watchdog_timer_;  // pings go on through the shutdown grace, until the loop stops
  bool stopping_ = false;
};

}  // namespace galeratop
