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

}  // namespace galeratop
