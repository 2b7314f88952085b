#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/monitor/mysql_session.hpp"
#include "agent/monitor/sql_session.hpp"
#include "agent/store/row_cas.hpp"
#include "agent/store/row_write.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop {

/// The sync thread's way to the rows in the cluster's `galeratop` schema: one session at a time,
/// to one of the nodes the agent says can be written, with causal reads; and every row's
/// compare-and-set with its retries, which move to another node after a failed attempt. Used by
/// one thread (the client library blocks, DESIGN rule 2).
class store_session {
 public:
  /// Opens a session to one node; nullptr with `error` (mysql_session::open; a fake in the tests).
  using opener = std::function<std::unique_ptr<sql_session>(const mysql_login&, std::string& error)>;
  /// The time the retries' budget is measured in (mono_clock::now; a fake in the tests).
  using clock = std::function<mono_clock::time_point()>;

  /// Attempts of one compare-and-set: races lost to other agents and failed nodes, together.
  static constexpr int write_attempts = 3;
  /// A change is answered within this (galeratop waits 5 s for an answer); past it, it is held locally.
  static constexpr std::chrono::seconds write_budget{3};

  explicit store_session(opener open = open_mysql, clock now = mono_clock::now);

  /// The session: the current one while its node is among `nodes`, else one to the next of them
  /// that answers; nullptr with `error`.
  sql_session* connect(const std::vector<mysql_login>& nodes, std::string& error);
  /// Drops the session: the next connect() tries the next node.
  void reset() { session_.reset(); }
  /// The open session; nullptr when there is none.
  sql_session* get() const { return session_.get(); }
  /// The node of the session (the last one opened), HOST:PORT.
  std::string node() const { return login_.address.to_string(); }

  /// Runs `cas` on a usable node of `nodes` until it ends, within write_attempts and
  /// write_budget; the outcome says through which node. A failed attempt drops the session, so
  /// the next one starts afresh on the next node.
  template <class Row>
  row_write<Row> compare_and_set(const std::vector<mysql_login>& nodes, const row_cas<Row>& cas);

 private:
  /// mysql_session::open, as an opener.
  static std::unique_ptr<sql_session> open_mysql(const mysql_login& login, std::string& error);

  opener open_;
  clock now_;
  std::unique_ptr<sql_session> session_;
  mysql_login login_;  // the node of session_, or of the last one
  std::size_t next_node_ = 0;  // where the next connect starts in the list of nodes
};

template <class Row>
row_write<Row> store_session::compare_and_set(const std::vector<mysql_login>& nodes, const row_cas<Row>& cas) {
  using write = row_write<Row>;
  bool created = false;
  std::string error;
  const auto give_up = now_() + write_budget;
  for (int attempt = 0; attempt < write_attempts && now_() < give_up; ++attempt) {
    sql_session* s = connect(nodes, error);
    if (!s) return {write::kind::failed, std::nullopt, error, ""};
    if (std::optional<write> done = attempt_row_cas(*s, cas, created)) {
      done->on = node();
      if (done->result == write::kind::failed) reset();  // the next attempt starts on a fresh connection
      if (done->result != write::kind::failed || attempt + 1 == write_attempts) return *done;
      error = done->error;  // the connection is gone: the next attempt tries another node
    }
  }
  return {write::kind::failed, std::nullopt, error.empty() ? "another agent kept changing the row; try again" : error,
          ""};
}

}  // namespace galeratop
