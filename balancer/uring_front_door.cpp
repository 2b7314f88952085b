// uring_relay's front door: the accepts, and the dials the io thread orders. The relay's half of
// the class is in uring_relay.cpp; both run on the relay thread only.
#include <cassert>
#include <cerrno>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balancer/net/accept_pause.hpp"
#include "balancer/net/connection_limit.hpp"
#include "balancer/mysql_packet.hpp"
#include "balancer/uring_relay.hpp"

namespace galeratop {

namespace {
// After a failed accept (EMFILE would spin): the same pause as every accept loop of the agent.
constexpr std::int64_t accept_pause_ns = std::chrono::nanoseconds(accept_pause).count();
// While the io thread catches up with a full accept backlog. Polled: only a storm of clients
// fills it, and the io thread places or refuses 64 clients in well under a millisecond.
constexpr std::int64_t backlog_pause_ns = 1'000'000;
// Accepts in flight per listening socket: clients that crowd in are taken a batch per loop
// round. Single-shot ones: a multishot accept takes the whole listen queue (thousands) in one
// go, and a storm would hold the descriptors the dials need before the io thread could refuse it.
constexpr unsigned accept_depth = 8;

std::error_code error_of(int result) { return {-result, std::system_category()}; }
}  // namespace

void uring_relay::start_accepting(std::size_t listener, int fd) {
  arm_accepts(*listening_.emplace_back(std::make_unique<listening>(listening{.index = listener, .fd = fd})));
}

void uring_relay::stop_accepting(std::size_t listener) {
  for (auto& l : listening_) {
    if (l->index != listener || l->stopped) continue;
    l->stopped = true;
    // The ring holds the listening socket while an accept is armed: the cancel lets it go, so
    // that the port is free once the io thread has closed its descriptor.
    if (l->armed == 0) continue;
    io_uring_sqe* e = next_sqe();
    io_uring_prep_cancel64(e, reinterpret_cast<std::uint64_t>(l.get()) | accept, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(e, ignored_tag);
  }
}

void uring_relay::arm_accepts(listening& l) {
  if (l.stopped || l.retry_at != 0) return;
  // The io thread's backlog (relay::accept_backlog_full) and these in flight bound the
  // descriptors a storm of clients can hold before it has placed or refused them.
  while (l.armed < accept_depth && !accept_backlog_full()) {
    // The accepted sockets are non-blocking for the relay and inherit TCP_NODELAY and keep-alive
    // from the listening one (listener.cpp).
    io_uring_sqe* e = next_sqe();
    io_uring_prep_accept(e, l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(e, reinterpret_cast<std::uint64_t>(&l) | accept);
    ++l.armed;
    count_armed(+1);
  }
  if (l.armed == 0) l.retry_at = now_ns() + backlog_pause_ns;  // no completion will call again
}

void uring_relay::accepted(listening& l, const io_uring_cqe& cqe) {
  --l.armed;
  if (cqe.res >= 0) {
    // Also when the listener has just been stopped: the kernel took this client off the listen
    // queue before the cancel, and closing it would reset a client that waited its turn (with the
    // socket systemd holds, one the next galeratopd would have served). This galeratopd, serving
    // until its sessions end, serves it; its stop waits until it is placed (accepting()).
    report_accepted(l.index, cqe.res);
  } else if (cqe.res != -ECANCELED && !l.stopped && l.retry_at == 0) {
    // Mostly EMFILE: the listening socket stays readable, so an accept armed again at once would
    // fail at once. The clients wait in the kernel's listen queue meanwhile.
    report_accept_failure(l.index, -cqe.res);
    l.retry_at = now_ns() + accept_pause_ns;
  }
  if (cqe.res < 0) count_armed(-1);
  arm_accepts(l);
}

std::int64_t uring_relay::resume_accepts(std::int64_t now) {
  std::int64_t earliest = 0;
  for (auto& l : listening_) {
    if (l->stopped || l->retry_at == 0) continue;
    if (l->retry_at <= now) {
      l->retry_at = 0;
      arm_accepts(*l);
      if (l->retry_at == 0) continue;
    }
    if (earliest == 0 || l->retry_at < earliest) earliest = l->retry_at;
  }
  return earliest;
}

void uring_relay::start_dial(dial_order order) {
  auto owned = std::make_unique<dialing>();
  dialing& d = *owned;
  d.order = std::move(order);
  d.deadline = now_ns() + std::chrono::nanoseconds(d.order.timeout).count();
  // A session dials again under its id only after the outcome of its last dial, which was erased
  // here before it was reported (session_registry.hpp): the id is free.
  [[maybe_unused]] const bool fresh = dials_.emplace(d.order.token, std::move(owned)).second;
  assert(fresh);
  // Two syscalls of its own: Linux 6.1 has no setsockopt on the ring.
  d.server_fd = ::socket(d.order.node.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (d.server_fd < 0) {
    const std::error_code ec = error_of(-errno);
    return dial_failed(d, {.why = fmt::format("connect: {}", ec.message()), .ours = is_resource_shortage(ec), .error = ec});
  }
  const int on = 1;  // request/response: never wait to fill a segment
  ::setsockopt(d.server_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  next_step(d);
}

void uring_relay::cancel_dial(std::uint64_t token) {
  auto it = dials_.find(token);
  if (it == dials_.end() || it->second->aborted) return;
  it->second->aborted = true;  // its operation in flight ends, cancelled or not, and the dial with it
  io_uring_sqe* e = next_sqe();
  io_uring_prep_cancel64(e, reinterpret_cast<std::uint64_t>(it->second.get()) | dial_step, 0);
  io_uring_sqe_set_data64(e, ignored_tag);
}

void uring_relay::next_step(dialing& d) {
  const std::uint64_t data = reinterpret_cast<std::uint64_t>(&d) | dial_step;
  if (d.at == dialing::step::forward) {
    // About a hundred bytes into a fresh socket: it completes at once, as the io thread's write did.
    io_uring_sqe* e = next_sqe();
    io_uring_prep_send(e, d.order.client_fd, d.greeting.data() + d.forwarded, d.got - d.forwarded, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, data);
    return;
  }
  const std::int64_t left = d.deadline - now_ns();
  if (left <= 0) return dialed(d, -ECANCELED);  // as the linked timeout would have
  d.limit = {.tv_sec = left / 1'000'000'000, .tv_nsec = left % 1'000'000'000};
  // The operation and its timeout must reach the kernel in the same submission to stay linked.
  if (io_uring_sq_space_left(&ring_) < 2) io_uring_submit(&ring_);
  io_uring_sqe* e = next_sqe();
  if (d.at == dialing::step::connect)
    io_uring_prep_connect(e, d.server_fd, reinterpret_cast<const sockaddr*>(&d.order.node), d.order.node_length);
  else
    io_uring_prep_recv(e, d.server_fd, d.greeting.data() + d.got, d.greeting.size() - d.got, 0);
  io_uring_sqe_set_data64(e, data);
  e->flags |= IOSQE_IO_LINK;
  io_uring_sqe* t = next_sqe();
  io_uring_prep_link_timeout(t, &d.limit, 0);
  io_uring_sqe_set_data64(t, ignored_tag);
}

void uring_relay::dialed(dialing& d, int result) {
  if (d.aborted) return dial_done(d, true);
  const std::uint32_t timeout_ms = static_cast<std::uint32_t>(d.order.timeout.count());
  switch (d.at) {
    case dialing::step::connect:
      if (result == -ECANCELED)  // the linked timeout fired
        return dial_failed(d, {.why = fmt::format("no TCP connection within {} ms", timeout_ms), .late = true});
      if (result < 0)
        return dial_failed(d, {.why = fmt::format("connect: {}", error_of(result).message()),
                               .ours = is_resource_shortage(error_of(result)),
                               .error = error_of(result)});
      if (const std::string& header = d.order.proxy_header; !header.empty()) {
        // At most 52 bytes into an empty socket buffer: a plain send completes at once.
        if (::send(d.server_fd, header.data(), header.size(), MSG_NOSIGNAL) < 0) {
          const std::error_code ec = error_of(-errno);
          return dial_failed(d, {.why = fmt::format("closed before its greeting: {}", ec.message()), .error = ec});
        }
      }
      d.at = dialing::step::greeting;
      return next_step(d);
    case dialing::step::greeting: {
      // The server speaks first: its first packet tells a live node from a frozen one whose
      // kernel still completes the handshake.
      if (result == -ECANCELED)
        return dial_failed(d, {.why = fmt::format("no server greeting within {} ms", timeout_ms), .late = true});
      if (result <= 0)
        return dial_failed(d, {.why = fmt::format("closed before its greeting: {}",
                                                  result == 0 ? "End of file" : error_of(result).message()),
                               .error = result == 0 ? std::error_code{} : error_of(result)});
      d.got += static_cast<std::uint32_t>(result);
      if (d.got < 5) return next_step(d);
      const std::span<const char> head(d.greeting.data(), d.got);
      if (starts_with_err_packet(head))
        return dial_failed(d, {.why = fmt::format("refused the client: {}", err_packet_message(head))});
      d.at = dialing::step::forward;
      return next_step(d);
    }
    case dialing::step::forward:
      if (result < 0) return dial_done(d, true);  // the client left meanwhile
      d.forwarded += static_cast<std::uint32_t>(result);
      if (d.forwarded < d.got) return next_step(d);
      d.order.counters->out.fetch_add(d.got, std::memory_order_relaxed);
      return dial_done(d, false);
  }
}

void uring_relay::dial_failed(dialing& d, connect_failure failure) {
  if (d.server_fd >= 0) ::close(d.server_fd);  // no operation of the dial is in flight any more
  report_dialed({.token = d.order.token, .failure = std::move(failure), .client_fd = d.order.client_fd});
  dials_.erase(d.order.token);
}

void uring_relay::dial_done(dialing& d, bool client_gone) {
  const std::uint64_t token = d.order.token;
  if (client_gone) {
    ::close(d.server_fd);
    ::close(d.order.client_fd);
  } else {
    begin(token, d.order.client_fd, d.server_fd, std::move(d.order.counters));
  }
  // Reported before the session can end: the io thread learns it is relayed before its end.
  report_dialed({.token = token, .failure = std::nullopt, .client_fd = -1, .client_gone = client_gone});
  dials_.erase(token);
}

void uring_relay::close_dials() {
  for (auto& [token, d] : dials_) {
    if (d->server_fd >= 0) ::close(d->server_fd);
    ::close(d->order.client_fd);
  }
  dials_.clear();
}

}  // namespace galeratop
