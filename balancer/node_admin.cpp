#include "balancer/node_admin.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "balancer/close_rules.hpp"
#include "balancer/core/eligibility.hpp"
#include "balancer/core/log.hpp"
#include "balancer/session_io.hpp"

namespace galeratop {

node_admin::node_admin(asio::io_context& io, const balancer_settings& settings, routing_table& table,
                       session_registry& sessions, relay& r, std::function<void()> changed,
                       std::function<void(node_id)> drained)
    : io_(io),
      settings_(settings),
      table_(table),
      sessions_(sessions),
      relay_(r),
      changed_(std::move(changed)),
      drained_(std::move(drained)) {}

node_id node_admin::add(const backend& b, const intent& i, const health_rules& rules) {
  const node_id id = next_id_++;
  node_record& r = table_.add(id, b.configured_name, b.address, b.configured_weight, rules);
  r.resolved = b.resolved;
  r.writer_priority = b.writer_priority;
  r.proxy_protocol = b.proxy_protocol;
  r.intent = i;
  table_.refresh(settings_.donors);
  return id;
}

void node_admin::update(node_id id, const backend& b, const health_rules& rules) {
  node_record* r = table_.find(id);
  if (!r) return;
  const auto before = marks();
  r->configured_name = b.configured_name;
  r->configured_weight = b.configured_weight;
  r->writer_priority = b.writer_priority;
  r->proxy_protocol = b.proxy_protocol;
  r->resolved = b.resolved;
  r->tracker.set_rules(rules);
  apply_change(before);
}

void node_admin::remove(node_id id) {
  const auto before = marks();
  close_when_safe(id, removed_from_configuration);
  table_.remove(id);  // its sessions go on to a safe point, counted nowhere; their counters live as long as they do
  apply_change(before);  // another node's eligibility may hinge on this one (a lone donor)
}

void node_admin::set_intent(node_id id, const intent& i) {
  node_record* r = table_.find(id);
  if (!r || r->intent == i) return;
  const auto before = marks();
  const bool admin_changed = r->intent.admin != i.admin;
  r->intent = i;
  const std::uint64_t generation = admin_changed ? ++r->admin_generation : r->admin_generation;
  apply_change(before);
  if (!admin_changed) return;
  switch (after_admin_change(i.admin)) {
    case admin_followup::keep:  // the sessions not closed yet stay
      relay_.keep(relayed_on(id));
      break;
    case admin_followup::close_safe:
      close_when_safe(id, describe(i.admin));
      break;
    case admin_followup::close_safe_then_cut:
      close_when_safe(id, describe(i.admin));
      asio::co_spawn(io_, end_maint_grace(id, generation), asio::detached);
      break;
  }
}

asio::awaitable<void> node_admin::end_maint_grace(node_id id, std::uint64_t generation) {
  asio::steady_timer timer(io_, settings_.maint_grace);
  co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  const node_record* r = table_.find(id);
  // Another admin change since (ready, or maint again) ends or restarts the grace.
  if (stopping_ || !r || r->admin_generation != generation) co_return;
  close_now(id, "in maintenance and its grace has ended");
}

void node_admin::set_intents_known(bool known) {
  if (table_.intents_known() == known) return;
  const auto before = marks();
  table_.set_intents_known(known);
  apply_change(before);
}

void node_admin::rejudge(const std::function<void()>& change) {
  const auto before = marks();
  change();
  apply_change(before);
}

bool node_admin::observe(node_id id, observation obs) {
  if (!table_.find(id)) return false;  // removed at a reload while the check was under way
  const auto before = marks();
  table_.observe(id, std::move(obs));
  return apply_change(before);
}

bool node_admin::expire_suspects(mono_clock::time_point now) {
  // Asked on every tick: nothing to judge, and nothing to allocate, while no node is suspect.
  if (std::ranges::none_of(table_.records(), [](const node_record& r) { return r.tracker.current().suspect; }))
    return false;
  const auto before = marks();
  return table_.expire_suspects(now) && apply_change(before);
}

void node_admin::connect_failed(node_id id, const connect_failure& failure) {
  node_record* r = table_.find(id);
  if (!r) return;
  ++r->traffic.connect_errors;
  const auto before = marks();
  r->tracker.connect_failed(fmt::format("connect from the balancer failed: {}", failure.why), failure.late,
                            mono_clock::now());
  apply_change(before);
}

std::vector<node_admin::node_mark> node_admin::marks() const {
  std::vector<node_mark> m;
  for (const node_record& r : table_.records()) {
    const health& h = r.tracker.current();
    m.push_back({r.id, h.state, h.up, h.suspect, r.eligible});
  }
  return m;
}

bool node_admin::apply_change(const std::vector<node_mark>& before) {
  table_.refresh(settings_.donors);
  bool changed = false;
  for (const node_record& r : table_.records()) {
    auto was = std::ranges::find(before, r.id, &node_mark::id);
    const health& h = r.tracker.current();
    if (was != before.end() && was->state == h.state && was->up == h.up && was->suspect == h.suspect &&
        was->eligible == r.eligible)
      continue;
    changed = true;
    const std::string from = was == before.end() ? std::string("new")
                                                 : fmt::format("{} {}", to_string(was->state),
                                                               was->suspect    ? "suspect"
                                                               : was->eligible ? "eligible"
                                                                               : "not-eligible");
    const exclusion why_not = exclusion_of(r.eligible, h, r.intent.admin, table_.intents_known(), r.weight());
    log_info("node {} ({}): {} -> {} {}: {}", r.name(), r.address, from, to_string(h.state),
             exclusion_word(why_not, r.intent.admin), h.reason);
    const std::optional<galera_state> was_state = was == before.end() ? std::nullopt : std::optional(was->state);
    if (closes_on_failure(settings_.close_on_failure, was_state, h.state))
      close_now(r.id, fmt::format("{}: {}", to_string(h.state), h.reason));
  }
  if (changed) changed_();  // a node may have become eligible for the held clients
  return changed;
}

std::vector<session_id> node_admin::relayed_on(node_id id) const {
  return sessions_.select([id](const session_record& s) { return s.node == id && s.phase == session_phase::relayed; });
}

void node_admin::close_now(node_id id, std::string_view why) {
  const std::vector<session_id> dialing =
      sessions_.select([id](const session_record& s) { return s.node == id && s.phase == session_phase::dialing; });
  std::vector<session_id> relayed = relayed_on(id);
  if (dialing.empty() && relayed.empty()) return;
  const std::string name = table_.name_of(id);
  log_info("node {}: closing {} client session(s) because it is {}", name, dialing.size() + relayed.size(), why);
  // Both only ask: a dialing session leaves the registry when its coroutine unwinds, a relayed
  // one when the relay reports its end.
  for (const session_id d : dialing) sessions_.find(d)->io->close(d, why);
  relay_.close(std::move(relayed), {.at = relay::close_order::when::now, .node = name, .why = std::string(why)});
}

void node_admin::close_when_safe(node_id id, std::string_view why) {
  std::vector<session_id> relayed = relayed_on(id);
  if (relayed.empty()) return;
  const std::string name = table_.name_of(id);
  log_info("node {}: closing {} client session(s) at their next safe point because it is {}", name, relayed.size(),
           why);
  relay_.close(std::move(relayed), {.at = relay::close_order::when::safe_point, .node = name, .why = std::string(why)});
}

void node_admin::arrived(const session_record& s) {
  // A node a reload removed meanwhile has no intent left to apply (remove() ordered the closes of
  // the sessions it had then).
  const node_record* r = table_.find(s.node);
  if (!r) return;
  if (const auto why = close_on_arrival(r->intent.admin, closing_all_))
    relay_.close({s.id}, {.at = relay::close_order::when::safe_point, .node = r->name(), .why = *why});
}

void node_admin::session_left(node_id node) {
  const node_record* r = node == 0 ? nullptr : table_.find(node);
  if (!r || !drained(r->intent.admin, r->connections)) return;
  // Told once the current handler is done: the caller is in the middle of ending a session (the
  // registry, the writer switch), and what `drained_` does (a publish, a push) must see it ended.
  asio::post(io_, [this, node] {
    if (!stopping_) drained_(node);
  });
}

void node_admin::close_all_when_safe(std::string_view why) {
  closing_all_ = std::string(why);
  for (const node_record& r : table_.records()) close_when_safe(r.id, why);
}

void node_admin::close_all_now() {
  // Held and dialing sessions are closed through their coroutines (a held one wakes and ends),
  // relayed ones by the relay; a client being told why it is refused gets its error whole.
  for (const session_id id : sessions_.select([](const session_record& s) {
         return s.io && (s.held || s.phase == session_phase::dialing);
       }))
    sessions_.find(id)->io->close(id, "cut off by galeratopd's stop");
  relay_.close_all();
}

}  // namespace galeratop
