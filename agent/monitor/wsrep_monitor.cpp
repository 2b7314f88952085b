// Every client library error becomes an observation here, never an exception.
#include "agent/monitor/wsrep_monitor.hpp"

#include <utility>
#include <vector>

#include "agent/monitor/mysql_session.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop {
namespace {

/// Runs a query and returns its first two columns, or nullopt with the error.
std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(mysql_session& m, const std::string& sql,
                                                                           std::string& error) {
  auto rows = m.query(sql, error);
  if (!rows) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const mysql_row& row : *rows)
    pairs.emplace_back(row.size() > 0 ? row[0].value_or("") : "", row.size() > 1 ? row[1].value_or("") : "");
  return pairs;
}

}  // namespace

wsrep_monitor::wsrep_monitor(monitor_target target, sink on_check)
    : target_(std::move(target)), sink_(std::move(on_check)), thread_([this](std::stop_token st) { run(st); }) {}

wsrep_monitor::~wsrep_monitor() {
  thread_.request_stop();
  wake_.notify_all();
}

void wsrep_monitor::run(std::stop_token stop) {
  mysql_session::thread_init();
  std::unique_ptr<mysql_session> conn;
  std::string node_name;
  std::string cluster_name;
  const auto max_backoff = std::max<std::chrono::milliseconds>(target_.interval, std::chrono::seconds(2));
  auto backoff = target_.interval;
  auto next = mono_clock::now();

  // How a failed call failed is evidence (health_tracker): one that ran into the timeout may
  // only have met a slow node, one answered sooner was refused, reset or closed by the node.
  const auto ran_into_timeout = [this](mono_clock::time_point since) {
    return ran_out_of_time(std::chrono::duration_cast<std::chrono::microseconds>(mono_clock::now() - since),
                           target_.login.timeout);
  };
  while (!stop.stop_requested()) {
    observation obs;
    if (!conn) {
      const auto started = mono_clock::now();
      conn = mysql_session::open(target_.login, obs.error);
      if (!conn) obs.late = ran_into_timeout(started);
      // The names are read once per connection: they only change with a restart of the node.
      if (conn) {
        std::string ignored;
        auto rows = query_pairs(*conn, "SELECT @@wsrep_node_name, @@wsrep_cluster_name", ignored);
        const bool got = rows && !rows->empty();
        node_name = got ? rows->front().first : std::string{};
        cluster_name = got ? rows->front().second : std::string{};
      }
    }
    if (conn) {
      const auto started = mono_clock::now();
      if (auto rows = query_pairs(*conn, wsrep_status_query(), obs.error)) {
        obs.latency = std::chrono::duration_cast<std::chrono::microseconds>(mono_clock::now() - started);
        obs.status = parse_wsrep_status(*rows);
      } else {
        obs.late = ran_into_timeout(started);
        conn.reset();  // the next check reconnects
      }
    }
    obs.node_name = node_name;
    obs.cluster_name = cluster_name;
    obs.at = mono_clock::now();
    obs.wall_at = std::chrono::system_clock::now();
    const bool ok = obs.status.has_value();
    sink_(std::move(obs));

    // Checks keep the agent's cadence (next_tick, balancer/core/clock.hpp); failures back off (doubling up to 2 s)
    // so that a dead node costs little, and the first good check resets it.
    const auto now = mono_clock::now();
    if (ok) {
      backoff = target_.interval;
      next = next_tick(now, target_.interval);
    } else {
      next = now + backoff;
      backoff = std::min(backoff * 2, max_backoff);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, stop, next, [] { return false; });
  }
  conn.reset();
  mysql_session::thread_end();
}

}  // namespace galeratop
