#include "routing_table.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>

namespace galeratop {

const std::string& route::name() const {
  if (!configured_name.empty()) return configured_name;
  if (!last.node_name.empty()) return last.node_name;
  return address;
}

route& routing_table::add(node_id id, std::string configured_name, std::string address, std::uint32_t weight,
                          int rise) {
  route r;
  r.id = id;
  r.configured_name = std::move(configured_name);
  r.address = std::move(address);
  r.weight = weight;
  r.tracker = health_tracker(rise);
  routes_.push_back(std::move(r));
  return routes_.back();
}

void routing_table::remove(node_id id) {
  std::erase_if(routes_, [id](const route& r) { return r.id == id; });
}

route* routing_table::find(node_id id) {
  auto it = std::ranges::find(routes_, id, &route::id);
  return it == routes_.end() ? nullptr : &*it;
}

const route* routing_table::find(node_id id) const {
  auto it = std::ranges::find(routes_, id, &route::id);
  return it == routes_.end() ? nullptr : &*it;
}

bool routing_table::observe(node_id id, observation obs) {
  route* r = find(id);
  if (!r) return false;
  // The peers are judged on their latest checks; this node's new check is judged against them.
  const peer_view peers = peers_of(id);
  if (obs.node_name.empty()) obs.node_name = r->last.node_name;
  r->last = std::move(obs);
  return r->tracker.observe(r->last, peers);
}

peer_view routing_table::peers_of(node_id id) const {
  // Several cluster histories can show up (a misconfigured node); compare
  // against the one most peers are in, the freshest conf_id within it.
  std::map<std::string, std::pair<int, std::uint64_t>> by_uuid;
  for (const route& r : routes_) {
    if (r.id == id || !r.last.status || r.last.status->cluster_status != "Primary") continue;
    auto& [count, conf] = by_uuid[r.last.status->cluster_state_uuid];
    ++count;
    conf = std::max(conf, r.last.status->cluster_conf_id);
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
  auto may_serve = [this](const route& r) {
    return intents_known_ && r.tracker.current().up && r.admin == admin_state::ready && r.weight > 0;
  };
  const bool synced_available = std::ranges::any_of(routes_, [&](const route& r) {
    return may_serve(r) && r.tracker.current().state == galera_state::synced;
  });
  for (route& r : routes_) {
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
  if (route* r = without.find(id)) r->admin = admin_state::drain;
  without.refresh(donors);
  return std::ranges::any_of(without.routes_, [](const route& r) { return r.eligible; });
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
  const std::size_t n = routes_.size();
  std::optional<std::size_t> best;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (rr_cursor_ + k) % n;
    const route& r = routes_[i];
    if (!r.eligible || was_tried(tried, r.id)) continue;
    if (!best) {
      best = i;
      continue;
    }
    const route& b = routes_[*best];
    const auto lhs = std::uint64_t{r.connections} * b.weight;
    const auto rhs = std::uint64_t{b.connections} * r.weight;
    if (lhs < rhs || (lhs == rhs && r.weight > b.weight)) best = i;
  }
  if (!best) return std::nullopt;
  rr_cursor_ = (*best + 1) % n;
  return routes_[*best].id;
}

std::optional<node_id> routing_table::pick_roundrobin(std::span<const node_id> tried) {
  // Smooth weighted round robin (as in nginx): every candidate earns its
  // weight, the richest is picked and pays the total, so 5:1:1 interleaves.
  std::int64_t total = 0;
  route* best = nullptr;
  for (route& r : routes_) {
    if (!r.eligible || was_tried(tried, r.id)) continue;
    r.rr_credit += r.weight;
    total += r.weight;
    if (!best || r.rr_credit > best->rr_credit) best = &r;
  }
  if (!best) return std::nullopt;
  best->rr_credit -= total;
  return best->id;
}

std::string routing_table::others_summary(node_id id) const {
  std::vector<std::string> parts;
  for (const route& r : routes_)
    if (r.id != id)
      parts.push_back(fmt::format("{} {}{}", r.name(), to_string(r.tracker.current().state),
                                  r.admin == admin_state::ready ? "" : " " + std::string(to_string(r.admin))));
  return parts.empty() ? "none configured" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string routing_table::unavailable_reason() const {
  if (routes_.empty()) return "no Galera node is configured";
  // Counted by the first reason that keeps each node out, most serious first.
  std::map<std::string, int> counts;
  for (const route& r : routes_) {
    const galera_state s = r.tracker.current().state;
    std::string why;
    if (s == galera_state::down || s == galera_state::unknown) why = "down";
    else if (s == galera_state::non_primary) why = "non-Primary";
    else if (s != galera_state::synced && s != galera_state::donor) why = std::string(to_string(s));
    else if (!r.tracker.current().up) why = "rising";
    else if (!intents_known_) why = "awaiting the shared intents";
    else if (r.admin != admin_state::ready) why = r.admin == admin_state::drain ? "drained" : "in maintenance";
    else if (r.weight == 0) why = "weight 0";
    else why = "busy";
    ++counts[why];
  }
  std::string parts;
  for (const auto& [why, count] : counts) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", count, why);
  return fmt::format("no Galera node is available ({} configured: {})", routes_.size(), parts);
}

}  // namespace galeratop
