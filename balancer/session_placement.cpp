#include "balancer/session_placement.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer/core/log.hpp"
#include "balancer/mysql_packet.hpp"
#include "balancer/placement_rules.hpp"
#include "balancer/proxy_header.hpp"
#include "balancer/session_io.hpp"

namespace galeratop {

using asio::ip::tcp;
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Points a session's `wake` at a timer of its coroutine's frame for as long as the timer lives,
/// however the scope ends: a close order cancels it, and must never find a timer that is gone.
struct waking_by {
  waking_by(session_io& io, asio::steady_timer& timer) : io_(io) { io_.wake = &timer; }
  ~waking_by() { io_.wake = nullptr; }
  waking_by(const waking_by&) = delete;
  waking_by& operator=(const waking_by&) = delete;

 private:
  session_io& io_;
};

tcp::endpoint endpoint_of(const resolved_address& a) {
  std::error_code ignored;  // the resolver gave a numeric address: it parses
  return {asio::ip::make_address(a.ip, ignored), a.port};
}
}  // namespace

session_placement::session_placement(asio::io_context& io, const balancer_settings& settings, routing_table& table,
                                     session_registry& sessions, listener_set& listeners, relay& r,
                                     node_admin& admin, writer_switch& writer)
    : io_(io),
      settings_(settings),
      table_(table),
      sessions_(sessions),
      listeners_(listeners),
      relay_(r),
      admin_(admin),
      writer_(writer) {}

void session_placement::on_client(std::size_t listener, tcp::socket client) {
  if (at_connection_limit()) {
    // What mysqld does at max_connections: ERR 1040 in place of the greeting, so the
    // client sees why instead of a reset or a hang.
    asio::co_spawn(io_, refuse_over_limit(std::move(client)), asio::detached);
    return;
  }
  listeners_.count_accepted(listener);
  asio::co_spawn(io_, run_session(listener, std::move(client)), asio::detached);
}

void session_placement::on_accepted(std::size_t listener, int fd) {
  // Refused here and now rather than by a coroutine: in a storm of clients beyond max_connections
  // each would hold its descriptor until its turn came, and the held clients' dials would find
  // none left (relay::accept_backlog_limit bounds the rest).
  if (at_connection_limit()) return refuse_at_once(fd);
  tcp::socket client(io_);
  std::error_code ec;
  client.assign(listeners_.protocol(listener), fd, ec);
  if (ec) {  // Asio could not watch it (out of memory): as if the accept had failed
    ::close(fd);
    return note_shortage("accept", ec);
  }
  on_client(listener, std::move(client));
}

void session_placement::accept_failed(const std::error_code& ec) { note_shortage("accept", ec); }

// GCC 12 pairs these coroutines' frame deallocation with the wrong allocation function and warns,
// although Asio's awaitable frame defines both operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> session_placement::run_session(std::size_t listener, tcp::socket client) {
  session_io io(std::move(client));
  // Only this coroutine ends the record while the session is placed; once the relay holds it the
  // relay's report of its end does, and this coroutine no longer touches it.
  session_record& s = sessions_.open(listener, listeners_.is_writer(listener));
  s.io = &io;
  const session_id id = s.id;
  ++frontend_.accepted_total;
  placing_end placed = placing_end::closed;
  try {
    greeting_buffer greeting;
    std::size_t got = 0;
    std::string error;
    placed = co_await place(s, io, greeting, got, error);
    switch (placed) {
      case placing_end::out_of_descriptors:
        co_await reject(io.client, rejection::over_limit, "galeratop: too many connections (out of file descriptors)");
        break;
      case placing_end::refused:
        if (!io.closed) co_await reject(io.client, rejection::no_node, "galeratop: " + error);
        break;
      case placing_end::greeted: {
        auto [ec, n] = co_await asio::async_write(io.client, asio::buffer(greeting.data(), got), use_tuple);
        // Closed meanwhile: a writer switch closes the sessions still connecting to the old writer.
        if (ec || io.closed) break;
        io.counters->out.fetch_add(n, std::memory_order_relaxed);
        hand_over(s, io);
        placed = placing_end::relayed;
        break;
      }
      case placing_end::relayed:
      case placing_end::closed: break;
    }
  } catch (const std::exception& e) {
    log_debug("session ended by an exception: {}", e.what());  // one session ends, the balancer goes on
  }
  if (placed == placing_end::relayed || io.relayed) co_return;  // the relay reports its end
  detach(s);
  io.close(id);
  sessions_.close(id);
}

asio::awaitable<session_placement::placing_end> session_placement::place(session_record& s, session_io& io,
                                                                     greeting_buffer& greeting, std::size_t& got,
                                                                     std::string& error) {
  if (const hold_end held = co_await hold(s, io); held != hold_end::placed) {
    if (held == hold_end::abandoned) co_return placing_end::closed;
    error = hold_refusal(s.writer_listener, table_.unavailable_reason(), writer_.route().why, held == hold_end::full,
                         settings_.hold_limit);
    co_return placing_end::refused;
  }
  const std::optional<node_id> writer = s.writer_listener ? writer_.ready() : std::nullopt;
  placement_attempts attempts(s.writer_listener, settings_.connect_attempts);
  while (attempts.more()) {
    const auto id = s.writer_listener ? writer : table_.pick(settings_.policy, attempts.tried());
    if (!id) break;
    attempts.start();
    node_record& r = *table_.find(*id);
    const std::string name = r.name();
    attach(s, io, r);
    const connect_result c = co_await connect_once(s, io, r, greeting);
    got = c.greeting_bytes;
    if (!c.failure) {  // from here on `s` may be gone: the relay may have reported its end already
      if (node_record* now = table_.find(*id)) ++now->traffic.connections_total;
      note_no_shortage();
      co_return relay_.serves_front_door() ? placing_end::relayed : placing_end::greeted;
    }
    detach(s);
    switch (attempts.failed(*id, name, *c.failure, io.closed.has_value())) {
      case after_failure::client_closed: co_return placing_end::closed;
      case after_failure::out_of_descriptors:
        note_shortage("a node connect", c.failure->error);
        co_return placing_end::out_of_descriptors;
      case after_failure::next_node: admin_.connect_failed(*id, *c.failure); break;
    }
  }
  error = attempts.error(table_.unavailable_reason());
  co_return placing_end::refused;
}

asio::awaitable<session_placement::hold_end> session_placement::hold(session_record& s, session_io& io) {
  switch (admit(can_place(s), settings_.hold, sessions_.held(), settings_.hold_limit)) {
    case admission::place: co_return hold_end::placed;
    case admission::refuse: co_return hold_end::refused;
    case admission::full: ++frontend_.waits_refused; co_return hold_end::full;
    case admission::hold: break;
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
  io.client.async_wait(tcp::socket::wait_read, [w](const std::error_code& ec) {
    if (ec || !w->wake) return;
    w->gone = true;
    w->wake->cancel();
  });
  const waking_by on_timer(io, wake);
  sessions_.set_held(s, true);
  while (!can_place(s) && !w->gone && io.client.is_open() && asio::steady_timer::clock_type::now() < wake.expiry())
    co_await wake.async_wait(use_tuple);  // woken early by wake_held() or by the client leaving
  w->wake = nullptr;
  sessions_.set_held(s, false);
  std::error_code ignored;
  io.client.cancel(ignored);
  frontend_.longest_wait = std::max(frontend_.longest_wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                asio::steady_timer::clock_type::now() - started));
  if (w->gone || !io.client.is_open()) {
    ++frontend_.waits_abandoned;
    io.close(s.id);
    co_return hold_end::abandoned;
  }
  const bool placed = can_place(s);
  ++(placed ? frontend_.waits_served : frontend_.waits_refused);
  co_return placed ? hold_end::placed : hold_end::refused;
}

asio::awaitable<connect_result> session_placement::connect_once(session_record& s, session_io& io,
                                                                const node_record& r, greeting_buffer& greeting) {
  if (relay_.serves_front_door()) co_return co_await dial_through_relay(s, io, proxy_header_for(io, r));
  co_return co_await connect_to_node(io.server, io.to, settings_.connect_timeout, greeting, proxy_header_for(io, r));
}

asio::awaitable<connect_result> session_placement::dial_through_relay(session_record& s, session_io& io,
                                                                      std::string proxy_header) {
  const std::size_t listener = s.listener;  // `s` may be gone by the time a successful dial resumes this
  relay::dial_order order{.token = s.id,
                          .client_fd = io.client.release(),  // the relay's until the outcome
                          .node_length = static_cast<socklen_t>(io.to.size()),
                          .timeout = settings_.connect_timeout,
                          .proxy_header = std::move(proxy_header),
                          .counters = io.counters};
  std::memcpy(&order.node, io.to.data(), io.to.size());
  asio::steady_timer wake(io_, asio::steady_timer::time_point::max());
  relay::dial_outcome outcome;
  {
    const waking_by on_timer(io, wake);
    io.dialing_at = &relay_;
    relay_.dial(std::move(order));
    while (!io.outcome) co_await wake.async_wait(use_tuple);  // woken by on_dialed
    outcome = std::move(*std::exchange(io.outcome, std::nullopt));
    io.dialing_at = nullptr;
  }
  connect_result result;
  if (outcome.failure) {
    std::error_code ec;
    io.client.assign(listeners_.protocol(listener), outcome.client_fd, ec);
    if (ec) ::close(outcome.client_fd);  // cannot be: the descriptor was Asio's a moment ago
    result.failure = std::move(outcome.failure);
  } else if (outcome.client_gone) {
    // The relay closed both sockets: nobody is left to tell.
    if (!io.closed) io.closed = "the client left";
    result.failure = connect_failure{.why = "the client left"};
  }
  co_return result;
}
#pragma GCC diagnostic pop

void session_placement::on_dialed(relay::dial_outcome outcome) {
  session_record* s = sessions_.find(outcome.token);
  if (!s || !s->io) return;  // cannot be: a dial's coroutine waits for its outcome
  session_io& io = *s->io;
  // A success is a session the relay holds now, which must be known as such before the relay's
  // report of its end is read (it follows in the same post): it is taken over here, not when its
  // coroutine resumes.
  if (!outcome.failure && !outcome.client_gone) {
    took_over(*s);
    // Closed after the relay had finished the dial: it closes now, as it would have.
    if (io.closed)
      relay_.close({outcome.token},
                   {.at = relay::close_order::when::now, .node = table_.name_of(s->node), .why = *io.closed});
  }
  io.outcome = std::move(outcome);
  io.wake->cancel();
}

bool session_placement::can_place(const session_record& s) const {
  if (s.writer_listener) return writer_.ready().has_value();
  return std::ranges::any_of(table_.records(), &node_record::eligible);
}

void session_placement::wake_held() {
  if (sessions_.held() == 0) return;  // asked at every change of eligibility: mostly nobody waits
  // Cancelled in arrival order, their coroutines resume in that order and connect in that order.
  for (const session_id id : sessions_.select([](const session_record& s) { return s.held; }))
    if (const session_record* s = sessions_.find(id); s && s->io && s->io->wake) s->io->wake->cancel();
}

void session_placement::attach(session_record& s, session_io& io, node_record& r) {
  sessions_.attach(s, r.id);
  io.to = endpoint_of(r.resolved);
  io.counters = r.traffic.live;
}

void session_placement::detach(session_record& s) {
  if (s.node == 0) return;
  const node_id left = sessions_.detach(s);
  if (s.writer_listener) writer_.session_left();
  admin_.session_left(left);
}

void session_placement::hand_over(session_record& s, session_io& io) {
  // Both sockets are non-blocking already (Asio set that for its own operations).
  const int client_fd = io.client.release();
  const int server_fd = io.server.release();
  relay_.adopt(s.id, client_fd, server_fd, io.counters);
  took_over(s);
}

void session_placement::took_over(session_record& s) {
  sessions_.relayed(s);
  s.io->relayed = true;  // its coroutine never touches the record again, whatever happens to it
  s.io = nullptr;  // the node keeps counting the session until the relay reports its end
  admin_.arrived(s);
}

std::string session_placement::proxy_header_for(const session_io& io, const node_record& r) const {
  if (!r.proxy_protocol) return {};
  std::error_code ec;
  const tcp::endpoint from = io.client.remote_endpoint(ec);
  const tcp::endpoint to = ec ? tcp::endpoint{} : io.client.local_endpoint(ec);
  // A client already gone (ENOTCONN) has nothing to send on: the relay ends its session at once.
  return ec ? std::string{} : encode_proxy_v2(from, to);
}

std::string session_placement::count_rejection(rejection why, std::string_view message) {
  ++frontend_.rejected_total;
  const bool over_limit = why == rejection::over_limit;
  ++(over_limit ? frontend_.rejected_limit : frontend_.rejected_no_node);
  return over_limit ? encode_err_packet(mysql_error::too_many_connections, "08004", message)
                    : encode_err_packet(mysql_error::node_unavailable, "08S01", message);
}

asio::awaitable<void> session_placement::reject(tcp::socket& client, rejection why, std::string_view message) {
  const std::string packet = count_rejection(why, message);
  // A hundred-odd bytes into an empty socket buffer: the write completes at once, it cannot hang.
  co_await asio::async_write(client, asio::buffer(packet), use_tuple);
}

void session_placement::refuse_at_once(int client_fd) {
  const std::string packet = count_rejection(rejection::over_limit, "galeratop: too many connections");
  // A fresh socket's send buffer is empty: the packet goes whole, or the client has already gone
  // and there is nobody to tell.
  [[maybe_unused]] const ssize_t sent = ::send(client_fd, packet.data(), packet.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(client_fd);
}

asio::awaitable<void> session_placement::refuse_over_limit(tcp::socket client) {
  co_await reject(client, rejection::over_limit, "galeratop: too many connections");
  std::error_code ignored;
  client.shutdown(tcp::socket::shutdown_both, ignored);
  client.close(ignored);
}

void session_placement::note_shortage(std::string_view where, const std::error_code& ec) {
  const std::string context =
      fmt::format("max_connections {}, open sessions {}", settings_.max_connections, sessions_.size());
  if (auto line = shortage_.hit(where, ec.message(), context, mono_clock::now())) log_warning("{}", *line);
}

void session_placement::note_no_shortage() {
  if (auto line = shortage_.cleared(mono_clock::now())) log_info("{}", *line);
}

}  // namespace galeratop
