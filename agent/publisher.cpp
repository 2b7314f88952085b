#include "agent/publisher.hpp"

#include <fmt/ranges.h>

#include "agent/version.hpp"
#include "balancer/core/log.hpp"

namespace galeratop {

bool publisher::publish(const balancer& b, const publish_inputs& in) {
  auto s = std::make_shared<snapshot>();
  s->version = std::string(version);
  s->taken_at = std::chrono::system_clock::now();
  const auto now = mono_clock::now();
  const routing_table& table = b.table();
  for (const node_record& r : table.records()) {
    node_snapshot n = snapshot_of(r, table.intents_known());
    if (const auto e = events_.newest_of(event_kind::operator_action, n.name)) {
      n.intent_by = e->who;
      n.intent_changed = e->at;
    }
    n.writer = b.writer().node == r.id;
    s->nodes.push_back(std::move(n));
  }

  const bool memory_moved = memory_.note(s->nodes, s->taken_at);
  s->bootstrap = memory_.candidate(s->nodes);
  s->writer = in.writer;
  auto result = model_.update(s->nodes, table.unavailable_reason(), s->bootstrap, now, s->writer);
  std::vector<event> happened;
  for (const advisory& a : result.changes.raised) {
    log_warning("advisory {} ({}){}: {}", a.id, to_string(a.severity),
                a.nodes.empty() ? "" : fmt::format(" [{}]", fmt::join(a.nodes, ", ")), a.message);
    happened.push_back(advisory_event(a, true, s->taken_at));
  }
  for (const advisory& a : result.changes.cleared) {
    log_info("advisory {} cleared{}", a.id, a.nodes.empty() ? "" : fmt::format(" [{}]", fmt::join(a.nodes, ", ")));
    happened.push_back(advisory_event(a, false, s->taken_at));
  }
  s->cluster = std::move(result.cluster);
  s->advisories = std::move(result.advisories);
  const frontend_counters& f = b.frontend();
  const balancer_settings& data_path = b.settings();
  s->frontend = {in.listen, started_at_, b.session_count(), f.accepted_total,
                 f.rejected_total, f.rejected_no_node, f.rejected_limit, data_path.max_connections,
                 b.held(), f.waits_served, f.waits_refused, f.waits_abandoned,
                 std::chrono::duration<double>(f.longest_wait).count(),
                 std::chrono::duration<double>(data_path.hold).count(), data_path.hold_limit,
                 std::string(b.io_backend()), b.io_backend_why()};
  for (const listener_figures& l : b.listeners()) {
    listener_snapshot ls{l.name, std::string(to_string(l.role)), l.address, l.accepted_total, {}};
    for (const node_record& r : table.records())
      if (auto c = l.connections.find(r.id); c != l.connections.end()) ls.connections.emplace_back(r.name(), c->second);
    s->listeners.push_back(std::move(ls));
  }
  s->intents = in.intents;
  if (const auto before = published_.load())
    for (event& e : changes_between(*before, *s)) events_.add(std::move(e));
  for (event& e : happened) events_.add(std::move(e));
  if (auto refused = rejections_.note(s->frontend, s->taken_at)) events_.add(std::move(*refused));
  s->events = events_.last(recent_events);
  published_.publish(std::move(s));
  return memory_moved;
}

void publisher::tell(event_kind kind, std::string node, std::string message, std::string who) {
  events_.add({.seq = 0,
               .at = std::chrono::system_clock::now(),
               .kind = kind,
               .node = std::move(node),
               .message = std::move(message),
               .who = std::move(who)});
}

}  // namespace galeratop
