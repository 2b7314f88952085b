#include <catch2/catch.hpp>

#include "agent/intents/shared_intent.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::system_clock::time_point(1'795'000'000'000ms);

shared_intent row(admin_state admin, std::uint64_t version, std::optional<std::uint32_t> weight = std::nullopt) {
  shared_intent r{"10.0.0.1:3306", {}, version, "agent-b"};
  r.value.admin = admin;
  r.value.weight = weight;
  r.value.since = t0;
  r.value.version = version;
  return r;
}

intent local(admin_state admin, std::uint64_t version, bool pending = false) {
  intent i;
  i.admin = admin;
  i.version = version;
  i.pending = pending;
  return i;
}

intent_change drain_at(std::chrono::system_clock::time_point at, std::optional<std::uint64_t> expected = {}) {
  return {"10.0.0.1:3306", admin_state::drain, std::nullopt, at, expected};
}
}  // namespace

TEST_CASE("the first change of a node creates its row at version 1") {
  const auto o = apply_change(std::nullopt, drain_at(t0 + 1s), "agent-a");
  REQUIRE(o.result == change_outcome::kind::written);
  CHECK(o.row->version == 1);
  CHECK(o.row->value.admin == admin_state::drain);
  CHECK(o.row->value.since == t0 + 1s);
  CHECK(o.row->changed_by == "agent-a");
}

TEST_CASE("an operator's command changes one field of whatever the row says when it commits") {
  // The row was drained with weight 5 by another agent; a weight command here keeps the drain.
  const intent_change weight{"10.0.0.1:3306", std::nullopt, std::optional<std::uint32_t>(2), t0 + 9s, std::nullopt};
  const auto o = apply_change(row(admin_state::drain, 4, 5), weight, "agent-a");
  REQUIRE(o.result == change_outcome::kind::written);
  CHECK(o.row->value.admin == admin_state::drain);
  CHECK(o.row->value.since == t0);  // the admin state did not change, so neither does since
  CHECK(o.row->value.weight == std::optional<std::uint32_t>(2));
  CHECK(o.row->version == 5);
}

TEST_CASE("a command that changes nothing writes nothing: versions count changes") {
  CHECK(apply_change(row(admin_state::drain, 3), drain_at(t0 + 1s), "a").result == change_outcome::kind::unchanged);
  const intent_change ready{"10.0.0.1:3306", admin_state::ready, std::nullopt, t0, std::nullopt};
  const auto none = apply_change(std::nullopt, ready, "a");
  CHECK(none.result == change_outcome::kind::unchanged);
  CHECK_FALSE(none.row);
}

TEST_CASE("a change made while the cluster could not be written applies only if the row is still where it was") {
  CHECK(apply_change(row(admin_state::ready, 3), drain_at(t0, 3), "a").result == change_outcome::kind::written);
  const auto lost = apply_change(row(admin_state::maint, 4), drain_at(t0, 3), "a");
  CHECK(lost.result == change_outcome::kind::conflict);
  CHECK(lost.row->value.admin == admin_state::maint);  // the row that won
  CHECK(apply_change(std::nullopt, drain_at(t0, 2), "a").result == change_outcome::kind::conflict);
  CHECK(apply_change(std::nullopt, drain_at(t0, 0), "a").result == change_outcome::kind::written);
}

TEST_CASE("an agent adopts any row version it does not hold, older ones too (the table is the truth)") {
  CHECK(reconcile(local(admin_state::ready, 3), row(admin_state::drain, 4), true) == reconcile_action::adopt);
  CHECK(reconcile(local(admin_state::drain, 9), row(admin_state::ready, 2), true) == reconcile_action::adopt);
  CHECK(reconcile(local(admin_state::drain, 4), row(admin_state::drain, 4), true) == reconcile_action::none);
  // A DBA deleted the row: the node is back to ready.
  CHECK(reconcile(local(admin_state::drain, 4), std::nullopt, true) == reconcile_action::adopt);
  CHECK(adopted(std::nullopt) == intent{});
}

TEST_CASE("a pending change is pushed while the row is at its version, and dropped once it moved on") {
  CHECK(reconcile(local(admin_state::drain, 4, true), row(admin_state::ready, 4), true) == reconcile_action::push);
  CHECK(reconcile(local(admin_state::drain, 0, true), std::nullopt, true) == reconcile_action::push);
  CHECK(reconcile(local(admin_state::drain, 4, true), row(admin_state::maint, 5), true) ==
        reconcile_action::drop_and_adopt);
  CHECK(reconcile(local(admin_state::drain, 4, true), std::nullopt, true) == reconcile_action::drop_and_adopt);
}

TEST_CASE("an intent from before sharing is offered to the cluster, a missing table never undoes a drain") {
  CHECK(reconcile(local(admin_state::maint, 0), std::nullopt, true) == reconcile_action::push);
  CHECK(reconcile(intent{}, std::nullopt, true) == reconcile_action::none);
  CHECK(reconcile(local(admin_state::drain, 6), std::nullopt, false) == reconcile_action::push);
  CHECK(reconcile(local(admin_state::ready, 6), std::nullopt, false) == reconcile_action::adopt);
  CHECK(reconcile(intent{}, std::nullopt, false) == reconcile_action::none);
}

TEST_CASE("a row is read from the table's text columns, and a row this version cannot read is refused") {
  std::string error;
  auto r = parse_shared_intent({"10.0.0.1:3306", "maint", "3", "1795000000000", "12", "lb1 0.0.0.0:3306 pid 7"}, error);
  REQUIRE(r);
  CHECK(r->value.admin == admin_state::maint);
  CHECK(r->value.weight == std::optional<std::uint32_t>(3));
  CHECK(r->value.since == t0);
  CHECK(r->version == 12);
  CHECK(r->value.version == 12);
  CHECK(parse_shared_intent({"n:1", "drain", std::nullopt, "0", "1", "x"}, error)->value.weight == std::nullopt);
  using cols = std::vector<std::optional<std::string>>;
  for (const cols& bad : {cols{"n:1", "off", std::nullopt, "0", "1", "x"}, cols{"n:1", "drain", "1001", "0", "1", "x"},
                          cols{"n:1", "drain", std::nullopt, "-1", "1", "x"},
                          cols{"n:1", "drain", std::nullopt, "99999999999999999", "1", "x"},
                          cols{"n:1", "drain", std::nullopt, "0", "0", "x"},
                          cols{"n:1", "drain", std::nullopt, "0", "9223372036854775807", "x"}, cols{"", "drain", std::nullopt, "0", "1", "x"},
                          cols{"n:1", "drain", std::nullopt, "0", "1"}}) {
    error.clear();
    CHECK_FALSE(parse_shared_intent(bad, error));
    CHECK_FALSE(error.empty());
  }
}
