#include "balancer/relay.hpp"

#include <asio/post.hpp>
#include <cerrno>
#include <iterator>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace galeratop {

namespace {
constexpr std::size_t scratch_size = 64 * 1024;  // one recv takes what a MySQL result chunk usually is
constexpr int max_events = 256;
constexpr std::uint64_t wake_tag = 0;  // epoll data of the eventfd; sessions carry a side pointer
constexpr std::uint64_t tick_tag = 1;  // epoll data of the one-second timerfd
constexpr int client = 0;
constexpr int server = 1;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }
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
  std::shared_ptr<byte_counters> bytes;
  std::uint32_t last_active = 0;  // relay tick at the last byte either way
  bool ended = false;
};

relay::relay(asio::io_context& io, end_handler on_end) : io_(io), on_end_(std::move(on_end)), scratch_(scratch_size) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throw_errno("eventfd");
  }
  // The idle sweep's clock: a periodic timer in the same epoll set, so the relay never reads
  // a clock itself (on this kind of VM that is a syscall).
  tick_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (tick_fd_ < 0) {
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throw_errno("timerfd_create");
  }
  const itimerspec every_second{{1, 0}, {1, 0}};
  ::timerfd_settime(tick_fd_, 0, &every_second, nullptr);
  for (auto [fd, tag] : {std::pair{wake_fd_, wake_tag}, std::pair{tick_fd_, tick_tag}}) {
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
    for (side& s : p->sides) ::close(s.fd);
  for (command& c : commands_)  // handed over after the stop: never adopted, still ours to close
    if (c.what == command::kind::adopt)
      for (int fd : c.fds) ::close(fd);
  ::close(tick_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void relay::adopt(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<byte_counters> bytes) {
  submit({.what = command::kind::adopt, .token = token, .fds = {client_fd, server_fd}, .bytes = std::move(bytes)});
}

void relay::close(std::vector<std::uint64_t> tokens) {
  if (!tokens.empty()) submit({.what = command::kind::close, .tokens = std::move(tokens)});
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
        p->bytes = std::move(c.bytes);
        p->last_active = tick_;
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
      case command::kind::close:
        for (std::uint64_t token : c.tokens)
          if (auto found = pairs_.find(token); found != pairs_.end()) end(*found->second);
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
  const ssize_t got = ::recv(src.fd, scratch_.data(), scratch_.size(), 0);
  if (got < 0) {
    if (!would_block(errno) && errno != EINTR) end(p);
    return;
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
  (from == client ? p.bytes->in : p.bytes->out).fetch_add(static_cast<std::uint64_t>(got), std::memory_order_relaxed);
  ssize_t sent = ::send(dst.fd, scratch_.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL);
  if (sent < 0) {
    if (!would_block(errno)) return end(p);
    sent = 0;
  }
  if (sent == got) return;
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
  watch(p, to);
  watch(p, 1 - to);
}

void relay::watch(pair& p, int which) {
  side& s = p.sides[which];
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
  for (side& s : p.sides) ::close(s.fd);  // closing also takes it out of the epoll set
  ended_tokens_.push_back(p.token);
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

}  // namespace galeratop
