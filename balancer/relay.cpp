#include "balancer/relay.hpp"

#include <asio/post.hpp>
#include <cerrno>
#include <iterator>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <time.h>
#include <unistd.h>
#include <utility>

#include "balancer/core/log.hpp"
#include "balancer/mysql_packet.hpp"
#include "balancer/close_point.hpp"

namespace galeratop {

namespace {
/// The bucket of query_latency_bounds a latency falls in (the last one is +Inf).
std::size_t latency_bucket(std::int64_t ns) {
  const double seconds = static_cast<double>(ns) / 1e9;
  std::size_t i = 0;
  while (i < query_latency_bounds.size() && seconds > query_latency_bounds[i]) ++i;
  return i;
}

// The ERR packet galeratopd writes into a session: what MariaDB sends a killed connection, which
// pools take for a dead one (SQLAlchemy by its code, JDBC pools by its SQLSTATE class 08). Its
// message says whether the statement ran. Not 2013: a client-side code from the server makes
// Connector/C try to reconnect and report a malformed packet instead of the message.
constexpr std::uint16_t er_connection_killed = 1927;
constexpr std::string_view link_failure = "08S01";

/// The whole COM_QUIT packet: lets a node end a session we close without logging an aborted connection.
constexpr char com_quit[] = {1, 0, 0, 0, 1};

/// Writes a packet of ours straight to a socket, outside the backend's I/O. Only ever done where
/// nothing else waits to be written to it, so the packet cannot interleave with relayed bytes;
/// such a socket takes a few dozen bytes whole.
void send_own(int fd, std::string_view bytes) {
  [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}
}  // namespace

relay::relay(asio::io_context& io, end_handler on_end) : io_(io), on_end_(std::move(on_end)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

relay::~relay() { ::close(wake_fd_); }

void relay::start_thread() { thread_ = std::thread([this] { run(); }); }

void relay::stop_thread() {
  if (thread_.joinable()) {
    submit({.what = command::kind::stop});
    thread_.join();
  }
  for (auto& [token, s] : sessions_)
    for (int fd : s->fd)
      if (fd >= 0) ::close(fd);
  sessions_.clear();
  for (command& c : commands_) {  // handed over after the stop: never adopted, still ours to close
    if (c.what == command::kind::adopt)
      for (int fd : c.fds) ::close(fd);
    if (c.what == command::kind::dial) ::close(c.dial->client_fd);
  }
  commands_.clear();
}

std::int64_t relay::now_ns() {
  // CLOCK_MONOTONIC: a vDSO read, no syscall, on a TSC clock source (about 30 ns here).
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void relay::adopt(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<session_counters> counters) {
  submit({.what = command::kind::adopt, .token = token, .fds = {client_fd, server_fd}, .counters = std::move(counters)});
}

void relay::close(std::vector<std::uint64_t> tokens, close_order order) {
  if (!tokens.empty()) submit({.what = command::kind::close, .tokens = std::move(tokens), .order = std::move(order)});
}

void relay::keep(std::vector<std::uint64_t> tokens) {
  if (!tokens.empty()) submit({.what = command::kind::keep, .tokens = std::move(tokens)});
}

void relay::close_all() { submit({.what = command::kind::close_all}); }

void relay::accept_on(std::size_t listener, int fd) {
  submit({.what = command::kind::accept_on, .fds = {fd, -1}, .listener = listener});
}

void relay::stop_accepting_on(std::size_t listener) {
  submit({.what = command::kind::stop_accepting, .listener = listener});
}

void relay::dial(dial_order order) { submit({.what = command::kind::dial, .dial = std::move(order)}); }

void relay::abort_dial(std::uint64_t token) { submit({.what = command::kind::abort_dial, .token = token}); }

void relay::submit(command c) {
  bool was_empty;
  {
    std::lock_guard lock(commands_mutex_);
    was_empty = commands_.empty();
    commands_.push_back(std::move(c));
  }
  // The thread drains the whole queue per wake-up, so only the first command of a batch has to knock.
  if (was_empty) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
}

bool relay::run_commands() {
  std::vector<command> batch;
  {
    std::lock_guard lock(commands_mutex_);
    batch.swap(commands_);
  }
  for (auto it = batch.begin(); it != batch.end(); ++it) {
    command& c = *it;
    switch (c.what) {
      case command::kind::stop: {
        // Whatever came after the stop goes back to the queue, where stop_thread finds it.
        std::lock_guard lock(commands_mutex_);
        commands_.insert(commands_.begin(), std::make_move_iterator(it + 1), std::make_move_iterator(batch.end()));
        return false;
      }
      case command::kind::adopt:
        begin(c.token, c.fds[client], c.fds[server], std::move(c.counters));
        break;
      case command::kind::close: {
        std::size_t cut = 0;
        for (std::uint64_t token : c.tokens)
          if (auto found = sessions_.find(token); found != sessions_.end())
            cut += close_ordered(*found->second, c.order);
        if (cut > 0)
          log_warning("node {}: {} session(s) closed in the middle of a statement or a transaction ({})", c.order.node,
                      cut, c.order.why);
        break;
      }
      case command::kind::keep:
        for (std::uint64_t token : c.tokens)
          if (auto found = sessions_.find(token); found != sessions_.end()) found->second->closing.reset();
        break;
      case command::kind::close_all: {
        std::vector<session*> all;
        for (auto& [token, s] : sessions_) all.push_back(s.get());
        for (session* s : all) end(*s);
        break;
      }
      case command::kind::accept_on:
        start_accepting(c.listener, c.fds[0]);
        break;
      case command::kind::stop_accepting:
        stop_accepting(c.listener);
        break;
      case command::kind::dial:
        start_dial(std::move(*c.dial));
        break;
      case command::kind::abort_dial:
        cancel_dial(c.token);
        break;
    }
  }
  return true;
}

void relay::begin(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<session_counters> counters) {
  std::unique_ptr<session> s = make_session();
  s->token = token;
  s->counters = std::move(counters);
  s->last_active = tick_;
  s->quiet_at = now_ns();
  s->last_from = server;  // its greeting
  s->fd[client] = client_fd;
  s->fd[server] = server_fd;
  session& added = *s;
  sessions_.emplace(token, std::move(s));
  start(added);
}

void relay::report() {
  if (ended_tokens_.empty() && dialed_.empty() && accepted_.empty() && accept_failures_.empty()) return;
  asio::post(io_, [this, tokens = std::exchange(ended_tokens_, {}), dialed = std::exchange(dialed_, {}),
                   accepted = std::exchange(accepted_, {}), failures = std::exchange(accept_failures_, {})] {
    for (const dial_outcome& d : dialed) front_door_.dialed(d);
    if (!tokens.empty()) on_end_(tokens);
    for (auto [listener, fd] : accepted) front_door_.accepted(listener, fd);
    unplaced_.fetch_sub(accepted.size(), std::memory_order_relaxed);
    front_door_pending_.fetch_sub(static_cast<int>(accepted.size()), std::memory_order_relaxed);
    for (auto [listener, error] : failures)
      front_door_.accept_failed(listener, std::error_code(error, std::system_category()));
  });
}

void relay::took(session& s, int from, std::span<const char> bytes) {
  if (s.orphan) return answer_orphan(s, bytes);  // only its client side is read
  s.last_active = tick_;
  (from == client ? s.counters->in : s.counters->out).fetch_add(bytes.size(), std::memory_order_relaxed);
  track(s, from, bytes);
}

bool relay::lost_side(session& s, int from, bool eof) {
  const session_tracker& t = s.tracker;
  if (s.orphan) {  // its client left, or failed, before its next command
    end(s);
    return false;
  }
  if (!eof) {
    if (from == server && !t.opaque())
      lose_node(s, "the connection to the node failed");
    else
      end(s);
    return false;
  }
  if (from == server && !s.read_done[client] && !t.opaque() && !t.quitting()) {
    // The node closed a session the client did not end: a kill, a crash, its wait_timeout.
    lose_node(s, "the node closed the connection");
    return false;
  }
  // EOF is passed on as a half-close, so the other direction can still finish (COM_QUIT, then
  // the server closes); the session ends when both are over.
  s.read_done[from] = true;
  return true;
}

void relay::end(session& s) {
  if (s.ended) return;
  s.ended = true;
  release_descriptors(s);
  s.fd[client] = s.fd[server] = -1;
  settle_gauges(s, true);
  if (!s.reported) ended_tokens_.push_back(s.token);
  auto it = sessions_.find(s.token);
  retire(std::move(it->second));  // I/O of this loop round may still point at it
  sessions_.erase(it);
}

void relay::tick(std::uint32_t seconds) {
  tick_ += seconds;
  sweep_idle();
}

void relay::sweep_idle() {
  const std::uint32_t limit = idle_limit_s_.load(std::memory_order_relaxed);
  if (limit == 0) return;
  std::vector<session*> idle;
  for (auto& [token, s] : sessions_)
    if (tick_ - s->last_active > limit) idle.push_back(s.get());
  for (session* s : idle) end(*s);
}

void relay::track(session& s, int from, std::span<const char> bytes) {
  session_tracker& t = s.tracker;
  std::int64_t now = 0;
  if (from == client) {
    const std::uint32_t before = t.commands_in_flight();
    if (t.from_client(bytes) > 0 && before == 0) s.command_at = now = now_ns();
  } else if (const std::uint32_t answered = t.from_server(bytes); answered > 0) {
    now = now_ns();
    session_counters& c = *s.counters;
    const std::int64_t took = now - s.command_at;  // a pipelined batch counts each at the first one's time
    c.queries.fetch_add(answered, std::memory_order_relaxed);
    c.latency[latency_bucket(took)].fetch_add(answered, std::memory_order_relaxed);
    c.latency_sum_us.fetch_add(answered * static_cast<std::uint64_t>(took / 1000), std::memory_order_relaxed);
    (t.commands_in_flight() > 0 ? s.command_at : s.quiet_at) = now;
  }
  s.last_from = from;
  settle_gauges(s, false);
  if (t.opaque()) s.quiet_at = now == 0 ? now_ns() : now;  // with no protocol to go by, the last bytes either way
}

void relay::settle_gauges(session& s, bool gone) {
  session_counters& c = *s.counters;
  const bool in_transaction = !gone && s.tracker.in_transaction();
  if (in_transaction != s.counted_in_transaction) {
    c.in_transaction.fetch_add(in_transaction ? 1 : -1, std::memory_order_relaxed);
    s.counted_in_transaction = in_transaction;
  }
  const bool opaque = !gone && s.tracker.opaque();
  if (opaque != s.counted_opaque) {
    c.opaque.fetch_add(opaque ? 1 : -1, std::memory_order_relaxed);
    if (opaque) c.opaque_total.fetch_add(1, std::memory_order_relaxed);  // once per session: opaque is final
    s.counted_opaque = opaque;
  }
}

bool relay::close_ordered(session& s, const close_order& order) {
  if (s.orphan) return false;  // its node side is closed already; the client is told at its next command
  if (order.at == close_order::when::now) {
    const bool cut = s.tracker.opaque() || s.tracker.in_flight() || s.tracker.in_transaction();
    lose_node(s, fmt::format("node {} is {}", order.node, order.why));
    return cut;
  }
  if (!s.closing) {
    s.closing_at = now_ns();
    closing_.push_back(s.token);
  }
  s.closing = order;
  if (close_if_safe(s, s.closing_at)) return false;
  if (closing_.size() == 1) closing_started();  // the first one waiting: start the sweep
  return false;
}

bool relay::close_if_safe(session& s, std::int64_t now) {
  const close_timing timing{.quiet = now - s.quiet_at,
                            .waited = now - s.closing_at,
                            .idle = std::int64_t{close_idle_ms_.load(std::memory_order_relaxed)} * 1'000'000,
                            .patience = std::int64_t{close_patience_ms_.load(std::memory_order_relaxed)} * 1'000'000};
  if (!at_close_point(s.tracker, s.last_from == server, timing) || queued(s, client) || queued(s, server))
    return false;
  s.counters->safe_closes.fetch_add(1, std::memory_order_relaxed);
  release_node(s, fmt::format("galeratop: node {} is {}: this connection was closed before this statement, nothing "
                              "was executed; connect again",
                              s.closing->node, s.closing->why));
  return true;
}

void relay::release_node(session& s, std::string reason) {
  // Between commands the node can be told goodbye, so it does not log an aborted connection.
  if (!s.tracker.opaque() && !s.tracker.in_flight() && !queued(s, server))
    send_own(s.fd[server], std::string_view(com_quit, sizeof com_quit));
  close_node_side(s);  // its queued bytes are never to be sent: the client side must be read again
  s.fd[server] = -1;
  s.read_done[server] = true;
  s.closing.reset();
  ended_tokens_.push_back(s.token);  // the node's share of it ends here
  s.reported = true;
  // A TLS stream cannot take a packet of ours, and a client that left needs none.
  if (s.tracker.opaque() || s.read_done[client]) return end(s);
  s.orphan = true;
  s.orphan_reason = std::move(reason);
  settle_gauges(s, true);
  resume_client(s);
}

void relay::lose_node(session& s, std::string_view what) {
  const session_tracker& t = s.tracker;
  if (t.opaque() || s.read_done[client]) return end(s);
  if (t.in_flight() || t.in_transaction()) s.counters->cuts.fetch_add(1, std::memory_order_relaxed);
  if (t.in_flight()) {
    if (const auto seq = t.err_sequence(); seq && !queued(s, client)) {
      const std::string message = fmt::format("galeratop: {} during this statement; its outcome is unknown", what);
      send_own(s.fd[client], encode_err_packet(er_connection_killed, link_failure, message, *seq));
    }
    return end(s);  // in the middle of a packet no error fits: the close says it
  }
  release_node(s, fmt::format("galeratop: {}: {}; connect again", what,
                              t.in_transaction()
                                  ? "the open transaction is lost, nothing more was executed"
                                  : "this connection was closed before this statement, nothing was executed"));
}

void relay::answer_orphan(session& s, std::span<const char> bytes) {
  // A command (not a COM_QUIT) gets the reason, in the sequence after its own.
  if (bytes.size() >= 5 && bytes[4] != 1 && !queued(s, client))
    send_own(s.fd[client], encode_err_packet(er_connection_killed, link_failure, s.orphan_reason,
                                             static_cast<std::uint8_t>(bytes[3] + 1)));
  end(s);
}

void relay::sweep_closing() {
  const std::int64_t now = now_ns();
  std::erase_if(closing_, [&](std::uint64_t token) {
    auto it = sessions_.find(token);
    if (it == sessions_.end()) return true;
    session& s = *it->second;
    return !s.closing || close_if_safe(s, now);
  });
}

}  // namespace galeratop
