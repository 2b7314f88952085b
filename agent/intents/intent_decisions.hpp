#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/intents/shared_intent.hpp"
#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/clock.hpp"
#include "balancer/core/routing_table.hpp"

namespace galeratop {

// The agent's decisions about operator intents, pure: the agent calls them and does the I/O
// (the state file, the shared table, the log) with what they decide.

/// The refusal of an intent that would take the last node that takes new clients out of
/// rotation (a drain, a maint or weight 0 where no other node could serve: an outage from a
/// typo), or nullopt when it may go ahead. `--force` skips this guard.
std::optional<std::string> last_node_refusal(const routing_table& table, node_id id, const intent& wanted,
                                             donor_policy donors);

/// What an operator's change comes to once the cluster has answered its compare-and-set.
struct share_outcome {
  intent wanted;          ///< the intent to hold now
  bool shared = false;    ///< the cluster's row says it now (written by this change, or already)
  bool written = false;   ///< this change wrote the row
  std::string held_why;   ///< not shared: why the cluster could not take it ("conflict" when it lost a race)
};

/// The rule for an operator's change `c` after the cluster answered `w`: written or unchanged,
/// the node holds the cluster's row; otherwise the change holds here, pending, on top of
/// `current` (the intent the node has now: the wait may have let another change in), with the
/// version it was made from, the base of the compare-and-set that shares it later.
share_outcome after_share(const intent_write& w, const intent& current, const intent_change& c);

/// One thing to do to bring a node's intent in step with the shared table.
struct intent_sync_step {
  node_id id = 0;
  reconcile_action action = reconcile_action::none;  ///< never none
  std::optional<shared_intent> row;                  ///< the node's row, nullopt when it has none
};

/// What a read of the shared table asks of each node (reconcile() for each), skipping the
/// nodes whose change is being written (intent_in_flight: that write's outcome decides) and
/// those whose row this version cannot read (an unreadable row must not undo a drain).
std::vector<intent_sync_step> plan_intent_sync(std::span<const node_record> nodes, const intent_read& read);

/// The nodes the intent sync may read and write the table through, best first: those in
/// rotation (a drained node is usually about to be stopped, and the sync would lose its
/// connection with it), else any synced and up node, when no other can serve.
std::vector<node_id> intent_sync_nodes(std::span<const node_record> nodes);

/// When the reads of the shared table are worth a log line. Reads run every interval: a lasting
/// failure is told when it starts (two failed reads in a row: one alone is the node the sync
/// used going away) and then once a minute; a good read is told the first time and when it
/// ends a failure that was told.
class intent_read_watch {
 public:
  enum class news {
    none,
    readable,    ///< log that the table is read and changes are shared
    unreadable,  ///< log that it cannot be read and changes hold on this agent only
  };
  /// Notes one read.
  news note(bool ok, mono_clock::time_point now);
  /// True once a read has succeeded.
  bool read_once() const { return read_once_; }

 private:
  bool read_once_ = false;
  int failures_ = 0;                                  // failed reads in a row
  std::optional<mono_clock::time_point> warned_at_;  // when a failure was last told
};

}  // namespace galeratop
