#include <catch2/catch.hpp>

#include "agent/cluster/event_log.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::system_clock::time_point{} + 1'000'000s;

event an_event(std::string message) {
  return {.seq = 0, .at = t0, .kind = event_kind::reload, .node = {}, .message = std::move(message), .who = {}};
}

node_snapshot node(std::string name, std::string address, galera_state state, bool eligible) {
  node_snapshot n;
  n.name = std::move(name);
  n.address = std::move(address);
  n.state = state;
  n.up = state == galera_state::synced || state == galera_state::donor;
  n.eligible = eligible;
  n.excluded = eligible ? exclusion::none : n.up ? exclusion::avoided : exclusion::unhealthy;
  n.reason = "wsrep_local_state_comment=" + std::string(to_string(state));
  return n;
}

snapshot with_nodes(std::vector<node_snapshot> nodes, std::chrono::system_clock::time_point at = t0) {
  snapshot s;
  s.taken_at = at;
  s.nodes = std::move(nodes);
  return s;
}
}  // namespace

TEST_CASE("the events log numbers its events, keeps the newest within its capacity and answers since a seq") {
  event_log log(3);
  CHECK(log.newest() == 0);
  CHECK(log.since(0).empty());
  for (const char* m : {"a", "b", "c", "d", "e"}) log.add(an_event(m));
  CHECK(log.newest() == 5);
  const auto all = log.since(0);  // a and b fell out
  REQUIRE(all.size() == 3);
  CHECK(all.front().seq == 3);
  CHECK(all.front().message == "c");
  CHECK(all.back().seq == 5);
  const auto after4 = log.since(4);
  REQUIRE(after4.size() == 1);
  CHECK(after4.front().message == "e");
  CHECK(log.since(5).empty());
  CHECK(log.since(1).size() == 3);  // older than the oldest kept: every one kept
  const auto two = log.last(2);
  REQUIRE(two.size() == 2);
  CHECK(two.front().message == "d");
  CHECK(log.last(10).size() == 3);
}

TEST_CASE("a state change is one event with the node's reason, and an eligibility change alone is another") {
  const snapshot before = with_nodes({node("n1", "h:1", galera_state::synced, true),
                                      node("n2", "h:2", galera_state::synced, true),
                                      node("n3", "h:3", galera_state::synced, true)});
  node_snapshot desynced = node("n2", "h:2", galera_state::donor, false);
  node_snapshot suspect = node("n3", "h:3", galera_state::synced, false);
  suspect.suspect = true;
  suspect.excluded = exclusion::suspect;
  suspect.reason = "no answer for 1 s";
  const snapshot after = with_nodes({node("n1", "h:1", galera_state::synced, true), desynced, suspect}, t0 + 1s);
  const auto events = changes_between(before, after);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == event_kind::state);
  CHECK(events[0].node == "n2");
  CHECK(events[0].message == "synced -> donor, not eligible: wsrep_local_state_comment=donor");
  CHECK(events[0].at == t0 + 1s);
  CHECK(events[1].kind == event_kind::eligibility);
  CHECK(events[1].node == "n3");
  CHECK(events[1].message == "not eligible: suspect: no answer for 1 s");
  // And back: eligible.
  const auto back = changes_between(after, before);
  REQUIRE(back.size() == 2);
  CHECK(back[1].message == "eligible (synced)");
}

TEST_CASE("a node is followed by its address: the name it gets from wsrep_node_name is no change") {
  const snapshot before = with_nodes({node("h:1", "h:1", galera_state::synced, true)});
  const snapshot after = with_nodes({node("node1", "h:1", galera_state::synced, true)});
  CHECK(changes_between(before, after).empty());
  // A node added by a reload has no before: the reload's own event says so.
  CHECK(changes_between(with_nodes({}), after).empty());
}

TEST_CASE("a drain ends when the last session of a drained node closes, not before and not again") {
  node_snapshot draining = node("n1", "h:1", galera_state::synced, false);
  draining.admin = admin_state::drain;
  draining.connections = 2;
  node_snapshot one_left = draining;
  one_left.connections = 1;
  node_snapshot empty = draining;
  empty.connections = 0;
  CHECK(changes_between(with_nodes({draining}), with_nodes({one_left})).empty());
  const auto done = changes_between(with_nodes({one_left}), with_nodes({empty}));
  REQUIRE(done.size() == 1);
  CHECK(done[0].kind == event_kind::drained);
  CHECK(done[0].message == "drain: its last session closed");
  CHECK(changes_between(with_nodes({empty}), with_nodes({empty})).empty());
  // A ready node whose sessions all end is nothing to tell.
  node_snapshot ready = one_left;
  ready.admin = admin_state::ready;
  node_snapshot ready_empty = ready;
  ready_empty.connections = 0;
  CHECK(changes_between(with_nodes({ready}), with_nodes({ready_empty})).empty());
}

TEST_CASE("the writer's moves are events: to another node, to none, and back") {
  snapshot before = with_nodes({});
  before.writer = writer_snapshot{};
  before.writer->node = "n1";
  snapshot moved = before;
  moved.writer->node = "n2";
  moved.writer->why = "n1 is drained";
  snapshot none = before;
  none.writer->node = "";
  none.writer->why = "no eligible node";
  auto e = changes_between(before, moved);
  REQUIRE(e.size() == 1);
  CHECK(e[0].kind == event_kind::writer);
  CHECK(e[0].message == "writer moved from n1 to n2: n1 is drained");
  e = changes_between(moved, none);
  REQUIRE(e.size() == 1);
  CHECK(e[0].node == "n2");
  CHECK(e[0].message == "writer listeners have no writer: no eligible node");
  e = changes_between(none, moved);
  REQUIRE(e.size() == 1);
  CHECK(e[0].message == "writer listeners send to n2: n1 is drained");
  CHECK(changes_between(moved, moved).empty());
}

TEST_CASE("refused clients are told a burst at a time: the first at once, the rest once per pace") {
  rejection_bursts bursts(5s);
  frontend_snapshot f;
  f.rejected_no_node = 7;  // before galeratopd's first publish: history, not a burst
  CHECK_FALSE(bursts.note(f, t0));
  CHECK_FALSE(bursts.note(f, t0 + 1s));
  f.rejected_no_node = 9;
  f.rejected_limit = 1;
  auto e = bursts.note(f, t0 + 2s);
  REQUIRE(e);
  CHECK(e->kind == event_kind::rejected);
  CHECK(e->message ==
        "3 client(s) refused: 2 with ERR 1047 (no node could take them), 1 with ERR 1040 (max_connections or no descriptor)");
  f.rejected_no_node = 20;  // the storm goes on: held back until the pace has passed
  CHECK_FALSE(bursts.note(f, t0 + 3s));
  CHECK_FALSE(bursts.note(f, t0 + 6s));
  e = bursts.note(f, t0 + 7s);  // the burst's tail, told although nothing new came since
  REQUIRE(e);
  CHECK(e->message == "11 client(s) refused: 11 with ERR 1047 (no node could take them)");
  CHECK_FALSE(bursts.note(f, t0 + 20s));
}

TEST_CASE("an advisory is an event when raised, with its severity, and when cleared") {
  const advisory a{.id = "two_node_no_arbitrator", .severity = severity::warning, .nodes = {"n1", "n2"},
                   .message = "two nodes and no arbitrator"};
  const event raised = advisory_event(a, true, t0);
  CHECK(raised.kind == event_kind::advisory);
  CHECK(raised.node == "n1, n2");
  CHECK(raised.message == "two_node_no_arbitrator raised (warning): two nodes and no arbitrator");
  CHECK(advisory_event(a, false, t0).message == "two_node_no_arbitrator cleared");
}

TEST_CASE("the newest operator event about a node says who last changed its intent, while the log holds it") {
  event_log log(4);
  const auto op = [](std::string node, std::string who) {
    return event{.seq = 0, .at = t0, .kind = event_kind::operator_action, .node = std::move(node),
                 .message = "admin ready -> drain", .who = std::move(who)};
  };
  log.add(op("db1", "uid 1000 (pid 1)"));
  log.add(op("db2", "tcp 127.0.0.1:5000"));
  log.add(op("db1", "uid 0 (pid 2)"));
  log.add(an_event("configuration reloaded"));
  CHECK(log.newest_of(event_kind::operator_action, "db1")->who == "uid 0 (pid 2)");
  CHECK(log.newest_of(event_kind::operator_action, "db2")->who == "tcp 127.0.0.1:5000");
  CHECK_FALSE(log.newest_of(event_kind::operator_action, "db3"));
  CHECK_FALSE(log.newest_of(event_kind::drained, "db1"));
  // Pushed out of the log, it is no longer known: nobody is named rather than a guess.
  for (int i = 0; i < 4; ++i) log.add(an_event("reload"));
  CHECK_FALSE(log.newest_of(event_kind::operator_action, "db1"));
}
