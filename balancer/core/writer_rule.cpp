#include "balancer/core/writer_rule.hpp"

namespace galeratop {

bool can_write(const node_record& r) {
  return r.eligible && r.writer_priority > 0 && r.tracker.current().state == galera_state::synced;
}

bool outranks(const node_record& candidate, const node_record& current) {
  if (candidate.writer_priority != current.writer_priority) return candidate.writer_priority > current.writer_priority;
  return candidate.address < current.address;
}

std::optional<node_id> preferred_writer(std::span<const node_record> nodes) {
  const node_record* best = nullptr;
  for (const node_record& r : nodes)
    if (can_write(r) && (!best || outranks(r, *best))) best = &r;
  return best ? std::optional(best->id) : std::nullopt;
}

std::optional<node_id> preferred_writer_without(const routing_table& table, node_id id, admin_state next,
                                                donor_policy donors) {
  routing_table without = table;
  if (node_record* n = without.find(id)) n->intent.admin = next;
  without.refresh(donors);
  return preferred_writer(without.records());
}

}  // namespace galeratop
