#include <catch2/catch.hpp>

#include "agent/intents/intent_decisions.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

namespace {
intent with_admin(admin_state a) {
  intent i;
  i.admin = a;
  return i;
}

void down(routing_table& t, node_id id) {
  for (int k = 0; k < 3; ++k) t.observe(id, unreachable());
  t.refresh(donor_policy::avoid);
}

shared_intent row(const std::string& node, admin_state admin, std::uint64_t version) {
  shared_intent r;
  r.node = node;
  r.value.admin = admin;
  r.value.version = version;
  r.version = version;
  r.changed_by = "agent-b";
  return r;
}
}  // namespace

TEST_CASE("the last-node guard refuses to take the last node that takes clients out of rotation, and names the others") {
  auto t = healthy_table(3);
  CHECK_FALSE(last_node_refusal(t, 1, with_admin(admin_state::drain), donor_policy::avoid));
  t.find(2)->intent.admin = admin_state::drain;
  down(t, 3);
  const auto refusal = last_node_refusal(t, 1, with_admin(admin_state::drain), donor_policy::avoid);
  REQUIRE(refusal);
  CHECK(*refusal == "refused: drain n1 would leave no node to take new clients (the others: n2 synced drain, n3 down); "
                    "add --force to do it anyway");
  intent weightless;
  weightless.weight = 0;
  CHECK(last_node_refusal(t, 1, weightless, donor_policy::avoid)->starts_with("refused: weight 0 on n1 "));
  // Nothing is taken out: the node stays ready with some weight, or is not in rotation anyway.
  intent heavier;
  heavier.weight = 5;
  CHECK_FALSE(last_node_refusal(t, 1, heavier, donor_policy::avoid));
  CHECK_FALSE(last_node_refusal(t, 2, with_admin(admin_state::maint), donor_policy::avoid));
}

TEST_CASE("a read of the shared table adopts the rows that changed, pushes what is pending and leaves the rest") {
  auto t = healthy_table(4);
  const std::string a1 = t.find(1)->address, a2 = t.find(2)->address, a3 = t.find(3)->address,
                    a4 = t.find(4)->address;
  t.find(2)->intent.admin = admin_state::drain;  // pending here since version 3
  t.find(2)->intent.version = 3;
  t.find(2)->intent.pending = true;
  t.find(3)->intent = adopted(row(a3, admin_state::maint, 7));  // in step with its row
  intent_read r;
  r.ok = true;
  r.table_exists = true;
  r.rows = {row(a1, admin_state::drain, 1), row(a2, admin_state::ready, 3), row(a3, admin_state::maint, 7),
            row(a4, admin_state::drain, 2)};
  const auto steps = plan_intent_sync(t.records(), r);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].id == 1);
  CHECK(steps[0].action == reconcile_action::adopt);  // another agent drained it
  CHECK(steps[0].row->value.admin == admin_state::drain);
  CHECK(steps[1].id == 2);
  CHECK(steps[1].action == reconcile_action::push);  // the row is still where the pending change was made
  CHECK(steps[2].id == 4);

  // A node being pushed waits for that write; a row this version cannot read undoes no drain.
  r.unreadable = {{a4, "unknown admin state"}};
  t.find(1)->intent_in_flight = true;
  const auto fewer = plan_intent_sync(t.records(), r);
  REQUIRE(fewer.size() == 1);
  CHECK(fewer[0].id == 2);

  // The row moved on from the version the pending change was made from: the row wins.
  r.rows[1] = row(a2, admin_state::maint, 4);
  CHECK(plan_intent_sync(t.records(), r)[0].action == reconcile_action::drop_and_adopt);
}

TEST_CASE("the intent sync talks to nodes in rotation, else to any synced node that is up") {
  auto t = healthy_table(3);
  CHECK(intent_sync_nodes(t.records()) == std::vector<node_id>{1, 2, 3});
  t.find(1)->intent.admin = admin_state::drain;  // about to be stopped: not while others serve
  down(t, 3);
  CHECK(intent_sync_nodes(t.records()) == std::vector<node_id>{2});
  t.find(2)->intent.admin = admin_state::drain;
  t.refresh(donor_policy::avoid);
  CHECK(intent_sync_nodes(t.records()) == std::vector<node_id>{1, 2});  // none in rotation: drained ones serve
  down(t, 1);
  down(t, 2);
  CHECK(intent_sync_nodes(t.records()).empty());
}

TEST_CASE("a failing read of the shared table is told when it lasts, then once a minute, recovery is told") {
  intent_read_watch w;
  const mono_clock::time_point t0{50s};
  CHECK(w.note(true, t0) == intent_read_watch::news::readable);  // the first read
  CHECK(w.read_once());
  CHECK(w.note(true, t0 + 1s) == intent_read_watch::news::none);
  CHECK(w.note(false, t0 + 2s) == intent_read_watch::news::none);  // one alone: the node it used went away
  CHECK(w.note(true, t0 + 3s) == intent_read_watch::news::none);   // and nothing was told
  CHECK(w.note(false, t0 + 4s) == intent_read_watch::news::none);
  CHECK(w.note(false, t0 + 5s) == intent_read_watch::news::unreadable);
  CHECK(w.note(false, t0 + 30s) == intent_read_watch::news::none);
  CHECK(w.note(false, t0 + 66s) == intent_read_watch::news::unreadable);
  CHECK(w.note(true, t0 + 67s) == intent_read_watch::news::readable);
}

TEST_CASE("an operator's change the cluster took is held as the cluster's row, one it could not take is held "
          "here, pending") {
  const std::string address = "127.0.0.1:3307";
  const intent_change drain{address, admin_state::drain, std::nullopt, std::chrono::system_clock::time_point{} + 5s,
                            std::nullopt};
  intent current;
  current.version = 3;

  intent_write written{intent_write::kind::written, row(address, admin_state::drain, 4), "", "127.0.0.1:3306"};
  const share_outcome shared = after_share(written, current, drain);
  CHECK(shared.shared);
  CHECK(shared.written);
  CHECK(shared.wanted.admin == admin_state::drain);
  CHECK(shared.wanted.version == 4);
  CHECK_FALSE(shared.wanted.pending);

  const intent_write unchanged{intent_write::kind::unchanged, row(address, admin_state::drain, 4), "", "x"};
  CHECK(after_share(unchanged, current, drain).shared);
  CHECK_FALSE(after_share(unchanged, current, drain).written);

  // The cluster could not be written: the change holds here, on top of what the node has now,
  // from the version it was made from.
  intent now = current;
  now.weight = 7;  // another change let in while the write was under way
  const intent_write failed{intent_write::kind::failed, std::nullopt, "Lost connection to server during query", "x"};
  const share_outcome held = after_share(failed, now, drain);
  CHECK_FALSE(held.shared);
  CHECK(held.wanted.admin == admin_state::drain);
  CHECK(held.wanted.weight == 7u);
  CHECK(held.wanted.pending);
  CHECK(held.wanted.version == 3);
  CHECK(held.held_why == "Lost connection to server during query");
  CHECK(after_share({intent_write::kind::conflict, std::nullopt, "", "x"}, now, drain).held_why == "conflict");
}
