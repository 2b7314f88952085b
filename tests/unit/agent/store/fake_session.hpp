#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/monitor/mysql_session.hpp"
#include "agent/monitor/sql_session.hpp"
#include "agent/store/store_session.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop::test {

/// One answer of the fake server: rows, or a failure with the server's error number.
struct sql_answer {
  unsigned error_number = 0;  ///< 0: it succeeded
  std::string error;
  std::vector<mysql_row> rows;
};

/// A statement that succeeds with these rows.
inline sql_answer rows(std::vector<mysql_row> r) { return {0, "", std::move(r)}; }
/// A statement the server refuses with error number `n`.
inline sql_answer server_error(unsigned n, std::string message) { return {n, std::move(message), {}}; }

// The server's words for the errors the tests script (mysqld_error.h, errmsg.h).
inline sql_answer no_such_table() { return server_error(1146, "Table 'galeratop.counters' doesn't exist"); }
inline sql_answer deadlock() {
  return server_error(1213, "Deadlock found when trying to get lock; try restarting transaction");
}
inline sql_answer lock_wait_timeout() {
  return server_error(1205, "Lock wait timeout exceeded; try restarting transaction");
}
inline sql_answer connection_lost() { return server_error(2013, "Lost connection to server during query"); }

/// The cluster as a test scripts it. Every node answers a statement with the next answer
/// scripted for the words it begins with (success with no rows when none is left), and the
/// statement is recorded with the node it reached; the fake clock moves by per_statement each time.
struct fake_cluster {
  struct scripted {
    std::string start;
    std::deque<sql_answer> answers;
  };
  std::vector<scripted> script;
  std::vector<std::pair<std::string, std::string>> statements;  ///< node and statement, in order
  std::vector<std::string> opened;  ///< the node of every session opened, in order
  std::vector<std::string> closed;  ///< the node of every session closed, in order
  std::set<std::string> refusing;   ///< nodes that refuse connections
  mono_clock::time_point now{};
  std::chrono::milliseconds per_statement{0};

  /// Answers the next `times` statements that begin with `start` with `a`.
  void on(std::string start, const sql_answer& a, int times = 1) {
    auto it = std::ranges::find(script, start, &scripted::start);
    if (it == script.end()) it = script.insert(script.end(), {std::move(start), {}});
    for (int k = 0; k < times; ++k) it->answers.push_back(a);
  }

  sql_answer answer(const std::string& node, const std::string& sql) {
    statements.emplace_back(node, sql);
    now += per_statement;
    for (scripted& s : script) {
      if (!sql.starts_with(s.start) || s.answers.empty()) continue;
      sql_answer a = std::move(s.answers.front());
      s.answers.pop_front();
      return a;
    }
    return {};
  }

  /// How many statements began with `start`.
  std::size_t count(std::string_view start) const {
    return static_cast<std::size_t>(
        std::ranges::count_if(statements, [&](const auto& s) { return s.second.starts_with(start); }));
  }

  /// The statements in order, without their nodes.
  std::vector<std::string> sql() const {
    std::vector<std::string> out;
    for (const auto& s : statements) out.push_back(s.second);
    return out;
  }

  /// A store_session whose sessions reach this cluster, on its fake clock.
  store_session session();
};

/// A session to one node of a fake_cluster.
class fake_session final : public sql_session {
 public:
  fake_session(fake_cluster& c, std::string node) : cluster_(c), node_(std::move(node)) {
    cluster_.opened.push_back(node_);
  }
  ~fake_session() override { cluster_.closed.push_back(node_); }

  std::optional<std::vector<mysql_row>> query(const std::string& sql, std::string& error) override {
    sql_answer a = cluster_.answer(node_, sql);
    errno_ = a.error_number;
    if (errno_ == 0) return std::move(a.rows);
    error = a.error;
    return std::nullopt;
  }
  std::optional<std::uint64_t> execute(const std::string& sql, std::string& error) override {
    if (!query(sql, error)) return std::nullopt;
    return 0;
  }
  unsigned last_errno() const override { return errno_; }
  std::string quote(std::string_view text) const override {
    std::string out = "'";
    for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

 private:
  fake_cluster& cluster_;
  std::string node_;
  unsigned errno_ = 0;
};

inline store_session fake_cluster::session() {
  return store_session(
      [this](const mysql_login& l, std::string& error) -> std::unique_ptr<sql_session> {
        const std::string node = l.address.to_string();
        if (refusing.contains(node)) {
          error = "Can't connect to server on '" + l.address.host + "' (111)";
          return nullptr;
        }
        return std::make_unique<fake_session>(*this, node);
      },
      [this] { return now; });
}

/// Logins of `n` nodes, 10.0.0.1:3306 and on.
inline std::vector<mysql_login> fake_nodes(int n) {
  std::vector<mysql_login> out;
  for (int k = 1; k <= n; ++k) out.push_back({{"10.0.0." + std::to_string(k), 3306}, "monitor", "secret", {}});
  return out;
}

}  // namespace galeratop::test
