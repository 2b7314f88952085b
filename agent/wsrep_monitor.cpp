// The only file that includes <mysql.h> (DESIGN section 3): every client
// library error becomes an observation here, never an exception.
#include "wsrep_monitor.hpp"

#include <mysql.h>
#include <utility>
#include <vector>

#include "cadence.hpp"

namespace galeratop {
namespace {

struct connection_closer {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
using connection = std::unique_ptr<MYSQL, connection_closer>;

struct result_freer {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};
using result = std::unique_ptr<MYSQL_RES, result_freer>;

/// Runs a query and returns its first two columns, or nullopt with the error.
std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(MYSQL* m, const char* sql,
                                                                           std::string& error) {
  if (mysql_query(m, sql) != 0) {
    error = mysql_error(m);
    return std::nullopt;
  }
  result res(mysql_store_result(m));
  if (!res) {
    error = mysql_errno(m) ? mysql_error(m) : "the query returned no result";
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> rows;
  const unsigned fields = mysql_num_fields(res.get());
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    rows.emplace_back(row[0] ? row[0] : "", fields > 1 && row[1] ? row[1] : "");
  }
  return rows;
}

connection open(const monitor_target& t, std::string& error) {
  connection m(mysql_init(nullptr));
  if (!m) {
    error = "out of memory in mysql_init";
    return nullptr;
  }
  // Every call gets a timeout: a frozen node accepts TCP and never answers (DESIGN section 5).
  const unsigned timeout = static_cast<unsigned>(t.timeout.count());
  const unsigned protocol = MYSQL_PROTOCOL_TCP;  // "localhost" would otherwise mean the unix socket
  mysql_optionsv(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(m.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_optionsv(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_optionsv(m.get(), MYSQL_OPT_PROTOCOL, &protocol);
  if (!mysql_real_connect(m.get(), t.host.c_str(), t.user.c_str(), t.password.c_str(), nullptr, t.port, nullptr,
                          0)) {
    error = mysql_error(m.get());
    return nullptr;
  }
  return m;
}

}  // namespace

void wsrep_monitor::init_library() { mysql_library_init(0, nullptr, nullptr); }
void wsrep_monitor::end_library() { mysql_library_end(); }

wsrep_monitor::wsrep_monitor(monitor_target target, sink on_check)
    : target_(std::move(target)), sink_(std::move(on_check)), thread_([this](std::stop_token st) { run(st); }) {}

wsrep_monitor::~wsrep_monitor() {
  thread_.request_stop();
  wake_.notify_all();
}

void wsrep_monitor::run(std::stop_token stop) {
  mysql_thread_init();
  connection conn;
  std::string node_name;
  std::string cluster_name;
  const auto max_backoff = std::max<std::chrono::milliseconds>(target_.interval, std::chrono::seconds(2));
  auto backoff = target_.interval;
  auto next = mono_clock::now();

  while (!stop.stop_requested()) {
    observation obs;
    if (!conn) {
      conn = open(target_, obs.error);
      // The names are read once per connection: they only change with a restart of the node.
      if (conn) {
        std::string ignored;
        auto rows = query_pairs(conn.get(), "SELECT @@wsrep_node_name, @@wsrep_cluster_name", ignored);
        const bool got = rows && !rows->empty();
        node_name = got ? rows->front().first : std::string{};
        cluster_name = got ? rows->front().second : std::string{};
      }
    }
    if (conn) {
      const auto started = mono_clock::now();
      if (auto rows = query_pairs(conn.get(), wsrep_status_query().c_str(), obs.error)) {
        obs.latency = std::chrono::duration_cast<std::chrono::microseconds>(mono_clock::now() - started);
        obs.status = parse_wsrep_status(*rows);
      } else {
        conn.reset();  // the next check reconnects
      }
    }
    obs.node_name = node_name;
    obs.cluster_name = cluster_name;
    obs.at = mono_clock::now();
    const bool ok = obs.status.has_value();
    sink_(std::move(obs));

    // Checks keep the agent's cadence (cadence.hpp); failures back off (doubling up to 2 s)
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
  mysql_thread_end();
}

}  // namespace galeratop
