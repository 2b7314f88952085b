#include "agent/operator_intents.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <filesystem>

#include "agent/state_file.hpp"
#include "balancer/core/log.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
constexpr std::string_view intents_file_name = "intents.json";

/// The words of a log line saying which agent (or a DBA) made the change a row holds.
std::string changed_by(const std::optional<shared_intent>& row) {
  return row ? row->changed_by : "the removal of its row";
}

/// What an operator's node command changes; nullopt for a command that is not one.
std::optional<intent_change> change_asked(const control_request& r, const std::string& address) {
  intent_change c{address, std::nullopt, std::nullopt, std::chrono::system_clock::now(), std::nullopt};
  switch (r.command) {
    case control_command::drain: c.admin = admin_state::drain; break;
    case control_command::maint: c.admin = admin_state::maint; break;
    case control_command::undrain:
    case control_command::ready: c.admin = admin_state::ready; break;
    case control_command::weight: c.weight = r.weight; break;
    default: return std::nullopt;
  }
  return c;
}
}  // namespace

operator_intents::operator_intents(asio::io_context& io, balancer& b, const config& c, publisher& p,
                                   writer_steering& writer, std::function<void()> changed)
    : io_(io), balancer_(b), config_(c), publisher_(p), writer_(writer), changed_(std::move(changed)) {
  sharing_.shared = config_.intents.shared;
  sharing_.group = config_.intents.group;
}

void operator_intents::restore(const std::string& state_dir) {
  path_ = (std::filesystem::path(state_dir) / intents_file_name).string();
  std::string error;
  if (auto text = state_file::read(path_, error)) {
    // Refusing to start beats silently forgetting that an operator drained a node.
    if (!store_.restore(*text, error))
      throw std::runtime_error(fmt::format("operator intents {} are not valid ({}); fix or remove the file", path_,
                                           error));
    for (const auto& [address, i] : store_.all())
      log_info("intent kept from before the restart: node {} {}{}", address, to_string(i.admin),
               i.weight ? fmt::format(", weight {}", *i.weight) : "");
  } else if (!error.empty()) {
    throw std::runtime_error(error);
  }
}

bool operator_intents::hold(const node_record& n, const intent& i, bool must_persist, std::string& error) {
  intent_store next = store_;
  const bool written = !next.set(n.address, i) || state_file::write_atomically(path_, next.serialize(), error);
  if (!written) {
    if (must_persist) return false;
    log_warning("node {}: applied, but the intents file cannot be written ({}): the cluster keeps it", n.address,
                error);
  }
  store_ = std::move(next);
  balancer_.set_intent(n.id, i);
  changed_();
  return true;
}

// GCC 12 pairs these coroutines' frame deallocation with the wrong allocation function and warns
// (as in session_placement.cpp), although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<json> operator_intents::change(control_request r, node_id id) {
  const node_record* n = balancer_.table().find(id);
  const std::string address = n->address;
  const std::string name = n->name();
  const intent old = n->intent;
  const std::optional<intent_change> asked = change_asked(r, address);
  if (!asked) co_return control_fail(r.id, {"bad_request", "not a node command"});
  const intent_change change = *asked;
  intent wanted = with_change(old, change);
  if (!r.force)
    if (auto refusal = last_node_refusal(balancer_.table(), id, wanted, config_.balancer.donors))
      co_return control_fail(r.id, {"last_node", *refusal});
  json shared = nullptr;
  std::string warning;
  std::string by = "by the control endpoint";
  auto removed = [&] { return control_fail(r.id, {"unknown_node", fmt::format("{} was removed by a reload", address)}); };
  // The writer leaves before the drain begins, so that its writes move in one clean switch.
  if (change.admin && *change.admin != admin_state::ready && *change.admin != old.admin) {
    warning = co_await writer_.move_off(id, *change.admin);
    if (!balancer_.table().find(id)) co_return removed();  // a reload may have run meanwhile
  }
  if (sync_) {
    intent_change named = change;  // named: see run_on_sync
    const intent_write w = co_await run_on_sync<intent_write>(io_, *sync_, std::move(named));
    n = balancer_.table().find(id);  // a reload may have run meanwhile
    if (!n) co_return removed();
    const share_outcome o = after_share(w, n->intent, change);
    wanted = o.wanted;
    if (o.shared) {
      shared = {{"group", config_.intents.group}, {"version", wanted.version}, {"through", w.on}};
      if (o.written) by += fmt::format(", shared as version {} through {}", wanted.version, w.on);
    } else {
      // The cluster cannot be written: the change holds here, and is written once it can be,
      // unless another agent changes the node first (then that change wins, see reconcile()).
      warning = fmt::format("{}{}the cluster could not be written ({}): the change holds on this agent only until it "
                            "can be shared", warning, warning.empty() ? "" : "; ", o.held_why);
      by += " (not shared yet: the cluster cannot be written)";
      log_warning("node {} ({}): {}", name, address, warning);
    }
  }
  n = balancer_.table().find(id);
  const intent current = n->intent;
  if (!(wanted == current)) {
    // Told before it is applied, so that the events it causes (the node's eligibility) follow it.
    if (current.admin != wanted.admin)
      publisher_.tell(event_kind::operator_action, name,
                      fmt::format("admin {} -> {}{}; {} connection(s) open", to_string(current.admin),
                                  to_string(wanted.admin), r.force ? " (forced)" : "", n->connections),
                      r.who);
    if (current.weight != wanted.weight)
      publisher_.tell(event_kind::operator_action, name,
                      fmt::format("weight -> {}", wanted.effective_weight(n->configured_weight)), r.who);
    std::string error;
    // Held only here (not shared, or pending), the state file is its one durable copy: no file, no change.
    if (!hold(*n, wanted, shared.is_null(), error)) {
      publisher_.tell(event_kind::operator_action, name, fmt::format("the change above was not applied: {}", error),
                      r.who);
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

asio::awaitable<void> operator_intents::push(node_id id, intent_change c) {
  const intent_write w = co_await run_on_sync<intent_write>(io_, *sync_, std::move(c));
  balancer_.set_intent_in_flight(id, false);
  const node_record* n = balancer_.table().find(id);
  if (!n || w.result == intent_write::kind::failed) co_return;  // still pending: the next read tries again
  if (w.result == intent_write::kind::conflict)
    log_warning("node {}: the change made here while the cluster could not be written is dropped: {} changed it "
                "since", n->address, changed_by(w.row));
  else
    log_info("node {}: the intent held here is now shared (version {})", n->address, w.row ? w.row->version : 0);
  adopt_row(*n, w.row);
}
#pragma GCC diagnostic pop

void operator_intents::start_sharing(sync_thread& sync) {
  sync_ = &sync;
  // No client is routed before the first read: what this agent holds may be stale or, new, empty.
  balancer_.set_intents_known(false);
  log_info("intents shared through the cluster (galeratop.intents, group \"{}\")", config_.intents.group);
}

void operator_intents::adopt_row(const node_record& n, const std::optional<shared_intent>& row) {
  const intent before = n.intent;
  const intent next = adopted(row);
  std::string error;
  if (!before.same_effect(next)) {
    // Another agent's operator: told here too, so that this agent's events and node detail say who.
    const std::string change = fmt::format("admin {} -> {}{} (shared intent version {})", to_string(before.admin),
                                           to_string(next.admin),
                                           next.weight ? fmt::format(", weight {}", *next.weight) : "", next.version);
    publisher_.tell(event_kind::operator_action, n.name(), change,
                    fmt::format("{} in galeratop.intents", changed_by(row)));
    log_info("node {}: {} by {}", n.address, change, changed_by(row));
  }
  hold(n, next, false, error);  // the cluster keeps it: applied even when the file cannot be written
}

void operator_intents::on_read(const intent_read& r) {
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
  sharing_.available = r.ok;
  sharing_.error = r.error;
  sharing_.from = r.from;
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
  for (const intent_sync_step& step : plan_intent_sync(balancer_.table().records(), r)) {
    const node_record* n = balancer_.table().find(step.id);
    if (!n) continue;
    switch (step.action) {
      case reconcile_action::none: break;
      case reconcile_action::push: {
        const intent& local = n->intent;
        balancer_.set_intent_in_flight(n->id, true);  // until the write's outcome: reads meanwhile leave it alone
        asio::co_spawn(io_,
                       push(n->id, intent_change{n->address, local.admin, local.weight, local.since,
                                                 r.table_exists ? local.version : 0}),
                       asio::detached);
        break;
      }
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

void operator_intents::open_routing() {
  balancer_.set_intents_known(true);
  changed_();
}

intents_sync_snapshot operator_intents::view() const {
  intents_sync_snapshot v = sharing_;
  v.pending = static_cast<std::size_t>(std::ranges::count_if(store_.all(), [](const auto& kv) { return kv.second.pending; }));
  return v;
}

}  // namespace galeratop
