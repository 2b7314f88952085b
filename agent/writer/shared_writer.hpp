#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/row_write.hpp"
#include "balancer/core/node_record.hpp"

namespace galeratop {

// The writer of writer listeners, as the agents of an [intents] group agree on it: one row of
// galeratop.writer per group, changed only by a compare-and-set on its epoch, so that Galera's
// certification decides between two agents that change it at once through different nodes.
// Each agent also says, in galeratop.writer_agents, which writer it follows, so that any of them
// can tell when another disagrees. The I/O is writer_table.hpp's; this file is pure.

/// The row of galeratop.writer for one group.
struct writer_row {
  std::string node;           ///< the writer's configured address, HOST:PORT (the identity agents agree on)
  std::uint64_t epoch = 0;    ///< +1 at every change, in the cluster's commit order; rows start at 1
  std::string changed_by;     ///< the agent that made the change
  std::string reason;         ///< why, in a few words ("node1 is down", "by galeratop writer")
  std::chrono::milliseconds age{0};  ///< how long ago the row last changed, by the cluster's clock

  friend bool operator==(const writer_row&, const writer_row&) = default;
};

/// A compare-and-set of the row: applies only if the row is still at `expected_epoch`.
struct writer_change {
  std::string node;                  ///< the new writer's address
  std::uint64_t expected_epoch = 0;  ///< the epoch the change was decided on; 0 = no row yet
  std::string reason;
};

/// What a compare-and-set does to the current row: written one epoch up, unchanged when the row
/// already names that node at the expected epoch, or a conflict when the row moved on since
/// (then the row, or none, wins and is what to follow).
using writer_outcome = row_outcome<writer_row>;
/// Applies `c` to `current` (nullopt: none yet); `by` names this agent. Pure: the cluster transaction does the I/O.
writer_outcome apply_writer_change(const std::optional<writer_row>& current, const writer_change& c,
                                   std::string_view by);

/// How a compare-and-set ended on the cluster.
using writer_write = row_write<writer_row>;

/// One agent's row of galeratop.writer_agents: the writer it follows.
struct writer_follower {
  std::string agent;        ///< its agent id (host, first listener, pid)
  std::string node;         ///< the writer it routes to; empty: it routes no writer traffic
  std::uint64_t epoch = 0;  ///< the epoch of the row it follows
  std::chrono::milliseconds age{0};  ///< since it last said so

  friend bool operator==(const writer_follower&, const writer_follower&) = default;
};

/// What one read of the writer tables found.
struct writer_read {
  bool ok = false;
  std::string error;              ///< why they could not be read
  std::optional<writer_row> row;  ///< none before the first writer is chosen
  std::vector<writer_follower> agents;  ///< every agent of the group that said what it follows
};

/// What this agent does about the writer after a read, or a change of a node's health or intent.
struct writer_plan {
  /// The node writer listeners send new sessions to; nullopt: none may get them now (they wait
  /// for one, up to [writer] barrier, then are refused).
  std::optional<node_id> route;
  /// A node to make writer with a compare-and-set on the row's epoch; nullopt: no change to ask.
  std::optional<node_id> propose;
  std::string why;  ///< why there is no route, or why the change is proposed
};

/// The facts a plan is made of.
struct writer_facts {
  /// The row as last read (nullopt: no writer chosen yet); meaningful only when `known`.
  std::optional<writer_row> row;
  bool known = false;  ///< a read of the row has succeeded at least once
  bool fresh = false;  ///< the latest read succeeded: only then may a change be proposed
  bool failback = false;  ///< [writer] failback
};

/// The rule every agent applies. The row's writer is followed while it can write (can_write);
/// when it cannot, or there is no row (then once every node has had its first verdict), the
/// rule's preferred node is proposed, and nothing is
/// routed until the row says so: an agent never routes to a writer the row does not name.
/// With `failback`, a node that outranks the row's writer is proposed too (routing stays on the
/// row's writer until the change commits). An agent whose latest read failed keeps following
/// the row it read last while that node can write (availability: the row moves only when its
/// writer fails or an operator moves it, and this agent sees its writer fail as well as any)
/// but proposes nothing, and routes nothing once that node cannot write (safety).
writer_plan plan_writer(std::span<const node_record> nodes, const writer_facts& facts);

/// Why an operator may not make `n` the writer now (`galeratop writer NODE`): a control error's
/// code and message.
struct writer_refusal {
  std::string code;  ///< "cannot_write", "writer_unknown"
  std::string message;
};

/// The refusal of moving the role to `n`, or nullopt when it may move: `n` must be able to write
/// (can_write), and the row must be readable now (`facts.fresh`; `read_error` says why it is not),
/// or the compare-and-set would be decided on a stale epoch.
std::optional<writer_refusal> writer_move_refusal(const node_record& n, const writer_facts& facts,
                                                  std::string_view read_error);

/// Whether agent `a` follows another writer or epoch than `row` (or routes to one when there is
/// none), once the row is older than `settle`: agents still moving to a new epoch do not count.
bool disagrees(const writer_follower& a, const std::optional<writer_row>& row, std::chrono::milliseconds settle);

/// How many agents but `self`, heard of within `stale`, disagree (disagrees()).
std::size_t agents_disagreeing(std::span<const writer_follower> agents, std::string_view self,
                               const std::optional<writer_row>& row, std::chrono::milliseconds settle,
                               std::chrono::milliseconds stale);

/// Parses a row of galeratop.writer (node, epoch, changed_by, reason, age_ms); nullopt with `error`.
std::optional<writer_row> parse_writer_row(const std::vector<std::optional<std::string>>& columns,
                                           std::string& error);
/// Parses a row of galeratop.writer_agents (agent, node, epoch, age_ms); nullopt with `error`.
std::optional<writer_follower> parse_writer_follower(const std::vector<std::optional<std::string>>& columns,
                                                     std::string& error);

}  // namespace galeratop
