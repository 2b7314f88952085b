#include <catch2/catch.hpp>

#include "agent/intents/intent_store.hpp"
#include "agent/intents/shared_intent.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::system_clock::time_point(1'795'000'000'000ms);

/// An operator's command on the store, as the agent applies one: true when it changed something.
bool set_admin(intent_store& s, const std::string& address, admin_state admin, std::chrono::system_clock::time_point at) {
  return s.set(address, with_change(s.get(address), {address, admin, std::nullopt, at, std::nullopt}));
}
bool set_weight(intent_store& s, const std::string& address, std::optional<std::uint32_t> weight) {
  return s.set(address, with_change(s.get(address), {address, std::nullopt, weight, {}, std::nullopt}));
}
}  // namespace

TEST_CASE("a node without an intent is ready with its configured weight") {
  intent_store s;
  CHECK(s.get("127.0.0.1:3306") == intent{});
  CHECK(s.all().empty());
}

TEST_CASE("an intent's since moves only when the admin state changes") {
  intent_store s;
  CHECK(set_admin(s, "a:1", admin_state::drain, t0));
  CHECK_FALSE(set_admin(s, "a:1", admin_state::drain, t0 + 5s));
  CHECK(s.get("a:1").since == t0);
  CHECK(set_admin(s, "a:1", admin_state::maint, t0 + 9s));
  CHECK(s.get("a:1").since == t0 + 9s);
}

TEST_CASE("back to ready with no weight override leaves nothing stored") {
  intent_store s;
  set_admin(s, "a:1", admin_state::drain, t0);
  set_weight(s, "a:1", 3);
  set_admin(s, "a:1", admin_state::ready, t0 + 1s);
  CHECK(s.all().size() == 1);  // the weight is still an intent
  CHECK(set_weight(s, "a:1", std::nullopt));
  CHECK(s.all().empty());
}

TEST_CASE("intents survive a round trip through the state file's text") {
  intent_store s;
  set_admin(s, "127.0.0.1:3311", admin_state::drain, t0);
  set_admin(s, "[::1]:3312", admin_state::maint, t0 + 2s);
  set_weight(s, "[::1]:3312", 0);
  set_weight(s, "127.0.0.1:3313", 7);
  intent_store back;
  std::string error;
  REQUIRE(back.restore(s.serialize(), error));
  CHECK(back.all() == s.all());
  CHECK(back.get("[::1]:3312").weight == std::optional<std::uint32_t>(0));
}

TEST_CASE("a damaged intents file is refused and changes nothing") {
  intent_store s;
  set_admin(s, "a:1", admin_state::drain, t0);
  std::string error;
  for (const char* bad : {"", "{", R"({"version":2,"nodes":{}})", R"({"version":1,"nodes":{"a:1":{"admin":"off"}}})",
                          R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":"x","weight":null}}})",
                          R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":1,"weight":-1}}})",
                          // Found by fuzz_state_files: numbers that no integer (or the clock) can hold.
                          R"({"version":1.5e300,"nodes":{}})",
                          R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":7.7e39,"weight":null}}})",
                          R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":17640000000000,"weight":null}}})"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(s.restore(bad, error));
    CHECK_FALSE(error.empty());
    CHECK(s.get("a:1").admin == admin_state::drain);
  }
}

TEST_CASE("a pending or versioned intent survives the state file, a file from before sharing reads as never shared") {
  intent_store s;
  intent i;
  i.admin = admin_state::drain;
  i.since = t0;
  i.version = 41;
  i.pending = true;
  s.set("127.0.0.1:3311", i);
  intent ready_at_version;
  ready_at_version.version = 7;  // ready, but the cluster's row version must be remembered
  s.set("127.0.0.1:3312", ready_at_version);
  intent_store back;
  std::string error;
  REQUIRE(back.restore(s.serialize(), error));
  CHECK(back.get("127.0.0.1:3311") == i);
  CHECK(back.get("127.0.0.1:3312").version == 7);

  REQUIRE(back.restore(R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":1,"weight":null}}})", error));
  CHECK(back.get("a:1").version == 0);
  CHECK_FALSE(back.get("a:1").pending);
  CHECK_FALSE(back.restore(R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":1,"weight":null,)"
                           R"("shared_version":-1,"pending":false}}})", error));
  CHECK_FALSE(back.restore(R"({"version":1,"nodes":{"a:1":{"admin":"drain","since":1,"weight":null,)"
                           R"("shared_version":1,"pending":"yes"}}})", error));
}
