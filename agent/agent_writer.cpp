#include "agent/agent.hpp"

// The writer of writer listeners: the agent follows the cluster's galeratop.writer row, asks for a
// new writer when the rule (plan_writer, shared_writer.hpp) says so, and moves the role at an
// operator's request or before the writer is drained. The SQL runs on the intent sync's thread;
// everything here runs on the io thread. Kept apart from agent_intents.cpp, whose intents are per
// node, while the writer is one fact per group.
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

void agent::on_writer_read(const std::optional<writer_read>& read, const std::string& error) {
  if (read && read->ok) {
    if (writer_facts_.known && !writer_facts_.fresh)
      log_info("writer: galeratop.writer can be read again (through {})", sync_state_.from);
    writer_facts_.known = writer_facts_.fresh = true;
    writer_error_.clear();
    writer_agents_ = read->agents;
    adopt_writer_row(read->row);
  } else {
    const std::string why = read && !read->error.empty() ? read->error : error;
    if (writer_facts_.fresh || !writer_facts_.known)
      log_warning("writer: cannot read galeratop.writer: {}; {}", why,
                  writer_facts_.known ? "writer listeners keep the writer read last while it can write, and no "
                                        "other is chosen until the row can be read"
                                      : "writer listeners have no writer until it can be read");
    writer_facts_.fresh = false;
    writer_error_ = why;
  }
  steer_writer();
}

void agent::adopt_writer_row(const std::optional<writer_row>& row) {
  if (!same_row(row, writer_facts_.row) && row) {
    const node_record* n = balancer_.table().find_address(row->node);
    log_info("writer: {} ({}) is the writer, epoch {}, by {}{}", n ? n->name() : row->node, row->node, row->epoch,
             row->changed_by, row->reason.empty() ? "" : ": " + row->reason);
  }
  writer_facts_.row = row;
}

void agent::steer_writer() {
  if (!balancer_.has_writer_listener()) return;
  writer_facts_.failback = config_.writer.failback;
  const writer_plan plan = plan_writer(balancer_.table().records(), writer_facts_);
  const std::optional<node_id> before = balancer_.writer().node;
  const std::uint64_t epoch = writer_facts_.row ? writer_facts_.row->epoch : 0;
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
  if (plan.propose && !proposing_writer_ && mono_clock::now() >= writer_retry_at_)
    asio::co_spawn(io_, propose_writer(*plan.propose, plan.why), asio::detached);
}

// GCC 12 pairs these coroutines' frame deallocation with the wrong allocation function and warns
// (as in balancer.cpp), although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> agent::propose_writer(node_id node, std::string why) {
  const node_record* n = balancer_.table().find(node);
  if (!n || !sync_) co_return;
  proposing_writer_ = true;
  const std::string name = n->name();
  const std::string address = n->address;
  const std::uint64_t expected = writer_facts_.row ? writer_facts_.row->epoch : 0;
  log_info("writer: proposing {} ({}) at epoch {}: {}", name, address, expected + 1, why);
  writer_change change{address, expected, why};  // named: see share()
  const writer_write w = co_await share(std::move(change));
  proposing_writer_ = false;
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
      writer_retry_at_ = mono_clock::now() + config_.monitor.interval;
      co_return;
  }
  adopt_writer_row(w.row);
  publish();  // steers: writer listeners follow the new row at once
}

asio::awaitable<json> agent::move_writer(control_request r, node_id id) {
  const node_record* n = balancer_.table().find(id);
  if (!balancer_.has_writer_listener() || !sync_)
    co_return control_fail(r.id, {"no_writer_listener", "this agent has no writer listener"});
  if (!can_write(*n))
    co_return control_fail(r.id, {"cannot_write", fmt::format("{} cannot be the writer: it must be Synced, eligible "
                                                               "and have a writer_priority above 0 ({} {}{})",
                                                               n->name(), to_string(n->tracker.current().state),
                                                               to_string(n->intent.admin),
                                                               n->writer_priority == 0 ? ", writer_priority 0" : "")});
  if (!writer_facts_.fresh)
    co_return control_fail(r.id, {"writer_unknown", fmt::format("galeratop.writer cannot be read now ({}): the "
                                                                "writer is not moved", writer_error_)});
  const std::string name = n->name();
  const std::string address = n->address;
  const std::optional<writer_row> before = writer_facts_.row;
  const node_record* previous = before ? balancer_.table().find_address(before->node) : nullptr;
  json answer_writer = {{"node", name}, {"address", address},
                        {"previous", previous ? json(previous->name()) : json(nullptr)}};
  if (before && before->node == address) {
    answer_writer["epoch"] = before->epoch;
    co_return control_ok(r.id, {{"writer", answer_writer}, {"changed", false}});
  }
  writer_change change{address, before ? before->epoch : 0, "moved by galeratop writer"};  // named: see share()
  const writer_write w = co_await share(std::move(change));
  if (w.result == writer_write::kind::failed)
    co_return control_fail(r.id, {"not_shared", fmt::format("the cluster could not be written: {}", w.error)});
  adopt_writer_row(w.row);
  publish();
  if (w.result == writer_write::kind::conflict) {
    const node_record* now = w.row ? balancer_.table().find_address(w.row->node) : nullptr;
    co_return control_fail(r.id, {"conflict", fmt::format("another agent changed the writer meanwhile (now {}, epoch "
                                                          "{}); try again", now ? now->name() : "none",
                                                          w.row ? w.row->epoch : 0)});
  }
  answer_writer["epoch"] = w.row ? w.row->epoch : 0;
  log_info("writer: {} ({}) made the writer by the control endpoint, epoch {}", name, address,
           w.row ? w.row->epoch : 0);
  tell(event_kind::operator_action, name, fmt::format("made the writer, epoch {}", w.row ? w.row->epoch : 0), r.who);
  co_return control_ok(r.id, {{"writer", answer_writer}, {"changed", true}});
}

asio::awaitable<std::string> agent::move_writer_off(node_id id, admin_state next) {
  const node_record* n = balancer_.table().find(id);
  if (!n || !sync_ || !balancer_.has_writer_listener() || !writer_facts_.row || writer_facts_.row->node != n->address)
    co_return "";
  // The rule's choice once the node is out: judged on a copy, as routing will be after the change.
  routing_table without = balancer_.table();
  without.find(id)->intent.admin = next;
  without.refresh(config_.balancer.donors);
  const auto target = preferred_writer(without.records());
  if (!target) co_return "no other node can be the writer: writer listeners have none while it is out";
  const node_record* t = balancer_.table().find(*target);
  const std::string why = fmt::format("{} is being put in {}", n->name(), to_string(next));
  log_info("writer: moving the role from {} to {} first: {}", n->name(), t->name(), why);
  writer_change change{t->address, writer_facts_.row->epoch, why};  // named: see share()
  const writer_write w = co_await share(std::move(change));
  if (w.result == writer_write::kind::failed)
    co_return fmt::format("the writer could not be moved first ({}); it moves once the cluster can be written",
                          w.error);
  adopt_writer_row(w.row);
  publish();
  co_return "";
}
#pragma GCC diagnostic pop

writer_snapshot agent::writer_view() const {
  writer_snapshot w;
  const writer_route& route = balancer_.writer();
  if (const node_record* n = route.node ? balancer_.table().find(*route.node) : nullptr) {
    w.node = n->name();
    w.address = n->address;
  }
  if (const auto& row = writer_facts_.row) {
    w.row_node = row->node;
    w.epoch = row->epoch;
    w.changed_by = row->changed_by;
    w.reason = row->reason;
    w.row_age_seconds = std::chrono::duration<double>(row->age).count();
  }
  w.readable = writer_facts_.fresh;
  w.error = writer_error_;
  w.why = route.why;
  w.settled = route.settled;
  w.waiting = balancer_.held_for_writer();
  w.switches_total = route.switches;
  w.failback = config_.writer.failback;
  for (const writer_follower& a : writer_agents_) {
    if (a.agent == agent_id_ || a.age > agent_stale) continue;
    w.agents.push_back({a.agent, a.node, a.epoch, std::chrono::duration<double>(a.age).count(),
                        !disagrees(a, writer_facts_.row, disagreement_settle)});
  }
  w.agents_disagreeing = agents_disagreeing(writer_agents_, agent_id_, writer_facts_.row, disagreement_settle,
                                            agent_stale);
  return w;
}

}  // namespace galeratop
