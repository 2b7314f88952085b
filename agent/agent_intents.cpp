#include "agent/agent.hpp"

// The agent's operator intents: the control commands that change them (drain, maint, ready,
// weight), their durable copy in the state file, and their sharing through the cluster's
// galeratop.intents table (intent_sync runs the SQL on its own thread; everything here runs on
// the io thread). Kept apart from agent.cpp, which starts, reloads, publishes and stops.
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <unistd.h>

#include "balancer/core/log.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

/// The words of a log line saying which agent (or a DBA) made the change a row holds.
std::string changed_by(const std::optional<shared_intent>& row) {
  return row ? row->changed_by : "the removal of its row";
}
}  // namespace

bool agent::hold_intent(const node_record& n, const intent& i, bool must_persist, std::string& error) {
  intent_store next = intents_;
  const bool written = !next.set(n.address, i) || state_file::write_atomically(intents_path_, next.serialize(), error);
  if (!written) {
    if (must_persist) return false;
    log_warning("node {}: applied, but the intents file cannot be written ({}): the cluster keeps it", n.address,
                error);
  }
  intents_ = std::move(next);
  balancer_.set_intent(n.id, i);
  publish();
  return true;
}

namespace {
/// Hands `change` to the intent sync thread and resumes, on the io thread, with its outcome.
/// The initiation is a named local holding the change by pointer: GCC 12 mishandles a temporary
/// with non-trivial captures inside a co_await expression (destroyed twice, or relocated bitwise).
template <class Outcome, class Change>
asio::awaitable<Outcome> run_on_sync(asio::io_context& io, intent_sync& sync, Change c) {
  auto change = std::make_shared<const Change>(std::move(c));
  auto initiation = [&io, &sync, change](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    sync.submit(*change, [&io, h](Outcome w) {
      asio::post(io, [h, w = std::move(w)]() mutable { (*h)(std::move(w)); });
    });
  };
  Outcome outcome =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(Outcome)>(initiation, asio::use_awaitable);
  co_return outcome;
}
}  // namespace

asio::awaitable<intent_write> agent::share(intent_change c) {
  return run_on_sync<intent_write>(io_, *sync_, std::move(c));
}

asio::awaitable<writer_write> agent::share(writer_change c) {
  return run_on_sync<writer_write>(io_, *sync_, std::move(c));
}

// GCC 12 pairs this coroutine's frame deallocation with the wrong allocation function and
// warns (as in balancer.cpp), although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<json> agent::change_intent(control_request r, std::string address) {
  const node_record* n = balancer_.table().find_address(address);
  const node_id id = n->id;
  const std::string name = n->name();
  const intent old = n->intent;
  intent_change change{address, std::nullopt, std::nullopt, std::chrono::system_clock::now(), std::nullopt};
  switch (r.command) {
    case control_command::drain: change.admin = admin_state::drain; break;
    case control_command::maint: change.admin = admin_state::maint; break;
    case control_command::undrain:
    case control_command::ready: change.admin = admin_state::ready; break;
    case control_command::weight: change.weight = r.weight; break;
    default: co_return control_fail(r.id, {"bad_request", "not a node command"});
  }
  intent wanted = with_change(old, change);
  if (!r.force)
    if (auto refusal = last_node_refusal(balancer_.table(), id, wanted, config_.balancer.donors))
      co_return control_fail(r.id, {"last_node", *refusal});
  json shared = nullptr;
  std::string warning;
  std::string by = "by the control endpoint";
  // The writer leaves before the drain begins, so that its writes move in one clean switch.
  if (change.admin && *change.admin != admin_state::ready && *change.admin != old.admin) {
    warning = co_await move_writer_off(id, *change.admin);
    n = balancer_.table().find(id);  // a reload may have run meanwhile
    if (!n) co_return control_fail(r.id, {"unknown_node", fmt::format("{} was removed by a reload", address)});
  }
  if (sync_) {
    intent_write w = co_await share(change);
    n = balancer_.table().find(id);  // a reload may have run meanwhile
    if (!n) co_return control_fail(r.id, {"unknown_node", fmt::format("{} was removed by a reload", address)});
    if (w.result == intent_write::kind::written || w.result == intent_write::kind::unchanged) {
      wanted = adopted(w.row);
      shared = {{"group", config_.intents.group}, {"version", wanted.version}, {"through", w.on}};
      if (w.result == intent_write::kind::written)
        by += fmt::format(", shared as version {} through {}", wanted.version, w.on);
    } else {
      // The cluster cannot be written: the change holds here, and is written once it can be,
      // unless another agent changes the node first (then that change wins, see reconcile()).
      // On top of what holds here now: the wait may have let another change of this node in.
      wanted = with_change(n->intent, change);
      wanted.pending = true;  // its version stays the one it was made from: the compare-and-set's base
      warning = fmt::format("{}{}the cluster could not be written ({}): the change holds on this agent only until it "
                            "can be shared", warning, warning.empty() ? "" : "; ", w.error.empty() ? "conflict" : w.error);
      by += " (not shared yet: the cluster cannot be written)";
      log_warning("node {} ({}): {}", name, address, warning);
    }
  }
  const intent current = n->intent;
  if (!(wanted == current)) {
    // Told before it is applied, so that the events it causes (the node's eligibility) follow it.
    if (current.admin != wanted.admin)
      tell(event_kind::operator_action, name,
           fmt::format("admin {} -> {}{}; {} connection(s) open", to_string(current.admin), to_string(wanted.admin),
                       r.force ? " (forced)" : "", n->connections),
           r.who);
    if (current.weight != wanted.weight)
      tell(event_kind::operator_action, name, fmt::format("weight -> {}", wanted.effective_weight(n->configured_weight)),
           r.who);
    std::string error;
    // Held only here (not shared, or pending), the state file is its one durable copy: no file, no change.
    if (!hold_intent(*n, wanted, shared.is_null(), error)) {
      tell(event_kind::operator_action, name, fmt::format("the change above was not applied: {}", error), r.who);
      co_return control_fail(r.id, {"not_persisted", fmt::format("the intent was not applied here: {}", error)});
    }
    if (current.admin != wanted.admin)
      log_info("node {} ({}): admin {} -> {} {}{}; {} connection(s) open", name, address, to_string(current.admin),
               to_string(wanted.admin), by, r.force ? " (forced)" : "", n->connections);
    if (current.weight != wanted.weight) log_info("node {} ({}): weight -> {} {}", name, address, n->weight(), by);
  }
  json answer = control_ok(r.id, {{"changed", !old.same_effect(wanted)},
                                  {"node",
                                   {{"name", n->name()},
                                    {"address", address},
                                    {"admin", to_string(n->intent.admin)},
                                    {"previous_admin", to_string(old.admin)},
                                    {"weight", n->weight()},
                                    {"eligible", n->eligible},
                                    {"connections", n->connections}}},
                                  {"shared", shared}});
  if (!warning.empty()) answer["warning"] = warning;
  co_return answer;
}
#pragma GCC diagnostic pop

void agent::start_intent_sync() {
  sync_state_.shared = config_.intents.shared;
  sync_state_.group = config_.intents.group;
  if (!config_.intents.shared) return;
  // No client is routed before the first read: what this agent holds may be stale or, new, empty.
  balancer_.set_intents_known(false);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  agent_id_ = fmt::format("{} {} pid {}", host, config_.effective_listeners().front().address.to_string(), ::getpid());
  sync_ = std::make_unique<intent_sync>(
      intent_sync_settings{config_.intents.group, agent_id_, config_.monitor.interval, config_.has_writer_listener()},
      [this](intent_read r, std::optional<writer_read> w) {
        asio::post(io_, [this, r = std::move(r), w = std::move(w)]() mutable {
          on_intent_read(std::move(r), std::move(w));
        });
      });
  log_info("intents shared through the cluster (galeratop.intents, group \"{}\")", config_.intents.group);
}

void agent::offer_sync_nodes() {
  if (!sync_) return;
  std::vector<mysql_login> usable;
  for (const node_id id : intent_sync_nodes(balancer_.table().records()))
    if (auto m = monitors_.find(id); m != monitors_.end()) usable.push_back(m->second.target.login);
  if (usable == sync_nodes_) return;
  sync_nodes_ = usable;
  sync_->set_nodes(std::move(usable));
}

void agent::adopt_row(const node_record& n, const std::optional<shared_intent>& row) {
  const intent before = n.intent;
  const intent next = adopted(row);
  std::string error;
  if (!before.same_effect(next)) {
    // Another agent's operator: told here too, so that this agent's events and node detail say who.
    const std::string change = fmt::format("admin {} -> {}{} (shared intent version {})", to_string(before.admin),
                                           to_string(next.admin),
                                           next.weight ? fmt::format(", weight {}", *next.weight) : "", next.version);
    tell(event_kind::operator_action, n.name(), change, fmt::format("{} in galeratop.intents", changed_by(row)));
    log_info("node {}: {} by {}", n.address, change, changed_by(row));
  }
  hold_intent(n, next, false, error);  // the cluster keeps it: applied even when the file cannot be written
}

void agent::on_intent_read(intent_read r, std::optional<writer_read> writer) {
  if (balancer_.has_writer_listener()) on_writer_read(writer, r.error);
  switch (read_watch_.note(r.ok, mono_clock::now())) {
    case intent_read_watch::news::readable:
      log_info("intents: galeratop.intents read from {} (group \"{}\", {} row(s)); changes are shared", r.from,
               config_.intents.group, r.rows.size());
      break;
    case intent_read_watch::news::unreadable:
      log_warning("intents: cannot read galeratop.intents: {}; changes hold on this agent only until it can be read",
                  r.error);
      break;
    case intent_read_watch::news::none: break;
  }
  sync_state_.available = r.ok;
  sync_state_.error = r.error;
  sync_state_.from = r.from;
  if (r.ok && r.unreadable != unreadable_rows_) {
    for (const unreadable_intent& u : r.unreadable)
      log_warning("intents: a row of galeratop.intents is ignored, node {} keeps the intent held here: {}", u.node,
                  u.why);
    unreadable_rows_ = r.unreadable;
  }
  if (!r.ok) {
    if (!balancer_.table().intents_known()) {
      // Availability first: the intents held here (the state file) route until the table can be read.
      log_warning("intents: the first read of galeratop.intents failed ({}): routing on the intents held here",
                  r.error);
      open_routing();
    }
    return;
  }
  for (const intent_sync_step& step : plan_intent_sync(balancer_.table().records(), r, pushing_)) {
    const node_record* n = balancer_.table().find(step.id);
    if (!n) continue;
    switch (step.action) {
      case reconcile_action::none: break;
      case reconcile_action::push:
        push_intent(n->address, n->intent, r.table_exists ? n->intent.version : 0);
        break;
      case reconcile_action::drop_and_adopt:
        log_warning("node {}: the change made here while the cluster could not be written ({}) is dropped: {} changed "
                    "it since (version {})", n->address, to_string(n->intent.admin), changed_by(step.row),
                    step.row ? step.row->version : 0);
        adopt_row(*n, step.row);
        break;
      case reconcile_action::adopt: adopt_row(*n, step.row); break;
    }
  }
  if (!balancer_.table().intents_known()) open_routing();
}

void agent::open_routing() {
  balancer_.set_intents_known(true);
  publish();
}

void agent::push_intent(const std::string& address, const intent& local, std::uint64_t expected_version) {
  pushing_.insert(address);
  asio::co_spawn(io_, push(intent_change{address, local.admin, local.weight, local.since, expected_version}),
                 asio::detached);
}

asio::awaitable<void> agent::push(intent_change c) {
  const std::string address = c.node;
  const intent_write w = co_await share(std::move(c));
  pushing_.erase(address);
  const node_record* n = balancer_.table().find_address(address);
  if (!n || w.result == intent_write::kind::failed) co_return;  // still pending: the next read tries again
  if (w.result == intent_write::kind::conflict)
    log_warning("node {}: the change made here while the cluster could not be written is dropped: {} changed it "
                "since", address, changed_by(w.row));
  else
    log_info("node {}: the intent held here is now shared (version {})", address, w.row ? w.row->version : 0);
  adopt_row(*n, w.row);
}

}  // namespace galeratop
