#include "agent/intents/intent_decisions.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace galeratop {

std::optional<std::string> last_node_refusal(const routing_table& table, node_id id, const intent& wanted,
                                             donor_policy donors) {
  const node_record* r = table.find(id);
  if (!r) return std::nullopt;
  const bool takes_out = r->intent.admin == admin_state::ready && r->weight() > 0 &&
                         (wanted.admin != admin_state::ready || wanted.effective_weight(r->configured_weight) == 0);
  if (!takes_out || table.others_eligible_without(id, donors)) return std::nullopt;
  const std::string what = wanted.admin != admin_state::ready ? std::string(to_string(wanted.admin)) : "weight 0 on";
  return fmt::format("refused: {} {} would leave no node to take new clients (the others: {}); add --force to do it "
                     "anyway",
                     what, r->name(), table.others_summary(id));
}

share_outcome after_share(const intent_write& w, const intent& current, const intent_change& c) {
  if (w.result == intent_write::kind::written || w.result == intent_write::kind::unchanged)
    return {.wanted = adopted(w.row), .shared = true, .written = w.result == intent_write::kind::written, .held_why = {}};
  intent held = with_change(current, c);
  held.pending = true;  // its version stays the one it was made from: the compare-and-set's base
  return {.wanted = held, .shared = false, .written = false, .held_why = w.error.empty() ? "conflict" : w.error};
}

std::vector<intent_sync_step> plan_intent_sync(std::span<const node_record> nodes, const intent_read& read) {
  std::map<std::string_view, const shared_intent*> rows;
  for (const shared_intent& row : read.rows) rows.emplace(row.node, &row);
  std::vector<intent_sync_step> steps;
  for (const node_record& n : nodes) {
    if (n.intent_in_flight) continue;
    if (std::ranges::any_of(read.unreadable, [&](const unreadable_intent& u) { return u.node == n.address; })) continue;
    const auto it = rows.find(n.address);
    const std::optional<shared_intent> row = it == rows.end() ? std::nullopt : std::optional(*it->second);
    const reconcile_action action = reconcile(n.intent, row, read.table_exists);
    if (action != reconcile_action::none) steps.push_back({n.id, action, row});
  }
  return steps;
}

std::vector<node_id> intent_sync_nodes(std::span<const node_record> nodes) {
  std::vector<node_id> usable;
  for (const bool in_rotation : {true, false}) {
    for (const node_record& n : nodes) {
      const health& h = n.tracker.current();
      if (h.up && h.state == galera_state::synced && (n.eligible && n.intent.admin == admin_state::ready) == in_rotation)
        usable.push_back(n.id);
    }
    if (!usable.empty()) break;
  }
  return usable;
}

intent_read_watch::news intent_read_watch::note(bool ok, mono_clock::time_point now) {
  if (ok) {
    const bool told = !read_once_ || warned_at_;  // the first read, and the first after a failure that was told
    read_once_ = true;
    warned_at_.reset();
    failures_ = 0;
    return told ? news::readable : news::none;
  }
  if (++failures_ < 2 || (warned_at_ && now - *warned_at_ < std::chrono::minutes(1))) return news::none;
  warned_at_ = now;
  return news::unreadable;
}

}  // namespace galeratop
