#include <catch2/catch.hpp>

#include "agent/config/duration.hpp"
#include "agent/config/endpoint.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("HOST:PORT and bracketed IPv6 parse") {
  CHECK(parse_endpoint("127.0.0.1:3306") == endpoint{"127.0.0.1", 3306});
  CHECK(parse_endpoint("db.example:1") == endpoint{"db.example", 1});
  CHECK(parse_endpoint("[::1]:3306") == endpoint{"::1", 3306});
  CHECK(parse_endpoint("[::1]:3306")->to_string() == "[::1]:3306");
  CHECK(parse_endpoint("127.0.0.1:65535")->to_string() == "127.0.0.1:65535");
}

TEST_CASE("malformed addresses are refused") {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":3306", "127.0.0.1:0", "127.0.0.1:65536", "::1:3306",
                          "[::1]3306", "[::1]", "host:33x", "a b:1", ""})
    CHECK_FALSE(parse_endpoint(bad));
}

TEST_CASE("a node option takes an optional NAME=") {
  auto n = parse_named_endpoint("galera-db-01=192.168.1.182:3306");
  REQUIRE(n);
  CHECK(n->name == "galera-db-01");
  CHECK(n->address == endpoint{"192.168.1.182", 3306});
  CHECK(parse_named_endpoint("[::1]:3307")->name.empty());
  CHECK_FALSE(parse_named_endpoint("=127.0.0.1:3306"));
  CHECK_FALSE(parse_named_endpoint("n=127.0.0.1"));
}

TEST_CASE("durations take ms, s, m and h, with fractions") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("2s") == 2000ms);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("5m") == 300000ms);
  CHECK(parse_duration("8h") == 28800000ms);
  CHECK(parse_duration("0") == 0ms);
}

TEST_CASE("malformed durations are refused") {
  for (const char* bad : {"", "5", "fast", "-1s", "1x", "s", "1.5.5s", "ms", "1e99h"}) CHECK_FALSE(parse_duration(bad));
}

TEST_CASE("durations format back the way they parse") {
  for (auto d : {0ms, 250ms, 2000ms, 300000ms, 28800000ms, 1500ms}) CHECK(parse_duration(format_duration(d)) == d);
  CHECK(format_duration(28800000ms) == "8h");
  CHECK(format_duration(1500ms) == "1500ms");
}
