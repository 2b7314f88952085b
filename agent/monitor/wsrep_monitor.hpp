#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "agent/monitor/mysql_session.hpp"
#include "balancer/core/observation.hpp"

namespace galeratop {

/// Where and how one node is checked.
struct monitor_target {
  mysql_login login;  ///< its timeout bounds every call of a check
  std::chrono::milliseconds interval{250};

  friend bool operator==(const monitor_target&, const monitor_target&) = default;
};

/// Polls one node's wsrep status over one persistent Connector/C connection,
/// on a thread of its own because the client library blocks (DESIGN rule 2).
/// Every check, failed or not, is handed to `sink` as an observation.
class wsrep_monitor {
 public:
  /// Called on the monitor's thread: must only hand the observation over (e.g. asio::post).
  using sink = std::function<void(observation)>;

  /// Starts checking at once.
  wsrep_monitor(monitor_target target, sink on_check);
  /// Stops and joins; takes at most one `timeout` when a check is under way.
  ~wsrep_monitor();
  wsrep_monitor(const wsrep_monitor&) = delete;
  wsrep_monitor& operator=(const wsrep_monitor&) = delete;

  /// Asks the thread to end after its current check, without waiting.
  void request_stop() { thread_.request_stop(); }

 private:
  void run(std::stop_token stop);

  monitor_target target_;
  sink sink_;
  std::mutex mutex_;  // only for the interruptible sleep between checks
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: started after every other member exists
};

}  // namespace galeratop
