#include "agent/writer_steering.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "balancer/core/log.hpp"
#include "balancer/core/writer_rule.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
// How long a switch may leave another agent on the old epoch before it counts as disagreeing:
// every agent reads the row once per monitor interval and then says what it follows.
constexpr auto disagreement_settle = std::chrono::seconds(3);
// Agents not heard of for this long have stopped; they follow nothing any more.
constexpr auto agent_stale = std::chrono::seconds(15);

bool same_row(const std::optional<writer_row>& a, const std::optional<writer_row>& b) {
  if (!a || !b) return !a && !b;
  return a->node == b->node && a->epoch == b->epoch;
}
}  // namespace

writer_steering::writer_steering(asio::io_context& io, balancer& b, const config& c, publisher& p,
                                 std::function<void()> changed)
    : io_(io), balancer_(b), config_(c), publisher_(p), changed_(std::move(changed)) {}

void writer_steering::start(sync_thread& sync, std::string agent_id) {
  sync_ = &sync;
  agent_id_ = std::move(agent_id);
}

void writer_steering::on_read(const std::optional<writer_read>& read, const std::string& error,
                              const std::string& from) {
  if (read && read->ok) {
    if (facts_.known && !facts_.fresh) log_info("writer: galeratop.writer can be read again (through {})", from);
    facts_.known = facts_.fresh = true;
    error_.clear();
    agents_ = read->agents;
    adopt(read->row);
  } else {
    const std::string why = read && !read->error.empty() ? read->error : error;
    if (facts_.fresh || !facts_.known)
      log_warning("writer: cannot read galeratop.writer: {}; {}", why,
                  facts_.known ? "writer listeners keep the writer read last while it can write, and no "
                                 "other is chosen until the row can be read"
                               : "writer listeners have no writer until it can be read");
    facts_.fresh = false;
    error_ = why;
  }
  steer();
}

void writer_steering::adopt(const std::optional<writer_row>& row) {
  if (!same_row(row, facts_.row) && row) {
    const node_record* n = balancer_.table().find_address(row->node);
    log_info("writer: {} ({}) is the writer, epoch {}, by {}{}", n ? n->name() : row->node, row->node, row->epoch,
             row->changed_by, row->reason.empty() ? "" : ": " + row->reason);
  }
  facts_.row = row;
}

void writer_steering::steer() {
  if (!balancer_.has_writer_listener()) return;
  facts_.failback = config_.writer.failback;
  const writer_plan plan = plan_writer(balancer_.table().records(), facts_);
  const std::optional<node_id> before = balancer_.writer().node;
  const std::uint64_t epoch = facts_.row ? facts_.row->epoch : 0;
  balancer_.set_writer(plan.route, plan.route ? fmt::format("epoch {}", epoch) : plan.why);
  const node_record* to = plan.route ? balancer_.table().find(*plan.route) : nullptr;
  if (before != plan.route) {
    if (to)
      log_info("writer listeners -> {} ({}), epoch {}", to->name(), to->address, epoch);
    else
      log_warning("writer listeners: no writer: {}", plan.why);
  }
  writer_follower f{agent_id_, to ? to->address : "", epoch, {}};
  if (sync_ && f != following_) {
    following_ = f;
    sync_->follow(std::move(f));
  }
  if (plan.propose && !proposing_ && mono_clock::now() >= retry_at_)
    asio::co_spawn(io_, propose(*plan.propose, plan.why), asio::detached);
}

// GCC 12 pairs these coroutines' frame deallocation with the wrong allocation function and warns
// (as in session_placement.cpp), although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> writer_steering::propose(node_id node, std::string why) {
  const node_record* n = balancer_.table().find(node);
  if (!n || !sync_) co_return;
  proposing_ = true;
  const std::string name = n->name();
  const std::string address = n->address;
  const std::uint64_t expected = facts_.row ? facts_.row->epoch : 0;
  log_info("writer: proposing {} ({}) at epoch {}: {}", name, address, expected + 1, why);
  writer_change change{address, expected, why};  // named: see run_on_sync
  const writer_write w = co_await run_on_sync<writer_write>(io_, *sync_, std::move(change));
  proposing_ = false;
  switch (w.result) {
    case writer_write::kind::written:
      log_info("writer: {} recorded as the writer, epoch {}, through {}", name, w.row ? w.row->epoch : 0, w.on);
      break;
    case writer_write::kind::conflict:
      log_info("writer: another agent changed galeratop.writer first; following it");
      break;
    case writer_write::kind::unchanged: break;
    case writer_write::kind::failed:
      // Asked again at the next steer after a pause: a cluster that cannot be written now
      // (a node just lost, the view not changed yet) usually can a moment later.
      log_warning("writer: cannot record {} as the writer: {}; writer listeners have no writer until it is", name,
                  w.error);
      retry_at_ = mono_clock::now() + config_.monitor.interval;
      co_return;
  }
  adopt(w.row);
  changed_();  // steers: writer listeners follow the new row at once
}

asio::awaitable<json> writer_steering::move(control_request r, node_id id) {
  const node_record* n = balancer_.table().find(id);
  if (!balancer_.has_writer_listener() || !sync_)
    co_return control_fail(r.id, {"no_writer_listener", "this agent has no writer listener"});
  if (auto refusal = writer_move_refusal(*n, facts_, error_))
    co_return control_fail(r.id, {refusal->code, refusal->message});
  const std::string name = n->name();
  const std::string address = n->address;
  const std::optional<writer_row> before = facts_.row;
  const node_record* previous = before ? balancer_.table().find_address(before->node) : nullptr;
  json answer_writer = {{"node", name}, {"address", address},
                        {"previous", previous ? json(previous->name()) : json(nullptr)}};
  if (before && before->node == address) {
    answer_writer["epoch"] = before->epoch;
    co_return control_ok(r.id, {{"writer", answer_writer}, {"changed", false}});
  }
  writer_change change{address, before ? before->epoch : 0, "moved by galeratop writer"};  // named: see run_on_sync
  const writer_write w = co_await run_on_sync<writer_write>(io_, *sync_, std::move(change));
  if (w.result == writer_write::kind::failed)
    co_return control_fail(r.id, {"not_shared", fmt::format("the cluster could not be written: {}", w.error)});
  adopt(w.row);
  changed_();
  if (w.result == writer_write::kind::conflict) {
    const node_record* now = w.row ? balancer_.table().find_address(w.row->node) : nullptr;
    co_return control_fail(r.id, {"conflict", fmt::format("another agent changed the writer meanwhile (now {}, epoch "
                                                          "{}); try again", now ? now->name() : "none",
                                                          w.row ? w.row->epoch : 0)});
  }
  answer_writer["epoch"] = w.row ? w.row->epoch : 0;
  log_info("writer: {} ({}) made the writer by the control endpoint, epoch {}", name, address,
           w.row ? w.row->epoch : 0);
  publisher_.tell(event_kind::operator_action, name, fmt::format("made the writer, epoch {}", w.row ? w.row->epoch : 0),
                  r.who);
  co_return control_ok(r.id, {{"writer", answer_writer}, {"changed", true}});
}

asio::awaitable<std::string> writer_steering::move_off(node_id id, admin_state next) {
  const node_record* n = balancer_.table().find(id);
  if (!n || !sync_ || !balancer_.has_writer_listener() || !facts_.row || facts_.row->node != n->address) co_return "";
  const auto target = preferred_writer_without(balancer_.table(), id, next, config_.balancer.donors);
  if (!target) co_return "no other node can be the writer: writer listeners have none while it is out";
  const node_record* t = balancer_.table().find(*target);
  const std::string why = fmt::format("{} is being put in {}", n->name(), to_string(next));
  log_info("writer: moving the role from {} to {} first: {}", n->name(), t->name(), why);
  writer_change change{t->address, facts_.row->epoch, why};  // named: see run_on_sync
  const writer_write w = co_await run_on_sync<writer_write>(io_, *sync_, std::move(change));
  if (w.result == writer_write::kind::failed)
    co_return fmt::format("the writer could not be moved first ({}); it moves once the cluster can be written",
                          w.error);
  adopt(w.row);
  changed_();
  co_return "";
}
#pragma GCC diagnostic pop

std::optional<writer_snapshot> writer_steering::view() const {
  if (!balancer_.has_writer_listener()) return std::nullopt;
  writer_snapshot w;
  const writer_route& route = balancer_.writer();
  if (const node_record* n = route.node ? balancer_.table().find(*route.node) : nullptr) {
    w.node = n->name();
    w.address = n->address;
  }
  if (const auto& row = facts_.row) {
    w.row_node = row->node;
    w.epoch = row->epoch;
    w.changed_by = row->changed_by;
    w.reason = row->reason;
    w.row_age_seconds = std::chrono::duration<double>(row->age).count();
  }
  w.readable = facts_.fresh;
  w.error = error_;
  w.why = route.why;
  w.settled = route.settled;
  w.waiting = balancer_.held_for_writer();
  w.switches_total = route.switches;
  w.failback = config_.writer.failback;
  for (const writer_follower& a : agents_) {
    if (a.agent == agent_id_ || a.age > agent_stale) continue;
    w.agents.push_back({a.agent, a.node, a.epoch, std::chrono::duration<double>(a.age).count(),
                        !disagrees(a, facts_.row, disagreement_settle)});
  }
  w.agents_disagreeing = agents_disagreeing(agents_, agent_id_, facts_.row, disagreement_settle, agent_stale);
  return w;
}

}  // namespace galeratop
