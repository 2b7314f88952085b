#include "balancer.hpp"

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <vector>

#include "log.hpp"
#include "mysql_packet.hpp"

namespace galeratop {

using asio::ip::tcp;
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t greeting_buffer_size = 1024;  // a MySQL greeting is ~100 bytes; only the first bytes matter

std::string_view eligibility_word(const route& r, bool intents_known) {
  if (r.eligible) return "eligible";
  if (!r.tracker.current().up) return "not-eligible";
  if (r.admin != admin_state::ready) return to_string(r.admin);
  if (!intents_known) return "awaiting-intents";
  if (r.weight == 0) return "weight-0";
  return "avoided";
}

bool is_failure(galera_state s) { return s == galera_state::down || s == galera_state::non_primary; }

}  // namespace

struct balancer::session {
  explicit session(tcp::socket c) : client(std::move(c)), server(client.get_executor()) {}
  tcp::socket client;
  tcp::socket server;
  node_traffic* traffic = nullptr;  // set while attached to a node
  node_id node = 0;

  void close() {
    std::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
};

balancer::balancer(asio::io_context& io, balancer_settings settings)
    : io_(io), settings_(settings), relay_(io, [this](const std::vector<std::uint64_t>& t) { relay_ended(t); }) {
  relay_.set_idle_timeout(settings_.idle_timeout);
}

balancer::~balancer() { stopping_ = true; }

void balancer::listen(const tcp::endpoint& at) {
  acceptor_.emplace(io_);
  acceptor_->open(at.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  // Accepted sockets inherit both from the listener, which saves two syscalls per client.
  // No delay: MySQL is request/response, never wait to fill a segment. Keep-alive: a client
  // host that vanishes does not hold a node's connection until the idle timeout.
  acceptor_->set_option(tcp::no_delay(true));
  acceptor_->set_option(asio::socket_base::keep_alive(true));
  acceptor_->bind(at);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

tcp::endpoint balancer::local_endpoint() const { return acceptor_ ? acceptor_->local_endpoint() : tcp::endpoint{}; }

void balancer::stop_accepting() {
  if (!acceptor_) return;
  std::error_code ignored;
  acceptor_->close(ignored);
}

node_id balancer::add_node(const backend& b, int rise) {
  const node_id id = next_id_++;
  table_.add(id, b.configured_name, b.address, b.weight, rise);
  traffic_[id].endpoint = b.endpoint;
  table_.refresh(settings_.donors);
  return id;
}

void balancer::update_node(node_id id, const backend& b, int rise) {
  route* r = table_.find(id);
  if (!r) return;
  const auto before = marks();
  r->configured_name = b.configured_name;
  r->weight = b.weight;
  r->tracker.set_rise(rise);
  traffic_[id].endpoint = b.endpoint;
  apply_change(before);
}

void balancer::remove_node(node_id id) {
  const auto before = marks();
  table_.remove(id);
  apply_change(before);  // another node's eligibility may hinge on this one (a lone donor)
  if (auto it = traffic_.find(id); it != traffic_.end()) it->second.removed = true;
  erase_if_done(id);  // now, or when its last session ends
}

void balancer::erase_if_done(node_id id) {
  if (auto it = traffic_.find(id); it != traffic_.end() && it->second.removed && !it->second.in_use())
    traffic_.erase(it);
}

void balancer::set_admin(node_id id, admin_state admin) {
  route* r = table_.find(id);
  if (!r || r->admin == admin) return;
  const auto before = marks();
  r->admin = admin;
  const std::uint64_t generation = ++traffic_[id].maint_generation;
  apply_change(before);
  if (admin == admin_state::maint) asio::co_spawn(io_, end_maint_grace(id, generation), asio::detached);
}

void balancer::set_weight(node_id id, std::uint32_t weight) {
  route* r = table_.find(id);
  if (!r || r->weight == weight) return;
  const auto before = marks();
  r->weight = weight;
  apply_change(before);
}

asio::awaitable<void> balancer::end_maint_grace(node_id id, std::uint64_t generation) {
  asio::steady_timer timer(io_, settings_.maint_grace);
  co_await timer.async_wait(use_tuple);
  auto it = traffic_.find(id);
  const route* r = table_.find(id);
  if (stopping_ || it == traffic_.end() || !r || it->second.maint_generation != generation) co_return;
  close_sessions_of(id, "in maintenance");
}

std::optional<node_counters> balancer::counters(node_id id) const {
  auto it = traffic_.find(id);
  if (it == traffic_.end()) return std::nullopt;
  const node_traffic& t = it->second;
  return node_counters{t.connections_total, t.connect_errors, t.bytes.in.load(std::memory_order_relaxed),
                       t.bytes.out.load(std::memory_order_relaxed)};
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
  relay_.set_idle_timeout(settings_.idle_timeout);
  apply_change(before);
}

bool balancer::observe(node_id id, observation obs) {
  if (!table_.find(id)) return false;  // removed at a reload while the check was under way
  const auto before = marks();
  table_.observe(id, std::move(obs));
  return apply_change(before);
}

std::vector<balancer::route_mark> balancer::marks() const {
  std::vector<route_mark> m;
  for (const route& r : table_.routes()) m.push_back({r.id, r.tracker.current().state, r.tracker.current().up, r.eligible});
  return m;
}

bool balancer::apply_change(const std::vector<route_mark>& before) {
  table_.refresh(settings_.donors);
  bool changed = false;
  for (const route& r : table_.routes()) {
    auto was = std::ranges::find(before, r.id, &route_mark::id);
    const health& h = r.tracker.current();
    if (was != before.end() && was->state == h.state && was->up == h.up && was->eligible == r.eligible) continue;
    changed = true;
    const std::string from = was == before.end() ? std::string("new")
                                                 : fmt::format("{} {}", to_string(was->state),
                                                               was->eligible ? "eligible" : "not-eligible");
    log_info("node {} ({}): {} -> {} {}: {}", r.name(), r.address, from, to_string(h.state),
             eligibility_word(r, table_.intents_known()), h.reason);
    if (settings_.close_on_failure && is_failure(h.state) && (was == before.end() || !is_failure(was->state)))
      close_sessions_of(r.id, to_string(h.state));
  }
  return changed;
}

void balancer::close_sessions_of(node_id id, std::string_view why) {
  auto it = traffic_.find(id);
  if (it == traffic_.end()) return;
  node_traffic& t = it->second;
  if (!t.in_use()) return;
  log_info("node {}: closing {} client session(s) because it is {}", table_.find(id)->name(),
           t.sessions.size() + t.relayed, why);
  // Both only ask: a connecting session detaches itself when its coroutine unwinds, a
  // relayed one when the relay reports its end.
  for (session* s : t.sessions) s->close();
  std::vector<std::uint64_t> tokens;
  for (const auto& [token, node] : relayed_)
    if (node == id) tokens.push_back(token);
  relay_.close(std::move(tokens));
}

void balancer::close_all_sessions() {
  for (auto& [id, t] : traffic_)
    for (session* s : t.sessions) s->close();
  relay_.close_all();
}

void balancer::attach(session& s, node_id id) {
  node_traffic& t = traffic_[id];
  s.node = id;
  s.traffic = &t;
  t.sessions.insert(&s);
  if (route* r = table_.find(id)) ++r->connections;  // counted while connecting, so leastconn sees it at once
}

void balancer::detach(session& s) {
  if (!s.traffic) return;
  s.traffic->sessions.erase(&s);
  if (route* r = table_.find(s.node)) --r->connections;
  s.traffic = nullptr;
  erase_if_done(s.node);
}

void balancer::hand_over(session& s) {
  const std::uint64_t token = next_token_++;
  node_traffic& t = *s.traffic;
  t.sessions.erase(&s);
  ++t.relayed;
  relayed_.emplace(token, s.node);
  s.traffic = nullptr;  // the route keeps counting the connection until the relay reports its end
  // Both sockets are non-blocking already (Asio set that for its own operations).
  const int client_fd = s.client.release();
  const int server_fd = s.server.release();
  relay_.adopt(token, client_fd, server_fd, &t.bytes);
}

void balancer::relay_ended(const std::vector<std::uint64_t>& tokens) {
  for (std::uint64_t token : tokens) {
    auto it = relayed_.find(token);
    if (it == relayed_.end()) continue;
    const node_id id = it->second;
    relayed_.erase(it);
    --session_count_;
    if (route* r = table_.find(id)) --r->connections;
    if (auto t = traffic_.find(id); t != traffic_.end()) --t->second.relayed;
    erase_if_done(id);
  }
}

void balancer::note_connect_failure(node_id id, const std::string& why) {
  route* r = table_.find(id);
  if (!r) return;
  ++traffic_[id].connect_errors;
  const auto before = marks();
  r->tracker.connect_failed(fmt::format("connect from the balancer failed: {}", why));
  apply_change(before);
}

void balancer::shortage_began(std::string_view where, const std::error_code& ec) {
  ++shortage_hits_;
  shortage_last_hit_ = mono_clock::now();
  if (shortage_since_) return;
  shortage_since_ = shortage_last_hit_;
  log_warning("{} failed: {}; clients wait in the listen queue or get ERR 1040 until descriptors free up "
              "(max_connections {}, open sessions {})",
              where, ec.message(), settings_.max_connections, session_count_);
}

void balancer::shortage_ended() {
  // One session getting through is not the end: at the limit, every session that ends lets one
  // more in. The shortage is over once a second has passed without a failed accept or connect.
  if (!shortage_since_ || mono_clock::now() - shortage_last_hit_ < std::chrono::seconds(1)) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(shortage_last_hit_ - *shortage_since_);
  log_info("descriptors available again; the shortage lasted {} ms ({} accepts or connects failed)", ms.count(),
           shortage_hits_);
  shortage_since_.reset();
  shortage_hits_ = 0;
}

asio::awaitable<void> balancer::accept_loop() {
  asio::steady_timer backoff(io_);
  while (acceptor_ && acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      // EMFILE and friends: the listener stays readable, so retrying at once would spin.
      // Pause; the clients wait in the kernel's listen queue meanwhile.
      shortage_began("accept", ec);
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (settings_.max_connections != 0 && session_count_ >= settings_.max_connections) {
      // What mysqld does at max_connections: ERR 1040 in place of the greeting, so the
      // client sees why instead of a reset or a hang.
      asio::co_spawn(io_, refuse_over_limit(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(io_, run_session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> balancer::reject(tcp::socket& client, rejection why, std::string_view message) {
  ++frontend_.rejected_total;
  const bool over_limit = why == rejection::over_limit;
  ++(over_limit ? frontend_.rejected_limit : frontend_.rejected_no_node);
  const std::string packet = over_limit ? encode_err_packet(mysql_error::too_many_connections, "08004", message)
                                        : encode_err_packet(mysql_error::node_unavailable, "08S01", message);
  // A hundred-odd bytes into an empty socket buffer: the write completes at once, it cannot hang.
  co_await asio::async_write(client, asio::buffer(packet), use_tuple);
}

asio::awaitable<void> balancer::refuse_over_limit(tcp::socket client) {
  co_await reject(client, rejection::over_limit, "galeratop: too many connections");
  std::error_code ignored;
  client.shutdown(tcp::socket::shutdown_both, ignored);
  client.close(ignored);
}

asio::awaitable<std::error_code> balancer::dial(session& s, std::span<char> greeting, std::size_t& got,
                                                bool& connected) {
  auto [ec] = co_await s.server.async_connect(s.traffic->endpoint, use_tuple);
  if (ec) co_return ec;
  connected = true;
  std::error_code ignored;
  s.server.set_option(tcp::no_delay(true), ignored);  // request/response: never wait to fill a segment
  // The server speaks first. Waiting for its first packet is what tells a
  // live node from a frozen one whose kernel still completes the handshake.
  while (got < 5) {
    auto [rec, n] = co_await s.server.async_read_some(asio::buffer(greeting.data() + got, greeting.size() - got), use_tuple);
    if (rec) co_return rec;
    got += n;
  }
  co_return std::error_code{};
}

asio::awaitable<std::optional<balancer::connect_failure>> balancer::connect_backend(session& s,
                                                                                  std::span<char> greeting,
                                                                                  std::size_t& got) {
  using namespace asio::experimental::awaitable_operators;
  bool connected = false;
  got = 0;
  asio::steady_timer timer(io_, settings_.connect_timeout);
  auto result = co_await (dial(s, greeting, got, connected) || timer.async_wait(use_tuple));
  std::optional<connect_failure> failure;
  if (result.index() == 1) {
    failure = {fmt::format("{} within {} ms", connected ? "no server greeting" : "no TCP connection",
                           settings_.connect_timeout.count())};
  } else if (auto ec = std::get<0>(result)) {
    failure = {fmt::format("{}: {}", connected ? "closed before its greeting" : "connect", ec.message()),
               !connected && is_resource_shortage(ec)};
    if (failure->ours) shortage_began("a node connect", ec);
  } else if (starts_with_err_packet(greeting.first(got))) {
    failure = {fmt::format("refused the client: {}", err_packet_message(greeting.first(got)))};
  }
  if (failure) {
    std::error_code ignored;
    s.server.close(ignored);
  }
  co_return failure;
}

// GCC 12 pairs this coroutine's frame deallocation with the wrong allocation function
// and warns, although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> balancer::run_session(tcp::socket client) {
  session s(std::move(client));
  ++session_count_;
  ++frontend_.accepted_total;
  bool handed_over = false;
  try {
    std::array<char, greeting_buffer_size> greeting;
    std::size_t got = 0;
    std::vector<node_id> tried;
    std::string failures;
    bool connected = false;
    bool short_of_descriptors = false;
    for (int attempt = 0; attempt < settings_.connect_attempts && !connected && !short_of_descriptors; ++attempt) {
      const auto id = table_.pick(settings_.policy, tried);
      if (!id) break;
      attach(s, *id);
      const std::string name = table_.find(*id)->name();
      if (auto failure = co_await connect_backend(s, greeting, got)) {
        detach(s);
        short_of_descriptors = failure->ours;  // another node would fail the same way
        if (short_of_descriptors) break;
        tried.push_back(*id);
        failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", name, failure->why);
        note_connect_failure(*id, failure->why);
      } else {
        connected = true;
        ++s.traffic->connections_total;
        shortage_ended();
      }
    }
    if (short_of_descriptors) {
      co_await reject(s.client, rejection::over_limit, "galeratop: too many connections (out of file descriptors)");
    } else if (!connected) {
      const std::string why = failures.empty() ? table_.unavailable_reason()
                                               : fmt::format("no Galera node could be reached ({})", failures);
      co_await reject(s.client, rejection::no_node, "galeratop: " + why);
    } else {
      auto [ec, n] = co_await asio::async_write(s.client, asio::buffer(greeting.data(), got), use_tuple);
      if (!ec && s.client.is_open() && s.server.is_open()) {
        s.traffic->bytes.out.fetch_add(n, std::memory_order_relaxed);
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
