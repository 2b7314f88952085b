#include "agent/writer/writer_table.hpp"

#include <fmt/format.h>

#include "agent/store/server_errors.hpp"

namespace galeratop {
namespace {

// The comments are what a DBA finds with SHOW CREATE TABLE. Both tables are created together:
// the first change of the writer row, or the first report of an agent, creates them.
constexpr std::string_view create_writer_tables[] = {
    "CREATE DATABASE IF NOT EXISTS galeratop",
    "CREATE TABLE IF NOT EXISTS galeratop.writer ("
    " agent_group VARCHAR(64) NOT NULL COMMENT 'the [intents] group of the galeratopd agents that follow the row',"
    " node VARCHAR(255) NOT NULL COMMENT 'the writer''s configured address, HOST:PORT',"
    " epoch BIGINT UNSIGNED NOT NULL COMMENT '+1 at every change, only by compare-and-set on it',"
    " changed_by VARCHAR(255) NOT NULL COMMENT 'the agent that made the change',"
    " reason VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'why the writer changed',"
    " changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (agent_group)"
    ") ENGINE=InnoDB COMMENT='galeratopd: the writer of writer listeners, see galeratopd(8)'",
    "CREATE TABLE IF NOT EXISTS galeratop.writer_agents ("
    " agent_group VARCHAR(64) NOT NULL,"
    " agent VARCHAR(255) NOT NULL COMMENT 'host, first listener and pid of a galeratopd',"
    " node VARCHAR(255) NOT NULL COMMENT 'the writer it routes to; empty: none',"
    " epoch BIGINT UNSIGNED NOT NULL COMMENT 'the epoch of galeratop.writer it follows',"
    " seen_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (agent_group, agent)"
    ") ENGINE=InnoDB COMMENT='galeratopd: the writer each agent follows, to tell when they disagree'",
};
constexpr const char* row_columns =
    "node, epoch, changed_by, reason, TIMESTAMPDIFF(MICROSECOND, changed_at, NOW(6)) DIV 1000";
// Read or changed, a row this version cannot parse is called the same.
constexpr std::string_view unreadable_row = "the row of galeratop.writer cannot be read";

}  // namespace

writer_read read_writer(sql_session& s, std::string_view group) {
  writer_read r;
  const std::string where = fmt::format("agent_group = {}", s.quote(group));
  auto rows = s.query(fmt::format("SELECT {} FROM galeratop.writer WHERE {}", row_columns, where), r.error);
  if (!rows) {
    if (!table_missing(s.last_errno())) return r;
    r.error.clear();  // nobody has chosen a writer yet
    r.ok = true;
    return r;
  }
  if (!rows->empty()) {
    std::string why;
    r.row = parse_writer_row(rows->front(), why);
    if (!r.row) {
      // Never guessed at: an agent that cannot read the row acts as one that cannot reach it.
      r.error = fmt::format("{}: {}", unreadable_row, why);
      return r;
    }
  }
  auto agents = s.query(fmt::format("SELECT agent, node, epoch, TIMESTAMPDIFF(MICROSECOND, seen_at, NOW(6)) DIV 1000 "
                                    "FROM galeratop.writer_agents WHERE {}", where),
                        r.error);
  if (agents) {
    for (const mysql_row& a : *agents) {
      std::string why;
      if (auto f = parse_writer_follower(a, why)) r.agents.push_back(std::move(*f));
    }
  } else if (!table_missing(s.last_errno())) {
    return r;
  }
  r.error.clear();
  r.ok = true;
  return r;
}

row_cas<writer_row> writer_compare_and_set(std::string group, writer_change c, std::string by) {
  return {
      "galeratop.writer",
      unreadable_row,
      create_writer_tables,
      [group](const sql_session& s) {
        return fmt::format("SELECT {} FROM galeratop.writer WHERE agent_group = {} FOR UPDATE", row_columns,
                           s.quote(group));
      },
      parse_writer_row,
      [c, by](const std::optional<writer_row>& current) { return apply_writer_change(current, c, by); },
      [group](const sql_session& s, const writer_row& n) {
        return fmt::format(
            "INSERT INTO galeratop.writer (agent_group, node, epoch, changed_by, reason) VALUES ({}, {}, {}, {}, {}) "
            "ON DUPLICATE KEY UPDATE node = VALUES(node), epoch = VALUES(epoch), changed_by = VALUES(changed_by), "
            "reason = VALUES(reason)",
            s.quote(group), s.quote(n.node), n.epoch, s.quote(n.changed_by), s.quote(n.reason.substr(0, 255)));
      },
  };
}

bool report_following(sql_session& s, std::string_view group, std::string_view agent, const writer_follower& f,
                      std::string& error) {
  const std::string upsert = fmt::format(
      "INSERT INTO galeratop.writer_agents (agent_group, agent, node, epoch) VALUES ({}, {}, {}, {}) "
      "ON DUPLICATE KEY UPDATE node = VALUES(node), epoch = VALUES(epoch), seen_at = NOW(6)",
      s.quote(group), s.quote(agent), s.quote(f.node), f.epoch);
  if (s.execute(upsert, error)) return true;
  if (!table_missing(s.last_errno())) return false;
  return create_tables(s, create_writer_tables, error) && s.execute(upsert, error).has_value();
}

void forget_stopped_agents(sql_session& s, std::string_view group) {
  std::string ignored;
  s.execute(fmt::format("DELETE FROM galeratop.writer_agents WHERE agent_group = {} AND "
                        "seen_at < NOW(6) - INTERVAL 1 HOUR", s.quote(group)),
            ignored);
}

}  // namespace galeratop
