#include <catch2/catch.hpp>

#include "tui/event_text.hpp"

using namespace galeratop;

TEST_CASE("an event reads as one line: the time, the kind, the node and the message, and who asked") {
  const nlohmann::json drain = {{"seq", 4},         {"time", "2026-12-02T09:30:01.123Z"},
                                {"kind", "operator"}, {"node", "node2"},
                                {"message", "admin ready -> drain; 3 connection(s) open"},
                                {"who", "uid 1000 (pid 4242)"}};
  CHECK(event_line(drain, true) ==
        "2026-12-02T09:30:01.123Z  operator    node2  admin ready -> drain; 3 connection(s) open (by uid 1000 (pid 4242))");
  CHECK(event_line(drain, false) ==
        "09:30:01  operator    node2  admin ready -> drain; 3 connection(s) open (by uid 1000 (pid 4242))");
  const nlohmann::json reload = {{"seq", 5},      {"time", "2026-12-02T09:31:00.000Z"},
                                 {"kind", "reload"}, {"node", ""},
                                 {"message", "configuration reloaded: 3 node(s)"}, {"who", ""}};
  CHECK(event_line(reload, false) == "09:31:00  reload      configuration reloaded: 3 node(s)");
}
