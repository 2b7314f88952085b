#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/row_write.hpp"
#include "balancer/core/intent.hpp"

namespace galeratop {

/// One row of `galeratop.intents`: a node's intent as the cluster stores it for every agent of a group.
struct shared_intent {
  std::string node;           ///< the node's configured address, HOST:PORT: the identity agents agree on
  intent value;               ///< admin, weight and since; version mirrors `version`, never pending
  std::uint64_t version = 0;  ///< +1 at every change, in the cluster's commit order; rows start at 1
  std::string changed_by;     ///< the agent that made the change (host and listen address)

  friend bool operator==(const shared_intent&, const shared_intent&) = default;
};

/// A change to one node's row. An operator's command changes one field of whatever the row
/// says when it commits; a change made while the cluster could not be written carries the
/// version it was made from and applies only if the row is still at that version.
struct intent_change {
  std::string node;
  std::optional<admin_state> admin;                   ///< set the admin state (since moves if it changes)
  std::optional<std::optional<std::uint32_t>> weight;  ///< set, or clear with nullopt inside
  std::chrono::system_clock::time_point at{};         ///< when the operator asked
  std::optional<std::uint64_t> expected_version;      ///< compare-and-set: the row's version it was based on
};

/// `i` with `c` applied: the admin state (`since` moves only when it changes) and the weight
/// override (set, or cleared); the bookkeeping (version, pending) is kept.
intent with_change(intent i, const intent_change& c);

/// What a change does to the current row: written one version up, unchanged, or a conflict
/// when expected_version is not the row's.
using change_outcome = row_outcome<shared_intent>;

/// Applies `c` to `current`; `by` names this agent. Pure: the cluster transaction does the I/O.
change_outcome apply_change(const std::optional<shared_intent>& current, const intent_change& c, std::string_view by);

/// What an agent does with the row the cluster has (nullopt: no row) for a node it holds `local` for.
enum class reconcile_action {
  none,            ///< they agree
  adopt,           ///< take the row (another agent, or a DBA, changed it)
  push,            ///< write `local` (pending, or older than sharing) with compare-and-set on its version
  drop_and_adopt,  ///< `local` is pending but the row moved on from its version: the row wins
};

/// The deterministic rule every agent applies: the cluster's row wins, except that a change
/// made here while it could not be written is written once the row is still where it was.
/// `table_exists` false (never created, or dropped): every intent held here is offered again,
/// so that losing the table never undoes a drain.
reconcile_action reconcile(const intent& local, const std::optional<shared_intent>& row, bool table_exists);

/// `row` as the local intent to hold (its version recorded, not pending); the default for no row.
intent adopted(const std::optional<shared_intent>& row);

/// Parses one row of galeratop.intents as intent_table reads it (node, admin, weight, since_ms, version, changed_by);
/// nullopt with `error` for a row this version cannot read (it is then ignored, never guessed).
std::optional<shared_intent> parse_shared_intent(const std::vector<std::optional<std::string>>& columns,
                                                 std::string& error);

/// A row this version cannot read (written by a newer one, or by hand): never guessed at.
struct unreadable_intent {
  std::string node;  ///< its node column, as written
  std::string why;

  friend bool operator==(const unreadable_intent&, const unreadable_intent&) = default;
};

/// What one read of `galeratop.intents` found.
struct intent_read {
  bool ok = false;
  std::string error;  ///< why the table could not be read
  std::string from;   ///< the node it was read from, HOST:PORT
  bool table_exists = false;  ///< false before the first change creates it (or after a DROP)
  std::vector<shared_intent> rows;  ///< the group's rows
  std::vector<unreadable_intent> unreadable;  ///< rows ignored: their nodes keep the intent held here
};

/// How a change ended on the cluster.
using intent_write = row_write<shared_intent>;

}  // namespace galeratop
