#include <catch2/catch.hpp>

#include "agent/writer/shared_writer.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

namespace {
writer_row row(const std::string& node, std::uint64_t epoch, std::chrono::milliseconds age = 60s) {
  return {node, epoch, "agent-b", "", age};
}

writer_facts read(std::optional<writer_row> r, bool failback = false) {
  return {std::move(r), true, true, failback};
}

void down(routing_table& t, node_id id) {
  for (int k = 0; k < 3; ++k) t.observe(id, unreachable());
  t.refresh(donor_policy::avoid);
}
}  // namespace

TEST_CASE("the compare-and-set of the writer row applies only at the epoch it was decided on") {
  const auto w = apply_writer_change(std::nullopt, {"127.0.0.1:3307", 0, "first"}, "agent-a");
  REQUIRE(w.result == writer_outcome::kind::written);
  CHECK(w.row->epoch == 1);
  CHECK(w.row->changed_by == "agent-a");
  const auto next = apply_writer_change(row("127.0.0.1:3307", 4), {"127.0.0.1:3308", 4, "down"}, "agent-a");
  CHECK(next.result == writer_outcome::kind::written);
  CHECK(next.row->epoch == 5);
  CHECK(next.row->node == "127.0.0.1:3308");
  // Another agent moved it first: its row wins, whatever this one wanted.
  const auto late = apply_writer_change(row("127.0.0.1:3306", 5), {"127.0.0.1:3308", 4, "down"}, "agent-a");
  CHECK(late.result == writer_outcome::kind::conflict);
  CHECK(late.row->node == "127.0.0.1:3306");
  CHECK(apply_writer_change(std::nullopt, {"127.0.0.1:3308", 3, ""}, "a").result == writer_outcome::kind::conflict);
  CHECK(apply_writer_change(row("127.0.0.1:3306", 5), {"127.0.0.1:3306", 5, ""}, "a").result ==
        writer_outcome::kind::unchanged);
}

TEST_CASE("with no writer chosen yet, the rule proposes its preferred node and routes nothing until the row says so") {
  auto t = healthy_table(3);
  const auto p = plan_writer(t.records(), read(std::nullopt));
  CHECK_FALSE(p.route);
  CHECK(p.propose == node_id{1});
  // A node still rising (or never checked) holds the first choice: it may be the rule's node.
  auto rising = healthy_table(3);
  rising.observe(1, unreachable());
  rising.refresh(donor_policy::avoid);
  rising.observe(1, seen());  // 1 of 2 good checks
  rising.refresh(donor_policy::avoid);
  const auto wait = plan_writer(rising.records(), read(std::nullopt));
  CHECK_FALSE(wait.propose);
  CHECK(wait.why == "no writer has been chosen yet; waiting for every node's first checks");
  // Before the first read, nothing at all: the row may name another node.
  const auto unknown = plan_writer(t.records(), {});
  CHECK_FALSE(unknown.route);
  CHECK_FALSE(unknown.propose);
  CHECK(unknown.why == "the writer is not known yet: galeratop.writer has not been read");
}

TEST_CASE("the row's writer is followed while it can write, even when another node would be preferred") {
  auto t = healthy_table(3);
  t.find(1)->writer_priority = 9;  // n1 preferred, but the row says n2 (no failback by default)
  const auto p = plan_writer(t.records(), read(row(t.find(2)->address, 3)));
  CHECK(p.route == node_id{2});
  CHECK_FALSE(p.propose);
}

TEST_CASE("a writer that cannot write is replaced by the preferred node, routing nothing until the change commits") {
  auto t = healthy_table(3);
  down(t, 1);
  const auto p = plan_writer(t.records(), read(row(t.find(1)->address, 3)));
  CHECK_FALSE(p.route);
  CHECK(p.propose == node_id{2});
  CHECK(p.why == "the writer n1 is down");
  t.find(2)->intent.admin = admin_state::drain;
  t.refresh(donor_policy::avoid);
  CHECK(plan_writer(t.records(), read(row(t.find(2)->address, 4))).propose == node_id{3});
}

TEST_CASE("a recovered node of higher priority takes the role back only with failback") {
  auto t = healthy_table(3);
  t.find(1)->writer_priority = 9;
  const writer_row on_n2 = row(t.find(2)->address, 5);
  CHECK_FALSE(plan_writer(t.records(), read(on_n2)).propose);
  const auto p = plan_writer(t.records(), read(on_n2, true));
  CHECK(p.route == node_id{2});  // routing stays on the row's writer until the change commits
  CHECK(p.propose == node_id{1});
  CHECK(p.why == "failback: n1 outranks n2");
}

TEST_CASE("an agent that cannot read the row keeps its writer while it can write, and never chooses another") {
  auto t = healthy_table(3);
  writer_facts stale = read(row(t.find(1)->address, 3));
  stale.fresh = false;
  CHECK(plan_writer(t.records(), stale).route == node_id{1});
  CHECK_FALSE(plan_writer(t.records(), stale).propose);
  down(t, 1);
  const auto p = plan_writer(t.records(), stale);
  CHECK_FALSE(p.route);
  CHECK_FALSE(p.propose);
  CHECK(p.why == "the writer n1 is down; galeratop.writer cannot be read, so no other writer is chosen");
}

TEST_CASE("a row naming a node this agent does not have routes nothing and proposes nothing") {
  auto t = healthy_table(2);
  const auto p = plan_writer(t.records(), read(row("10.0.0.9:3306", 2)));
  CHECK_FALSE(p.route);
  CHECK_FALSE(p.propose);
  CHECK(p.why == "galeratop.writer names 10.0.0.9:3306, which is not a node of this agent");
}

TEST_CASE("with no node able to write, the rule says so and proposes nothing") {
  auto t = healthy_table(2);
  t.find(2)->writer_priority = 0;
  down(t, 1);
  const auto p = plan_writer(t.records(), read(row(t.find(1)->address, 2)));
  CHECK_FALSE(p.route);
  CHECK_FALSE(p.propose);
  CHECK(p.why == "the writer n1 is down; no other node can be the writer (Synced, ready, writer_priority > 0)");
}

TEST_CASE("agents that follow another epoch disagree once the row has settled, stale agents and this one do not count") {
  const writer_row r = row("127.0.0.1:3306", 7, 10s);
  const std::vector<writer_follower> agents{
      {"self", "127.0.0.1:3307", 6, 1s},      // this agent: never counted
      {"b", "127.0.0.1:3306", 7, 1s},         // agrees
      {"c", "127.0.0.1:3307", 6, 2s},         // an epoch behind
      {"d", "", 7, 1s},                       // routes nothing while the row names a writer
      {"e", "127.0.0.1:3307", 6, 60s},        // not heard of for a minute: stopped
  };
  CHECK(agents_disagreeing(agents, "self", r, 3s, 15s) == 2);
  // Just after a switch the others are still moving: not a disagreement yet.
  CHECK(agents_disagreeing(agents, "self", row("127.0.0.1:3306", 7, 1s), 3s, 15s) == 0);
  CHECK(agents_disagreeing(agents, "self", std::nullopt, 3s, 15s) == 2);  // no row: only those routing nothing agree
}

TEST_CASE("rows of the writer tables are parsed strictly") {
  std::string error;
  auto r = parse_writer_row({"127.0.0.1:3306", "3", "agent-a", "n1 is down", "1500"}, error);
  REQUIRE(r);
  CHECK(r->epoch == 3);
  CHECK(r->age == 1500ms);
  CHECK_FALSE(parse_writer_row({"127.0.0.1:3306", "0", "a", "", "1"}, error));
  CHECK_FALSE(parse_writer_row({"", "3", "a", "", "1"}, error));
  CHECK_FALSE(parse_writer_row({"127.0.0.1:3306", "x", "a", "", "1"}, error));
  CHECK_FALSE(parse_writer_row({"127.0.0.1:3306", "3"}, error));
  CHECK(error == "expected 5 columns, got 2");
  // Two nodes' clocks may disagree a little: a negative age is none.
  CHECK(parse_writer_row({"127.0.0.1:3306", "3", "a", "", "-20"}, error)->age == 0ms);
  auto f = parse_writer_follower({"agent-b", "", "4", "200"}, error);
  REQUIRE(f);
  CHECK(f->node.empty());
  CHECK(f->epoch == 4);
  CHECK_FALSE(parse_writer_follower({"", "x", "4", "200"}, error));
}

TEST_CASE("an operator may move the role only to a node that can write, and only while the row can be read") {
  auto t = healthy_table(3);
  CHECK_FALSE(writer_move_refusal(*t.find(2), read(row("127.0.0.1:3306", 4)), ""));
  t.find(2)->intent.admin = admin_state::drain;
  t.refresh(donor_policy::avoid);
  const auto drained = writer_move_refusal(*t.find(2), read(row("127.0.0.1:3306", 4)), "");
  REQUIRE(drained);
  CHECK(drained->code == "cannot_write");
  CHECK(drained->message == "n2 cannot be the writer: it must be Synced, eligible and have a writer_priority above 0 "
                            "(synced drain)");
  t.find(3)->writer_priority = 0;
  CHECK(writer_move_refusal(*t.find(3), read(std::nullopt), "")->message.ends_with("(synced ready, writer_priority 0)"));
  writer_facts stale = read(row("127.0.0.1:3306", 4));
  stale.fresh = false;
  const auto unknown = writer_move_refusal(*t.find(1), stale, "Lost connection to server during query");
  REQUIRE(unknown);
  CHECK(unknown->code == "writer_unknown");
  CHECK(unknown->message ==
        "galeratop.writer cannot be read now (Lost connection to server during query): the writer is not moved");
}
