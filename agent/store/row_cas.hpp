#pragma once

#include <fmt/format.h>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/monitor/sql_session.hpp"
#include "agent/store/row_write.hpp"
#include "agent/store/server_errors.hpp"

namespace galeratop {

// The one compare-and-set of a row in the cluster's `galeratop` schema, for every such row: in
// one transaction the row is locked (SELECT ... FOR UPDATE), the table's pure rule decides on it,
// and the new row is written and committed, or the transaction rolls back. Galera certifies it
// at COMMIT, so two agents changing one row through two nodes never both win: the loser is told
// to run again (nullopt) and then reads the winner's row. The retries themselves are
// store_session::compare_and_set's.

/// One table's compare-and-set of one row: the statements and the rule, as its table's file
/// writes them (intent_table.hpp, writer_table.hpp). Statements are made for the session they
/// run on, whose quoting they use.
template <class Row>
struct row_cas {
  std::string_view table;       ///< "galeratop.writer", in "cannot create galeratop.writer: ..."
  std::string_view unreadable;  ///< said of a row the parser refuses: "the row of galeratop.writer cannot be read"
  std::span<const std::string_view> create;  ///< run in order when the SELECT finds no table (or schema)
  /// The row's SELECT ... FOR UPDATE; no row: none yet.
  std::function<std::string(const sql_session&)> select_for_update;
  /// The selected row; nullopt with `error` for a row this version cannot read (never guessed at).
  std::function<std::optional<Row>(const mysql_row&, std::string& error)> parse;
  /// The table's pure rule: what the change does to the current row (nullopt: none yet).
  std::function<row_outcome<Row>(const std::optional<Row>&)> apply;
  /// The INSERT ... ON DUPLICATE KEY UPDATE that writes the new row.
  std::function<std::string(const sql_session&, const Row&)> upsert;
};

/// Runs `create` in order (CREATE ... IF NOT EXISTS: another agent may be doing it at the same
/// time); false with the failed statement's `error`.
bool create_tables(sql_session& s, std::span<const std::string_view> create, std::string& error);

/// One attempt at `cas` on `s`, in one transaction that is rolled back unless the new row is
/// written. nullopt when it should run again: another node's transaction won certification (or
/// the row's lock), or the table was missing and has just been created, which `created` records
/// so that it is created once per change.
template <class Row>
std::optional<row_write<Row>> attempt_row_cas(sql_session& s, const row_cas<Row>& cas, bool& created) {
  using write = row_write<Row>;
  std::string error;
  auto failed = [&](std::string why) -> std::optional<write> {
    if (lost_a_race(s.last_errno())) {
      roll_back(s);
      return std::nullopt;  // another node's transaction won certification: read again and retry
    }
    // No ROLLBACK: the session is dropped (store_session::compare_and_set), which ends the transaction.
    return write{write::kind::failed, std::nullopt, std::move(why), ""};
  };
  if (!s.execute("START TRANSACTION", error)) return failed(error);
  auto rows = s.query(cas.select_for_update(s), error);
  if (!rows && table_missing(s.last_errno()) && !created) {
    roll_back(s);
    created = true;  // first use: create it, then the change runs again
    if (!create_tables(s, cas.create, error)) return failed(fmt::format("cannot create {}: {}", cas.table, error));
    return std::nullopt;
  }
  if (!rows) return failed(error);
  std::optional<Row> current;
  if (!rows->empty() && !(current = cas.parse(rows->front(), error))) {
    roll_back(s);
    return write{write::kind::failed, std::nullopt, fmt::format("{}: {}", cas.unreadable, error), ""};
  }
  row_outcome<Row> o = cas.apply(current);
  using decided = typename row_outcome<Row>::kind;
  if (o.result != decided::written) {
    roll_back(s);
    return write{o.result == decided::conflict ? write::kind::conflict : write::kind::unchanged, std::move(o.row), "",
                 ""};
  }
  if (!s.execute(cas.upsert(s, *o.row), error) || !s.execute("COMMIT", error)) return failed(error);
  return write{write::kind::written, std::move(o.row), "", ""};
}

}  // namespace galeratop
