#include "balancer/relay.hpp"

#include <asio/post.hpp>
#include <cerrno>
#include <iterator>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <system_error>
#include <time.h>
#include <unistd.h>
#include <utility>

#include "balancer/core/log.hpp"
#include "balancer/mysql_packet.hpp"

namespace galeratop {

namespace {
constexpr std::size_t scratch_size = 64 * 1024;  // one recv takes what a MySQL result chunk usually is
constexpr int max_events = 256;
constexpr std::uint64_t wake_tag = 0;  // epoll data of the eventfd; sessions carry a side pointer
constexpr std::uint64_t tick_tag = 1;  // epoll data of the one-second timerfd
constexpr std::uint64_t close_tick_tag = 2;  // epoll data of the safe-close sweep's timerfd
constexpr long close_sweep_ns = 50'000'000;  // how often sessions waiting for a safe point are looked at
constexpr int client = 0;
constexpr int server = 1;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

/// CLOCK_MONOTONIC in nanoseconds: a vDSO read, no syscall, on a TSC clock source (about 30 ns here).
std::int64_t now_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

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
constexpr std::uint8_t com_ping = 0x0e;
}  // namespace

/// One socket of a relayed session.
struct relay::side {
  pair* owner = nullptr;
  int index = client;
  int fd = -1;
  bool registered = false;     // fd is in the epoll set
  std::uint32_t interest = 0;  // the epoll events registered for fd now
  bool read_done = false;      // this socket has sent its EOF
  std::vector<char> pending;   // bytes for this socket that it has not taken yet (it was full)
  std::size_t pending_from = 0;
};

/// A relayed session. Invariant: while bytes wait for one side, the other side is not read
/// (back-pressure: at most one partial message is buffered per session).
struct relay::pair {
  std::uint64_t token = 0;
  side sides[2];
  std::shared_ptr<session_counters> counters;
  std::uint32_t last_active = 0;  // relay tick at the last byte either way
  bool ended = false;
  session_tracker tracker;
  std::int64_t command_at = 0;  // when the oldest command in flight began (ns)
  std::int64_t quiet_at = 0;    // when the session last became idle, or (opaque) last moved (ns)
  bool counted_in_transaction = false;  // in counters->in_transaction now
  bool counted_opaque = false;          // in counters->opaque now
  // A close waiting for a safe point, and since when (ns).
  std::optional<close_order> closing;
  std::int64_t closing_at = 0;
  int last_from = client;  // who sent the last bytes (the opaque fallback)
  // The node side is closed; the client side waits to be told, in answer to its next command.
  bool orphan = false;
  std::string orphan_reason;
  bool reported = false;  // the end of its node side has been handed to the io thread
};

relay::relay(asio::io_context& io, end_handler on_end) : io_(io), on_end_(std::move(on_end)), scratch_(scratch_size) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The idle sweep's clock: a periodic timer in the same epoll set, so the relay reads no clock
  // for sessions that are only relayed. The safe-close sweep has its own, armed only while a
  // session waits for a safe point.
  tick_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  close_tick_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (wake_fd_ < 0 || tick_fd_ < 0 || close_tick_fd_ < 0) {
    const int e = errno;
    for (int fd : {close_tick_fd_, tick_fd_, wake_fd_, epoll_fd_})
      if (fd >= 0) ::close(fd);
    errno = e;
    throw_errno("eventfd or timerfd_create");
  }
  const itimerspec every_second{{1, 0}, {1, 0}};
  ::timerfd_settime(tick_fd_, 0, &every_second, nullptr);
  for (auto [fd, tag] : {std::pair{wake_fd_, wake_tag}, std::pair{tick_fd_, tick_tag},
                         std::pair{close_tick_fd_, close_tick_tag}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  thread_ = std::thread([this] { run(); });
}

relay::~relay() {
  submit({.what = command::kind::stop});
  thread_.join();
  for (auto& [token, p] : pairs_)
    for (side& s : p->sides)
      if (s.fd >= 0) ::close(s.fd);
  for (command& c : commands_)  // handed over after the stop: never adopted, still ours to close
    if (c.what == command::kind::adopt)
      for (int fd : c.fds) ::close(fd);
  ::close(close_tick_fd_);
  ::close(tick_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
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
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof count);
  std::vector<command> batch;
  {
    std::lock_guard lock(commands_mutex_);
    batch.swap(commands_);
  }
  for (auto it = batch.begin(); it != batch.end(); ++it) {
    command& c = *it;
    switch (c.what) {
      case command::kind::stop: {
        // Whatever came after the stop goes back to the queue, where the destructor finds it.
        std::lock_guard lock(commands_mutex_);
        commands_.insert(commands_.begin(), std::make_move_iterator(it + 1), std::make_move_iterator(batch.end()));
        return false;
      }
      case command::kind::adopt: {
        auto p = std::make_unique<pair>();
        p->token = c.token;
        p->counters = std::move(c.counters);
        p->last_active = tick_;
        p->quiet_at = now_ns();
        p->last_from = server;  // its greeting
        for (int i : {client, server}) {
          side& s = p->sides[i];
          s.owner = p.get();
          s.index = i;
          s.fd = c.fds[i];
        }
        pair& added = *p;
        pairs_.emplace(c.token, std::move(p));
        for (int i : {client, server}) watch(added, i);
        break;
      }
      case command::kind::close: {
        std::size_t cut = 0;
        for (std::uint64_t token : c.tokens)
          if (auto found = pairs_.find(token); found != pairs_.end()) cut += close_ordered(*found->second, c.order);
        if (cut > 0)
          log_warning("node {}: {} session(s) closed in the middle of a statement or a transaction ({})", c.order.node,
                      cut, c.order.why);
        break;
      }
      case command::kind::keep:
        for (std::uint64_t token : c.tokens)
          if (auto found = pairs_.find(token); found != pairs_.end()) found->second->closing.reset();
        break;
      case command::kind::close_all: {
        std::vector<pair*> all;
        for (auto& [token, p] : pairs_) all.push_back(p.get());
        for (pair* p : all) end(*p);
        break;
      }
    }
  }
  return true;
}

void relay::run() {
  std::vector<epoll_event> events(max_events);
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), max_events, -1);
    if (n < 0 && errno != EINTR) return;  // EBADF and friends: nothing sensible is left to do
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == wake_tag) {
        if (!run_commands()) return;
      } else if (events[i].data.u64 == tick_tag) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = ::read(tick_fd_, &expirations, sizeof expirations);
        tick_ += static_cast<std::uint32_t>(expirations);
        sweep_idle();
      } else if (events[i].data.u64 == close_tick_tag) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = ::read(close_tick_fd_, &expirations, sizeof expirations);
        sweep_closing();
      } else {
        on_event(*static_cast<side*>(events[i].data.ptr), events[i].events);
      }
    }
    ended_.clear();
    if (!ended_tokens_.empty())
      asio::post(io_, [this, tokens = std::exchange(ended_tokens_, {})] { on_end_(tokens); });
  }
}

void relay::on_event(side& s, std::uint32_t events) {
  pair& p = *s.owner;
  if (p.ended) return;  // ended earlier in this batch
  if (events & EPOLLOUT) flush(p, s.index);
  if (p.ended || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  if (!s.read_done && p.sides[1 - s.index].pending.empty())
    pass(p, s.index);  // a read reports the EOF or the error itself
  else if (events & (EPOLLHUP | EPOLLERR))
    end(p);  // shut both ways or failed (level-triggered: it would be reported again and again)
}

void relay::pass(pair& p, int from) {
  side& src = p.sides[from];
  side& dst = p.sides[1 - from];
  if (p.orphan) return answer_orphan(p);
  const ssize_t got = ::recv(src.fd, scratch_.data(), scratch_.size(), 0);
  if (got < 0) {
    if (would_block(errno) || errno == EINTR) return;
    if (from == server && !p.tracker.opaque()) return lose_node(p, "the connection to the node failed");
    return end(p);
  }
  if (got == 0 && from == server && !p.sides[client].read_done && !p.tracker.opaque() && !p.tracker.quitting()) {
    // The node closed a session the client did not end: a kill, a crash, its wait_timeout.
    return lose_node(p, "the node closed the connection");
  }
  if (got == 0) {
    // EOF is passed on as a half-close, so the other direction can still finish
    // (COM_QUIT, then the server closes); the session ends when both are over.
    src.read_done = true;
    ::shutdown(dst.fd, SHUT_WR);  // nothing waits for dst: src is read only while dst's queue is empty
    if (finished(p))
      end(p);
    else
      watch(p, from);
    return;
  }
  p.last_active = tick_;
  (from == client ? p.counters->in : p.counters->out).fetch_add(static_cast<std::uint64_t>(got), std::memory_order_relaxed);
  track(p, from, std::span<const char>(scratch_.data(), static_cast<std::size_t>(got)));
  ssize_t sent = ::send(dst.fd, scratch_.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL);
  if (sent < 0) {
    if (!would_block(errno)) return end(p);
    sent = 0;
  }
  if (sent == got) {
    if (p.closing && from == server) close_if_safe(p, now_ns());  // the end of a response may be its safe point
    return;
  }
  dst.pending.assign(scratch_.data() + sent, scratch_.data() + got);
  dst.pending_from = 0;
  watch(p, from);       // stop reading until the other side has taken it
  watch(p, 1 - from);   // and wait until it can
}

void relay::flush(pair& p, int to) {
  side& dst = p.sides[to];
  if (dst.pending.empty()) return;
  const ssize_t sent = ::send(dst.fd, dst.pending.data() + dst.pending_from, dst.pending.size() - dst.pending_from,
                              MSG_NOSIGNAL);
  if (sent < 0) {
    if (!would_block(errno)) end(p);
    return;
  }
  p.last_active = tick_;
  dst.pending_from += static_cast<std::size_t>(sent);
  if (dst.pending_from < dst.pending.size()) return;
  std::vector<char>().swap(dst.pending);  // give the memory back: most sessions never need it again
  dst.pending_from = 0;
  if (finished(p)) return end(p);
  if (p.closing && to == client && close_if_safe(p, now_ns())) return;
  watch(p, to);
  watch(p, 1 - to);
}

void relay::watch(pair& p, int which) {
  side& s = p.sides[which];
  if (s.fd < 0) return;  // the node side of a session whose node is released
  const std::uint32_t want = (!s.read_done && p.sides[1 - which].pending.empty() ? EPOLLIN : 0u) |
                             (s.pending.empty() ? 0u : EPOLLOUT);
  if (s.registered && want == s.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &s;
  if (::epoll_ctl(epoll_fd_, s.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s.fd, &ev) != 0) return end(p);
  s.registered = true;
  s.interest = want;
}

bool relay::finished(const pair& p) {
  return p.sides[client].read_done && p.sides[server].read_done && p.sides[client].pending.empty() &&
         p.sides[server].pending.empty();
}

void relay::end(pair& p) {
  if (p.ended) return;
  p.ended = true;
  for (side& s : p.sides)
    if (s.fd >= 0) ::close(s.fd);  // closing also takes it out of the epoll set
  settle_gauges(p, true);
  if (!p.reported) ended_tokens_.push_back(p.token);
  auto it = pairs_.find(p.token);
  ended_.push_back(std::move(it->second));  // events later in this batch may still point at it
  pairs_.erase(it);
}

void relay::sweep_idle() {
  const std::uint32_t limit = idle_limit_s_.load(std::memory_order_relaxed);
  if (limit == 0) return;
  std::vector<pair*> idle;
  for (auto& [token, p] : pairs_)
    if (tick_ - p->last_active > limit) idle.push_back(p.get());
  for (pair* p : idle) end(*p);
}

void relay::track(pair& p, int from, std::span<const char> bytes) {
  session_tracker& t = p.tracker;
  std::int64_t now = 0;
  if (from == client) {
    const std::uint32_t before = t.commands_in_flight();
    if (t.from_client(bytes) > 0 && before == 0) p.command_at = now = now_ns();
  } else if (const std::uint32_t answered = t.from_server(bytes); answered > 0) {
    now = now_ns();
    session_counters& c = *p.counters;
    const std::int64_t took = now - p.command_at;  // a pipelined batch counts each at the first one's time
    c.queries.fetch_add(answered, std::memory_order_relaxed);
    c.latency[latency_bucket(took)].fetch_add(answered, std::memory_order_relaxed);
    c.latency_sum_us.fetch_add(answered * static_cast<std::uint64_t>(took / 1000), std::memory_order_relaxed);
    (t.commands_in_flight() > 0 ? p.command_at : p.quiet_at) = now;
  }
  p.last_from = from;
  settle_gauges(p, false);
  if (t.opaque()) p.quiet_at = now == 0 ? now_ns() : now;  // with no protocol to go by, the last bytes either way
}

void relay::settle_gauges(pair& p, bool gone) {
  session_counters& c = *p.counters;
  const bool in_transaction = !gone && p.tracker.in_transaction();
  if (in_transaction != p.counted_in_transaction) {
    c.in_transaction.fetch_add(in_transaction ? 1 : -1, std::memory_order_relaxed);
    p.counted_in_transaction = in_transaction;
  }
  const bool opaque = !gone && p.tracker.opaque();
  if (opaque != p.counted_opaque) {
    c.opaque.fetch_add(opaque ? 1 : -1, std::memory_order_relaxed);
    if (opaque) c.opaque_total.fetch_add(1, std::memory_order_relaxed);  // once per session: opaque is final
    p.counted_opaque = opaque;
  }
}

bool relay::close_ordered(pair& p, const close_order& order) {
  if (p.orphan) return false;  // its node side is closed already; the client is told at its next command
  if (order.at == close_order::when::now) {
    const bool cut = p.tracker.opaque() || p.tracker.in_flight() || p.tracker.in_transaction();
    lose_node(p, fmt::format("node {} is {}", order.node, order.why));
    return cut;
  }
  if (!p.closing) {
    p.closing_at = now_ns();
    closing_.push_back(p.token);
  }
  p.closing = order;
  if (close_if_safe(p, p.closing_at)) return false;
  if (closing_.size() == 1) {  // the first one waiting: start the sweep
    const itimerspec every{{0, close_sweep_ns}, {0, close_sweep_ns}};
    ::timerfd_settime(close_tick_fd_, 0, &every, nullptr);
  }
  return false;
}

bool relay::close_if_safe(pair& p, std::int64_t now) {
  const session_tracker& t = p.tracker;
  const std::int64_t idle = std::int64_t{close_idle_ms_.load(std::memory_order_relaxed)} * 1'000'000;
  const std::int64_t patience = std::int64_t{close_patience_ms_.load(std::memory_order_relaxed)} * 1'000'000;
  const bool nothing_queued = p.sides[client].pending.empty() && p.sides[server].pending.empty();
  bool safe;
  if (t.opaque())  // a request/response protocol: the server spoke last and nobody since
    safe = p.last_from == server && now - p.quiet_at >= idle;
  else  // a pool's ping says it is about to use the connection: the next safe point is after that use
    safe = t.at_safe_point() &&
           (now - p.quiet_at >= idle || (now - p.closing_at >= patience && t.last_command() != com_ping));
  if (!safe || !nothing_queued) return false;
  p.counters->safe_closes.fetch_add(1, std::memory_order_relaxed);
  release_node(p, fmt::format("galeratop: node {} is {}: this connection was closed before this statement, nothing "
                              "was executed; connect again",
                              p.closing->node, p.closing->why));
  return true;
}

void relay::release_node(pair& p, std::string reason) {
  side& node = p.sides[server];
  // Between commands the node can be told goodbye, so it does not log an aborted connection.
  if (!p.tracker.opaque() && !p.tracker.in_flight()) {
    [[maybe_unused]] auto n = ::send(node.fd, com_quit, sizeof com_quit, MSG_NOSIGNAL);
  }
  ::close(node.fd);
  node.fd = -1;
  node.registered = false;
  node.read_done = true;
  std::vector<char>().swap(node.pending);  // never to be sent: the client side must be read again
  node.pending_from = 0;
  p.closing.reset();
  ended_tokens_.push_back(p.token);  // the node's share of it ends here
  p.reported = true;
  // A TLS stream cannot take a packet of ours, and a client that left needs none.
  if (p.tracker.opaque() || p.sides[client].read_done) return end(p);
  p.orphan = true;
  p.orphan_reason = std::move(reason);
  settle_gauges(p, true);
  watch(p, client);
}

void relay::lose_node(pair& p, std::string_view what) {
  const session_tracker& t = p.tracker;
  if (t.opaque() || p.sides[client].read_done) return end(p);
  if (t.in_flight() || t.in_transaction()) p.counters->cuts.fetch_add(1, std::memory_order_relaxed);
  if (t.in_flight()) {
    if (const auto seq = t.err_sequence(); seq && p.sides[client].pending.empty()) {
      const std::string err = encode_err_packet(
          er_connection_killed, link_failure,
          fmt::format("galeratop: {} during this statement; its outcome is unknown", what), *seq);
      [[maybe_unused]] auto n = ::send(p.sides[client].fd, err.data(), err.size(), MSG_NOSIGNAL);
    }
    return end(p);  // in the middle of a packet no error fits: the close says it
  }
  release_node(p, fmt::format("galeratop: {}: {}; connect again", what,
                              t.in_transaction()
                                  ? "the open transaction is lost, nothing more was executed"
                                  : "this connection was closed before this statement, nothing was executed"));
}

void relay::answer_orphan(pair& p) {
  side& c = p.sides[client];
  const ssize_t got = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
  if (got < 0 && (would_block(errno) || errno == EINTR)) return;
  // A command (not a COM_QUIT) gets the reason, in the sequence after its own.
  if (got >= 5 && scratch_[4] != 1) {
    const std::string err = encode_err_packet(er_connection_killed, link_failure, p.orphan_reason,
                                              static_cast<std::uint8_t>(scratch_[3] + 1));
    [[maybe_unused]] auto n = ::send(c.fd, err.data(), err.size(), MSG_NOSIGNAL);  // an idle socket takes it whole
  }
  end(p);
}

void relay::sweep_closing() {
  const std::int64_t now = now_ns();
  std::erase_if(closing_, [&](std::uint64_t token) {
    auto it = pairs_.find(token);
    if (it == pairs_.end()) return true;
    pair& p = *it->second;
    return !p.closing || close_if_safe(p, now);
  });
  if (closing_.empty()) {
    const itimerspec off{};
    ::timerfd_settime(close_tick_fd_, 0, &off, nullptr);
  }
}

}  // namespace galeratop
