#include "balancer/uring_relay.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>
#include <system_error>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace galeratop {

namespace {
// The provided buffers, shared by every session: 512 × 16 KiB is 8 MiB of address space, paged
// in as used. A point select's answer takes a few hundred bytes of one; a result of 16 KiB or
// more is sent on buffer by buffer. A session holds one per direction at most, while sending.
constexpr unsigned buffer_count = 512;  // a power of two, as the kernel requires
constexpr std::uint32_t buffer_size = 16 * 1024;
constexpr unsigned short buffer_group = 0;
// A direction with this many chunks waiting for its reader stops receiving (up to 128 KiB).
constexpr std::size_t pause_at = 8;
constexpr unsigned submission_entries = 1024;
constexpr unsigned completion_entries = 8192;  // multishot receives post many completions per submission

std::string refusal(const char* call, int error) {
  const char* why = error == EPERM    ? " (a seccomp filter, or kernel.io_uring_disabled)"
                    : error == ENOSYS ? " (a kernel without io_uring)"
                    : error == EINVAL ? " (a kernel older than 6.1)"
                                      : "";
  return fmt::format("{}: {}{}", call, std::error_code(error, std::generic_category()).message(), why);
}
}  // namespace

uring_relay::uring_relay(asio::io_context& io, end_handler on_end) : relay(io, std::move(on_end)) {
  std::future<std::string> ready = set_up_result_.get_future();
  start_thread();
  if (std::string refused = ready.get(); !refused.empty()) {
    stop_thread();  // the thread has returned already
    throw std::runtime_error(refused);
  }
}

uring_relay::~uring_relay() { stop_thread(); }

std::string uring_relay::set_up() {
  // One issuer, this thread, and its completions' task work done only when it waits: no
  // interrupt of the relay thread per received packet (Linux 6.1).
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
                 IORING_SETUP_CQSIZE;
  params.cq_entries = completion_entries;
  if (int r = io_uring_queue_init_params(submission_entries, &ring_, &params); r < 0)
    return refusal("io_uring_setup", -r);
  ring_ready_ = true;
  if (!(params.features & IORING_FEAT_EXT_ARG))  // the wait's timeout would cost a submission of its own
    return "io_uring: the kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)";
  const std::size_t ring_bytes = buffer_count * sizeof(io_uring_buf);
  void* ring_memory = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  void* memory = ::mmap(nullptr, std::size_t{buffer_count} * buffer_size, PROT_READ | PROT_WRITE,
                        MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (ring_memory == MAP_FAILED || memory == MAP_FAILED) return refusal("mmap", errno);
  buffers_ = static_cast<io_uring_buf_ring*>(ring_memory);
  buffer_memory_ = static_cast<char*>(memory);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(buffers_);
  reg.ring_entries = buffer_count;
  reg.bgid = buffer_group;
  if (int r = io_uring_register_buf_ring(&ring_, &reg, 0); r < 0) return refusal("io_uring_register_buf_ring", -r);
  io_uring_buf_ring_init(buffers_);
  for (unsigned id = 0; id < buffer_count; ++id) give_back(static_cast<std::uint16_t>(id));
  end_of_round();
  watch_commands();
  return {};
}

void uring_relay::run() {
  std::string refused = set_up();
  const bool ready = refused.empty();
  set_up_result_.set_value(std::move(refused));
  if (ready) {
    // The idle sweep's tick and the safe-close sweep come from the wait's timeout: no timer to read.
    std::int64_t next_tick = now_ns() + 1'000'000'000;
    std::int64_t next_sweep = 0;
    for (bool running = true; running;) {
      const std::int64_t now = now_ns();
      std::int64_t wake_at = next_tick;
      if (anyone_closing()) wake_at = std::min(wake_at, std::max(next_sweep, now));
      if (const std::int64_t retry = resume_accepts(now); retry != 0) wake_at = std::min(wake_at, retry);
      const std::int64_t wait = std::max<std::int64_t>(wake_at - now, 0);
      __kernel_timespec timeout{wait / 1'000'000'000, wait % 1'000'000'000};
      io_uring_cqe* first = nullptr;
      // One syscall: this round's sends and receives go in, and the wait for the next completions.
      io_uring_submit_and_wait_timeout(&ring_, &first, 1, &timeout, nullptr);
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        if (!handle(*cqe)) {
          running = false;
          break;
        }
      }
      io_uring_cq_advance(&ring_, seen);
      if (!running) break;
      const std::int64_t after = now_ns();
      if (after >= next_tick) {
        const auto seconds = static_cast<std::uint32_t>((after - next_tick) / 1'000'000'000 + 1);
        next_tick += std::int64_t{seconds} * 1'000'000'000;
        tick(seconds);
      }
      if (anyone_closing() && after >= next_sweep) {
        sweep_closing();
        next_sweep = after + std::chrono::nanoseconds(close_sweep_period).count();
      }
      end_of_round();
      report();
    }
  }
  // The closes of this last round go in; tearing the ring down then cancels every operation
  // still in flight. The descriptors of the sessions still relayed are closed by stop_thread.
  if (ring_ready_) {
    io_uring_submit(&ring_);
    io_uring_queue_exit(&ring_);
  }
  close_dials();
  if (buffers_) ::munmap(buffers_, buffer_count * sizeof(io_uring_buf));
  if (buffer_memory_) ::munmap(buffer_memory_, std::size_t{buffer_count} * buffer_size);
  retired_.clear();
}

bool uring_relay::handle(const io_uring_cqe& cqe) {
  const std::uint64_t data = io_uring_cqe_get_data64(&cqe);
  if (data == ignored_tag) return true;
  if (data == wake_tag) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) watch_commands();  // the kernel may end a multishot poll
    return run_commands();
  }
  const auto which = static_cast<op>(data & op_mask);
  if (which == dial_step) {
    dialed(*reinterpret_cast<dialing*>(data & ~op_mask), cqe.res);
    return true;
  }
  if (which == accept) {
    accepted(*reinterpret_cast<listening*>(data & ~op_mask), cqe);
    return true;
  }
  auto& s = *reinterpret_cast<uring_session*>(data & ~op_mask);
  if (which == recv_client || which == recv_server)
    received(s, which == recv_client ? client : server, cqe);
  else
    sent(s, which == send_client ? client : server, cqe.res);
  return true;
}

void uring_relay::received(uring_session& s, int from, const io_uring_cqe& cqe) {
  side& sd = s.sides[from];
  const bool more = cqe.flags & IORING_CQE_F_MORE;
  if (!more) {
    sd.receiving = false;
    --s.ops;
  }
  const bool alive = !s.ended && s.fd[from] >= 0;
  if (cqe.flags & IORING_CQE_F_BUFFER) {
    const auto id = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    --free_buffers_;
    if (alive && cqe.res > 0)
      took_buffer(s, from, id, static_cast<std::uint32_t>(cqe.res));
    else
      give_back(id);
  }
  if (!alive || s.ended || more) return;
  if (cqe.res == -ENOBUFS) {
    sd.starved = true;
    starved_.emplace_back(s.token, from);
  } else if (cqe.res == 0 || (cqe.res < 0 && cqe.res != -ECANCELED)) {
    if (!lost_side(s, from, cqe.res == 0)) return;
    // The EOF goes on as a half-close once what waits for the other side is written.
    if (idle(s.sides[1 - from])) written(s, 1 - from);
  } else {
    arm_receive(s, from);  // cancelled for a pause that is over, or ended by the kernel
  }
}

void uring_relay::took_buffer(uring_session& s, int from, std::uint16_t id, std::uint32_t length) {
  took(s, from, std::span<const char>(buffer(id), length));
  if (s.ended) return give_back(id);  // an orphan's client, answered
  const int to = 1 - from;
  side& dst = s.sides[to];
  if (!dst.sending) {
    dst.sending = chunk{.buffer = id, .length = length, .sent = 0, .own = {}};
    return send_first(s, to);
  }
  // It waits: out of the shared ring, into the session's own memory.
  chunk& c = dst.waiting.emplace_back(chunk{.buffer = id, .length = length, .sent = 0, .own = {}});
  c.own = std::make_unique_for_overwrite<char[]>(length);
  std::memcpy(c.own.get(), buffer(id), length);
  give_back(id);
  if (dst.waiting.size() >= pause_at && !s.sides[from].paused) {
    s.sides[from].paused = true;
    if (s.sides[from].receiving) cancel(s, from == client ? recv_client : recv_server);
  }
}

void uring_relay::sent(uring_session& s, int to, int result) {
  side& dst = s.sides[to];
  --s.ops;
  if (s.ended) return;  // its buffers go back when it is freed
  if (s.fd[to] < 0) return give_back_queue(dst, false);  // the node side, released meanwhile
  if (result < 0) return end(s);  // reset, or the pipe broken: the session is over
  s.last_active = now_tick();
  chunk& c = *dst.sending;
  c.sent += static_cast<std::uint32_t>(result);
  if (c.sent < c.length) return send_first(s, to);  // a short send: the rest
  if (!c.own) give_back(c.buffer);
  dst.sending.reset();
  if (!dst.waiting.empty()) {
    dst.sending = std::move(dst.waiting.front());
    dst.waiting.erase(dst.waiting.begin());
    if (dst.waiting.empty()) std::vector<chunk>().swap(dst.waiting);  // most sessions never need it again
    return send_first(s, to);
  }
  written(s, to);
}

void uring_relay::written(uring_session& s, int to) {
  const int from = 1 - to;
  if (s.read_done[from] && !s.sides[to].shut) {
    s.sides[to].shut = true;
    // The EOF goes on once the last send to it is done; when the session is over, its close says
    // the same. Not IORING_OP_SHUTDOWN: the kernel runs it in a worker, which looks the descriptor
    // up only then, after the close later in the same submission, when the number may already be
    // another session's (seen as EPIPE on a new session's node side under short sessions).
    if (!finished(s)) ::shutdown(s.fd[to], SHUT_WR);
  }
  if (finished(s)) return end(s);
  if (s.closing && to == client && close_if_safe(s, now_ns())) return;  // the end of a response may be its safe point
  side& src = s.sides[from];
  if (src.paused) {
    src.paused = false;
    arm_receive(s, from);
  }
}

void uring_relay::start(session& base) {
  uring_session& s = as_uring(base);
  arm_receive(s, client);
  arm_receive(s, server);
}

void uring_relay::arm_receive(uring_session& s, int from) {
  side& sd = s.sides[from];
  if (s.fd[from] < 0 || s.read_done[from] || sd.receiving || sd.paused || sd.starved) return;
  io_uring_sqe* e = next_sqe();
  io_uring_prep_recv_multishot(e, s.fd[from], nullptr, 0, 0);
  e->flags |= IOSQE_BUFFER_SELECT;
  e->buf_group = buffer_group;
  io_uring_sqe_set_data64(e, reinterpret_cast<std::uint64_t>(&s) | (from == client ? recv_client : recv_server));
  sd.receiving = true;
  ++s.ops;
}

void uring_relay::send_first(uring_session& s, int to) {
  const chunk& c = *s.sides[to].sending;
  io_uring_sqe* e = next_sqe();
  io_uring_prep_send(e, s.fd[to], bytes(c) + c.sent, c.length - c.sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(e, reinterpret_cast<std::uint64_t>(&s) | (to == client ? send_client : send_server));
  ++s.ops;
}

void uring_relay::cancel(uring_session& s, op which) {
  io_uring_sqe* e = next_sqe();
  io_uring_prep_cancel64(e, reinterpret_cast<std::uint64_t>(&s) | which, 0);
  io_uring_sqe_set_data64(e, ignored_tag);
}

void uring_relay::watch_commands() {
  // A multishot poll completes at every write to the eventfd, so it is never read: its count
  // only grows, one per batch of commands, and a u64 does not run out.
  io_uring_sqe* e = next_sqe();
  io_uring_prep_poll_multishot(e, wake_fd(), POLLIN);
  io_uring_sqe_set_data64(e, wake_tag);
}

bool uring_relay::queued(const session& s, int to) const {
  return !idle(static_cast<const uring_session&>(s).sides[to]);
}

bool uring_relay::finished(const uring_session& s) const {
  return s.read_done[client] && s.read_done[server] && idle(s.sides[client]) && idle(s.sides[server]);
}

void uring_relay::close_node_side(session& base) {
  uring_session& s = as_uring(base);
  close_socket(s, server);
  give_back_queue(s.sides[server], true);
}

void uring_relay::close_socket(uring_session& s, int which) {
  // In submission order: the cancels, then the close. The kernel holds the socket until the
  // cancelled operations end; their completions come back to this session, which lives until then.
  if (s.sides[which].receiving) cancel(s, which == client ? recv_client : recv_server);
  if (s.sides[which].sending) cancel(s, which == client ? send_client : send_server);
  io_uring_sqe* e = next_sqe();
  io_uring_prep_close(e, s.fd[which]);
  io_uring_sqe_set_data64(e, ignored_tag);
}

void uring_relay::resume_client(session& base) {
  uring_session& s = as_uring(base);
  s.sides[client].paused = false;
  arm_receive(s, client);
}

void uring_relay::release_descriptors(session& base) {
  uring_session& s = as_uring(base);
  for (int i : {client, server})
    if (s.fd[i] >= 0) close_socket(s, i);
}

void uring_relay::retire(std::unique_ptr<session> s) { retired_.push_back(std::move(s)); }

void uring_relay::give_back(std::uint16_t id) {
  io_uring_buf_ring_add(buffers_, buffer(id), buffer_size, id, io_uring_buf_ring_mask(buffer_count),
                        static_cast<int>(buffers_back_++));
}

void uring_relay::give_back_queue(side& sd, bool keep_in_flight) {
  std::vector<chunk>().swap(sd.waiting);  // copies all: none holds a buffer
  if (keep_in_flight || !sd.sending) return;
  if (!sd.sending->own) give_back(sd.sending->buffer);
  sd.sending.reset();
}

void uring_relay::end_of_round() {
  // Sessions ended and no longer named by an operation in flight: their buffers go back.
  std::erase_if(retired_, [this](const std::unique_ptr<session>& s) {
    auto& u = as_uring(*s);
    if (u.ops > 0) return false;
    for (side& sd : u.sides) give_back_queue(sd, false);
    return true;
  });
  if (buffers_back_ > 0) {
    io_uring_buf_ring_advance(buffers_, static_cast<int>(buffers_back_));
    free_buffers_ += buffers_back_;
    buffers_back_ = 0;
  }
  if (free_buffers_ == 0 || starved_.empty()) return;
  for (auto [token, from] : std::exchange(starved_, {})) {
    auto it = sessions().find(token);
    if (it == sessions().end()) continue;
    auto& s = as_uring(*it->second);
    s.sides[from].starved = false;
    arm_receive(s, from);
  }
}

io_uring_sqe* uring_relay::next_sqe() {
  io_uring_sqe* e = io_uring_get_sqe(&ring_);
  while (e == nullptr) {  // the submission queue is full: hand it to the kernel now
    io_uring_submit(&ring_);
    e = io_uring_get_sqe(&ring_);
  }
  return e;
}

char* uring_relay::buffer(std::uint16_t id) const { return buffer_memory_ + std::size_t{id} * buffer_size; }

}  // namespace galeratop
