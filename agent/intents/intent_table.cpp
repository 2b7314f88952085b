#include "agent/intents/intent_table.hpp"

#include <fmt/format.h>

#include "agent/store/server_errors.hpp"

namespace galeratop {
namespace {

// The table is the whole shared state; its comments are what a DBA finds with SHOW CREATE TABLE.
constexpr std::string_view create_intents[] = {
    "CREATE DATABASE IF NOT EXISTS galeratop",
    "CREATE TABLE IF NOT EXISTS galeratop.intents ("
    " agent_group VARCHAR(64) NOT NULL COMMENT 'the [intents] group of the galeratopd agents sharing the row',"
    " node VARCHAR(255) NOT NULL COMMENT 'the node''s configured address, HOST:PORT',"
    " admin ENUM('ready','drain','maint') NOT NULL,"
    " weight SMALLINT UNSIGNED NULL COMMENT 'NULL: the configured weight',"
    " since_ms BIGINT NOT NULL COMMENT 'when admin last changed, milliseconds since 1970',"
    " version BIGINT UNSIGNED NOT NULL COMMENT '+1 at every change; agents apply a row whose version they lack',"
    " changed_by VARCHAR(255) NOT NULL COMMENT 'the agent that made the change',"
    " changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (agent_group, node)"
    ") ENGINE=InnoDB COMMENT='galeratopd operator intents (drain, maint, weight), see galeratopd(8)'",
};
constexpr const char* row_columns = "node, admin, weight, since_ms, version, changed_by";

std::string where_group(const sql_session& s, std::string_view group) {
  return fmt::format("agent_group = {}", s.quote(group));
}

}  // namespace

intent_read read_intents(sql_session& s, std::string_view group) {
  intent_read r;
  auto rows = s.query(fmt::format("SELECT {} FROM galeratop.intents WHERE {}", row_columns, where_group(s, group)),
                      r.error);
  if (!rows) {
    if (!table_missing(s.last_errno())) return r;
    r.error.clear();  // no table yet: nobody has shared an intent, which is an empty table
    rows.emplace();
  }
  r.ok = true;
  r.table_exists = !table_missing(s.last_errno());
  for (const mysql_row& row : *rows) {
    std::string why;
    if (auto i = parse_shared_intent(row, why))
      r.rows.push_back(std::move(*i));
    else
      r.unreadable.push_back({row.empty() ? "" : row[0].value_or(""), std::move(why)});
  }
  return r;
}

row_cas<shared_intent> intent_compare_and_set(std::string group, intent_change change, std::string by) {
  return {
      "galeratop.intents",
      "the row in galeratop.intents cannot be read",
      create_intents,
      [group, node = change.node](const sql_session& s) {
        return fmt::format("SELECT {} FROM galeratop.intents WHERE {} AND node = {} FOR UPDATE", row_columns,
                           where_group(s, group), s.quote(node));
      },
      parse_shared_intent,
      [change, by](const std::optional<shared_intent>& current) { return apply_change(current, change, by); },
      [group](const sql_session& s, const shared_intent& n) {
        const auto since =
            std::chrono::duration_cast<std::chrono::milliseconds>(n.value.since.time_since_epoch()).count();
        return fmt::format(
            "INSERT INTO galeratop.intents (agent_group, node, admin, weight, since_ms, version, changed_by) "
            "VALUES ({}, {}, '{}', {}, {}, {}, {}) ON DUPLICATE KEY UPDATE admin = VALUES(admin), "
            "weight = VALUES(weight), since_ms = VALUES(since_ms), version = VALUES(version), "
            "changed_by = VALUES(changed_by)",
            s.quote(group), s.quote(n.node), to_string(n.value.admin),
            n.value.weight ? std::to_string(*n.value.weight) : "NULL", since, n.version, s.quote(n.changed_by));
      },
  };
}

}  // namespace galeratop
