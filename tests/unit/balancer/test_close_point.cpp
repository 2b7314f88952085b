#include <catch2/catch.hpp>

#include "balancer/close_point.hpp"
#include "tests/unit/balancer/mysql_wire.hpp"

using namespace galeratop;
using namespace galeratop::test;

namespace {
constexpr std::int64_t ms = 1'000'000;
/// close_idle 250 ms and close_patience 5 s, the defaults, after `quiet` and `waited` ms.
close_timing after(std::int64_t quiet, std::int64_t waited) {
  return {.quiet = quiet * ms, .waited = waited * ms, .idle = 250 * ms, .patience = 5000 * ms};
}
std::string ping() { return packet(0, "\x0e"); }
}  // namespace

TEST_CASE("a pooled connection idle between statements closes once it has been idle for close_idle", "[close_point]") {
  const session_tracker t = authenticated();
  CHECK_FALSE(at_close_point(t, true, after(249, 249)));
  CHECK(at_close_point(t, true, after(250, 250)));
}

TEST_CASE("a statement in flight or an open transaction is never a close point, however long it waits",
          "[close_point]") {
  session_tracker in_flight = authenticated();
  in_flight.from_client(query("SELECT SLEEP(10)"));
  CHECK_FALSE(at_close_point(in_flight, false, after(60'000, 60'000)));

  session_tracker in_transaction = authenticated();
  in_transaction.from_client(query("BEGIN"));
  in_transaction.from_server(ok(1, in_trans | autocommit));
  CHECK_FALSE(at_close_point(in_transaction, true, after(60'000, 60'000)));
}

TEST_CASE("a busy session never idle that long closes at any safe point after close_patience", "[close_point]") {
  session_tracker t = authenticated();
  t.from_client(query("SELECT 1"));
  t.from_server(ok(1, autocommit));
  CHECK_FALSE(at_close_point(t, true, after(10, 4999)));
  CHECK(at_close_point(t, true, after(10, 5000)));
}

TEST_CASE("right after a pool's ping the session is about to be used: patience does not close it, idleness does",
          "[close_point]") {
  session_tracker t = authenticated();
  t.from_client(ping());
  t.from_server(ok(1, autocommit));
  REQUIRE(t.at_safe_point());
  CHECK_FALSE(at_close_point(t, true, after(10, 60'000)));
  CHECK(at_close_point(t, true, after(250, 60'000)));
}

TEST_CASE("an opaque session closes when the server spoke last and nothing moved for close_idle", "[close_point]") {
  session_tracker t;
  t.from_client(handshake_response(protocol_41 | ssl));  // an SSLRequest: TLS from here on
  REQUIRE(t.opaque());
  CHECK(at_close_point(t, true, after(250, 250)));
  CHECK_FALSE(at_close_point(t, true, after(249, 60'000)));  // patience does not apply: no protocol to go by
  CHECK_FALSE(at_close_point(t, false, after(60'000, 60'000)));  // the client spoke last: an answer may be due
}
