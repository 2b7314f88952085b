#include "balancer/core/routing_table.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>

namespace galeratop {

node_record& routing_table::add(node_id id, std::string configured_name, std::string address,
                                std::uint32_t configured_weight, const health_rules& rules) {
  node_record& r = records_.emplace_back();
  r.id = id;
  r.configured_name = std::move(configured_name);
  r.address = std::move(address);
  r.configured_weight = configured_weight;
  r.tracker = health_tracker(rules);
  return r;
}

void routing_table::remove(node_id id) {
  std::erase_if(records_, [id](const node_record& r) { return r.id == id; });
}

node_record* routing_table::find(node_id id) {
  auto it = std::ranges::find(records_, id, &node_record::id);
  return it == records_.end() ? nullptr : &*it;
}

const node_record* routing_table::find(node_id id) const {
  auto it = std::ranges::find(records_, id, &node_record::id);
  return it == records_.end() ? nullptr : &*it;
}

void routing_table::sample_queries(mono_clock::time_point now) {
  for (node_record& r : records_)
    r.recent_queries.add(now, r.traffic.live->queries.load(std::memory_order_relaxed), r.query_latency().cumulative);
}

std::string routing_table::name_of(node_id id) const {
  const node_record* r = find(id);
  return r ? r->name() : std::to_string(id);
}

const node_record* routing_table::find_address(std::string_view address) const {
  auto it = std::ranges::find(records_, address, &node_record::address);
  return it == records_.end() ? nullptr : &*it;
}

void routing_table::observe(node_id id, observation obs) {
  node_record* r = find(id);
  if (!r) return;
  // The peers are judged on their latest checks; this node's new check is judged against them.
  const peer_view peers = peers_of(id);
  monitor_figures& m = r->monitor;
  if (obs.status)
    m.poll.record(std::chrono::duration<double>(obs.latency).count());
  else {
    ++m.errors;
    m.recent.add(obs.error, obs.wall_at);
  }
  if (obs.node_name.empty()) obs.node_name = m.last.node_name;
  m.last = std::move(obs);
  r->tracker.observe(m.last, peers);
}

bool routing_table::expire_suspects(mono_clock::time_point now) {
  bool any = false;
  for (node_record& r : records_) any = r.tracker.expire(now) || any;
  return any;
}

peer_view routing_table::peers_of(node_id id) const {
  // Several cluster histories can show up (a misconfigured node); compare
  // against the one most peers are in, the freshest conf_id within it.
  std::map<std::string, std::pair<int, std::uint64_t>> by_uuid;
  for (const node_record& r : records_) {
    if (r.id == id || !r.monitor.last.status || r.monitor.last.status->cluster_status != "Primary") continue;
    auto& [count, conf] = by_uuid[r.monitor.last.status->cluster_state_uuid];
    ++count;
    conf = std::max(conf, r.monitor.last.status->cluster_conf_id);
  }
  peer_view v;
  int best = 0;
  for (const auto& [uuid, entry] : by_uuid) {
    if (entry.first > best) {
      best = entry.first;
      v = peer_view{true, uuid, entry.second};
    }
  }
  return v;
}

void routing_table::refresh(donor_policy donors) {
  auto may_serve = [this](const node_record& r) {
    return intents_known_ && r.tracker.current().up && r.intent.admin == admin_state::ready && r.weight() > 0;
  };
  const bool synced_available = std::ranges::any_of(records_, [&](const node_record& r) {
    return may_serve(r) && r.tracker.current().state == galera_state::synced;
  });
  for (node_record& r : records_) {
    const galera_state s = r.tracker.current().state;
    // A donor is avoided while a Synced node can serve, but never leaves
    // clients with nothing when it is the last node that could answer.
    const bool donor_ok = s == galera_state::donor && (donors == donor_policy::serve || !synced_available);
    r.eligible = may_serve(r) && (s == galera_state::synced || donor_ok);
  }
}

bool routing_table::others_eligible_without(node_id id, donor_policy donors) const {
  // Judged on a copy with the node drained, so that the donor policy answers as it would then
  // (draining the last Synced node makes a donor eligible), and as routing will be once the
  // shared intents are read: a drain given in that moment is not refused for it.
  routing_table without = *this;
  without.intents_known_ = true;
  if (node_record* r = without.find(id)) r->intent.admin = admin_state::drain;
  without.refresh(donors);
  return std::ranges::any_of(without.records_, [](const node_record& r) { return r.eligible; });
}

std::optional<node_id> routing_table::pick(balance_policy policy, std::span<const node_id> tried) {
  return policy == balance_policy::leastconn ? pick_leastconn(tried) : pick_roundrobin(tried);
}

namespace {
bool was_tried(std::span<const node_id> tried, node_id id) { return std::ranges::find(tried, id) != tried.end(); }
}  // namespace

std::optional<node_id> routing_table::pick_leastconn(std::span<const node_id> tried) {
  // Fewest connections per unit of weight; ties go to the heavier node, then
  // round robin from the cursor so that equal nodes take turns.
  const std::size_t n = records_.size();
  std::optional<std::size_t> best;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (rr_cursor_ + k) % n;
    const node_record& r = records_[i];
    if (!r.eligible || was_tried(tried, r.id)) continue;
    if (!best) {
      best = i;
      continue;
    }
    const node_record& b = records_[*best];
    const auto lhs = std::uint64_t{r.connections} * b.weight();
    const auto rhs = std::uint64_t{b.connections} * r.weight();
    if (lhs < rhs || (lhs == rhs && r.weight() > b.weight())) best = i;
  }
  if (!best) return std::nullopt;
  rr_cursor_ = (*best + 1) % n;
  return records_[*best].id;
}

std::optional<node_id> routing_table::pick_roundrobin(std::span<const node_id> tried) {
  // Smooth weighted round robin (as in nginx): every candidate earns its
  // weight, the richest is picked and pays the total, so 5:1:1 interleaves.
  std::int64_t total = 0;
  node_record* best = nullptr;
  for (node_record& r : records_) {
    if (!r.eligible || was_tried(tried, r.id)) continue;
    r.rr_credit += r.weight();
    total += r.weight();
    if (!best || r.rr_credit > best->rr_credit) best = &r;
  }
  if (!best) return std::nullopt;
  best->rr_credit -= total;
  return best->id;
}

std::string routing_table::others_summary(node_id id) const {
  std::vector<std::string> parts;
  for (const node_record& r : records_)
    if (r.id != id)
      parts.push_back(fmt::format("{} {}{}", r.name(), to_string(r.tracker.current().state),
                                  r.intent.admin == admin_state::ready ? "" : " " + std::string(to_string(r.intent.admin))));
  return parts.empty() ? "none configured" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string routing_table::unavailable_reason() const {
  if (records_.empty()) return "no Galera node is configured";
  // Counted by the first reason that keeps each node out, most serious first.
  std::map<std::string, int> counts;
  for (const node_record& r : records_) {
    const galera_state s = r.tracker.current().state;
    std::string why;
    if (s == galera_state::down || s == galera_state::unknown) why = "down";
    else if (s == galera_state::non_primary) why = "non-Primary";
    else if (s != galera_state::synced && s != galera_state::donor) why = std::string(to_string(s));
    else if (r.tracker.current().suspect) why = "suspect";
    else if (!r.tracker.current().up) why = "rising";
    else if (!intents_known_) why = "awaiting the shared intents";
    else if (r.intent.admin != admin_state::ready) why = describe(r.intent.admin);
    else if (r.weight() == 0) why = "weight 0";
    else why = "busy";
    ++counts[why];
  }
  std::string parts;
  for (const auto& [why, count] : counts) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", count, why);
  return fmt::format("no Galera node is available ({} configured: {})", records_.size(), parts);
}

}  // namespace galeratop
