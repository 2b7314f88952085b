#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "agent/intents/intent_store.hpp"
#include "agent/monitor/wsrep_monitor.hpp"
#include "balancer/balancer.hpp"

namespace galeratop {

/// The configuration in force and what it runs: the balancer's nodes and data-path settings, and
/// one monitor thread per node (DESIGN section 3: the monitors post their observations to the io
/// thread). Makes them match a configuration at start and at every reload, and re-reads the
/// configuration for a reload. Runs on the io thread.
class reloader {
 public:
  /// Re-reads the configuration (the file plus the command line).
  using config_loader = std::function<config_result()>;
  /// A monitor's observation changed a node's state or eligibility (io thread).
  using change_handler = std::function<void()>;

  /// Holds `initial` until apply() makes it run (at start, from agent::run).
  reloader(asio::io_context& io, balancer& b, config initial, config_loader loader, change_handler changed);
  /// Stops every monitor; each takes at most one check's timeout.
  ~reloader();
  reloader(const reloader&) = delete;
  reloader& operator=(const reloader&) = delete;

  /// The configuration in force: the same object for the agent's whole life, changed in place at a reload.
  const config& current() const { return config_; }
  /// RLIMIT_NOFILE as raised at start, which sizes an automatic max_connections.
  void set_descriptor_limit(std::size_t limit) { descriptor_limit_ = limit; }
  std::size_t descriptor_limit() const { return descriptor_limit_; }

  /// A configuration read for a reload, not applied yet.
  struct next_config {
    config value;
    std::string password;  ///< the monitor password, read from its file; never logged
  };
  /// Reads the configuration again, with its monitor password; nullopt and `error` (logged) when
  /// it is refused. Keys that apply only at start keep their running value, with a warning.
  std::optional<next_config> read(std::string& error);
  /// Makes the balancer and the monitors match `c`: adds, updates and removes nodes (a node added
  /// comes back under the intent `intents` holds for it) and sets the data-path settings. Throws
  /// std::runtime_error, changing nothing, when a node's address does not resolve.
  void apply(const config& c, const std::string& password, const intent_store& intents);
  /// The monitor logins of these nodes, in their order (the sync thread uses the monitor's account).
  std::vector<mysql_login> logins(std::span<const node_id> ids) const;

 private:
  /// How one node is checked, and the thread that checks it.
  struct node_monitor {
    monitor_target target;
    std::unique_ptr<wsrep_monitor> thread;
  };
  std::unique_ptr<wsrep_monitor> start_monitor(node_id id, const monitor_target& t);
  /// Lets a monitor finish its check on its own thread; it is joined at the next reload or at the end.
  void retire(std::unique_ptr<wsrep_monitor> monitor);

  asio::io_context& io_;
  balancer& balancer_;
  config config_;
  config_loader loader_;
  change_handler changed_;
  bool applied_ = false;                 // a configuration is in force (apply() after that is a reload)
  std::size_t descriptor_limit_ = 1024;  // RLIMIT_NOFILE once raised at start; sizes max_connections
  std::map<node_id, node_monitor> monitors_;              // post into io_
  std::vector<std::unique_ptr<wsrep_monitor>> retired_;  // stopping monitors, joined later
};

}  // namespace galeratop
