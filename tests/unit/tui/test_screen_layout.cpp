#include <algorithm>
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
std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("at 120x35 the screen has every important column and fits") {
  view_state v;
  v.connected = true;
  const auto lines = render(test::three_node_status(), v, 120, 35);
  REQUIRE(lines.size() == 35);
  for (const auto& l : lines) CHECK(display_width(l) <= 120);
  const std::string* head = line_with(lines, "NODE");
  REQUIRE(head);
  for (const char* col : {"NODE", "ADDRESS", "STATE", "ADMIN", "ELIG", "CONN", "SPREAD", "SHARE", "NEW/s", "QPS", "P99ms",
                          "LAG", "IN/s", "LAST 60s"})
    CHECK(head->find(col) != std::string::npos);
  CHECK(line_with(lines, "cluster prod Primary size 3 conf 9"));
  CHECK(line_with(lines, "donor_serving"));
  CHECK(lines.back().find("q quit") != std::string::npos);
  // The lag is behind the most advanced node: galera-db-02 committed 498 of 500.
  CHECK(line_with(lines, "galera-db-02")->find(" 2 ") != std::string::npos);
}

TEST_CASE("at 80x24 the least important columns go and every node still shows") {
  view_state v;
  v.connected = true;
  const auto lines = render(test::three_node_status(), v, 80, 24);
  REQUIRE(lines.size() == 24);
  for (const auto& l : lines) CHECK(display_width(l) <= 80);
  const std::string* head = line_with(lines, "NODE");
  REQUIRE(head);
  for (const char* kept : {"NODE", "STATE", "ADMIN", "CONN", "SHARE"}) CHECK(head->find(kept) != std::string::npos);
  for (const char* dropped : {"QPS", "P99ms", "IN/s", "OUT/s", "SENDQ", "LAST 60s"})
    CHECK(head->find(dropped) == std::string::npos);
  for (const char* n : {"galera-db-01", "galera-db-02", "galera-db-03"}) CHECK(line_with(lines, n));
}

TEST_CASE("the query columns show the agent's recent figures and go before the byte rates") {
  json s = test::three_node_status();
  s["nodes"][0]["queries_per_second"] = 812.4;
  s["nodes"][0]["query_p99_ms"] = 3.46;
  s["nodes"][1]["queries_per_second"] = 0.0;
  s["nodes"][1]["query_p99_ms"] = nullptr;  // no query in the agent's window
  view_state v;
  const auto wide = render(s, v, 200, 35);
  const std::string* head = line_with(wide, "NODE");
  REQUIRE(head);
  // After NEW/s, right-aligned under their titles.
  CHECK(head->find("NEW/s   QPS P99ms   IN/s") != std::string::npos);
  CHECK(line_with(wide, "galera-db-01")->find("  812   3.5 ") != std::string::npos);
  CHECK(line_with(wide, "galera-db-02")->find("  0.0     - ") != std::string::npos);
  // Narrowed one column at a time, the byte rates always go before the query columns do.
  for (int w = 200; w >= 40; --w) {
    const auto screen = render(s, v, w, 35);  // held: line_with points into it
    const std::string* h = line_with(screen, "NODE");
    REQUIRE(h);
    INFO("width " << w);
    if (h->find("IN/s") != std::string::npos || h->find("OUT/s") != std::string::npos) {
      CHECK(h->find("QPS") != std::string::npos);
      CHECK(h->find("P99ms") != std::string::npos);
    }
    if (h->find("QPS") != std::string::npos) {
      for (const char* more : {"STATE", "ADMIN", "CONN"}) CHECK(h->find(more) != std::string::npos);
    }
  }
}

TEST_CASE("the spread bars are proportional to connections") {
  view_state v;
  const auto even = render(test::three_node_status(4, 4, 4), v, 120, 35);
  const auto skewed = render(test::three_node_status(8, 4, 0), v, 120, 35);
  auto bar = [](const std::string* line) { return count(*line, "█"); };
  CHECK(bar(line_with(even, "galera-db-01")) == bar(line_with(even, "galera-db-03")));
  CHECK(bar(line_with(skewed, "galera-db-02")) == 3);
  CHECK(bar(line_with(skewed, "galera-db-03")) == 0);
  CHECK(line_with(skewed, "galera-db-01")->find("67%") != std::string::npos);
  CHECK(bar(line_with(skewed, "galera-db-01")) == 7);  // 8 of 12 connections on a 10-wide bar
}

TEST_CASE("states get their colours: synced good, donor warn, down bad") {
  json s = test::three_node_status();
  s["nodes"][1]["state"] = "donor";
  s["nodes"][2]["state"] = "down";
  view_state v;
  const auto lines = layout_screen(s, v, 120, 35, {}, "0.1.0");
  auto attr_of = [&](std::string_view state) {
    for (const auto& l : lines)
      for (const span& sp : l)
        if (sp.text.rfind(state, 0) == 0 && sp.text.size() == 12) return sp.attr;  // the STATE cell
    return attr::normal;
  };
  CHECK(attr_of("synced") == attr::good);
  CHECK(attr_of("donor") == attr::warn);
  CHECK(attr_of("down") == attr::bad);
  s["nodes"][1]["suspect"] = true;  // its checks get no answer in time: late, not dead
  const auto suspect = layout_screen(s, v, 120, 35, {}, "0.1.0");
  CHECK(std::ranges::any_of(suspect, [](const screen_line& l) {
    return std::ranges::any_of(l, [](const span& sp) { return sp.text.starts_with("suspect ") && sp.attr == attr::warn; });
  }));
}

TEST_CASE("a draining node shows what is left, disconnected says so and keeps the last view") {
  json s = test::three_node_status(4, 3, 4);
  s["nodes"][1]["admin"] = "drain";
  s["nodes"][1]["drain"] = {{"remaining", 3}, {"elapsed_seconds", 42.0}};
  view_state v;
  v.connected = false;
  v.disconnect_reason = "galeratopd at /run/x closed the connection";
  const auto lines = render(s, v, 120, 35);
  CHECK(line_with(lines, "drain galera-db-02: 3 connection(s) left, 42s"));
  CHECK(line_with(lines, "DISCONNECTED — retrying"));
  CHECK(line_with(lines, "galera-db-01"));
}

TEST_CASE("a tiny terminal still gets exactly its size, cut, never wrapped") {
  view_state v;
  for (auto [w, h] : {std::pair{20, 5}, std::pair{1, 1}, std::pair{80, 3}}) {
    const auto lines = render(test::three_node_status(), v, w, h);
    CHECK(lines.size() == static_cast<std::size_t>(h));
    for (const auto& l : lines) CHECK(display_width(l) <= static_cast<std::size_t>(w));
  }
}

TEST_CASE("the connections sparkline covers the last minute") {
  view_state v;
  json s = test::three_node_status(0, 0, 0);
  auto t = screen_clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 60; ++i) {
    s["nodes"][0]["connections"] = i < 30 ? 0 : 8;
    record_status(v.history, s, t + std::chrono::seconds(i));
  }
  CHECK(v.history.at("127.0.0.1:3311").of(figure::connections).size() == 60);
  const auto lines = render(s, v, 200, 35);
  const std::string* row = line_with(lines, "galera-db-01");
  REQUIRE(row);
  CHECK(row->find("▁▁▁▁▁▁██████") != std::string::npos);  // 5 s per character: 30 s idle, then 8
}

TEST_CASE("where the width allows, each node's queries per second and p99 over the last minute, on one scale") {
  view_state v;
  json s = test::three_node_status(0, 0, 0);
  auto t = screen_clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 60; ++i) {
    s["nodes"][0]["queries_per_second"] = i < 30 ? 100.0 : 400.0;  // busier in the second half
    s["nodes"][1]["queries_per_second"] = 400.0;
    s["nodes"][0]["query_p99_ms"] = 2.0;
    s["nodes"][1]["query_p99_ms"] = i < 55 ? 2.0 : 16.0;  // slow at the end
    s["nodes"][2].erase("query_p99_ms");                   // no query ended: no latency
    record_status(v.history, s, t + std::chrono::seconds(i));
  }
  auto lines = render(s, v, 200, 35);
  const std::string* head = line_with(lines, "NODE");
  REQUIRE(head);
  CHECK(head->find("QPS 60s") != std::string::npos);
  CHECK(head->find("P99 60s") != std::string::npos);
  const std::string* first = line_with(lines, "galera-db-01");
  const std::string* second = line_with(lines, "galera-db-02");
  REQUIRE(first);
  REQUIRE(second);
  // 5 s per character; 100 of 400 is a quarter: level 2 of 0..7 (lround(1.75)).
  CHECK(first->find("▃▃▃▃▃▃██████") != std::string::npos);
  CHECK(second->find("████████████") != std::string::npos);
  CHECK(second->find("▂▂▂▂▂▂▂▂▂▂▂█") != std::string::npos);  // p99: 2 of 16, then 16 in the last 5 s
  // Narrower, they are the first columns to go.
  lines = render(s, v, 160, 35);
  CHECK(line_with(lines, "NODE")->find("QPS 60s") == std::string::npos);
  CHECK(line_with(lines, "NODE")->find("LAST 60s") != std::string::npos);
}

TEST_CASE("the help screen lists every key of the key table") {
  view_state v;
  v.mode = screen_mode::help;
  std::string all;
  for (const auto& l : render(test::three_node_status(), v, 120, 35)) all += l + "\n";
  for (const key_binding& b : key_table()) CHECK(all.find(std::string(b.keys)) != std::string::npos);
  for (const key_binding& b : key_table()) CHECK(all.find(std::string(b.help)) != std::string::npos);
}

TEST_CASE("the footer is the key table's, in its order, without the admin keys when read-only") {
  view_state v;
  CHECK(render(test::three_node_status(), v, 120, 35).back() ==
        " q quit  ↑↓ select  Enter detail  d drain  u ready  m maint  w weight  s sort  / filter  p pause  ? help ");
  v.readonly = true;
  CHECK(render(test::three_node_status(), v, 120, 35).back() == " q quit  ↑↓ select  Enter detail  s sort  / filter  p pause  ? help ");
}

namespace {
attr attr_of_text(const std::vector<screen_line>& lines, std::string_view text) {
  for (const auto& l : lines)
    for (const span& sp : l)
      if (sp.text == text) return sp.attr;
  return attr::normal;
}

/// The attribute of the W cell on the row of `node`.
attr writer_mark(const std::vector<screen_line>& lines, std::string_view node) {
  for (const auto& l : lines)
    if (l.size() > 2 && l[1].text.starts_with(node) && l[1].text.size() > node.size())  // the NODE cell, padded
      return l[2].text == "W " ? l[2].attr : attr::dim;  // dim: no mark there
  return attr::dim;
}
}  // namespace

TEST_CASE("with a writer listener: a W column on the writer's row, the writer line and the listeners line") {
  view_state v;
  v.connected = true;
  const auto lines = render(test::writer_status(), v, 120, 35);
  for (const auto& l : lines) CHECK(display_width(l) <= 120);
  const std::string* head = line_with(lines, "NODE");
  REQUIRE(head);
  CHECK(head->find("NODE         W ADDRESS") != std::string::npos);
  CHECK(line_with(lines, " galera-db-02 W 127.0.0.1:3312 synced"));
  CHECK(line_with(lines, ">galera-db-01   127.0.0.1:3311 synced"));
  CHECK(line_with(lines, " clients: 18 open, 0.0 new/s, 300 accepted, 0 rejected"));
  CHECK_FALSE(line_with(lines, "held for a node"));
  CHECK(line_with(lines, " listeners: app 12 · rw 6→galera-db-02"));
  const std::string* writer = line_with(lines, " writer galera-db-02 epoch 7");
  REQUIRE(writer);
  CHECK(*writer == " writer galera-db-02 epoch 7  by agent-a 5m02s ago: galera-db-01 is being put in drain");
  const auto spans = layout_screen(test::writer_status(), v, 120, 35, {}, "0.1.0");
  CHECK(writer_mark(spans, "galera-db-02") == attr::good);
  CHECK(writer_mark(spans, "galera-db-01") == attr::dim);
  CHECK(attr_of_text(spans, "galera-db-02") == attr::good);
}

TEST_CASE("a switch under way is yellow and shows where the writer listener's sessions still are") {
  json s = test::writer_status();
  s["writer"]["settled"] = false;
  s["writer"]["waiting"] = 2;
  s["listeners"][1]["connections"] = {{"galera-db-01", 4}, {"galera-db-02", 1}};
  view_state v;
  const auto lines = render(s, v, 120, 35);
  CHECK(line_with(lines, " listeners: app 12 · rw 1→galera-db-02 4→galera-db-01"));
  CHECK(line_with(lines, " writer galera-db-02 epoch 7 switching 2 waiting  by agent-a"));
  const auto spans = layout_screen(s, v, 120, 35, {}, "0.1.0");
  CHECK(writer_mark(spans, "galera-db-02") == attr::warn);
  CHECK(attr_of_text(spans, " switching") == attr::warn);
}

TEST_CASE("no writer says why in red, agents that disagree and an unreadable row are flagged") {
  json s = test::writer_status();
  s["writer"]["node"] = nullptr;
  s["writer"]["why"] = "galeratop.writer names galera-db-02, which is down";
  s["nodes"][1]["writer"] = false;
  s["listeners"][1]["connections"] = json::object();
  view_state v;
  auto lines = render(s, v, 120, 35);
  CHECK(line_with(lines, " no writer: galeratop.writer names galera-db-02, which is down"));
  CHECK(line_with(lines, "rw 0→none"));
  CHECK(attr_of_text(layout_screen(s, v, 120, 35, {}, "0.1.0"), " no writer: galeratop.writer names galera-db-02, which "
                                                                 "is down") == attr::bad);
  CHECK_FALSE(line_with(lines, " W 127.0.0.1"));  // nobody writes: no mark
  s = test::writer_status();
  s["writer"]["agents"][0]["agrees"] = false;
  s["writer"]["row"]["readable"] = false;
  lines = render(s, v, 120, 35);
  CHECK(line_with(lines, " writer galera-db-02 epoch 7 1 agent(s) disagree row unreadable"));
  CHECK(attr_of_text(layout_screen(s, v, 120, 35, {}, "0.1.0"), " 1 agent(s) disagree") == attr::bad);
}

TEST_CASE("narrower, the listeners line drops the nodes, then shrinks to a count, and W stays while NODE does") {
  const json s = test::writer_status();
  view_state v;
  CHECK(line_with(render(s, v, 40, 35), " listeners: app 12 · rw 6→galera-db-02"));
  CHECK(line_with(render(s, v, 30, 35), " listeners: app 12 · rw 6") != nullptr);
  CHECK(line_with(render(s, v, 30, 35), "→") == nullptr);
  CHECK(line_with(render(s, v, 24, 35), " listeners: 2, 18 open"));
  // The writer line keeps the writer and its epoch, and drops who set it first.
  CHECK(*line_with(render(s, v, 40, 35), " writer ") == " writer galera-db-02 epoch 7");
  for (int w = 200; w >= 20; --w) {
    const auto screen = render(s, v, w, 35);
    const std::string* h = line_with(screen, "NODE");
    REQUIRE(h);
    INFO("width " << w);
    for (const auto& l : screen) CHECK(display_width(l) <= static_cast<std::size_t>(w));
    if (h->find("STATE") != std::string::npos) CHECK(h->find("NODE         W ") != std::string::npos);
  }
  v.ascii = true;
  CHECK(line_with(render(s, v, 120, 35), " listeners: app 12 | rw 6->galera-db-02"));
}

TEST_CASE("without a writer listener there is no W column, writer line or listeners line") {
  view_state v;
  const auto lines = render(test::three_node_status(), v, 120, 35);
  CHECK(line_with(lines, "NODE")->find(" W ") == std::string::npos);
  CHECK_FALSE(line_with(lines, "writer"));
  CHECK_FALSE(line_with(lines, "listeners:"));
}

TEST_CASE("the writer key is in the footer and the help only where it can act") {
  view_state v;
  CHECK(render(test::writer_status(), v, 140, 35).back() ==
        " q quit  ↑↓ select  Enter detail  d drain  u ready  m maint  w weight  W writer  s sort  / filter  p pause  ? help ");
  v.readonly = true;
  CHECK(render(test::writer_status(), v, 140, 35).back() == " q quit  ↑↓ select  Enter detail  s sort  / filter  p pause  ? help ");
  v.readonly = false;
  v.mode = screen_mode::help;
  CHECK(line_with(render(test::three_node_status(), v, 140, 35),
                  "  W         make the node the writer: every agent's writer listeners move their sessions to it (the "
                  "agent has no writer listener)"));
  CHECK_FALSE(line_with(render(test::writer_status(), v, 140, 35), "(the agent has no writer listener)"));
  CHECK(line_with(render(test::writer_status(), v, 140, 35), "  W (column after NODE): the node writer listeners send"));
}

TEST_CASE("W asks to make the selected node the writer, in words") {
  const json s = test::writer_status();
  view_state v;
  handle_key(v, key::of('W'), s);
  REQUIRE(v.mode == screen_mode::confirm);
  CHECK(render(s, v, 120, 35).back() ==
        " Make galera-db-01 (127.0.0.1:3311) the writer of every agent's writer listeners? [y/N] ");
}

TEST_CASE("clients held for a node show on the clients line, in warning, only while there are some") {
  view_state v;
  v.connected = true;
  auto status = test::writer_status();
  status["frontend"]["waiting"] = 3;
  const auto lines = render(status, v, 120, 35);
  CHECK(line_with(lines, " clients: 18 open, 0.0 new/s, 300 accepted, 0 rejected, 3 held for a node"));
  const auto spans = layout_screen(status, v, 120, 35, {}, "0.1.0");
  CHECK(attr_of_text(spans, ", 3 held for a node") == attr::warn);
}

TEST_CASE("the latest events fill the lines the rest leaves free, newest last, coloured by what they say") {
  view_state v;
  v.connected = true;
  json status = test::three_node_status();
  status["events"] = json::array();
  for (int i = 1; i <= 40; ++i)
    status["events"].push_back({{"seq", i},
                                {"time", fmt::format("2026-12-02T09:30:{:02}.000Z", i)},
                                {"kind", i == 40 ? "eligibility" : "operator"},
                                {"node", "galera-db-02"},
                                {"message", i == 40 ? "not eligible: drain" : fmt::format("weight -> {}", i)},
                                {"who", i == 40 ? "" : "uid 1000 (pid 7)"}});
  const auto layout = layout_screen(status, v, 120, 35, screen_clock::time_point{}, "0.1.0");
  std::vector<std::string> lines;
  for (const auto& l : layout) lines.push_back(text_of(l));
  REQUIRE(lines.size() == 35);
  const auto title = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.starts_with(" Events"); });
  REQUIRE(title != lines.end());
  // Every line between the title and the message line is an event: none left empty, none cut off.
  const auto first = static_cast<std::size_t>(title - lines.begin()) + 1;
  const std::size_t shown = lines.size() - 2 - first;
  CHECK(shown >= 5);
  CHECK(*title == fmt::format(" Events (the last {} of galeratop events)", shown));
  CHECK(lines[lines.size() - 3] == " 09:30:40  eligibility galera-db-02  not eligible: drain");
  CHECK(lines[lines.size() - 4] == " 09:30:39  operator    galera-db-02  weight -> 39 (by uid 1000 (pid 7))");
  CHECK(lines[first] == fmt::format(" 09:30:{:02}  operator    galera-db-02  weight -> {} (by uid 1000 (pid 7))",
                                    41 - shown, 41 - shown));
  CHECK(layout[lines.size() - 3].front().attr == attr::warn);
  CHECK(layout[lines.size() - 4].front().attr == attr::key);
  // At 80x24 the table leaves little or nothing: the pane shows what fits, or nothing at all.
  for (const auto& l : render(status, v, 80, 24)) CHECK(l.find("… more line") == std::string::npos);
  // No events, no pane.
  status["events"] = json::array();
  CHECK_FALSE(line_with(render(status, v, 120, 35), " Events"));
}
