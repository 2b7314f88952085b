#include "balancer/epoll_relay.hpp"

#include <cerrno>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>

namespace galeratop {

namespace {
constexpr std::size_t scratch_size = 64 * 1024;  // one recv takes what a MySQL result chunk usually is
constexpr int max_events = 256;
constexpr std::uint64_t wake_tag = 0;  // epoll data of the eventfd; sessions carry a side pointer
constexpr std::uint64_t tick_tag = 1;  // epoll data of the one-second timerfd
constexpr std::uint64_t close_tick_tag = 2;  // epoll data of the safe-close sweep's timerfd

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

void arm(int timer_fd, std::chrono::nanoseconds every) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(every);
  const timespec t{s.count(), (every - s).count()};
  const itimerspec spec{t, t};
  ::timerfd_settime(timer_fd, 0, &spec, nullptr);
}
}  // namespace

epoll_relay::epoll_relay(asio::io_context& io, end_handler on_end)
    : relay(io, std::move(on_end)), scratch_(scratch_size) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  // The idle sweep's clock: a periodic timer in the same epoll set, so the relay reads no clock
  // for sessions that are only relayed. The safe-close sweep has its own, armed only while a
  // session waits for a safe point.
  tick_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  close_tick_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (epoll_fd_ < 0 || tick_fd_ < 0 || close_tick_fd_ < 0) {
    const int e = errno;
    for (int fd : {close_tick_fd_, tick_fd_, epoll_fd_})
      if (fd >= 0) ::close(fd);
    throw std::system_error(e, std::generic_category(), "epoll_create1 or timerfd_create");
  }
  arm(tick_fd_, std::chrono::seconds(1));
  for (auto [fd, tag] : {std::pair{wake_fd(), wake_tag}, std::pair{tick_fd_, tick_tag},
                         std::pair{close_tick_fd_, close_tick_tag}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  start_thread();
}

epoll_relay::~epoll_relay() {
  stop_thread();
  ::close(close_tick_fd_);
  ::close(tick_fd_);
  ::close(epoll_fd_);
}

std::unique_ptr<relay::session> epoll_relay::make_session() { return std::make_unique<epoll_session>(); }

void epoll_relay::start(session& base) {
  epoll_session& s = as_epoll(base);
  for (int i : {client, server}) {
    s.sides[i].owner = &s;
    s.sides[i].index = i;
  }
  for (int i : {client, server}) watch(s, i);
}

void epoll_relay::closing_started() { arm(close_tick_fd_, close_sweep_period); }

void epoll_relay::run() {
  std::vector<epoll_event> events(max_events);
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), max_events, -1);
    if (n < 0 && errno != EINTR) return;  // EBADF and friends: nothing sensible is left to do
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == wake_tag) {
        std::uint64_t knocks;  // level-triggered: reset, or it stays readable
        [[maybe_unused]] auto r = ::read(wake_fd(), &knocks, sizeof knocks);
        if (!run_commands()) return;
      } else if (events[i].data.u64 == tick_tag) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = ::read(tick_fd_, &expirations, sizeof expirations);
        tick(static_cast<std::uint32_t>(expirations));
      } else if (events[i].data.u64 == close_tick_tag) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = ::read(close_tick_fd_, &expirations, sizeof expirations);
        sweep_closing();
        if (!anyone_closing()) arm(close_tick_fd_, {});
      } else {
        on_event(*static_cast<side*>(events[i].data.ptr), events[i].events);
      }
    }
    ended_.clear();
    report();
  }
}

void epoll_relay::on_event(side& sd, std::uint32_t events) {
  epoll_session& s = *sd.owner;
  if (s.ended) return;  // ended earlier in this batch
  if (events & EPOLLOUT) flush(s, sd.index);
  if (s.ended || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  if (!s.read_done[sd.index] && s.sides[1 - sd.index].pending.empty())
    pass(s, sd.index);  // a read reports the EOF or the error itself
  else if (events & (EPOLLHUP | EPOLLERR))
    end(s);  // shut both ways or failed (level-triggered: it would be reported again and again)
}

void epoll_relay::pass(epoll_session& s, int from) {
  const int to = 1 - from;
  side& dst = s.sides[to];
  const ssize_t got = ::recv(s.fd[from], scratch_.data(), scratch_.size(), 0);
  if (got < 0 && would_block(errno)) return;
  if (got <= 0) {
    if (!lost_side(s, from, got == 0)) return;
    ::shutdown(s.fd[to], SHUT_WR);  // nothing waits for dst: src is read only while dst's queue is empty
    if (finished(s))
      end(s);
    else
      watch(s, from);
    return;
  }
  const std::span<const char> bytes(scratch_.data(), static_cast<std::size_t>(got));
  took(s, from, bytes);
  if (s.ended) return;  // an orphan answered
  ssize_t sent = ::send(s.fd[to], bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (sent < 0) {
    if (!would_block(errno)) return end(s);
    sent = 0;
  }
  if (sent == got) {
    if (s.closing && from == server) close_if_safe(s, now_ns());  // the end of a response may be its safe point
    return;
  }
  dst.pending.assign(bytes.begin() + sent, bytes.end());
  dst.pending_from = 0;
  watch(s, from);  // stop reading until the other side has taken it
  watch(s, to);    // and wait until it can
}

void epoll_relay::flush(epoll_session& s, int to) {
  side& dst = s.sides[to];
  if (dst.pending.empty()) return;
  const ssize_t sent = ::send(s.fd[to], dst.pending.data() + dst.pending_from, dst.pending.size() - dst.pending_from,
                              MSG_NOSIGNAL);
  if (sent < 0) {
    if (!would_block(errno)) end(s);
    return;
  }
  s.last_active = now_tick();
  dst.pending_from += static_cast<std::size_t>(sent);
  if (dst.pending_from < dst.pending.size()) return;
  std::vector<char>().swap(dst.pending);  // give the memory back: most sessions never need it again
  dst.pending_from = 0;
  if (finished(s)) return end(s);
  if (s.closing && to == client && close_if_safe(s, now_ns())) return;
  watch(s, to);
  watch(s, 1 - to);
}

void epoll_relay::watch(epoll_session& s, int which) {
  side& sd = s.sides[which];
  if (s.fd[which] < 0) return;  // the node side of a session whose node is released
  const std::uint32_t want = (!s.read_done[which] && s.sides[1 - which].pending.empty() ? EPOLLIN : 0u) |
                             (sd.pending.empty() ? 0u : EPOLLOUT);
  if (sd.registered && want == sd.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &sd;
  if (::epoll_ctl(epoll_fd_, sd.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s.fd[which], &ev) != 0) return end(s);
  sd.registered = true;
  sd.interest = want;
}

bool epoll_relay::queued(const session& s, int to) const {
  return !static_cast<const epoll_session&>(s).sides[to].pending.empty();
}

bool epoll_relay::finished(const epoll_session& s) const {
  return s.read_done[client] && s.read_done[server] && !queued(s, client) && !queued(s, server);
}

void epoll_relay::close_node_side(session& base) {
  side& node = as_epoll(base).sides[server];
  ::close(base.fd[server]);  // which takes it out of the epoll set
  node.registered = false;
  std::vector<char>().swap(node.pending);
  node.pending_from = 0;
}

void epoll_relay::release_descriptors(session& s) {
  for (int fd : s.fd)
    if (fd >= 0) ::close(fd);  // closing also takes it out of the epoll set
}

}  // namespace galeratop
