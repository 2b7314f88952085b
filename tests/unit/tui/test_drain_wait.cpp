#include <catch2/catch.hpp>

#include "tui/drain_wait.hpp"

using namespace galeratop;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
json status_with(const std::string& admin, std::int64_t connections) {
  return {{"nodes",
           {{{"name", "node1"}, {"address", "127.0.0.1:3311"}, {"admin", "ready"}, {"connections", 4}},
            {{"name", "node2"}, {"address", "127.0.0.1:3312"}, {"admin", admin}, {"connections", connections}}}}};
}
drain_progress of(const json& status, std::chrono::milliseconds elapsed = 1500ms) {
  return drain_wait_progress(status, "node2", "127.0.0.1:3312", elapsed, 10s);
}
}  // namespace

TEST_CASE("drain --wait is done once the node has no connection left", "[drain_wait]") {
  const auto p = of(status_with("drain", 0));
  CHECK(p.state == drain_wait::drained);
  CHECK(p.text == "node2 drained: no connection left after 1.5 s");
  CHECK(of(status_with("maint", 0)).state == drain_wait::drained);
  CHECK(of(status_with("drain", 0), 10s).state == drain_wait::drained);  // the last status wins over the timeout
}

TEST_CASE("drain --wait keeps waiting while connections are left, and says how many", "[drain_wait]") {
  const auto p = of(status_with("drain", 3));
  CHECK(p.state == drain_wait::draining);
  CHECK(p.left == 3);
  CHECK(p.text == "node2: 3 connection(s) left (2 s)");
}

TEST_CASE("drain --wait gives up when the node is readied or removed meanwhile, or at its timeout", "[drain_wait]") {
  CHECK(of(status_with("ready", 3)).state == drain_wait::readied);
  CHECK(of(status_with("ready", 0)).text == "node2 was put back to ready while draining");
  const json gone = {{"nodes", {{{"name", "node1"}, {"address", "127.0.0.1:3311"}, {"admin", "ready"}}}}};
  CHECK(of(gone).state == drain_wait::removed);
  CHECK(of(gone).text == "node2 is no longer configured");
  const auto late = of(status_with("drain", 2), 10s);
  CHECK(late.state == drain_wait::timed_out);
  CHECK(late.text == "node2 still has 2 connection(s) after 10s; it stays drained");
}
