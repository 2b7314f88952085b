#include "balancer/balancer.hpp"

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer/core/log.hpp"
#include "balancer/mysql_packet.hpp"
#include "balancer/node_connect.hpp"
#include "balancer/proxy_header.hpp"

namespace galeratop {

using asio::ip::tcp;
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string_view eligibility_word(const node_record& r, bool intents_known) {
  if (r.eligible) return "eligible";
  if (r.tracker.current().suspect) return "suspect";
  if (!r.tracker.current().up) return "not-eligible";
  if (r.intent.admin != admin_state::ready) return to_string(r.intent.admin);
  if (!intents_known) return "awaiting-intents";
  if (r.weight() == 0) return "weight-0";
  return "avoided";
}

bool is_failure(galera_state s) { return s == galera_state::down || s == galera_state::non_primary; }

tcp::endpoint endpoint_of(const resolved_address& a) {
  std::error_code ignored;  // the resolver gave a numeric address: it parses
  return {asio::ip::make_address(a.ip, ignored), a.port};
}
}  // namespace

struct balancer::listener_slot {
  listener_slot(asio::io_context& io, listener::client_handler on_client, listener::failure_handler on_failure)
      : socket(io, std::move(on_client), std::move(on_failure)) {}
  listener socket;
  listener_figures figures;
};

struct balancer::session {
  session(std::size_t l, tcp::socket c) : listener(l), client(std::move(c)), server(client.get_executor()) {}
  std::size_t listener;  // the index of the listener it came in through
  tcp::socket client;
  tcp::socket server;
  node_id node = 0;  // the node it is attached to while connecting; 0 = none
  tcp::endpoint to;  // that node's address
  // That node's counters, held by the session: a reload may remove the node meanwhile.
  std::shared_ptr<session_counters> counters;
  // While the relay's front door dials for it: that relay, which owns the client's descriptor
  // meanwhile, the dial's token, and where the outcome lands and wakes its coroutine.
  relay* dialing_by = nullptr;
  std::uint64_t token = 0;
  std::optional<relay::dial_outcome> outcome;
  asio::steady_timer* outcome_wake = nullptr;
  std::optional<std::string> closed_while_dialing;  // why, for a dial the relay had finished already

  /// Ends the session before it is relayed; `why` words the node's state ("down: ...").
  void close(std::string_view why = "closed") {
    if (dialing_by) {  // the relay closes both sockets; the outcome says so
      closed_while_dialing = std::string(why);
      dialing_by->abort_dial(token);
    }
    std::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
};

balancer::balancer(asio::io_context& io, balancer_settings settings)
    : io_(io),
      settings_(settings),
      relay_([&] {
        chosen_relay chosen =
            make_relay(settings.io, io, [this](const std::vector<std::uint64_t>& t) { relay_ended(t); });
        relay_why_ = std::move(chosen.why);
        return std::move(chosen.running);
      }()) {
  relay_->set_idle_timeout(settings_.idle_timeout);
  relay_->set_close_timing(settings_.close_idle, settings_.close_patience);
  if (relay_->serves_front_door())
    relay_->set_front_door({.dialed = [this](relay::dial_outcome o) { on_dialed(std::move(o)); },
                            .accepted = [this](std::size_t listener, int fd) { on_accepted(listener, fd); },
                            .accept_failed = [this](std::size_t, const std::error_code& ec) {
                              note_shortage("accept", ec);
                            }});
}

balancer::~balancer() { stopping_ = true; }

void balancer::listen(std::string name, listener_role role, std::string address, const tcp::endpoint& at) {
  add_listener(std::move(name), role, std::move(address), [&](listener& l, listener::accepts who) { l.listen(at, who); });
}

void balancer::adopt(std::string name, listener_role role, std::string address, int fd, const tcp::endpoint& at) {
  add_listener(std::move(name), role, std::move(address),
               [&](listener& l, listener::accepts who) { l.adopt(fd, at, who); });
}

void balancer::add_listener(std::string name, listener_role role, std::string address,
                            const std::function<void(listener&, listener::accepts)>& open) {
  const std::size_t index = listeners_.size();
  auto slot = std::make_unique<listener_slot>(
      io_, [this, index](tcp::socket client) { on_client(index, std::move(client)); },
      [this](const std::error_code& ec) { note_shortage("accept", ec); });
  slot->figures.name = std::move(name);
  slot->figures.role = role;
  slot->figures.address = std::move(address);
  const bool front_door = relay_->serves_front_door();
  open(slot->socket, front_door ? listener::accepts::elsewhere : listener::accepts::here);  // throws when it cannot
  if (front_door) relay_->accept_on(index, slot->socket.native_handle());
  listeners_.push_back(std::move(slot));
}

void balancer::stop_accepting() {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    // The relay's accept is cancelled before the descriptor closes; the port is free once it is.
    if (relay_->serves_front_door()) relay_->stop_accepting_on(i);
    listeners_[i]->socket.stop();
  }
}

bool balancer::is_writer_listener(std::size_t listener) const {
  return listeners_[listener]->figures.role == listener_role::writer;
}

bool balancer::has_writer_listener() const {
  return std::ranges::any_of(listeners_, [](const auto& l) { return l->figures.role == listener_role::writer; });
}

std::vector<listener_figures> balancer::listeners() const {
  std::vector<listener_figures> all;
  for (const auto& l : listeners_) all.push_back(l->figures);
  return all;
}

node_id balancer::add_node(const backend& b, const intent& i, const health_rules& rules) {
  const node_id id = next_id_++;
  node_record& r = table_.add(id, b.configured_name, b.address, b.configured_weight, rules);
  r.resolved = b.resolved;
  r.writer_priority = b.writer_priority;
  r.proxy_protocol = b.proxy_protocol;
  r.intent = i;
  table_.refresh(settings_.donors);
  return id;
}

void balancer::update_node(node_id id, const backend& b, const health_rules& rules) {
  node_record* r = table_.find(id);
  if (!r) return;
  const auto before = marks();
  r->configured_name = b.configured_name;
  r->configured_weight = b.configured_weight;
  r->writer_priority = b.writer_priority;
  r->proxy_protocol = b.proxy_protocol;
  r->resolved = b.resolved;
  r->tracker.set_rules(rules);
  apply_change(before);
}

void balancer::remove_node(node_id id) {
  const auto before = marks();
  close_when_safe(id, "removed from the configuration");
  table_.remove(id);  // its sessions go on to a safe point, counted nowhere; their counters live as long as they do
  apply_change(before);  // another node's eligibility may hinge on this one (a lone donor)
}

void balancer::set_intent(node_id id, const intent& i) {
  node_record* r = table_.find(id);
  if (!r || r->intent == i) return;
  const auto before = marks();
  const bool admin_changed = r->intent.admin != i.admin;
  r->intent = i;
  const std::uint64_t generation = admin_changed ? ++r->admin_generation : r->admin_generation;
  apply_change(before);
  if (!admin_changed) return;
  // Drain and maint close each session at its next safe point; maint also ends what is left at
  // the end of its grace. Back to ready, the sessions not closed yet stay.
  if (i.admin == admin_state::ready)
    relay_->keep(relayed_tokens_of(id));
  else
    close_when_safe(id, describe(i.admin));
  if (i.admin == admin_state::maint) asio::co_spawn(io_, end_maint_grace(id, generation), asio::detached);
}

asio::awaitable<void> balancer::end_maint_grace(node_id id, std::uint64_t generation) {
  asio::steady_timer timer(io_, settings_.maint_grace);
  co_await timer.async_wait(use_tuple);
  const node_record* r = table_.find(id);
  if (stopping_ || !r || r->admin_generation != generation) co_return;
  close_sessions_of(id, "in maintenance and its grace has ended");
}

void balancer::set_intents_known(bool known) {
  if (table_.intents_known() == known) return;
  const auto before = marks();
  table_.set_intents_known(known);
  apply_change(before);
}

void balancer::set_settings(const balancer_settings& s) {
  const auto before = marks();
  settings_ = s;
  relay_->set_idle_timeout(settings_.idle_timeout);
  relay_->set_close_timing(settings_.close_idle, settings_.close_patience);
  apply_change(before);
}

bool balancer::observe(node_id id, observation obs) {
  if (!table_.find(id)) return false;  // removed at a reload while the check was under way
  const auto before = marks();
  table_.observe(id, std::move(obs));
  return apply_change(before);
}

bool balancer::expire_suspects(mono_clock::time_point now) {
  // Asked on every tick: nothing to judge, and nothing to allocate, while no node is suspect.
  if (std::ranges::none_of(table_.records(), [](const node_record& r) { return r.tracker.current().suspect; }))
    return false;
  const auto before = marks();
  return table_.expire_suspects(now) && apply_change(before);
}

std::vector<balancer::node_mark> balancer::marks() const {
  std::vector<node_mark> m;
  for (const node_record& r : table_.records()) {
    const health& h = r.tracker.current();
    m.push_back({r.id, h.state, h.up, h.suspect, r.eligible});
  }
  return m;
}

bool balancer::apply_change(const std::vector<node_mark>& before) {
  table_.refresh(settings_.donors);
  bool changed = false;
  for (const node_record& r : table_.records()) {
    auto was = std::ranges::find(before, r.id, &node_mark::id);
    const health& h = r.tracker.current();
    if (was != before.end() && was->state == h.state && was->up == h.up && was->suspect == h.suspect &&
        was->eligible == r.eligible)
      continue;
    changed = true;
    const std::string from = was == before.end() ? std::string("new")
                                                 : fmt::format("{} {}", to_string(was->state),
                                                               was->suspect    ? "suspect"
                                                               : was->eligible ? "eligible"
                                                                               : "not-eligible");
    log_info("node {} ({}): {} -> {} {}: {}", r.name(), r.address, from, to_string(h.state),
             eligibility_word(r, table_.intents_known()), h.reason);
    if (settings_.close_on_failure && is_failure(h.state) && (was == before.end() || !is_failure(was->state)))
      close_sessions_of(r.id, fmt::format("{}: {}", to_string(h.state), h.reason));
  }
  if (changed) wake_held();  // a node may have become eligible for them
  return changed;
}

std::vector<std::uint64_t> balancer::relayed_tokens_of(node_id id) const {
  std::vector<std::uint64_t> tokens;
  for (const auto& [token, r] : relayed_)
    if (r.node == id) tokens.push_back(token);
  return tokens;
}

std::map<node_id, std::vector<std::uint64_t>> balancer::stray_writer_tokens() const {
  std::map<node_id, std::vector<std::uint64_t>> by_node;
  for (const auto& [token, r] : relayed_)
    if (is_writer_listener(r.listener) && r.node != writer_.node.value_or(0)) by_node[r.node].push_back(token);
  return by_node;
}

void balancer::close_sessions_of(node_id id, std::string_view why) {
  std::vector<session*> connecting;
  for (session* s : connecting_)
    if (s->node == id) connecting.push_back(s);
  std::vector<std::uint64_t> tokens = relayed_tokens_of(id);
  if (connecting.empty() && tokens.empty()) return;
  const node_record* r = table_.find(id);
  const std::string name = r ? r->name() : std::to_string(id);
  log_info("node {}: closing {} client session(s) because it is {}", name, connecting.size() + tokens.size(), why);
  // Both only ask: a connecting session detaches itself when its coroutine unwinds, a
  // relayed one when the relay reports its end.
  for (session* s : connecting) s->close(why);
  relay_->close(std::move(tokens), {.at = relay::close_order::when::now, .node = name, .why = std::string(why)});
}

void balancer::close_when_safe(node_id id, std::string_view why) {
  std::vector<std::uint64_t> tokens = relayed_tokens_of(id);
  if (tokens.empty()) return;
  const node_record* r = table_.find(id);
  const std::string name = r ? r->name() : std::to_string(id);
  log_info("node {}: closing {} client session(s) at their next safe point because it is {}", name, tokens.size(), why);
  relay_->close(std::move(tokens), {.at = relay::close_order::when::safe_point, .node = name, .why = std::string(why)});
}

void balancer::close_all_when_safe(std::string_view why) {
  closing_all_ = std::string(why);
  for (const node_record& r : table_.records()) close_when_safe(r.id, why);
}

void balancer::close_all_sessions() {
  for (session* s : connecting_) s->close("cut off by galeratopd's stop");
  for (const held_client& h : held_) h.s->close();
  wake_held();  // they see their client closed and end
  relay_->close_all();
}

std::optional<node_id> balancer::ready_writer() const {
  if (!writer_.node || !writer_.settled) return std::nullopt;
  const node_record* r = table_.find(*writer_.node);
  return r && r->eligible ? writer_.node : std::nullopt;
}

std::size_t balancer::stray_writer_sessions() const {
  auto stray = [&](node_id node, std::size_t listener) {
    return is_writer_listener(listener) && (!writer_.node || node != *writer_.node);
  };
  std::size_t n = 0;
  for (const session* s : connecting_) n += stray(s->node, s->listener) ? 1 : 0;
  for (const auto& [token, r] : relayed_) n += stray(r.node, r.listener) ? 1 : 0;
  return n;
}

bool balancer::can_place(std::size_t listener) const {
  if (is_writer_listener(listener)) return ready_writer().has_value();
  return std::ranges::any_of(table_.records(), &node_record::eligible);
}

std::size_t balancer::held_for_writer() const {
  return static_cast<std::size_t>(
      std::ranges::count_if(held_, [this](const held_client& h) { return is_writer_listener(h.s->listener); }));
}

void balancer::wake_held() {
  // Cancelled in arrival order, their coroutines resume in that order and connect in that order.
  for (const held_client& h : held_) h.wake->cancel();
}

void balancer::set_writer(std::optional<node_id> writer, std::string why) {
  writer_.why = std::move(why);
  if (writer == writer_.node) return;
  // A failover passes through "none" (the old writer lost, the new one not recorded yet): a switch
  // is counted from the last writer routed to, whatever came between.
  if (writer && last_writer_ && *writer != *last_writer_) ++writer_.switches;
  if (writer) last_writer_ = writer;
  writer_.node = writer;
  const std::uint64_t generation = ++writer_generation_;
  // Every writer-listener session on another node is asked to end at its next safe point; one
  // still connecting is closed at once (it has sent nothing yet).
  for (session* s : connecting_)
    if (is_writer_listener(s->listener) && s->node != writer.value_or(0)) s->close("no longer the writer");
  for (auto& [node, tokens] : stray_writer_tokens()) {
    const node_record* r = table_.find(node);
    const std::string name = r ? r->name() : std::to_string(node);
    log_info("node {}: closing {} writer-listener session(s) at their next safe point because it is no longer the "
             "writer", name, tokens.size());
    relay_->close(std::move(tokens),
                 {.at = relay::close_order::when::safe_point, .node = name, .why = "no longer the writer"});
  }
  writer_.settled = stray_writer_sessions() == 0;
  if (writer_.settled)
    wake_held();
  else
    asio::co_spawn(io_, end_writer_barrier(generation), asio::detached);
}

asio::awaitable<void> balancer::end_writer_barrier(std::uint64_t generation) {
  asio::steady_timer timer(io_, settings_.writer_barrier);
  co_await timer.async_wait(use_tuple);
  if (stopping_ || generation != writer_generation_ || writer_.settled) co_return;
  // What is left has not reached a safe point in time: it is cut, so that it cannot write beside the new writer.
  for (auto& [node, tokens] : stray_writer_tokens()) {
    const node_record* n = table_.find(node);
    const std::string name = n ? n->name() : std::to_string(node);
    log_info("node {}: cutting {} writer-listener session(s): no safe point within the writer barrier ({} ms)", name,
             tokens.size(), settings_.writer_barrier.count());
    relay_->close(std::move(tokens), {.at = relay::close_order::when::now,
                                     .node = name,
                                     .why = "no longer the writer: the switch cut its sessions at its barrier"});
  }
}

void balancer::attach(session& s, node_record& r) {
  s.node = r.id;
  s.to = endpoint_of(r.resolved);
  s.counters = r.traffic.live;
  connecting_.insert(&s);
  ++r.connections;  // counted while connecting, so leastconn sees it at once
  ++listeners_[s.listener]->figures.connections[r.id];
}

void balancer::detach(session& s) {
  if (s.node == 0) return;
  connecting_.erase(&s);
  if (node_record* r = table_.find(s.node)) --r->connections;
  release_listener_count(s.listener, s.node);
  s.node = 0;
  if (!writer_.settled) settle_writer_if_done();
}

void balancer::hand_over(session& s) {
  const std::uint64_t token = next_token_++;
  // Both sockets are non-blocking already (Asio set that for its own operations).
  const int client_fd = s.client.release();
  const int server_fd = s.server.release();
  relay_->adopt(token, client_fd, server_fd, s.counters);
  took_over(s, token);
}

void balancer::took_over(session& s, std::uint64_t token) {
  const node_id node = s.node;
  connecting_.erase(&s);
  relayed_.emplace(token, relayed_session{node, s.listener});
  s.node = 0;  // the node keeps counting the connection until the relay reports its end
  // Drained while it connected, or connected while every session is being closed: it closes at
  // its first safe point like the others.
  const node_record* r = table_.find(node);
  if (r && (r->intent.admin != admin_state::ready || closing_all_))
    relay_->close({token}, {.at = relay::close_order::when::safe_point,
                           .node = r->name(),
                           .why = closing_all_ ? *closing_all_ : std::string(describe(r->intent.admin))});
}

void balancer::relay_ended(const std::vector<std::uint64_t>& tokens) {
  for (std::uint64_t token : tokens) {
    auto it = relayed_.find(token);
    if (it == relayed_.end()) continue;
    if (node_record* r = table_.find(it->second.node)) --r->connections;
    release_listener_count(it->second.listener, it->second.node);
    relayed_.erase(it);
    --session_count_;
  }
  if (!writer_.settled) settle_writer_if_done();
}

void balancer::release_listener_count(std::size_t listener, node_id node) {
  auto& counts = listeners_[listener]->figures.connections;
  if (auto c = counts.find(node); c != counts.end() && --c->second == 0) counts.erase(c);
}

void balancer::settle_writer_if_done() {
  if (stray_writer_sessions() != 0) return;
  writer_.settled = true;
  wake_held();
}

void balancer::note_connect_failure(node_id id, const connect_failure& failure) {
  node_record* r = table_.find(id);
  if (!r) return;
  ++r->traffic.connect_errors;
  const auto before = marks();
  r->tracker.connect_failed(fmt::format("connect from the balancer failed: {}", failure.why), failure.late,
                            mono_clock::now());
  apply_change(before);
}

void balancer::note_shortage(std::string_view where, const std::error_code& ec) {
  const std::string context =
      fmt::format("max_connections {}, open sessions {}", settings_.max_connections, session_count_);
  if (auto line = shortage_.hit(where, ec.message(), context, mono_clock::now())) log_warning("{}", *line);
}

void balancer::note_no_shortage() {
  if (auto line = shortage_.cleared(mono_clock::now())) log_info("{}", *line);
}

void balancer::on_client(std::size_t listener, tcp::socket client) {
  if (at_connection_limit()) {
    // What mysqld does at max_connections: ERR 1040 in place of the greeting, so the
    // client sees why instead of a reset or a hang.
    asio::co_spawn(io_, refuse_over_limit(std::move(client)), asio::detached);
    return;
  }
  ++listeners_[listener]->figures.accepted_total;
  asio::co_spawn(io_, run_session(listener, std::move(client)), asio::detached);
}

std::string balancer::count_rejection(rejection why, std::string_view message) {
  ++frontend_.rejected_total;
  const bool over_limit = why == rejection::over_limit;
  ++(over_limit ? frontend_.rejected_limit : frontend_.rejected_no_node);
  return over_limit ? encode_err_packet(mysql_error::too_many_connections, "08004", message)
                    : encode_err_packet(mysql_error::node_unavailable, "08S01", message);
}

asio::awaitable<void> balancer::reject(tcp::socket& client, rejection why, std::string_view message) {
  const std::string packet = count_rejection(why, message);
  // A hundred-odd bytes into an empty socket buffer: the write completes at once, it cannot hang.
  co_await asio::async_write(client, asio::buffer(packet), use_tuple);
}

void balancer::refuse_at_once(int client_fd) {
  const std::string packet = count_rejection(rejection::over_limit, "galeratop: too many connections");
  // A fresh socket's send buffer is empty: the packet goes whole, or the client has already gone
  // and there is nobody to tell.
  [[maybe_unused]] const ssize_t sent = ::send(client_fd, packet.data(), packet.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(client_fd);
}

asio::awaitable<void> balancer::refuse_over_limit(tcp::socket client) {
  co_await reject(client, rejection::over_limit, "galeratop: too many connections");
  std::error_code ignored;
  client.shutdown(tcp::socket::shutdown_both, ignored);
  client.close(ignored);
}

// GCC 12 pairs this coroutine's frame deallocation with the wrong allocation function
// and warns, although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<balancer::hold_end> balancer::hold(session& s) {
  if (can_place(s.listener)) co_return hold_end::placed;
  if (settings_.hold.count() == 0) co_return hold_end::refused;
  if (held_.size() >= settings_.hold_limit) {
    ++frontend_.waits_refused;
    co_return hold_end::full;
  }
  // The client's connect looks slow, rather than failing, while the agent starts, a writer switch
  // settles or the last eligible node gives way to the next. It has sent nothing and must not
  // before the greeting: a read that completes means it gave up, and its hold ends.
  const auto started = asio::steady_timer::clock_type::now();
  asio::steady_timer wake(io_, started + settings_.hold);
  struct watch {
    asio::steady_timer* wake;  // nullptr once the hold has ended: a completion queued before the cancel below
    bool gone = false;
  };
  auto w = std::make_shared<watch>(&wake);
  s.client.async_wait(tcp::socket::wait_read, [w](const std::error_code& ec) {
    if (ec || !w->wake) return;
    w->gone = true;
    w->wake->cancel();
  });
  const auto entry = held_.insert(held_.end(), {&s, &wake});
  while (!can_place(s.listener) && !w->gone && s.client.is_open() &&
         asio::steady_timer::clock_type::now() < wake.expiry())
    co_await wake.async_wait(use_tuple);  // woken early by wake_held() or by the client leaving
  w->wake = nullptr;
  std::error_code ignored;
  s.client.cancel(ignored);
  held_.erase(entry);
  frontend_.longest_wait = std::max(frontend_.longest_wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                asio::steady_timer::clock_type::now() - started));
  if (w->gone || !s.client.is_open()) {
    ++frontend_.waits_abandoned;
    s.close();
    co_return hold_end::abandoned;
  }
  const bool placed = can_place(s.listener);
  ++(placed ? frontend_.waits_served : frontend_.waits_refused);
  co_return placed ? hold_end::placed : hold_end::refused;
}

asio::awaitable<bool> balancer::connect_session(session& s, greeting_buffer& greeting, std::size_t& got,
                                                std::string& failures, bool& short_of_descriptors) {
  const bool to_writer = is_writer_listener(s.listener);
  if (const hold_end held = co_await hold(s); held != hold_end::placed) {
    failures = !to_writer             ? table_.unavailable_reason()
               : writer_.why.empty() ? std::string("no writer")
                                     : writer_.why;
    if (held == hold_end::full)
      failures += fmt::format(" and {} client(s) are held already (hold_limit)", settings_.hold_limit);
    co_return false;
  }
  const std::optional<node_id> writer = to_writer ? ready_writer() : std::nullopt;
  std::vector<node_id> tried;
  // A writer listener has one node to offer: another would be a second writer.
  const int attempts = to_writer ? 1 : settings_.connect_attempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const auto id = to_writer ? writer : table_.pick(settings_.policy, tried);
    if (!id) break;
    node_record& r = *table_.find(*id);
    const std::string name = r.name();
    attach(s, r);
    const connect_result c = co_await connect_once(s, r, greeting);
    got = c.greeting_bytes;
    if (!c.failure) {
      if (node_record* now = table_.find(*id)) ++now->traffic.connections_total;
      note_no_shortage();
      co_return true;
    }
    detach(s);
    // Closed meanwhile (a writer switch, its node lost, the end of a stop): no node is to blame,
    // and nobody is left to connect for.
    if (!s.client.is_open()) co_return false;
    short_of_descriptors = c.failure->ours;  // another node would fail the same way
    if (short_of_descriptors) {
      note_shortage("a node connect", c.failure->error);
      co_return false;
    }
    tried.push_back(*id);
    failures += fmt::format("{}{}{}: {}", failures.empty() ? "" : "; ", to_writer ? "the writer " : "", name,
                            c.failure->why);
    note_connect_failure(*id, *c.failure);
  }
  if (failures.empty()) failures = table_.unavailable_reason();
  else failures = fmt::format("no Galera node could be reached ({})", failures);
  co_return false;
}

asio::awaitable<connect_result> balancer::connect_once(session& s, const node_record& r, greeting_buffer& greeting) {
  if (relay_->serves_front_door()) co_return co_await dial_through_relay(s, proxy_header_for(s, r));
  co_return co_await connect_to_node(s.server, s.to, settings_.connect_timeout, greeting, proxy_header_for(s, r));
}

asio::awaitable<connect_result> balancer::dial_through_relay(session& s, std::string proxy_header) {
  const std::uint64_t token = next_token_++;
  relay::dial_order order{.token = token,
                          .client_fd = s.client.release(),  // the relay's until the outcome
                          .node_length = static_cast<socklen_t>(s.to.size()),
                          .timeout = settings_.connect_timeout,
                          .proxy_header = std::move(proxy_header),
                          .counters = s.counters};
  std::memcpy(&order.node, s.to.data(), s.to.size());
  asio::steady_timer wake(io_, asio::steady_timer::time_point::max());
  s.dialing_by = relay_.get();
  s.token = token;
  s.outcome_wake = &wake;
  dialing_.emplace(token, &s);
  relay_->dial(std::move(order));
  while (!s.outcome) co_await wake.async_wait(use_tuple);  // woken by on_dialed
  relay::dial_outcome outcome = std::move(*std::exchange(s.outcome, std::nullopt));
  s.dialing_by = nullptr;
  s.outcome_wake = nullptr;
  connect_result result;
  if (outcome.failure) {
    std::error_code ec;
    s.client.assign(listeners_[s.listener]->socket.protocol(), outcome.client_fd, ec);
    if (ec) ::close(outcome.client_fd);  // cannot be: the descriptor was Asio's a moment ago
    result.failure = std::move(outcome.failure);
  } else if (outcome.client_gone) {
    result.failure = connect_failure{.why = "the client left"};  // s.client is closed: nobody to tell
  }
  co_return result;
}

void balancer::on_dialed(relay::dial_outcome outcome) {
  auto it = dialing_.find(outcome.token);
  if (it == dialing_.end()) return;  // cannot be: a dial's coroutine waits for its outcome
  session& s = *it->second;
  dialing_.erase(it);
  // A success is a session the relay holds now, which must be known as such before the relay's
  // report of its end is read (it follows in the same post): it is taken over here, not when its
  // coroutine resumes.
  if (!outcome.failure && !outcome.client_gone) {
    const node_id node = s.node;  // took_over() detaches it
    took_over(s, outcome.token);
    // Closed after the relay had finished the dial: it closes now, as it would have.
    if (s.closed_while_dialing) {
      const node_record* r = table_.find(node);
      relay_->close({outcome.token}, {.at = relay::close_order::when::now,
                                      .node = r ? r->name() : std::to_string(node),
                                      .why = *s.closed_while_dialing});
    }
  }
  s.outcome = std::move(outcome);
  s.outcome_wake->cancel();
}

void balancer::on_accepted(std::size_t listener, int fd) {
  // Refused here and now rather than by a coroutine: in a storm of clients beyond max_connections
  // each would hold its descriptor until its turn came, and the held clients' dials would find
  // none left (relay::accept_backlog_limit bounds the rest).
  if (at_connection_limit()) return refuse_at_once(fd);
  tcp::socket client(io_);
  std::error_code ec;
  client.assign(listeners_[listener]->socket.protocol(), fd, ec);
  if (ec) {  // Asio could not watch it (out of memory): as if the accept had failed
    ::close(fd);
    return note_shortage("accept", ec);
  }
  on_client(listener, std::move(client));
}

std::string balancer::proxy_header_for(const session& s, const node_record& r) const {
  if (!r.proxy_protocol) return {};
  std::error_code ec;
  const tcp::endpoint from = s.client.remote_endpoint(ec);
  const tcp::endpoint to = ec ? tcp::endpoint{} : s.client.local_endpoint(ec);
  // A client already gone (ENOTCONN) has nothing to send on: the relay ends its session at once.
  return ec ? std::string{} : encode_proxy_v2(from, to);
}

asio::awaitable<void> balancer::run_session(std::size_t listener, tcp::socket client) {
  session s(listener, std::move(client));
  ++session_count_;
  ++frontend_.accepted_total;
  bool handed_over = false;
  try {
    greeting_buffer greeting;
    std::size_t got = 0;
    std::string failures;
    bool short_of_descriptors = false;
    const bool connected = co_await connect_session(s, greeting, got, failures, short_of_descriptors);
    if (short_of_descriptors) {
      co_await reject(s.client, rejection::over_limit, "galeratop: too many connections (out of file descriptors)");
    } else if (!connected) {
      if (s.client.is_open()) co_await reject(s.client, rejection::no_node, "galeratop: " + failures);
    } else if (relay_->serves_front_door()) {
      handed_over = true;  // the relay passed the greeting on and holds the session
    } else {
      auto [ec, n] = co_await asio::async_write(s.client, asio::buffer(greeting.data(), got), use_tuple);
      // Closed meanwhile: a writer switch closes the sessions still connecting to the old writer.
      if (!ec && s.client.is_open() && s.server.is_open()) {
        s.counters->out.fetch_add(n, std::memory_order_relaxed);
        hand_over(s);
        handed_over = true;
      }
    }
  } catch (const std::exception& e) {
    log_debug("session ended by an exception: {}", e.what());  // one session ends, the balancer goes on
  }
  if (!handed_over) {  // a relayed session is counted until the relay reports its end
    detach(s);
    s.close();
    --session_count_;
  }
}
#pragma GCC diagnostic pop

}  // namespace galeratop
