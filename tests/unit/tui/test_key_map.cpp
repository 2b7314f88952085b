#include <catch2/catch.hpp>

#include "tests/unit/tui/tui_fixtures.hpp"
#include "tui/key_map.hpp"
#include <set>

using namespace galeratop;
using json = nlohmann::json;

TEST_CASE("the key table maps keys to actions, and lists every action once") {
  CHECK(action_for(key::of('d')) == action::drain);
  CHECK(action_for(key::of('u')) == action::ready);
  CHECK(action_for(key::of('m')) == action::maint);
  CHECK(action_for(key::of('w')) == action::weight);
  CHECK(action_for(key::of('j')) == action::select_down);
  CHECK(action_for(key{key::up}) == action::select_up);
  CHECK(action_for(key::of('q')) == action::quit);
  CHECK(action_for(key{key::f10}) == action::quit);
  CHECK(action_for(key{key::f1}) == action::help);
  CHECK(action_for(key::of('?')) == action::help);
  CHECK(action_for(key::of('/')) == action::filter);
  CHECK_FALSE(action_for(key::of('x')));
  std::set<action> listed;
  for (const key_binding& b : key_table()) CHECK(listed.insert(b.what).second);
  CHECK(listed.size() == 20);
}

TEST_CASE("d asks first, and only y drains: Enter and other keys mean No") {
  const json s = test::three_node_status();
  for (key answer : {key{key::enter}, key{key::escape}, key::of('n'), key::of('d')}) {
    view_state v;
    handle_key(v, key::of('j'), s);
    handle_key(v, key::of('d'), s);
    REQUIRE(v.mode == screen_mode::confirm);
    CHECK(v.pending_name == "galera-db-02");
    reaction r = handle_key(v, answer, s);
    CHECK_FALSE(r.request);
    CHECK(v.mode == screen_mode::normal);
    CHECK(v.message.find("cancelled") != std::string::npos);
  }
  view_state v;
  handle_key(v, key::of('j'), s);
  handle_key(v, key::of('d'), s);
  reaction r = handle_key(v, key::of('y'), s);
  REQUIRE(r.request);
  CHECK(*r.request == json{{"cmd", "drain"}, {"node", "127.0.0.1:3312"}});
}

TEST_CASE("w takes digits, then asks, an empty weight goes back to the configured one") {
  const json s = test::three_node_status();
  view_state v;
  handle_key(v, key::of('w'), s);
  REQUIRE(v.mode == screen_mode::weight_input);
  for (char c : std::string("5x0")) handle_key(v, key::of(static_cast<char32_t>(c)), s);
  CHECK(v.input == "50");
  handle_key(v, key{key::enter}, s);
  REQUIRE(v.mode == screen_mode::confirm);
  auto r = handle_key(v, key::of('y'), s);
  REQUIRE(r.request);
  CHECK((*r.request)["weight"] == 50);

  handle_key(v, key::of('w'), s);
  handle_key(v, key{key::enter}, s);
  r = handle_key(v, key::of('y'), s);
  REQUIRE(r.request);
  CHECK((*r.request)["weight"].is_null());
}

TEST_CASE("the read-only screen refuses admin keys without asking") {
  const json s = test::three_node_status();
  view_state v;
  v.readonly = true;
  for (char c : {'d', 'u', 'm', 'w'}) {
    handle_key(v, key::of(static_cast<char32_t>(c)), s);
    CHECK(v.mode == screen_mode::normal);
    CHECK(v.message_is_error);
  }
}

TEST_CASE("selection, sort, filter, refresh and pause keys change only the view") {
  const json s = test::three_node_status();
  view_state v;
  handle_key(v, key{key::down}, s);
  handle_key(v, key{key::down}, s);
  handle_key(v, key{key::down}, s);  // stops at the last node
  CHECK(v.selected == "127.0.0.1:3313");
  handle_key(v, key{key::home}, s);
  CHECK(v.selected == "127.0.0.1:3311");
  handle_key(v, key::of('s'), s);
  CHECK(v.sort == sort_key::state);
  handle_key(v, key::of('<'), s);
  CHECK(v.sort == sort_key::name);
  handle_key(v, key::of('/'), s);
  for (char c : std::string("03")) handle_key(v, key::of(static_cast<char32_t>(c)), s);
  handle_key(v, key{key::enter}, s);
  CHECK(v.filter == "03");
  CHECK(visible_nodes(v, s).size() == 1);
  auto r = handle_key(v, key::of('+'), s);
  CHECK(r.resubscribe);
  CHECK(v.interval == std::chrono::milliseconds(500));
  handle_key(v, key::of('p'), s);
  CHECK(v.paused);
  CHECK(handle_key(v, key::of('q'), s).quit);
}

TEST_CASE("the key table is the dispatch: each bound key does its row's action, and no key is bound twice") {
  std::set<std::pair<int, char32_t>> seen;
  for (const key_binding& b : key_table())
    for (const key& k : b.bound) {
      if (k.kind == key::none) continue;
      CHECK(action_for(k) == b.what);
      CHECK(seen.insert({k.kind, k.ch}).second);
    }
  CHECK(seen.size() >= 28);
  // Keys that once worked without being listed anywhere are in the table now.
  CHECK(action_for(key::of('=')) == action::faster);
  CHECK(action_for(key{key::page_up}) == action::select_first);
  CHECK(action_for(key{key::page_down}) == action::select_last);
  CHECK_FALSE(action_for(key{}));
}

TEST_CASE("W asks before it makes the selected node the writer, and only y sends the request") {
  const json s = test::writer_status();
  view_state v;
  handle_key(v, key::of('W'), s);  // galera-db-01, the first
  REQUIRE(v.mode == screen_mode::confirm);
  CHECK(v.pending_name == "galera-db-01");
  CHECK_FALSE(handle_key(v, key{key::enter}, s).request);
  CHECK(v.message == "writer galera-db-01: cancelled");
  handle_key(v, key::of('W'), s);
  const reaction r = handle_key(v, key::of('y'), s);
  REQUIRE(r.request);
  CHECK(*r.request == json{{"cmd", "writer"}, {"node", "127.0.0.1:3311"}});
}

TEST_CASE("W has nothing to ask on the writer itself, without a writer listener, or read-only") {
  const json s = test::writer_status();
  view_state v;
  handle_key(v, key{key::down}, s);  // galera-db-02 writes already
  handle_key(v, key::of('W'), s);
  CHECK(v.mode == screen_mode::normal);
  CHECK(v.message == "galera-db-02 is the writer already");
  CHECK_FALSE(v.message_is_error);

  view_state none;
  handle_key(none, key::of('W'), test::three_node_status());
  CHECK(none.mode == screen_mode::normal);
  CHECK(none.message == "the agent has no writer listener");
  CHECK(none.message_is_error);

  view_state readonly;
  readonly.readonly = true;
  handle_key(readonly, key::of('W'), s);
  CHECK(readonly.mode == screen_mode::normal);
  CHECK(readonly.message_is_error);
  CHECK(action_for(key::of('W')) == action::writer);
  CHECK(action_for(key::of('w')) == action::weight);
}
