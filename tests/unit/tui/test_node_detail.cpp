#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <string>

#include "tests/unit/tui/tui_fixtures.hpp"
#include "tui/key_map.hpp"
#include "tui/screen_layout.hpp"

using namespace galeratop;
using json = nlohmann::json;
using test::line_with;
using test::render;
using test::text_of;

namespace {
/// galera-db-02 with sessions, counters, an operator's drain and monitor failures, as galeratopd
/// writes it; `commits` and `cert` are its wsrep counters.
json detailed_status(double commits, double cert) {
  snapshot s = test::cluster_snapshot({test::published_node("galera-db-01", 3311, 4, 500),
                                       test::published_node("galera-db-02", 3312, 6, 498),
                                       test::published_node("galera-db-03", 3313, 4, 500)},
                                      9, 300);
  s.listeners = {{"app", "balance", "127.0.0.1:3306", 260, {{"galera-db-02", 4}}},
                 {"rw", "writer", "127.0.0.1:3307", 40, {{"galera-db-02", 2}}}};
  node_snapshot& n = s.nodes[1];
  n.admin = admin_state::drain;
  n.eligible = false;
  n.reason = "admin drain";
  n.admin_since = test::status_time - std::chrono::seconds(90);
  n.intent_by = "uid 1000 (pid 4242)";
  n.intent_changed = n.admin_since;
  n.intent_version = 3;
  n.in_transaction = 2;
  n.opaque = 1;
  n.queries_per_second = 250;
  n.query_p50_seconds = 0.0004;
  n.query_p99_seconds = 0.012;
  n.status->raw["wsrep_local_recv_queue"] = "7";
  n.status->raw["wsrep_flow_control_paused"] = "0.25";
  n.status->raw["wsrep_local_commits"] = fmt::format("{}", commits);
  n.status->raw["wsrep_local_cert_failures"] = fmt::format("{}", cert);
  n.status->raw["wsrep_local_bf_aborts"] = "0";
  n.monitor_errors = 4;
  n.recent_monitor_errors = {{"Lost connection to server during query", test::status_time - std::chrono::seconds(60),
                              test::status_time - std::chrono::seconds(60), 1},
                             {"Can't connect to server on '127.0.0.1' (111)", test::status_time - std::chrono::seconds(59),
                              test::status_time - std::chrono::seconds(57), 3}};
  return to_json(s);
}

view_state detail_of_second() {
  view_state v;
  v.connected = true;
  v.selected = "127.0.0.1:3312";
  v.detail = true;
  return v;
}
}  // namespace

TEST_CASE("Enter shows the selected node's detail and Esc goes back to the table") {
  view_state v;
  const json status = test::three_node_status();
  handle_key(v, key::of('j'), status);
  handle_key(v, key{key::enter}, status);
  CHECK(v.detail);
  auto lines = render(status, v, 120, 35);
  CHECK(line_with(lines, " galera-db-02  127.0.0.1:3312  synced"));
  CHECK_FALSE(line_with(lines, "NODE"));  // no table
  CHECK(line_with(lines, " Esc back "));
  CHECK_FALSE(line_with(lines, "Enter detail"));
  // Up and down move to the next node's detail; the admin keys act on the node shown.
  handle_key(v, key{key::down}, status);
  CHECK(line_with(render(status, v, 120, 35), " galera-db-03  127.0.0.1:3313"));
  handle_key(v, key::of('d'), status);
  CHECK(v.pending_node == "127.0.0.1:3313");
  handle_key(v, key::of('n'), status);
  handle_key(v, key{key::escape}, status);
  CHECK_FALSE(v.detail);
  lines = render(status, v, 120, 35);
  CHECK(line_with(lines, "NODE"));
  CHECK(line_with(lines, " Enter detail "));
}

TEST_CASE("the node detail shows the intent with who set it and when, its sessions and its monitor's failures") {
  const json status = detailed_status(1000, 2);
  const auto lines = render(status, detail_of_second(), 120, 35);
  const std::string* intent = line_with(lines, "intent:");
  REQUIRE(intent);
  CHECK(*intent == "  intent: drain, weight 1 (admin since 11:05:10); changed 11:05:10 by uid 1000 (pid 4242); "
                   "galeratop.intents version 3");
  CHECK(line_with(lines, "admin drain  not eligible"));
  CHECK(line_with(lines, "  why: admin drain"));
  CHECK(line_with(lines, "SESSIONS 6 open: 2 in a transaction, 3 outside one, 1 opaque"));
  CHECK(line_with(lines, "  per listener: app 4, rw 2"));
  CHECK(line_with(lines, "MONITOR up, last check 0.4 ms, 4 failed check(s) since the agent started"));
  CHECK(line_with(lines, "  11:05:40  Lost connection to server during query"));
  CHECK(line_with(lines, "  11:05:41 to 11:05:43 x3  Can't connect to server on '127.0.0.1' (111)"));
  CHECK(line_with(lines, "  last committed 498  cluster Primary conf 7 size 3"));
  // Nobody changed galera-db-01: the detail says so rather than guessing.
  view_state first = detail_of_second();
  first.selected = "127.0.0.1:3311";
  CHECK(line_with(render(status, first, 120, 35), "changed by nobody since this agent started"));
}

TEST_CASE("the node detail's figures: now, a minute's sparkline, and rates from the wsrep counters") {
  view_state v = detail_of_second();
  const auto t = screen_clock::time_point{} + std::chrono::hours(1);
  // 60 s of 50 commits a second, and 1 certification failure a second in the last 10.
  for (int i = 0; i <= 60; ++i)
    record_status(v.history, detailed_status(1000 + 50.0 * i, i <= 50 ? 2 : 2 + (i - 50)), t + std::chrono::seconds(i));
  const auto lines = render(detailed_status(4000, 12), v, 120, 35);
  const auto row = [&](std::string_view label) {
    const std::string* l = line_with(lines, fmt::format("  {}", label));
    REQUIRE(l);
    return *l;
  };
  CHECK(row("recv queue").starts_with("  recv queue                  7  "));
  CHECK(row("flow control paused").find("      25%  ") != std::string::npos);
  CHECK(row("commits/s").find("       50  ") != std::string::npos);
  CHECK(row("commits/s").ends_with("peak 50"));
  CHECK(row("cert failures/s").find("      1.0  ") != std::string::npos);
  CHECK(row("queries/s").find("      250  ") != std::string::npos);
  CHECK(row("p50 latency ms").find("     0.40  ") != std::string::npos);
  CHECK(row("p99 latency ms").find("       12  ") != std::string::npos);
  // One character per second at this width: the failures show in the last 10 of the minute.
  CHECK(row("cert failures/s").ends_with("▁▁▁██████████  peak 1.0"));
  for (const auto& l : lines) CHECK(l.size() <= 120 * 3);  // cut to the width (bytes: UTF-8 blocks are 3)
}

TEST_CASE("the node detail's events pane shows that node's events only") {
  json status = detailed_status(1000, 2);
  status["events"] = json::array();
  for (int i = 1; i <= 6; ++i)
    status["events"].push_back({{"seq", i},
                                {"time", fmt::format("2026-12-02T09:30:{:02}.000Z", i)},
                                {"kind", "operator"},
                                {"node", i % 2 ? "galera-db-01" : "galera-db-02"},
                                {"message", fmt::format("weight -> {}", i)},
                                {"who", "uid 1000 (pid 7)"}});
  const auto lines = render(status, detail_of_second(), 120, 50);
  CHECK(line_with(lines, " Events of galera-db-02 (the last 3 of galeratop events)"));
  CHECK(line_with(lines, "weight -> 6"));
  CHECK_FALSE(line_with(lines, "weight -> 5"));
}

TEST_CASE("at 80x24 the node detail gives way from its least needed lines and keeps every figure") {
  const auto lines = render(detailed_status(1000, 2), detail_of_second(), 80, 24);
  REQUIRE(lines.size() == 24);
  CHECK_FALSE(line_with(lines, "more line(s)"));
  for (const char* kept : {"intent: drain", "recv queue", "p99 latency ms", "last committed", "SESSIONS 6 open",
                           "MONITOR up", "Can't connect to server"})
    CHECK(line_with(lines, kept));
  // Gone first: the blank lines, the totals, the reason; the older failure goes only when that is not enough.
  CHECK_FALSE(line_with(lines, "since the agent started:"));
  CHECK_FALSE(line_with(lines, "  why: "));
  CHECK(line_with(lines, "Lost connection"));
  CHECK_FALSE(line_with(render(detailed_status(1000, 2), detail_of_second(), 80, 23), "Lost connection"));
  // Taller, they come back.
  const auto tall = render(detailed_status(1000, 2), detail_of_second(), 80, 40);
  CHECK(line_with(tall, "since the agent started:"));
  CHECK(line_with(tall, "Lost connection"));
  CHECK(line_with(tall, "  why: admin drain"));
}
