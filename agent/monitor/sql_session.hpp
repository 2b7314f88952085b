#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace galeratop {

/// One column of a result row; nullopt for SQL NULL.
using mysql_value = std::optional<std::string>;
using mysql_row = std::vector<mysql_value>;

/// What a SQL session offers the code that runs statements on it. An interface so that the rows
/// galeratop keeps in the cluster (agent/store) are unit-tested against a scripted fake session;
/// mysql_session is the real one. Failures come back as values with the server's error number.
class sql_session {
 public:
  sql_session() = default;
  virtual ~sql_session() = default;
  sql_session(const sql_session&) = delete;
  sql_session& operator=(const sql_session&) = delete;

  /// Runs a statement that returns rows; nullopt with `error` (and last_errno()) on failure.
  virtual std::optional<std::vector<mysql_row>> query(const std::string& sql, std::string& error) = 0;
  /// Runs a statement without rows; the affected row count, or nullopt with `error`.
  virtual std::optional<std::uint64_t> execute(const std::string& sql, std::string& error) = 0;
  /// The server's error number of the last query or execute, 0 when it succeeded (e.g. 1213
  /// deadlock, 1146 no such table).
  virtual unsigned last_errno() const = 0;
  /// `text` as a quoted SQL string literal, escaped for this connection's character set.
  virtual std::string quote(std::string_view text) const = 0;
};

}  // namespace galeratop
