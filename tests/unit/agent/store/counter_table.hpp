#pragma once

#include <cstdint>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <string_view>

#include "agent/store/column_number.hpp"
#include "agent/store/row_cas.hpp"

namespace galeratop::test {

// A table of the tests' own, shaped as galeratop's rows are (a version moved by compare-and-set),
// so that the store is tested apart from the intents and the writer.

/// The one row of galeratop.counters.
struct counter {
  std::string name;
  std::uint64_t version = 0;  ///< +1 at every change; rows start at 1
  std::string value;

  friend bool operator==(const counter&, const counter&) = default;
};

/// Sets the value if the row is still at `expected_version` (0: no row yet).
struct counter_change {
  std::string value;
  std::uint64_t expected_version = 0;
};

/// The counters' pure rule.
inline row_outcome<counter> apply_counter_change(const std::optional<counter>& current, const counter_change& c) {
  using kind = row_outcome<counter>::kind;
  const std::uint64_t at = current ? current->version : 0;
  if (c.expected_version != at) return {kind::conflict, current};
  if (current && current->value == c.value) return {kind::unchanged, current};
  return {kind::written, counter{"hits", at + 1, c.value}};
}

inline constexpr std::string_view create_counters[] = {
    "CREATE DATABASE IF NOT EXISTS galeratop",
    "CREATE TABLE IF NOT EXISTS galeratop.counters (name VARCHAR(64) PRIMARY KEY, version BIGINT UNSIGNED, value TEXT)",
};

/// The counters' compare-and-set of the row "hits".
inline row_cas<counter> counter_cas(counter_change c) {
  return {
      "galeratop.counters",
      "the row of galeratop.counters cannot be read",
      create_counters,
      [](const sql_session& s) {
        return fmt::format("SELECT name, version, value FROM galeratop.counters WHERE name = {} FOR UPDATE",
                           s.quote("hits"));
      },
      [](const mysql_row& r, std::string& error) -> std::optional<counter> {
        const auto version = r.size() == 3 ? column_number<std::uint64_t>(r[1]) : std::nullopt;
        if (!version || *version == 0) {
          error = "version out of range";
          return std::nullopt;
        }
        return counter{r[0].value_or(""), *version, r[2].value_or("")};
      },
      [c](const std::optional<counter>& current) { return apply_counter_change(current, c); },
      [](const sql_session& s, const counter& n) {
        return fmt::format("INSERT INTO galeratop.counters (name, version, value) VALUES ({}, {}, {}) "
                           "ON DUPLICATE KEY UPDATE version = VALUES(version), value = VALUES(value)",
                           s.quote(n.name), n.version, s.quote(n.value));
      },
  };
}

/// The row "hits" as the server returns it.
inline mysql_row counter_row(std::uint64_t version, std::string value) {
  return {"hits", std::to_string(version), std::move(value)};
}

inline constexpr std::string_view select_hits =
    "SELECT name, version, value FROM galeratop.counters WHERE name = 'hits' FOR UPDATE";

}  // namespace galeratop::test
