#pragma once

#include <optional>
#include <string>

namespace galeratop {

// How a compare-and-set of one of galeratop's rows ends, the same for every row (intents, the
// writer, the rows to come): what the table's pure rule makes of the row it found (row_outcome),
// then what the transaction made of that on the cluster (row_write, row_cas.hpp). Pure types,
// so that the pure rules return them without touching SQL.

/// What a change does to the current row (nullopt: none yet), as the table's pure rule decides it.
template <class Row>
struct row_outcome {
  enum class kind {
    written,    ///< `row` is the new row, one version (or epoch) up
    unchanged,  ///< the row already says it; `row` is the current one (none when there is no row)
    conflict,   ///< the row moved on from the one the change was based on: the row (`row`, or none) wins
  } result = kind::unchanged;
  std::optional<Row> row;
};

/// How a compare-and-set ended on the cluster.
template <class Row>
struct row_write {
  enum class kind { written, unchanged, conflict, failed } result = kind::failed;
  std::optional<Row> row;  ///< the row as it is after the change (conflict: the row that won; failed: none)
  std::string error;       ///< failed: why the cluster could not be written
  std::string on;          ///< the node it was written through, HOST:PORT
};

}  // namespace galeratop
