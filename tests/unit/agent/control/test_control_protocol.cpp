#include <catch2/catch.hpp>
#include <string>

#include "agent/control/control_protocol.hpp"

using namespace galeratop;
using json = nlohmann::json;

namespace {
std::string code_of(std::string_view line) {
  auto r = parse_control_request(line);
  return r.request ? "ok" : r.error.code;
}
}  // namespace

TEST_CASE("good requests parse with their fields") {
  auto r = parse_control_request(R"({"v":1,"id":42,"cmd":"drain","node":"node2","force":true})");
  REQUIRE(r.request);
  CHECK(r.request->command == control_command::drain);
  CHECK(r.request->node == "node2");
  CHECK(r.request->force);
  CHECK(r.request->id == 42);

  auto w = parse_control_request(R"({"cmd":"weight","node":"127.0.0.1:3311","weight":5})");
  REQUIRE(w.request);
  CHECK(w.request->weight == std::optional<std::uint32_t>(5));
  auto clear = parse_control_request(R"({"cmd":"weight","node":"n1","weight":null})");
  REQUIRE(clear.request);
  CHECK_FALSE(clear.request->weight);

  auto s = parse_control_request(R"({"cmd":"subscribe","interval_ms":500,"id":"tui"})");
  REQUIRE(s.request);
  CHECK(s.request->interval == std::chrono::milliseconds(500));
  CHECK(s.request->id == "tui");
  CHECK(code_of(R"({"cmd":"status"})") == "ok");  // "v" may be left out

  auto e = parse_control_request(R"({"cmd":"events","since":17,"who":"forged"})");
  REQUIRE(e.request);
  CHECK(e.request->command == control_command::events);
  CHECK(e.request->since == 17);
  CHECK(e.request->who.empty());  // who asked is the server's to say, never the request's
  CHECK(parse_control_request(R"({"cmd":"events"})").request->since == 0);
}

TEST_CASE("malformed requests get a code, and keep their id when they had one") {
  CHECK(code_of("") == "bad_json");
  CHECK(code_of("status") == "bad_json");
  CHECK(code_of("\x01\xff\xfe garbage") == "bad_json");
  CHECK(code_of("[1,2]") == "bad_request");
  CHECK(code_of(R"({"id":1})") == "bad_request");
  CHECK(code_of(R"({"cmd":7})") == "bad_request");
  CHECK(code_of(R"({"cmd":"explode"})") == "unknown_command");
  CHECK(code_of(R"({"v":2,"cmd":"status"})") == "unsupported_version");
  CHECK(code_of(R"({"cmd":"drain"})") == "bad_request");
  CHECK(code_of(R"({"cmd":"drain","node":""})") == "bad_request");
  CHECK(code_of(R"({"cmd":"drain","node":"n1","force":"yes"})") == "bad_request");
  CHECK(code_of(R"({"cmd":"weight","node":"n1"})") == "bad_request");
  CHECK(code_of(R"({"cmd":"weight","node":"n1","weight":1001})") == "bad_request");
  CHECK(code_of(R"({"cmd":"weight","node":"n1","weight":-1})") == "bad_request");
  CHECK(code_of(R"({"cmd":"subscribe","interval_ms":5})") == "bad_request");
  CHECK(code_of(R"({"cmd":"status","token":1})") == "bad_request");
  CHECK(code_of(R"({"cmd":"events","since":-1})") == "bad_request");
  CHECK(code_of(R"({"cmd":"events","since":"3"})") == "bad_request");
  auto r = parse_control_request(R"({"id":9,"cmd":"explode"})");
  CHECK(r.id == 9);
}

TEST_CASE("an oversized request is refused before it is parsed") {
  std::string line = R"({"cmd":"status","pad":")" + std::string(control_max_line, 'x') + "\"}";
  CHECK(code_of(line) == "too_long");
}

TEST_CASE("answers carry the version, the id and ok") {
  CHECK(control_ok(3, {{"nodes", 2}}) == json{{"v", 1}, {"id", 3}, {"ok", true}, {"nodes", 2}});
  CHECK(control_fail(nullptr, {"last_node", "refused"}) ==
        json{{"v", 1}, {"id", nullptr}, {"ok", false}, {"error", {{"code", "last_node"}, {"message", "refused"}}}});
}
