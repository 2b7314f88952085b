#pragma once

#include <optional>
#include <span>

#include "balancer/core/node_record.hpp"
#include "balancer/core/routing_table.hpp"

namespace galeratop {

// Which node may be, and should be, the writer of writer listeners. Every agent of a group
// applies the same rule to the same facts, so that two agents choosing at once choose alike;
// the cluster's galeratop.writer row then records the choice (certification decides a race).

/// Whether the node may be the writer now: eligible for new clients (up, ready, weight > 0),
/// Synced (never a donor, even the last one: a writer there would stall with its SST), and a
/// writer_priority above 0.
bool can_write(const node_record& r);

/// The node the rule makes writer among those that can write: the highest writer_priority,
/// then the lowest configured address (a tie-break every agent computes alike). nullopt: none can.
std::optional<node_id> preferred_writer(std::span<const node_record> nodes);

/// The node the rule would make writer once `id` is put in `next` (a drain or maint of the
/// writer): judged as routing will be after the change, the donor policy included.
std::optional<node_id> preferred_writer_without(const routing_table& table, node_id id, admin_state next,
                                                donor_policy donors);

/// Whether `candidate` outranks `current` under the rule (the failback test): a higher
/// writer_priority, or the same one and a lower address.
bool outranks(const node_record& candidate, const node_record& current);

}  // namespace galeratop
